package webaction

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
	"github.com/nodekeeper/nodekeeper/fleet/sim"
	"github.com/nodekeeper/nodekeeper/wire"
)

// lab is a real mosquitto, simulated nodes that trust the admin key, and
// the web view's actions on a connection of their own.
type lab struct {
	t     *testing.T
	b     *sim.Broker
	key   wire.SecretKey
	nodes map[string]*sim.Node
	conn  *broker.Conn
	act   *Actions
}

func newLab(t *testing.T, ids ...string) *lab {
	t.Helper()
	b, err := sim.StartBroker(t.TempDir(), "")
	if errors.Is(err, sim.ErrNoMosquitto) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("needs mosquitto (required under CI=true): %v", err)
		}
		t.Skipf("needs mosquitto (fails under CI=true): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	l := &lab{t: t, b: b, nodes: map[string]*sim.Node{}}
	if l.key, err = wire.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		n := sim.New(id, sim.Options{Broker: b.URL(), Trusted: []wire.PublicKey{l.key.Public()}}, sim.NodeOptions{})
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Stop)
		l.nodes[id] = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if l.conn, err = broker.Dial(ctx, broker.Options{URL: b.URL()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.conn.Close)
	waitFor(t, "the nodes' retained states", func() bool {
		msgs, err := l.conn.Retained(ctx, []string{"nodekeeper/+/state"}, 100*time.Millisecond)
		return err == nil && len(msgs) == len(ids)
	})
	l.act, err = New(Config{Conn: l.conn, Keys: []wire.SecretKey{l.key}, Quiet: 200 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		l.act.Close(ctx)
	})
	return l
}

// waitFor polls cond until it holds (generous: the machine is shared).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func docWithSliver(node string) []byte {
	return []byte(`{"node": "` + node + `", "seq": 0, "slivers": [{"name": "s1", "template": {"url": "http://repo/x.tar.gz", "sha256": "` + sha + `"}, "set_state": "start"}], "settings": {"agent.node_state": "production"}}`)
}

// TestPushDocument: a document is signed and published under the next
// seq and the node applies it; the same again is not pushed; what the
// request says is checked before anything is published.
func TestPushDocument(t *testing.T) {
	l := newLab(t, "n1", "n2")
	tests := []struct {
		name, node string
		doc        []byte
		wantSeq    uint64
		wantSkip   string
		wantErr    string
	}{
		{"first", "n1", docWithSliver("n1"), 1, "", ""},
		{"the same again", "n1", docWithSliver("n1"), 0, "node n1 already has this document (seq 1", ""},
		{"another node's document", "n2", docWithSliver("n1"), 0, "", `node n2: desired document: node "n1", but this node is "n2"`},
		{"bad node id", "n1/#", docWithSliver("n1"), 0, "", `node id "n1/#"`},
		{"not JSON", "n2", []byte("slivers: []"), 0, "", "node n2: document"},
		{"an unknown field", "n2", []byte(`{"node": "n2", "seq": 0, "sliverz": []}`), 0, "", "node n2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := l.act.PushDocument(ctx(t), "alice", tt.node, tt.doc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want an error saying %q", p, err, tt.wantErr)
				}
				return
			}
			if err != nil || p.Seq != tt.wantSeq || !strings.Contains(p.Skipped, tt.wantSkip) {
				t.Fatalf("got %+v, %v; want seq %d, skipped %q", p, err, tt.wantSeq, tt.wantSkip)
			}
			if p.Seq != 0 {
				waitFor(t, "n1 to apply the document", func() bool { return l.nodes["n1"].Report().AppliedSeq == p.Seq })
				if _, remote := l.nodes["n1"].Slivers(); !slices.Equal(remote, []string{"s1"}) {
					t.Fatalf("n1's slivers %v; want s1", remote)
				}
			}
		})
	}
	if recv, _, _ := l.nodes["n2"].Counts(); recv != 0 {
		t.Errorf("n2 received %d documents; want none", recv)
	}
}

