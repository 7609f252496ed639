package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDefaultsSayWhatTheyUse: without an agent, commands say which config
// they use or that there is none, and read-only ones create nothing; `run`
// on a directory without the config says where the shipped one is.
func TestDefaultsSayWhatTheyUse(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	withConf := filepath.Join(dir, "conf")
	state := filepath.Join(dir, "state")
	sock := filepath.Join(dir, "none.sock")
	os.MkdirAll(empty, 0o755)
	os.MkdirAll(withConf, 0o755)
	os.WriteFile(filepath.Join(withConf, "nodekeeper"), []byte("config agent 'agent'\n\toption run_dir '"+filepath.Join(dir, "run")+"'\n"+
		"config slivers 'slivers'\n\toption state_dir '"+state+"'\n"), 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"sliver list without a config", []string{"sliver", "list", "--config-dir", empty, "--socket", sock}, 1,
			[]string{"no agent is running", filepath.Join(empty, "nodekeeper"), "--config-dir DIR or --state-dir DIR"}},
		{"sliver show without a config", []string{"sliver", "show", "s1", "--config-dir", empty, "--socket", sock}, 1,
			[]string{filepath.Join(empty, "nodekeeper")}},
		{"sliver list from a config, nothing there yet", []string{"sliver", "list", "--config-dir", withConf, "--socket", sock}, 1,
			[]string{"using the slivers of " + filepath.Join(withConf, "nodekeeper"), "no slivers", state}},
		{"sliver list on a state dir that is not there", []string{"sliver", "list", "--state-dir", state}, 1,
			[]string{"no slivers", state}},
		{"status without an agent or a config", []string{"status", "--config-dir", empty}, 1,
			[]string{"no agent is running", "the default: there is no " + filepath.Join(empty, "nodekeeper")}},
		{"policy list without an agent, from a config", []string{"policy", "list", "--config-dir", withConf}, 1,
			[]string{"no agent is running", "as " + filepath.Join(withConf, "nodekeeper") + " says"}},
		{"run without a config", []string{"run", "--config-dir", empty}, 1,
			[]string{filepath.Join(empty, "nodekeeper") + ": no such file", "openwrt-package/nodekeeper/files/nodekeeper.config", "/etc/config/nodekeeper"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := dispatch(tt.args, strings.NewReader(""), &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errb.String())
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr %q lacks %q", errb.String(), w)
				}
			}
			if _, err := os.Stat(state); err == nil {
				t.Errorf("%s was created", state)
			}
			if ents, _ := os.ReadDir(empty); len(ents) != 0 {
				t.Errorf("%s: %d entries created", empty, len(ents))
			}
		})
	}
}
