package wire

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// MaxEnrolmentBytes bounds an enrolment list.
const MaxEnrolmentBytes = 1 << 20

// ParseEnrolment reads an enrolment list: the nodes' keys known before
// their first report, one "NODE KEY" a line (KEY as `nodekeeper status`
// prints it: usign base64), '#' starting a comment. Admin tools given one
// believe a node's state reports only when they verify with its key.
func ParseEnrolment(text []byte) (map[string]PublicKey, error) {
	if len(text) > MaxEnrolmentBytes {
		return nil, fmt.Errorf("enrolment list of %d bytes exceeds %d", len(text), MaxEnrolmentBytes)
	}
	out := map[string]PublicKey{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 || !validNodeID(f[0]) {
			return nil, fmt.Errorf("enrolment line %d: want NODE KEY", n)
		}
		k, err := ParsePublicKey([]byte(f[1]))
		if err != nil {
			return nil, fmt.Errorf("enrolment line %d: %w", n, err)
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("enrolment line %d: node %s listed twice", n, f[0])
		}
		out[f[0]] = k
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("enrolment list: %w", err)
	}
	return out, nil
}

// validNodeID reports whether s can name a node in a topic: 1 to 128
// printable ASCII characters, none of '/', '+', '#'.
func validNodeID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || c == '/' || c == '+' || c == '#' {
			return false
		}
	}
	return true
}
