package deliver

import (
	"testing"

	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/wire"
)

func TestOutcomeOf(t *testing.T) {
	refusal := wire.ErrorEntry{Member: "sliver s1", Kind: wire.KindSliver, ID: "s1", Seq: 5, Message: "refused by policy owner: no"}
	rolledBack := wire.ErrorEntry{Member: "desired", Kind: wire.KindDocument, ID: "5", Seq: 5, Message: "document seq 5 rolled back: x"}
	older := wire.ErrorEntry{Member: "desired", Seq: 4, Message: "old"}
	tests := []struct {
		name    string
		state   *wire.StateReport
		decided bool
		result  Result
		reason  string
		refused int
	}{
		{"no report", nil, false, "", "", 0},
		{"not seen yet", &wire.StateReport{SeenSeq: 4, AppliedSeq: 4}, false, "", "", 0},
		{"seen, being applied", &wire.StateReport{SeenSeq: 5, AppliedSeq: 4, Errors: []wire.ErrorEntry{older}}, false, "", "", 0},
		{"applied", &wire.StateReport{SeenSeq: 5, AppliedSeq: 5}, true, Applied, "", 0},
		{"applied, a part refused", &wire.StateReport{SeenSeq: 5, AppliedSeq: 5, Errors: []wire.ErrorEntry{refusal}}, true, Applied, "", 1},
		{"rolled back", &wire.StateReport{SeenSeq: 5, AppliedSeq: 4, Errors: []wire.ErrorEntry{rolledBack}}, true, Failed, "document seq 5 rolled back: x", 0},
		{"a later seq seen, this one not applied", &wire.StateReport{SeenSeq: 6, AppliedSeq: 4}, true, Failed, "the node saw a later seq 6 and applied 4", 0},
		{"superseded", &wire.StateReport{SeenSeq: 6, AppliedSeq: 6}, true, Superseded, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, ok := OutcomeOf(&inventory.Node{ID: "n1", State: tc.state}, 5)
			if ok != tc.decided || o.Result != tc.result || o.Reason != tc.reason || len(o.Refusals) != tc.refused {
				t.Errorf("got %v %+v", ok, o)
			}
		})
	}
}

func TestNextSeqAndWithSeq(t *testing.T) {
	tests := []struct {
		name   string
		node   inventory.Node
		seq    uint64
		signed bool
	}{
		{"never seen", inventory.Node{}, 1, false},
		{"its report", inventory.Node{State: &wire.StateReport{SeenSeq: 7}, StateSigned: true}, 8, true},
		{"a retained document it has not seen", inventory.Node{State: &wire.StateReport{SeenSeq: 7}, Desired: &inventory.Desired{Seq: 9}}, 10, false},
	}
	for _, tc := range tests {
		seq, signed := NextSeq(&tc.node)
		if seq != tc.seq || signed != tc.signed {
			t.Errorf("%s: %d %v, want %d %v", tc.name, seq, signed, tc.seq, tc.signed)
		}
	}
	b, err := WithSeq([]byte(`{"node":"n1","seq":3,"slivers":[]}`), 12)
	if err != nil || string(b) != `{"node":"n1","seq":12,"slivers":[]}` {
		t.Errorf("WithSeq: %s %v", b, err)
	}
	if _, err := WithSeq([]byte(`[1]`), 1); err == nil {
		t.Error("WithSeq of a non-object: no error")
	}
}
