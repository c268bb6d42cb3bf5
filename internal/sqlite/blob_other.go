//go:build !linux

package sqlite

import "errors"

// errUnnamedUnsupported says the system cannot make unnamed files.
var errUnnamedUnsupported = errors.New("unnamed temporary files unsupported")

// linkUnnamed is Linux's: elsewhere blobs get a temporary name first.
func linkUnnamed(p, dir string, data []byte) error { return errUnnamedUnsupported }