// TestSetNodeState: the node's retained document is pushed again with its
// node state changed and everything else kept; a node without one gets a
// document that says only its state.
func TestSetNodeState(t *testing.T) {
	l := newLab(t, "n1", "n2")
	if _, err := l.act.PushDocument(ctx(t), "alice", "n1", docWithSliver("n1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n1's first document", func() bool { return l.nodes["n1"].Report().AppliedSeq == 1 })
	tests := []struct {
		name, node, state string
		wantSeq           uint64
		wantSkip, wantErr string
	}{
		{"safe", "n1", "safe", 2, "", ""},
		{"safe again", "n1", "safe", 0, "already has this document", ""},
		{"no document yet", "n2", "debug", 1, "", ""},
		{"failure is the agent's own", "n1", "failure", 0, "", `node state "failure": want production, safe or debug`},
		{"bad node id", "../n1", "safe", 0, "", `node id "../n1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := l.act.SetNodeState(ctx(t), "alice", tt.node, tt.state)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want an error saying %q", p, err, tt.wantErr)
				}
				return
			}
			if err != nil || p.Seq != tt.wantSeq || !strings.Contains(p.Skipped, tt.wantSkip) {
				t.Fatalf("got %+v, %v; want seq %d, skipped %q", p, err, tt.wantSeq, tt.wantSkip)
			}
			n := l.nodes[tt.node]
			waitFor(t, tt.node+" in state "+tt.state, func() bool { r := n.Report(); return r.NodeState == tt.state && r.AppliedSeq >= tt.wantSeq })
		})
	}
	if _, remote := l.nodes["n1"].Slivers(); !slices.Equal(remote, []string{"s1"}) {
		t.Errorf("n1's slivers %v after its state changed; want s1 kept", remote)
	}
}

// writeFleet writes a fleet directory: path -> content.
func writeFleet(t *testing.T, files map[string]string) string {
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

func sliceYAML(placement string) string {
	return "template:\n  url: http://repo.example/rootfs.tar.gz\n  sha256: " + sha + "\nset_state: start\nplacement: " + placement + "\n"
}

// TestRollout: a rollout runs in the background to its end; another is
// refused while one runs, and so is a push; a stopped rollout leaves its
// record running (interrupted), which locks a new one until it is taken
// over.
func TestRollout(t *testing.T) {
	l := newLab(t, "n1", "n2", "n3")
	root := writeFleet(t, map[string]string{"slices/exp.yaml": sliceYAML("{nodes: [n1, n2, n3]}")})

	if _, err := l.act.StartRollout(ctx(t), "alice", filepath.Join(root, "missing"), RolloutOptions{}); err == nil {
		t.Fatal("a missing directory was rolled out")
	}
	if err := l.act.StopRollout(ctx(t), "alice"); !errors.Is(err, ErrNoRollout) {
		t.Fatalf("stop with nothing running: %v", err)
	}

	// Stopped during the canary's soak.
	r, err := l.act.StartRollout(ctx(t), "alice", root, RolloutOptions{Soak: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the canary's soak", func() bool { return strings.Contains(strings.Join(r.Output(), "\n"), "soak") })
	if _, err := l.act.StartRollout(ctx(t), "bob", root, RolloutOptions{}); !errors.Is(err, ErrRolloutRunning) {
		t.Fatalf("a second rollout meanwhile: %v", err)
	}
	if _, err := l.act.SetNodeState(ctx(t), "bob", "n3", "safe"); !errors.Is(err, ErrRolloutRunning) {
		t.Fatalf("a push meanwhile: %v", err)
	}
	if err := l.act.StopRollout(ctx(t), "alice"); err != nil {
		t.Fatal(err)
	}
	rec, err := r.Result()
	if !errors.Is(err, context.Canceled) || rec == nil || rec.State != rollout.Running || rec.Note != "interrupted" || !strings.HasPrefix(rec.Who, "alice@") {
		t.Fatalf("stopped: %+v, %v; want the record running, interrupted, by alice", rec, err)
	}
	if _, err := l.act.StartRollout(ctx(t), "bob", root, RolloutOptions{}); !errors.Is(err, ErrRolloutRunning) {
		t.Fatalf("a new rollout over the interrupted one: %v", err)
	}

	// Resumed to its end.
	r, err = l.act.StartRollout(ctx(t), "bob", root, RolloutOptions{Soak: -1, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Done():
	case <-time.After(2 * time.Minute):
		t.Fatalf("rollout still running:\n%s", strings.Join(r.Output(), "\n"))
	}
	if rec, err := r.Result(); err != nil || rec.State != rollout.Done {
		t.Fatalf("resumed: %+v, %v\n%s", rec, err, strings.Join(r.Output(), "\n"))
	}
	for id, n := range l.nodes {
		if _, remote := n.Slivers(); !slices.Equal(remote, []string{"exp"}) {
			t.Errorf("%s: slivers %v; want exp", id, remote)
		}
		if recv, _, _ := n.Counts(); recv != 1 {
			t.Errorf("%s received %d documents; want 1 (none twice)", id, recv)
		}
	}
	if l.act.Rollout() != r || r.Running() {
		t.Error("the last rollout is not the one shown as ended")
	}
}
