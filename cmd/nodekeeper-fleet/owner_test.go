package main

import (
	"strings"
	"testing"
)

// A slice's owner, from the fleet directory, is shown by plan and by
// status (table and JSON).
func TestSliceOwnerShown(t *testing.T) {
	l := newSimLab(t, []string{"n1"}, nil)
	const owner = "0123456789abcdef"
	d := writeTree(t, map[string]string{
		"groups.yaml":     "groups:\n  lab:\n    nodes: [n1]\n",
		"slices/exp.yaml": "template: {url: 'http://repo/x.tar.gz', sha256: " + sha + "}\nset_state: start\nowner: " + owner + "\nplacement: {group: lab, count: 1}\n",
	})
	br := []string{"--broker", l.b.URL(), "--quiet", "200ms"}
	if st, out := run(append([]string{"plan", d}, br...)...); st != 2 || !strings.Contains(out, "slice exp (owner "+owner+"): n1") {
		t.Errorf("plan: %d, want 2 and the owner\n%s", st, out)
	}
	if st, out := run(append([]string{"status", d, "--json"}, br...)...); st != 0 || !strings.Contains(out, `"owner": "`+owner+`"`) {
		t.Errorf("status --json: %d, want the owner\n%s", st, out)
	}
	st, out := run(append([]string{"status", d}, br...)...)
	if st != 0 || !strings.Contains(out, "OWNER") || !strings.Contains(out, "exp    "+owner) {
		t.Errorf("status: %d, want an OWNER column with %s\n%s", st, owner, out)
	}
}
