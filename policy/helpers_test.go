package policy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"
)

// recorder is an Actuator, NodeSource, PeerSource and DecisionSink that
// records what the engine does.
type recorder struct {
	mu        sync.Mutex
	doc       []byte
	peerDocs  map[string][]byte
	acts      []Action
	decisions []Decision
	uci       map[string]string
	failOp    string
}

func (r *recorder) Act(_ context.Context, a Action) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.Op == r.failOp {
		return fmt.Errorf("%s failed on purpose", a.Op)
	}
	r.acts = append(r.acts, a)
	return nil
}

func (r *recorder) UCIGet(_ context.Context, pkg, section, option string) (string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.uci[pkg+"."+section+"."+option]
	return v, ok, nil
}

func (r *recorder) NodeDocument() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.doc
}

func (r *recorder) PeerDocuments() map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peerDocs
}

func (r *recorder) Decision(d Decision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.decisions = append(r.decisions, d)
}

func (r *recorder) actions() []Action {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Action(nil), r.acts...)
}

// sampleDoc is the node document of docs/telemetry.md (with two
// interfaces and two slivers).
func sampleDoc(t testing.TB) []byte {
	b, err := os.ReadFile("testdata/node.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTestEngine returns an engine over a recorder, closed at cleanup.
func newTestEngine(t testing.TB, mod func(*Config)) (*Engine, *recorder) {
	r := &recorder{doc: sampleDoc(t), uci: map[string]string{}}
	cfg := Config{Actuator: r, Node: r, Peers: r, Sink: r, Worker: testWorker(t), UCIAllow: []string{"wireless"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, r
}

func mustLoad(t testing.TB, e *Engine, name, src string) {
	t.Helper()
	if err := e.Load(name, []byte(src)); err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// find returns the decision of a policy, if any.
func find(ds []Decision, policy string) (Decision, bool) {
	for _, d := range ds {
		if d.Policy == policy {
			return d, true
		}
	}
	return Decision{}, false
}
