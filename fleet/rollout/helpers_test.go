package rollout

import (
	"context"
	"github.com/nodekeeper/nodekeeper/fleet/sim/simtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/sim"
	"github.com/nodekeeper/nodekeeper/wire"
)

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// writeFleet writes a fleet directory: path -> content.
func writeFleet(t testing.TB, files map[string]string) *dir.Fleet {
	t.Helper()
	root := t.TempDir()
	for rel, text := range files {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := dir.Load(root, dir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func sliceYAML(placement string) string {
	return "template:\n  url: http://repo.example/rootfs.tar.gz\n  sha256: " + sha + "\nset_state: start\nplacement: " + placement + "\n"
}

// lab is a broker, an admin key and simulated nodes.
type lab struct {
	t     *testing.T
	b     *sim.Broker
	key   wire.SecretKey
	nodes map[string]*sim.Node
	conn  *broker.Conn
}

func newLab(t *testing.T, ids []string, opts map[string]sim.NodeOptions) *lab {
	t.Helper()
	l := &lab{t: t, b: startBroker(t), nodes: map[string]*sim.Node{}}
	var err error
	if l.key, err = wire.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		l.nodes[id] = sim.New(id, sim.Options{Broker: l.b.URL(), Trusted: []wire.PublicKey{l.key.Public()}}, opts[id])
		if err := l.nodes[id].Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.nodes[id].Stop)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if l.conn, err = broker.Dial(ctx, broker.Options{URL: l.b.URL()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.conn.Close)
	// Every node's retained state is in place before the fleet looks.
	waitFor(t, "the nodes' retained states", func() bool {
		msgs, err := l.conn.Retained(ctx, []string{"nodekeeper/+/state"}, 100*time.Millisecond)
		return err == nil && len(msgs) == len(ids)
	})
	return l
}

func (l *lab) options(out *strings.Builder) Options {
	return Options{Key: l.key, Who: "test", Soak: -1, WaveTimeout: 60 * time.Second, Quiet: 200 * time.Millisecond, Out: out}
}

func (l *lab) apply(f *dir.Fleet, o Options) (*Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return Apply(ctx, l.conn, f, o)
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

func remoteOn(n *sim.Node) []string {
	_, r := n.Slivers()
	return r
}

var localSliver = container.Spec{Name: "owners-own", Slice: "owners-own", ID: 9, Request: container.Start}

// startBroker starts a mosquitto for the test (simtest).
var startBroker = simtest.Broker
