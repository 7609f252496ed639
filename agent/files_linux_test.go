package agent

import (
	"context"
	"github.com/nodekeeper/nodekeeper/wire"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFilesNamedBySettings: the files settings name (the MQTT password
// file, the override file) are opened without blocking, must be regular
// files and are read through a limit; an error names the file and never
// quotes what is in it.
func TestFilesNamedBySettings(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("secret-line\n", 10000)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"fifo", fifo, "fifo: not a regular file (fifo)"},
		{"/dev/zero", "/dev/zero", "/dev/zero: not a regular file (device)"},
		{"directory", dir, "not a regular file (directory)"},
		{"too large", big, "big: larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run("password_file "+tt.name, func(t *testing.T) {
			_, err := loadText(t, "config telemetry 'telemetry'\n\toption password_file '"+tt.path+"'\n")
			if err == nil || !strings.Contains(err.Error(), "option password_file") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one naming option password_file and saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error quotes the file: %v", err)
			}
		})
		t.Run("override "+tt.name, func(t *testing.T) {
			o := overrideFile{path: tt.path, log: slog.New(slog.DiscardHandler), changed: func() {}}
			if m, _ := o.get(); m != nil {
				t.Errorf("override from %s: %v, want none", tt.path, m)
			}
		})
	}
}

// TestPolicyUndoReadsSafely: the policy files a document replaces or
// removes are read for the undo log; a FIFO or a link to /dev/zero there
// refuses the document, never blocks it (applyMu is held) or grows the
// agent without end.
func TestPolicyUndoReadsSafely(t *testing.T) {
	tests := []struct {
		name     string
		prev     []string          // policy files earlier documents wrote
		policies map[string]string // this document's
		want     string
	}{
		{"a document replaces a fifo", nil, map[string]string{"x.lua": "-- new\n"}, "x.lua: not a regular file (fifo)"},
		{"a document removes a link to /dev/zero", []string{"z.lua"}, map[string]string{}, "z.lua: not a regular file (device)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pol := filepath.Join(dir, "policies")
			if err := os.Mkdir(pol, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(filepath.Join(pol, "x.lua"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/dev/zero", filepath.Join(pol, "z.lua")); err != nil {
				t.Fatal(err)
			}
			cur := writeConf(t, "config agent 'agent'\n\toption node_id 'n1'\nconfig policy 'policy'\n\toption dir '"+pol+"'\n")
			cfg, err := LoadConfig(cur)
			if err != nil {
				t.Fatal(err)
			}
			a := &Agent{cfg: cfg, cursor: cur, log: slog.New(slog.DiscardHandler), remote: remoteState{Policies: tt.prev}}
			key, _ := wire.GenerateKey()
			done := make(chan error, 1)
			go func() {
				_, _, _, err := a.prepare(context.Background(), &desiredDoc{Desired: &wire.Desired{Node: "n1", Seq: 1, Policies: &tt.policies}}, key.Public())
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				if w, oerr := os.OpenFile(filepath.Join(pol, "x.lua"), os.O_WRONLY|syscall.O_NONBLOCK, 0); oerr == nil {
					w.Close()
				}
				t.Fatal("prepare blocked on the file")
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("prepare: %v; want an error saying %q", err, tt.want)
			}
		})
	}
}
