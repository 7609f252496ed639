package telemetry

import (
	"regexp"
	"strings"
	"testing"
)

// TestTopicLevel: topicLevel accepts exactly what this regular expression
// does: no wildcard or separator, no space or control character (node ids
// and prefixes reach logs and terminals), at most 128 bytes.
func TestTopicLevel(t *testing.T) {
	re := regexp.MustCompile(`^[^/+#\x00-\x20\x7f]{1,128}$`)
	for _, s := range []string{"", "n1", "a/b", "+", "#", "a+", "x#", "\x00", "a\x00b", "é", "\xff", " ", "nodekeeper", "a-b_c.d", "/", "$SYS",
		"a b", "n1\x1b[2J", "\r", "\x7f", strings.Repeat("n", 128), strings.Repeat("n", 129)} {
		if got, want := topicLevel(s), re.MatchString(s); got != want {
			t.Errorf("topicLevel(%q) = %v, regexp says %v", s, got, want)
		}
	}
}
