package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/nodekeeper/nodekeeper/fleet/sim/simtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/fleet/sim"
	"github.com/nodekeeper/nodekeeper/wire"
)

// simLab is a broker, an admin key pair on disk and simulated nodes.
type simLab struct {
	b     *sim.Broker
	key   string // path of the .sec
	pub   wire.PublicKey
	nodes map[string]*sim.Node
}

func newSimLab(t *testing.T, ids []string, opts map[string]sim.NodeOptions) *simLab {
	t.Helper()
	l := &simLab{b: startBroker(t), nodes: map[string]*sim.Node{}}
	prefix := filepath.Join(t.TempDir(), "admin")
	pub, err := wire.WriteKeyPair(prefix)
	if err != nil {
		t.Fatal(err)
	}
	l.key, l.pub = prefix+".sec", pub
	for _, id := range ids {
		n := sim.New(id, sim.Options{Broker: l.b.URL(), Trusted: []wire.PublicKey{pub}}, opts[id])
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Stop)
		l.nodes[id] = n
	}
	// The nodes' retained states are in place before the fleet looks.
	for _, n := range l.nodes {
		waitFor(t, "a node's state", func() bool {
			var out, errb bytes.Buffer
			dispatch([]string{"status", "--broker", l.b.URL(), "--json", "--quiet", "100ms"}, nil, &out, &errb)
			return strings.Contains(out.String(), `"node": "`+n.ID+`"`) && strings.Contains(out.String(), `"status": "online"`)
		})
	}
	return l
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func run(args ...string) (int, string) {
	var out bytes.Buffer
	st := dispatch(args, nil, &out, &out)
	return st, out.String()
}

func writeTree(t *testing.T, files map[string]string) string {
	root := t.TempDir()
	for rel, text := range files {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// TestPlanApplyStatus: plan shows the changes (exit 2), apply pushes them
// in waves, plan then shows none (exit 0), and status sums the slice up.
func TestPlanApplyStatus(t *testing.T) {
	l := newSimLab(t, []string{"n1", "n2", "n3"}, map[string]sim.NodeOptions{
		"n3": {Local: []container.Spec{{Name: "mine", Slice: "mine", ID: 7, Request: container.Start}}},
	})
	d := writeTree(t, map[string]string{
		"groups.yaml":     "groups:\n  lab:\n    nodes: [n1, n2, n3]\n",
		"slices/exp.yaml": "template: {url: 'http://repo/x.tar.gz', sha256: " + sha + "}\nset_state: start\nplacement: {group: lab, count: 2}\n",
		"settings.yaml":   "lab:\n  settings:\n    telemetry.interval: 10\n",
	})
	br := []string{"--broker", l.b.URL(), "--quiet", "200ms"}
	st, out := run(append([]string{"plan", d, "-v"}, br...)...)
	if st != 2 || !strings.Contains(out, "3 to change") || !strings.Contains(out, "+ setting telemetry.interval") || !strings.Contains(out, `  + {`) {
		t.Fatalf("plan: status %d\n%s", st, out)
	}
	st, out = run(append([]string{"apply", d, "-k", l.key, "--soak", "0"}, br...)...)
	if st != 0 || !strings.Contains(out, "wave 1: 1 node(s)") || !strings.Contains(out, "done: 3 applied") {
		t.Fatalf("apply: status %d\n%s", st, out)
	}
	st, out = run(append([]string{"plan", d}, br...)...)
	if st != 0 || !strings.Contains(out, "0 to change") {
		t.Fatalf("plan after apply: status %d\n%s", st, out)
	}
	// Status, with the slivers' telemetry published while it listens.
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
				for _, n := range l.nodes {
					n.PublishDocument(12.5, 8<<20)
				}
			}
		}
	}()
	st, out = run(append([]string{"status", d, "--json", "--documents", "1s"}, br...)...)
	close(done)
	if st != 0 {
		t.Fatalf("status: %d\n%s", st, out)
	}
	var r struct {
		Nodes []struct {
			Node, Status, Standing string
			Drift                  []string
			AppliedSeq             uint64 `json:"applied_seq"`
		}
		Slices []struct {
			Slice       string
			Planned     int
			States      map[string]int
			Reporting   int
			MemoryBytes int64 `json:"memory_bytes"`
		}
		Rollout struct{ State string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, out)
	}
	if len(r.Nodes) != 3 || r.Rollout.State != "done" {
		t.Errorf("status: %+v", r)
	}
	for _, n := range r.Nodes {
		if n.Status != "online" || n.Standing != "applied" || len(n.Drift) != 0 || n.AppliedSeq != 1 {
			t.Errorf("node %+v", n)
		}
	}
	if len(r.Slices) != 1 || r.Slices[0].Slice != "exp" || r.Slices[0].States["started"] != 2 || r.Slices[0].Planned != 2 ||
		r.Slices[0].Reporting != 2 || r.Slices[0].MemoryBytes != 16<<20 {
		t.Errorf("slices: %+v (the owner's own sliver is no fleet slice)", r.Slices)
	}
	st, out = run(append([]string{"status", d}, br...)...)
	if st != 0 || !strings.Contains(out, "rollout ") || !strings.Contains(out, "exp    -      2") {
		t.Errorf("status table: %d\n%s", st, out)
	}

}

// needEnv and startBroker are the fleet tests' shared rules (simtest).
var (
	needEnv     = simtest.NeedEnv
	startBroker = simtest.Broker
)

// TestForget: forget clears what the broker retains of a stopped node, so
// that status lists it no more; it refuses a node that says it is online
// unless --force, and says so of a node with nothing retained.
func TestForget(t *testing.T) {
	l := newSimLab(t, []string{"n1", "n2"}, nil)
	br := []string{"--broker", l.b.URL(), "--quiet", "200ms"}
	l.nodes["n2"].Stop()
	waitFor(t, "n2 offline", func() bool {
		_, out := run(append([]string{"status", "--json"}, br...)...)
		return strings.Contains(out, `"status": "offline"`)
	})
	st, out := run(append([]string{"forget", "n1", "n2"}, br...)...)
	if st != 1 || !strings.Contains(out, "n1 says it is online") || !strings.Contains(out, "n2: cleared") {
		t.Fatalf("forget n1 n2: status %d\n%s", st, out)
	}
	_, out = run(append([]string{"status", "--json"}, br...)...)
	if !strings.Contains(out, `"node": "n1"`) || strings.Contains(out, `"node": "n2"`) {
		t.Errorf("status after forgetting n2 lists:\n%s", out)
	}
	st, out = run(append([]string{"forget", "n2"}, br...)...)
	if st != 0 || !strings.Contains(out, "n2: nothing retained") {
		t.Errorf("forget n2 again: status %d\n%s", st, out)
	}
	if st, out = run(append([]string{"forget", "n1", "--force"}, br...)...); st != 0 || !strings.Contains(out, "n1: cleared") {
		t.Errorf("forget n1 --force: status %d\n%s", st, out)
	}
	if st, out = run(append([]string{"forget", "../x"}, br...)...); st != 1 || !strings.Contains(out, `node id "../x"`) {
		t.Errorf("forget ../x: status %d\n%s", st, out)
	}
}
