package uci

import (
	"errors"
	"fmt"
)

// Errors returned by this package. They correspond to libuci's error codes;
// test for them with errors.Is.
var (
	// ErrNotFound: the package, section or option does not exist.
	ErrNotFound = errors.New("entry not found")
	// ErrInvalid: the request cannot be carried out as given (missing value,
	// bad section type, option of a missing section, ...).
	ErrInvalid = errors.New("invalid argument")
	// ErrParse: bad syntax in a config file, a change file or a tuple. File
	// errors are *ParseError values, which name the file, line and byte.
	ErrParse = errors.New("parse error")
	// ErrDuplicate: a package appears twice in one import.
	ErrDuplicate = errors.New("duplicate entry")
	// ErrIO: a file could not be opened, locked, written or renamed.
	ErrIO = errors.New("I/O error")
)

// errBadIndex is libuci's "return 1" from uci_delete when a list index is not
// a number; the uci tool reports it as "Out of memory".
var errBadIndex = errors.New("list index is not a number")

// ParseError describes a syntax error in a config file or import stream.
// Line and Byte follow libuci: Line counts the newline-terminated lines read
// so far and Byte is the offset in the current logical line (a quoted value
// or a backslash continuation may join several physical lines).
type ParseError struct {
	File   string // file name, "-" for standard input, "" if unknown
	Line   int
	Byte   int
	Reason string // libuci's reason, e.g. "invalid command"
}

func (e *ParseError) Error() string {
	s := fmt.Sprintf("parse error (%s) at line %d, byte %d", e.Reason, e.Line, e.Byte)
	if e.File != "" {
		s = e.File + ": " + s
	}
	return s
}

// Is reports whether target is ErrParse.
func (e *ParseError) Is(target error) bool { return target == ErrParse }

// ioError wraps an operating system error so that it matches ErrIO.
func ioError(op, path string, err error) error {
	return fmt.Errorf("%s %s: %w: %w", op, path, ErrIO, err)
}

// Exit codes and messages of the uci tool, in libuci's order.
const (
	codeOK = iota
	codeMem
	codeInval
	codeNotFound
	codeIO
	codeParse
	codeDuplicate
	codeUnknown
)

var codeText = [...]string{
	codeOK:        "Success",
	codeMem:       "Out of memory",
	codeInval:     "Invalid argument",
	codeNotFound:  "Entry not found",
	codeIO:        "I/O error",
	codeParse:     "Parse error",
	codeDuplicate: "Duplicate entry",
	codeUnknown:   "Unknown error",
}

// errorCode maps an error of this package to libuci's error code.
func errorCode(err error) int {
	switch {
	case err == nil:
		return codeOK
	case errors.Is(err, errBadIndex):
		return codeMem
	case errors.Is(err, ErrParse):
		return codeParse
	case errors.Is(err, ErrNotFound):
		return codeNotFound
	case errors.Is(err, ErrInvalid):
		return codeInval
	case errors.Is(err, ErrDuplicate):
		return codeDuplicate
	case errors.Is(err, ErrIO):
		return codeIO
	}
	return codeUnknown
}
