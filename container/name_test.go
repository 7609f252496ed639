package container

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidName: validName accepts exactly what the regular expression it
// replaces accepted.
func TestValidName(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)
	names := []string{"", "a", "-", "a-", "-a", "a-b", "0", "s1", "A", "a_b", "a.b", "é", "a b", "a\n",
		strings.Repeat("a", 32), strings.Repeat("a", 33), "a" + strings.Repeat("-", 30) + "b", "a" + strings.Repeat("-", 31) + "b",
		"exp-mesh", "x\x00", "\xff"}
	// Every string of up to three characters from an alphabet around the
	// edges of the classes.
	alpha := "-az09A_/"
	for _, a := range alpha {
		for _, b := range alpha {
			for _, c := range alpha {
				names = append(names, string(a), string(a)+string(b), string(a)+string(b)+string(c))
			}
		}
	}
	for _, n := range names {
		if got, want := validName(n), re.MatchString(n); got != want {
			t.Errorf("validName(%q) = %v, regexp says %v", n, got, want)
		}
	}
}
