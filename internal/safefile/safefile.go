// Package safefile reads files that someone other than the node's owner
// named: a path from a signed document, a policy directory anyone with
// write access fills, a certificate or password file a setting points at.
// Such a path can be a FIFO (an open blocks for good), a device
// (/dev/zero never ends), a symbolic link to either, or a huge file.
// ReadFile opens without blocking, insists on a regular file and reads
// through a limit, never the whole file first.
package safefile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// ErrNotRegular is matched (errors.Is) by the error for a path that is not
// a regular file: a FIFO, a device, a socket, a directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is matched (errors.Is) by the error for a file above the limit.
var ErrTooLarge = errors.New("larger than the limit")

// Error is what ReadFile returns for a file it refuses. Its text names the
// path and never quotes the file's contents.
type Error struct {
	Path   string
	Reason string // "not a regular file (fifo)", "larger than N bytes"
	err    error  // ErrNotRegular or ErrTooLarge
	_      [0]func()
}

func (e *Error) Error() string { return e.Path + ": " + e.Reason }

func (e *Error) Unwrap() error { return e.err }

// ReadFile returns the contents of the regular file at path, at most limit
// bytes: "PATH: not a regular file (fifo)", "PATH: larger than N bytes".
// Symbolic links are followed; what they lead to must be a regular file.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err // *fs.PathError: "open PATH: ..."
	}
	b, _, err := read(f, path, limit)
	f.Close()
	return b, err
}

// ReadFileInfo is ReadFile that also returns what the opened file's stat
// said (its mode and owner), for a caller that refuses a file others may
// write or read: the stat is of the very file read, not of a path that
// may since lead elsewhere.
func ReadFileInfo(path string, limit int64) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	b, fi, err := read(f, path, limit)
	f.Close()
	return b, fi, err
}

func read(f *os.File, path string, limit int64) ([]byte, fs.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if m := fi.Mode(); !m.IsRegular() {
		kind := "other"
		switch {
		case m&fs.ModeNamedPipe != 0:
			kind = "fifo"
		case m&fs.ModeDevice != 0:
			kind = "device"
		case m.IsDir():
			kind = "directory"
		}
		return nil, nil, &Error{Path: path, Reason: "not a regular file (" + kind + ")", err: ErrNotRegular}
	}
	// At most limit+1 bytes are read, whatever the file's size says.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(b)) > limit {
		return nil, nil, &Error{Path: path, Reason: "larger than " + strconv.FormatInt(limit, 10) + " bytes", err: ErrTooLarge}
	}
	return b, fi, nil
}
