package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenReadOnly: `sliver list` and `sliver show` open the state
// directory with Config.ReadOnly. They create nothing (no slivers/,
// layers/, cache/ or lock in a directory that lacked them), write no
// record (what reconciling finds stays in memory), refuse every change
// with ErrReadOnly, and wait for a writer holding the lock.
func TestOpenReadOnly(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	dir := t.TempDir()
	d, err := NewLXC(LXCOptions{Path: filepath.Join(dir, "lxc")})
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o750); err != nil {
		t.Fatal(err)
	}
	ro := Config{StateDir: state, Node: "n", Driver: d, ReadOnly: true}

	// An empty directory stays empty.
	m, _, err := Open(ctx, ro)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.Slivers()); n != 0 {
		t.Errorf("%d slivers in an empty directory", n)
	}
	m.Close()
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("read-only open created %v", ents)
	}

	// A record that reconciling would change (started, no container).
	w, _, err := Open(ctx, Config{StateDir: state, Node: "n", Driver: d})
	if err != nil {
		t.Fatal(err)
	}
	rec := Sliver{Spec: Spec{Name: "s1", Slice: "s1", ID: 1, Request: Start,
		Template: Archive{URL: "/t.tar", SHA256: strings.Repeat("0", 64)}}, State: Started}
	if err := w.store.save(&rec); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(w.store.path("s1"))

	// While the writer holds the directory, a reader waits for it.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _, err = Open(short, ro)
	cancel()
	if !errors.Is(err, ErrLocked) {
		t.Errorf("read-only open while a writer holds the lock: %v, want ErrLocked", err)
	}
	w.Close()

	m, rep, err := Open(ctx, ro)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(rep.Rebuild) != 1 {
		t.Errorf("report %+v, want s1 to rebuild", rep)
	}
	if after, _ := os.ReadFile(m.store.path("s1")); string(after) != string(before) {
		t.Errorf("read-only open rewrote the record:\n%s\nwas\n%s", after, before)
	}
	for what, err := range map[string]error{
		"create":      func() error { _, err := m.Create(ctx, Spec{Name: "s2", Template: rec.Template}); return err }(),
		"set request": func() error { _, err := m.SetRequest(ctx, "s1", Deploy); return err }(),
		"remove":      m.Remove(ctx, "s1"),
		"converge":    m.ConvergeAll(ctx),
		"set limits":  m.SetLimits(ctx, "s1", Resources{Pids: 10}),
		"prune":       func() error { _, err := m.PruneTemplates(); return err }(),
	} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only manager: %v, want ErrReadOnly", what, err)
		}
	}
}
