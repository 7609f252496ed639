package agent

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/wire"
)

// TestNodeStateNotEnforced: a sliver the node state cannot move down is a
// `node_state` error of its own, which the sliver's reaching the state it
// still asks for does not clear; it clears when the node state allows the
// sliver again (or it is stopped). The request cannot change here because
// the real slivers are opened read-only (the same failure as any other of
// SetRequest for the agent).
func TestNodeStateNotEnforced(t *testing.T) {
	requireRoot(t, "lxc-start", "unshare")
	ns := newNetns(t)
	dir := t.TempDir()
	lxcPath := filepath.Join(dir, "lxc")
	t.Cleanup(func() { sweepContainers(t, ns, lxcPath) })
	d, err := container.NewLXC(container.LXCOptions{Path: lxcPath, Netns: ns})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mcfg := container.Config{StateDir: dir, Node: "n1", Driver: d, StopTimeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	m, _, err := container.Open(ctx, mcfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(ctx, container.Spec{Name: "u1", Template: busyboxTemplate(t), Request: container.Start,
		Resources: container.Resources{MemoryBytes: 32 << 20, Pids: 16}}); err != nil {
		m.Close()
		t.Fatal(err)
	}
	m.Close() // u1 runs on
	mcfg.ReadOnly = true
	ro, _, err := container.Open(ctx, mcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()

	a := &Agent{
		cfg:     &Config{Agent: AgentConfig{NodeID: "n1", NodeState: Safe}},
		log:     slog.New(slog.DiscardHandler),
		dirty:   make(chan struct{}, 1),
		health:  nodeHealth{threshold: 5, window: time.Minute},
		store:   stateStore{dir: t.TempDir()},
		slivers: ro,
	}
	a.adapter = &sliversAdapter{m: ro, changed: func(string, string, container.State, container.State) {}}
	a.enforceNodeState(ctx)
	r := a.report()
	if len(r.Errors) != 1 || r.Errors[0].Kind != wire.KindNodeState || r.Errors[0].ID != "u1" || r.Errors[0].Member != "node_state u1" {
		t.Fatalf("u1 runs on in the safe state: errors %+v, slivers %+v", r.Errors, r.Slivers)
	}
	if s := r.Slivers[0]; s.State != string(container.Started) || s.SetState != string(container.Start) {
		t.Fatalf("u1: %+v", s)
	}
	if r = a.report(); len(r.Errors) != 1 { // u1 is where its request asks: the entry stays
		t.Fatalf("the node_state error cleared while u1 runs in the safe state: %+v", r.Errors)
	}

	a.mu.Lock()
	a.cfg = &Config{Agent: AgentConfig{NodeID: "n1", NodeState: Production}}
	a.mu.Unlock()
	a.enforceNodeState(ctx)
	if r = a.report(); len(r.Errors) != 0 {
		t.Errorf("back in production: errors %+v", r.Errors)
	}
}
