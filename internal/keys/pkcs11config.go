package keys

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// PKCS11Config selects a key on a PKCS#11 token.
type PKCS11Config struct {
	// Module is the path of the PKCS#11 library. Required.
	Module string
	// TokenLabel is the label of the token. Required.
	TokenLabel string
	// PIN is the user PIN. Required (tokens without login are not supported).
	PIN string
	// KeyLabel is the CKA_LABEL of the private key. KeyLabel or KeyID is required.
	KeyLabel string
	// KeyID is the CKA_ID of the private key. Optional when KeyLabel is set.
	KeyID []byte
	// ChainFile is a PEM file with the certificate chain. Optional: without
	// it the seal certificate is read from the token (the certificate object
	// with the key's CKA_ID, else with its label). The file may start with
	// the seal certificate or hold only its issuers, in which case the seal
	// certificate still comes from the token.
	ChainFile string
}

// String describes the key without the PIN.
func (c PKCS11Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pkcs11:module=%s;token=%s", c.Module, c.TokenLabel)
	if c.KeyLabel != "" {
		fmt.Fprintf(&b, ";label=%s", c.KeyLabel)
	}
	if len(c.KeyID) > 0 {
		fmt.Fprintf(&b, ";id=%s", hex.EncodeToString(c.KeyID))
	}
	if c.ChainFile != "" {
		fmt.Fprintf(&b, ";chain=%s", c.ChainFile)
	}
	return b.String()
}
