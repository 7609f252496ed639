package policy

import (
	"regexp"
	"testing"
)

// TestParseSyntaxError: the hand-written matcher finds what the regular
// expression it replaces found, in gopher-lua's messages and in odd ones.
func TestParseSyntaxError(t *testing.T) {
	re := regexp.MustCompile(`line:(\d+)\(column:\d+\) near '(.*)':\s*(.*)`)
	for _, msg := range []string{
		"<string> line:3(column:7) near 'end':   syntax error\n",
		"p.lua line:12(column:1) near 'EOF':   unexpected EOF",
		"line:1(column:2) near '':  x",
		"line:1(column:2) near 'a': b': c\nnext line",
		"line:1(column:2) near 'a\nb': c",
		"line:x(column:2) near 'a': b line:4(column:5) near 'c': d",
		"line:(column:2) near 'a': b",
		"line:1(column:) near 'a': b",
		"line:1(column:2) near a: b",
		"line:1(column:2) near 'a':\n\n  text after blank lines\nmore",
		"line:1line:2(column:3) near 'x': y",
		"no position at all",
		"",
		"line:99999999999999999999(column:1) near '\x00': \xff",
	} {
		line, near, text, ok := parseSyntaxError(msg)
		m := re.FindStringSubmatch(msg)
		if ok != (m != nil) {
			t.Errorf("%q: matched %v, regexp %v", msg, ok, m != nil)
			continue
		}
		if ok && (line != m[1] || near != m[2] || text != m[3]) {
			t.Errorf("%q: got %q %q %q, regexp %q %q %q", msg, line, near, text, m[1], m[2], m[3])
		}
	}
}
