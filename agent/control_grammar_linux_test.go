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

// TestControlValidatesBeforeHolding: nothing of a control request is kept
// before it passed its grammar. A refused sliver.create in a node state
// that caps requests used to leave its name in the held requests (kept in
// remote.json, for good); names and requests of the other sliver requests
// are checked before they are looked up or remembered.
func TestControlValidatesBeforeHolding(t *testing.T) {
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
	a := &Agent{cfg: &Config{Agent: AgentConfig{NodeState: Safe}}, slivers: m, dirty: make(chan struct{}, 1)}
	tmpl := container.Archive{URL: "http://127.0.0.1:9/t.tar.gz", SHA256: strings.Repeat("0", 64)}
	for _, tt := range []struct {
		class string
		req   controlRequest
		want  string
	}{
		{"bad name held", controlRequest{Op: "sliver.create", Spec: &container.Spec{Name: "Bad\nname", Request: container.Start, Template: tmpl}}, "sliver name"},
		{"huge name held", controlRequest{Op: "sliver.create", Spec: &container.Spec{Name: strings.Repeat("x", 1<<16), Request: container.Start, Template: tmpl}}, "sliver name"},
		{"bad template held", controlRequest{Op: "sliver.create", Spec: &container.Spec{Name: "ok", Request: container.Start, Template: container.Archive{URL: "ftp://x"}}}, "template"},
		{"set_request name", controlRequest{Op: "sliver.set_request", Name: "../x", Request: container.Deploy}, "sliver name"},
		{"set_request request", controlRequest{Op: "sliver.set_request", Name: "ok", Request: "explode"}, "unknown requested state"},
		{"remove name", controlRequest{Op: "sliver.remove", Name: "-rf"}, "sliver name"},
		{"get name", controlRequest{Op: "sliver.get", Name: strings.Repeat("a", 100)}, "sliver name"},
		{"attach name", controlRequest{Op: "sliver.attach", Name: "a b"}, "sliver name"},
	} {
		_, err := a.control(context.Background(), tt.req, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to say %q", tt.class, err, tt.want)
		}
		if err != nil && len(err.Error()) > 512 {
			t.Errorf("%s: error of %d bytes quotes the whole input", tt.class, len(err.Error()))
		}
		if len(a.remote.Held) != 0 {
			t.Errorf("%s: held requests %v after a refused request", tt.class, a.remote.Held)
		}
	}
}
