package main

import (
	"bytes"
	"strings"
	"testing"
)

// A share group outside the grammar is refused before the broker is
// dialled; plan and apply, whose aggregation policies must see every
// node, take no --share.
func TestShareFlag(t *testing.T) {
	for _, args := range [][]string{
		{"status", "--broker", "tcp://127.0.0.1:1", "--share", "a/b"},
		{"status", "--broker", "tcp://127.0.0.1:1", "--share", "$share"},
		{"plan", "dir", "--broker", "tcp://127.0.0.1:1", "--share", "g"},
		{"apply", "dir", "--broker", "tcp://127.0.0.1:1", "--share", "g"},
	} {
		var out, errb bytes.Buffer
		if st := dispatch(args, nil, &out, &errb); st != 2 {
			t.Errorf("%v: status %d, want 2 (%s)", args, st, errb.String())
		}
		if !strings.Contains(errb.String(), "share") {
			t.Errorf("%v: the error does not name --share: %s", args, errb.String())
		}
	}
}
