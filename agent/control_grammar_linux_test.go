package agent

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/netcfg"
)

// TestControlSliverCreateGrammar (issue 11, finding 1): the control
// socket's sliver.create reaches the spec's grammar before anything is
// saved: a bridge holding a line of LXC config is refused and no sliver
// is registered.
func TestControlSliverCreateGrammar(t *testing.T) {
	requireRoot(t, "lxc-ls")
	dir := t.TempDir()
	d, err := container.NewLXC(container.LXCOptions{Path: filepath.Join(dir, "lxc")})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := container.Open(context.Background(), container.Config{StateDir: filepath.Join(dir, "state"), Node: "n", Driver: d})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a := &Agent{cfg: &Config{}, slivers: m, dirty: make(chan struct{}, 1)}
	spec := container.Spec{Name: "inj", Request: container.Start,
		Template:   container.Archive{URL: "http://127.0.0.1:9/t.tar.gz", SHA256: strings.Repeat("0", 64)},
		Interfaces: []container.Interface{{Kind: netcfg.Private, Bridge: "nkrtbr\nlxc.hook.pre-start = /bin/touch /tmp/pwned"}}}
	_, err = a.control(context.Background(), controlRequest{Op: "sliver.create", Spec: &spec}, nil)
	if err == nil || !strings.Contains(err.Error(), "bridge: interface name") {
		t.Errorf("sliver.create with a bad bridge: error %v, want the bridge refused", err)
	}
	if _, err := m.Get("inj"); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("the refused sliver was registered: %v", err)
	}
}
