//go:build !linux

package sqlite

import (
	"errors"
	"os"
)

// errUnnamedUnsupported says the system cannot make unnamed files.
var errUnnamedUnsupported = errors.New("unnamed temporary files unsupported")

// linkUnnamed is Linux's: elsewhere blobs get a temporary name first.
func linkUnnamed(p, dir string, data []byte) error { return errUnnamedUnsupported }

// noHardLinks reports whether err says the file system makes no hard
// links.
func noHardLinks(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || errors.Is(err, os.ErrPermission)
}
