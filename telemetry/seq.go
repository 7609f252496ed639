package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
)

// seqBlock is how many sequence numbers are reserved per write of the seq
// file: at a 30 s interval the file is written about once every 8 hours, and
// a crash skips at most this many numbers (a clean stop skips none).
const seqBlock = 1000

// seqStore hands out monotonic sample numbers that survive restarts. The
// file holds the next number that may be used.
type seqStore struct {
	mu       sync.Mutex
	path     string // "" keeps numbers in memory only
	next     uint64
	reserved uint64 // numbers below this are covered by the file
}

// openSeq reads the seq file at path (a missing file starts at 1).
func openSeq(path string) (*seqStore, error) {
	s := &seqStore{path: path, next: 1}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("seq file: %w", err)
	default:
		v, perr := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("seq file %s: %q is not a number: %w", path, bytes.TrimSpace(b), perr)
		}
		if v > 0 {
			s.next = v
		}
	}
	s.reserved = s.next
	return s, nil
}

// take returns the next sample number. The number is good even with an
// error (the file could not be written): numbering goes on in memory.
func (s *seqStore) take() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.path != "" && s.next >= s.reserved {
		r := s.next + seqBlock
		if werr := writeFileAtomic(s.path, []byte(strconv.FormatUint(r, 10)+"\n")); werr != nil {
			err = fmt.Errorf("reserve sequence numbers: %w", werr)
		} else {
			s.reserved = r
		}
	}
	v := s.next
	s.next++
	return v, err
}

// close records the exact next number so a clean restart skips none.
func (s *seqStore) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" || s.next == s.reserved {
		return nil
	}
	if err := writeFileAtomic(s.path, []byte(strconv.FormatUint(s.next, 10)+"\n")); err != nil {
		return fmt.Errorf("save sequence number: %w", err)
	}
	s.reserved = s.next
	return nil
}
