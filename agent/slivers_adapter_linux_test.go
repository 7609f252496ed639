package agent

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/telemetry"
)

// TestSliversAdapter: telemetry's slivers collector, fed by the adapter
// from container.List, reads a real sliver's usage from its cgroups; the
// adapter reports the sliver's state changes (sliver.state events).
func TestSliversAdapter(t *testing.T) {
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
	m, _, err := container.Open(ctx, container.Config{StateDir: dir, Node: "n1", Driver: d, StopTimeout: 2 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Create(ctx, container.Spec{Name: "u1", Template: busyboxTemplate(t), Request: container.Start,
		Resources: container.Resources{MemoryBytes: 32 << 20, Pids: 16}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var changes []string
	ad := &sliversAdapter{m: m, changed: func(name, slice string, from, to container.State) {
		mu.Lock()
		changes = append(changes, fmt.Sprintf("%s/%s %s->%s", slice, name, from, to))
		mu.Unlock()
	}}
	s, err := telemetry.NewSampler("n1", map[string]bool{"system": false, "interfaces": false, "wifi": false, "agent": false, "slivers": true},
		telemetry.Sources{Slivers: ad})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doc := s.Sample(ctx, time.Now(), 1, nil)
	if len(doc.Slivers) != 1 {
		t.Fatalf("slivers in the document: %+v (collectors %+v)", doc.Slivers, doc.Collectors)
	}
	st := doc.Slivers[0]
	if st.Name != "u1" || st.State != "started" || st.Error != "" || st.MemoryBytes <= 0 || st.MemoryBytes > 32<<20 ||
		st.MemoryLimitBytes != 32<<20 || st.Pids < 1 || st.CPUSecondsTotal <= 0 {
		t.Errorf("u1 in the document: %+v", st)
	}
	if _, err := m.SetRequest(ctx, "u1", container.Deploy); err != nil {
		t.Fatal(err)
	}
	doc = s.Sample(ctx, time.Now(), 2, nil)
	if len(doc.Slivers) != 1 || doc.Slivers[0].State != "deployed" || doc.Slivers[0].Pids != 0 {
		t.Errorf("u1 stopped, in the document: %+v", doc.Slivers)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 1 || changes[0] != "u1/u1 started->deployed" {
		t.Errorf("state changes: %q", changes)
	}
	if err := m.Remove(ctx, "u1"); err != nil {
		t.Error(err)
	}
}
