package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// errUnnamedUnsupported says the file system or the system cannot make
// unnamed files or name them.
var errUnnamedUnsupported = errors.New("unnamed temporary files unsupported")

// linkUnnamed writes data into an unnamed file in dir (O_TMPFILE), fsyncs
// it, and links it as p, which must not exist (fs.ErrExist).
func linkUnnamed(p, dir string, data []byte) error {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	switch {
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EINVAL):
		return errUnnamedUnsupported
	case errors.Is(err, unix.ENOENT):
		return fs.ErrNotExist
	case err != nil:
		return fmt.Errorf("put blob: open in %s: %w", dir, err)
	}
	f := os.NewFile(uintptr(fd), p)
	// Linking needs the file open; it is closed after.
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("put blob %s: %w (is the disk full?)", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("put blob %s: fsync: %w", p, err)
	}
	// An unprivileged process links an open unnamed file by its /proc
	// name; without /proc it cannot.
	err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, p, unix.AT_SYMLINK_FOLLOW)
	cerr := f.Close()
	switch {
	case errors.Is(err, unix.EEXIST):
		return fs.ErrExist
	case errors.Is(err, unix.ENOENT):
		if _, serr := os.Stat("/proc/self/fd"); serr != nil {
			return errUnnamedUnsupported
		}
		return fs.ErrNotExist
	case noHardLinks(err), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EXDEV), errors.Is(err, unix.ENOSYS):
		// Linking by /proc refused (a sandbox, a FUSE mount): the caller
		// writes the file again under a temporary name.
		return errUnnamedUnsupported
	case err != nil:
		return fmt.Errorf("put blob %s: link: %w", p, err)
	case cerr != nil:
		return fmt.Errorf("put blob %s: %w", p, cerr)
	}
	return nil
}

// noHardLinks reports whether err says the file system makes no hard
// links.
func noHardLinks(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EMLINK)
}
