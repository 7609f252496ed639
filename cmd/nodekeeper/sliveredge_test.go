package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSliverCreateFailures: a create that never allocated leaves no
// fail_allocate record for the admin to remove by hand, and a veth
// interface without a bridge names the flags and the UCI options that give
// one.
func TestSliverCreateFailures(t *testing.T) {
	if os.Geteuid() != 0 {
		sliverNeed(t, "needs root", os.ErrPermission)
	}
	_, err := exec.LookPath("lxc-start")
	sliverNeed(t, "needs lxc-start", err)
	state := t.TempDir()
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"missing template", []string{"--template", "/nonexistent.tar.gz", "--sha256", sum}, []string{"/nonexistent.tar.gz", "not created (nothing was allocated)"}},
		{"private interface without a bridge", []string{"--template", "/nonexistent.tar.gz", "--sha256", sum, "--iface", "private"},
			[]string{"no bridge for private interfaces", "--iface private,bridge=BRIDGE", "--bridge private=BRIDGE", "list bridge 'private=BRIDGE' in config slivers", "sliver_net"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"sliver", "create", "s1", "--state-dir", state, "--request", "deploy"}, tt.args...)
			if code := dispatch(args, nil, &out, &errb); code != 1 {
				t.Errorf("exit %d, want 1; stderr %q", code, errb.String())
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
			if _, err := os.Stat(filepath.Join(state, "slivers", "s1.json")); err == nil {
				t.Errorf("a record of the failed create was left behind")
			}
		})
	}
}
