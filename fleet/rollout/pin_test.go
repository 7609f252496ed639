package rollout

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/deliver"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/wire"
)

// TestRecordPinsNodeKeys: the first apply pins each node's identity key in
// its signed record; from then on a state report signed by another key,
// or unsigned, is not believed, and its seen_seq never makes a seq.
func TestRecordPinsNodeKeys(t *testing.T) {
	l := newLab(t, []string{"n1", "n2"}, nil)
	f := writeFleet(t, map[string]string{"slices/exp.yaml": sliceYAML("{nodes: [n1, n2]}")})
	var out strings.Builder
	rec, err := l.apply(f, l.options(&out))
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if rec.NodeKeys["n1"] != l.nodes["n1"].Key().String() || rec.NodeKeys["n2"] != l.nodes["n2"].Key().String() {
		t.Fatalf("record pins %v", rec.NodeKeys)
	}
	// Someone who can publish forges n1's report (another key, seen seq
	// 1000) and n2's (unsigned).
	l.nodes["n1"].Stop()
	l.nodes["n2"].Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	forger, _ := wire.GenerateKey()
	forged, _ := json.Marshal(wire.StateReport{Node: "n1", NodeKey: forger.Public().String(), SeenSeq: 1000, AppliedSeq: 1000})
	signed, _ := wire.SignState(forger, forged)
	unsigned, _ := json.Marshal(wire.StateReport{Node: "n2", SeenSeq: 1000, AppliedSeq: 1000})
	if err := l.conn.Publish(ctx, "nodekeeper/n1/state", signed, true); err != nil {
		t.Fatal(err)
	}
	if err := l.conn.Publish(ctx, "nodekeeper/n2/state", unsigned, true); err != nil {
		t.Fatal(err)
	}
	got, err := Read(ctx, l.conn, []wire.PublicKey{l.key.Public()}, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Read(ctx, l.conn, inventory.Verifier{Pinned: got.Pinned()}, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"n1": "other than the node's pinned key", "n2": "not a signed state report"} {
		n := inv.Node(id)
		if n.State != nil || !strings.Contains(n.StateErr, want) {
			t.Errorf("%s: state %+v, error %q; want not believed (%s)", id, n.State, n.StateErr, want)
		}
		if seq, _ := deliver.NextSeq(n); seq != 2 {
			t.Errorf("%s: next seq %d, want 2 (the retained document's + 1, not the forger's)", id, seq)
		}
	}
}
