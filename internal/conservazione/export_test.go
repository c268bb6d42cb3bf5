package conservazione_test

import (
	"crypto/sha256"
	"encoding/base64"
)

func b64(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}
