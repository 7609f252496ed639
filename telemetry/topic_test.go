package telemetry

import (
	"regexp"
	"testing"
)

// TestTopicLevel: topicLevel accepts exactly what the regular expression
// it replaces accepted.
func TestTopicLevel(t *testing.T) {
	re := regexp.MustCompile(`^[^/+#\x00]+$`)
	for _, s := range []string{"", "n1", "a/b", "+", "#", "a+", "x#", "\x00", "a\x00b", "é", "\xff", " ", "nodekeeper", "a-b_c.d", "/", "$SYS"} {
		if got, want := topicLevel(s), re.MatchString(s); got != want {
			t.Errorf("topicLevel(%q) = %v, regexp says %v", s, got, want)
		}
	}
}
