//go:build !cgo

package keys

import "fmt"

// OpenPKCS11 needs cgo to load the token's library; this binary was built
// without it.
func OpenPKCS11(cfg PKCS11Config) (*Seal, error) {
	return nil, fmt.Errorf("open %s: PKCS#11 needs a build with cgo (CGO_ENABLED=1)", cfg)
}
