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

// limitWriter passes at most max bytes on to w and fails the write that
// would go beyond: a file that grows while it is read, or a download
// without end, stops there.
type limitWriter struct {
	w   io.Writer
	max int64
	n   int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n+int64(len(p)) > l.max {
		return 0, errTooLarge(l.max)
	}
	n, err := l.w.Write(p)
	l.n += int64(n)
	return n, err
}
