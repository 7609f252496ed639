package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	bad := t.TempDir()
	os.MkdirAll(filepath.Join(bad, "slices"), 0o755)
	os.WriteFile(filepath.Join(bad, "slices", "s.yaml"), []byte("placement: {group: nope}\ntemplate: {url: http://x/y.tar}\n"), 0o644)
	badAgg := t.TempDir()
	os.MkdirAll(filepath.Join(badAgg, "aggregate"), 0o755)
	os.WriteFile(filepath.Join(badAgg, "aggregate", "x.lua"), []byte("policy \"x\" {\n  act = function( end,\n}\n"), 0o644)
	tests := []struct {
		args   []string
		status int
		out    string
	}{
		{[]string{"check", "../../fleet/dir/testdata/good"}, 0, "ok (groups 2, slices 2, policies 1, aggregation policies 0)"},
		{[]string{"check", bad}, 1, "slices/s.yaml:1: slice s: placed on group \"nope\""},
		{[]string{"check", bad}, 1, "slices/s.yaml:2: slice s: template without sha256"},
		{[]string{"check", badAgg}, 1, "aggregate/x.lua:2:"},
		{[]string{"check"}, 2, "usage: nodekeeper-fleet check DIR"},
		{[]string{"check", "-h"}, 0, "usage: nodekeeper-fleet check DIR"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			st := dispatch(tc.args, nil, &out, &errb)
			if st != tc.status || !strings.Contains(out.String()+errb.String(), tc.out) {
				t.Errorf("status %d, output:\n%s%s\nwant status %d and %q", st, out.String(), errb.String(), tc.status, tc.out)
			}
		})
	}
}
