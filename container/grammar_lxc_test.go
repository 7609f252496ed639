package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// TestBridgeInjection (issue 11, finding 1): a bridge holding a line of
// LXC config, as a signed document, the CLI or the control socket could
// give it, never reaches the container's config: Create refuses the spec,
// and a record an older version saved with it fails its allocation. The
// hook it names never runs.
func TestBridgeInjection(t *testing.T) {
	l := newLab(t)
	m, _ := l.open("")
	ctx := ctxT(t)
	tmpl := l.busybox()
	pwned := filepath.Join(t.TempDir(), "pwned")
	bad := l.bridge + "\nlxc.hook.pre-start = /bin/touch " + pwned

	name := "inj" + randHex(6)
	_, err := m.Create(ctx, Spec{Name: name, Template: tmpl, Request: Start, Interfaces: []Interface{{Kind: netcfg.Private, Bridge: bad}}})
	if err == nil {
		t.Error("a bridge with a line of LXC config was accepted")
	}
	if _, gerr := m.Get(name); !errors.Is(gerr, ErrNotFound) {
		t.Errorf("the refused sliver was registered: %v", gerr)
	}

	// A record saved before the grammar existed.
	old := "old" + randHex(6)
	rec := Sliver{Spec: Spec{Name: old, Slice: old, ID: 7, Template: tmpl, Request: Start,
		Interfaces: []Interface{{Kind: netcfg.Private, Bridge: bad}}}, State: Registered}
	if err := m.store.save(&rec); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m, _ = l.open("")
	s, err := m.Converge(ctx, old)
	if err == nil || s.State != FailAllocate {
		t.Errorf("old record with the bad bridge: state %s, error %v; want %s and an error", s.State, err, FailAllocate)
	}
	if _, err := os.Stat(filepath.Join(l.lxcPath, ContainerName(old))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a container was defined for the old record: %v", err)
	}
	if err := m.Remove(context.Background(), old); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(pwned); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the injected hook ran: %s exists", pwned)
	}
}
