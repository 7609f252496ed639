package telemetry

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// procFile reads a small /proc or /sys file again and again: the file stays
// open and each read is one pread at offset 0, which makes the kernel
// generate it anew (open, fstat and close per sample cost more than the
// read). The files read this way are produced in one piece (single_open
// seq files, sysctls, sysfs attributes), so a read shorter than the buffer
// is the whole file.
type procFile struct {
	path string
	fd   int
	open bool
	buf  []byte
}

func newProcFile(path string) *procFile { return &procFile{path: path} }

// read returns the file's content, valid until the next read.
func (f *procFile) read() ([]byte, error) {
	if !f.open {
		fd, err := unix.Open(f.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", f.path, err)
		}
		f.fd, f.open = fd, true
	}
	if len(f.buf) == 0 {
		f.buf = make([]byte, 4096)
	}
	for {
		n, err := rawPread0(f.fd, f.buf) // never blocks: rawsys_linux.go
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			f.close() // reopen next time (the sensor may come back)
			return nil, fmt.Errorf("read %s: %w", f.path, err)
		}
		if n < len(f.buf) {
			return f.buf[:n], nil
		}
		if len(f.buf) >= 1<<20 {
			return nil, fmt.Errorf("read %s: larger than 1 MiB", f.path)
		}
		f.buf = make([]byte, 2*len(f.buf))
	}
}

func (f *procFile) close() {
	if f.open {
		unix.Close(f.fd)
		f.open = false
	}
}
