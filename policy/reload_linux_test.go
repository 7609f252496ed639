package policy

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadHostileFiles: whoever can write the policy directory cannot
// stop the engine: a FIFO named x.lua, a link to /dev/zero and a huge file
// are each refused as that file's load error, the other policies keep
// running, and Tick is never held up by a read. Each stays a failed file,
// reported once while it stays as it is.
func TestReloadHostileFiles(t *testing.T) {
	tests := []struct {
		name    string
		make    func(t *testing.T, path string)
		problem string
	}{
		{"fifo", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "x.lua:1: not a regular file (fifo)"},
		{"symlink to /dev/zero", func(t *testing.T, p string) {
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
		}, "x.lua:1: not a regular file (device)"},
		{"50 MB file", func(t *testing.T, p string) {
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(50 << 20); err != nil { // sparse: no disk used
				t.Fatal(err)
			}
		}, "x.lua:1: larger than 262144 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e, rec := newTestEngine(t, func(c *Config) { c.Dir = dir })
			if err := os.WriteFile(filepath.Join(dir, "good.lua"), []byte(`policy "good" { every = "1s", act = function() log("ran") end }`), 0o644); err != nil {
				t.Fatal(err)
			}
			bad := filepath.Join(dir, "x.lua")
			tt.make(t, bad)
			done := make(chan error, 1)
			go func() { done <- e.Reload() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				// A reader stuck on the FIFO: let it go, and fail.
				if w, oerr := os.OpenFile(bad, os.O_WRONLY|syscall.O_NONBLOCK, 0); oerr == nil {
					w.Close()
				}
				<-done
				t.Fatal("Reload blocked on the file")
			}
			if err == nil || !strings.Contains(err.Error(), tt.problem) {
				t.Fatalf("Reload: %v; want a load error saying %q", err, tt.problem)
			}
			if d, ok := find(e.Tick(bg, t0), "good"); !ok || strings.Join(d.Logs, "") != "ran" {
				t.Errorf("the good policy did not run beside the hostile file: %+v", d)
			}
			reported := false
			rec.mu.Lock()
			ds := append([]Decision(nil), rec.decisions...)
			rec.mu.Unlock()
			for _, d := range ds {
				reported = reported || (d.Source == "x.lua" && d.Error == tt.problem)
			}
			if !reported {
				t.Errorf("no load decision for x.lua saying %q", tt.problem)
			}
			// Reloaded as it is (a SIGHUP, another file changed): failed
			// still, and no news.
			if err := e.Reload(); err != nil {
				t.Errorf("Reload of the same directory: %v, want nil (reported already)", err)
			}
			rec.mu.Lock()
			again := len(rec.decisions) - len(ds)
			rec.mu.Unlock()
			if f := e.FailedFiles(); again != 0 || len(f) != 1 || f[0] != "x.lua" {
				t.Errorf("the same directory again: %d new decisions, failed files %q; want none, x.lua", again, f)
			}
		})
	}
}
