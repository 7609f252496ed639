package uci

import (
	"bufio"
	"io"
)

// stream is the part of a C stdio FILE that libuci's parser depends on:
// fgets into a window of a buffer, and an end-of-file flag that is set only
// once a read has run out of input. "uci batch" and "import" share one
// stream, as they share stdin in the uci tool.
type stream struct {
	r   io.ByteReader
	eof bool
	err error // first read error other than io.EOF
}

func newStream(r io.Reader) *stream {
	if br, ok := r.(io.ByteReader); ok {
		return &stream{r: br}
	}
	return &stream{r: bufio.NewReader(r)}
}

// fgets reads at most len(dst)-1 bytes into dst, stopping after a newline,
// and terminates them with a NUL. It returns false, leaving dst alone, when
// nothing could be read.
func (s *stream) fgets(dst []byte) bool {
	if len(dst) == 0 || s.eof {
		return false
	}
	n := 0
	for n < len(dst)-1 {
		c, err := s.r.ReadByte()
		if err != nil {
			s.eof = true
			if err != io.EOF && s.err == nil {
				s.err = err
			}
			break
		}
		dst[n] = c
		n++
		if c == '\n' {
			break
		}
	}
	if n == 0 && s.eof {
		return false
	}
	dst[n] = 0
	return true
}
