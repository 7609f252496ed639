package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/wire"
)

// TestDocumentLocalArchives: a sliver in a signed document may name its
// template or data archive by a path on the node only if the owner lets
// documents do so (slivers.remote_local_archives). Otherwise a key holder
// could test guesses of any root-readable file's hash (the sliver applies
// or fails), or have a local archive of secrets (a sysupgrade backup)
// unpacked into a researcher's sliver. The sliver is left out and
// reported; the rest of the document applies.
func TestDocumentLocalArchives(t *testing.T) {
	requireRoot(t, "lxc-ls")
	hash := strings.Repeat("0", 64)
	spec := func(name, url string, data string) container.Spec {
		s := container.Spec{Name: name, Template: container.Archive{URL: url, SHA256: hash}}
		if data != "" {
			s.Data = &container.Archive{URL: data, SHA256: hash}
		}
		return s
	}
	specs := []container.Spec{
		spec("path", "/etc/shadow", ""),
		spec("fileurl", "file:///etc/shadow", ""),
		spec("data", "http://192.0.2.1/t.tar.gz", "/tmp/backup.tar.gz"),
		spec("web", "http://192.0.2.1/t.tar.gz", ""),
	}
	for _, tt := range []struct {
		owner   string
		planned []string
	}{
		{"", []string{"web"}},
		{"\toption remote_local_archives '1'\n", []string{"path", "fileurl", "data", "web"}},
	} {
		dir := t.TempDir()
		text := "config agent 'agent'\n\toption node_id 'n1'\n" +
			"config slivers 'slivers'\n\toption state_dir '" + filepath.Join(dir, "slivers") + "'\n" + tt.owner
		if err := os.WriteFile(filepath.Join(dir, Package), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(cursorFor(dir))
		if err != nil {
			t.Fatal(err)
		}
		d, err := container.NewLXC(container.LXCOptions{Path: filepath.Join(dir, "lxc")})
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := container.Open(context.Background(), container.Config{StateDir: cfg.Slivers.StateDir, Node: "n1", Driver: d})
		if err != nil {
			t.Fatal(err)
		}
		a := &Agent{cfg: cfg, cursor: cursorFor(dir), log: slog.New(slog.DiscardHandler), slivers: m}
		key, _ := wire.GenerateKey()
		ss := append([]container.Spec(nil), specs...)
		plan, _, refusals, err := a.prepare(context.Background(), &desiredDoc{Desired: &wire.Desired{Node: "n1", Seq: 1}, Slivers: &ss}, key.Public())
		m.Close()
		if err != nil {
			t.Fatalf("owner %q: prepare: %v", tt.owner, err)
		}
		var planned []string
		for _, s := range plan.slivers {
			planned = append(planned, s.Name)
		}
		if strings.Join(planned, " ") != strings.Join(tt.planned, " ") {
			t.Errorf("owner %q: planned %v, want %v", tt.owner, planned, tt.planned)
		}
		if want := len(specs) - len(tt.planned); len(refusals) != want {
			t.Errorf("owner %q: refusals %v, want %d", tt.owner, refusals, want)
		}
		for _, r := range refusals {
			if !strings.Contains(r.msg, "remote_local_archives") || strings.Contains(r.msg, "shadow") {
				t.Errorf("refusal %q: want it to name the option, and no path", r.msg)
			}
		}
	}
}
