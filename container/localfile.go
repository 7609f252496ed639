package container

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// DefaultMaxArchiveBytes is the largest template or data archive (as
// fetched, before unpacking) when Config.MaxArchiveBytes is zero.
const DefaultMaxArchiveBytes = 1 << 30

// openRegular opens a file someone else named (a template or data archive
// given by path) without blocking: a FIFO or a device would block the
// open or never end. It must be a regular file of at most max bytes.
func openRegular(path string, max int64) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if fi.Size() > max {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, errTooLarge(max))
	}
	return f, nil
}

// errTooLarge is the error of an archive beyond the limit.
func errTooLarge(max int64) error {
	return fmt.Errorf("larger than the %s an archive may have", sizeString(max))
}

// copyLimited copies r to w, failing once more than max bytes come
// (DefaultMaxArchiveBytes when max is 0): a file that grows while it is
// read, or a download without end, stops there.
func copyLimited(w io.Writer, r io.Reader, max int64) error {
	if max <= 0 {
		max = DefaultMaxArchiveBytes
	}
	n, err := io.Copy(w, io.LimitReader(r, max+1))
	if err == nil && n > max {
		err = errTooLarge(max)
	}
	return err
}
