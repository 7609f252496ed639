package deliver

import (
	"context"
	"fmt"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Prepared is one node's document made ready to push (Prepare): its seq
// set and checked, and what the broker retained for the node.
type Prepared struct {
	Node string
	// Doc is the document to push, with its seq; Seq is that seq.
	Doc []byte
	Seq uint64
	// Prev is the document retained for the node (nil: none), PrevSeq
	// its seq.
	Prev    []byte
	PrevSeq uint64
	// Inventory is the snapshot Prepare read (status, state and desired
	// topics of the node).
	Inventory *inventory.Inventory
	// Skip, when not empty, says why the document is not to be pushed:
	// the node has it already.
	Skip string
	// FirstSightKey is the key of the state report the seq came from,
	// when that key was seen for the first time (not pinned).
	FirstSightKey string
	// NoReport: the node has no state report on the broker (seq 1).
	NoReport bool
	// SameBody: the retained document wants the same, under another seq.
	SameBody bool
}

// Prepare reads what the broker retains for node (status, state report,
// desired document; v checks them) and sets doc's seq: with auto the next
// one (NextSeq: above the node's seen seq and the retained document's),
// else seq if not 0, else the document keeps its own (its bytes as they
// are). A document the node already has (the same bytes, or with auto the
// same body) is returned with Skip set.
func Prepare(ctx context.Context, c *broker.Conn, v inventory.Verifier, quiet time.Duration, node string, doc []byte, auto bool, seq uint64) (*Prepared, error) {
	msgs, err := c.Retained(ctx, []string{c.NodeTopic(node, "status"), c.NodeTopic(node, "state"), c.NodeTopic(node, "desired")}, quiet)
	if err != nil {
		return nil, err
	}
	inv := inventory.FromMessages(c.Prefix(), msgs, v)
	n := inv.Node(node)
	p := &Prepared{Node: node, Inventory: inv}
	if n.Desired != nil {
		p.Prev, p.PrevSeq = n.Desired.Document, n.Desired.Seq
	}
	if auto {
		next, signed := NextSeq(n)
		if n.State == nil && n.StateErr != "" {
			return nil, fmt.Errorf("node %s's state report is not believed (%s): no seq from it; give its seq explicitly", node, n.StateErr)
		}
		if !signed && n.State != nil {
			p.FirstSightKey = n.StateKey
		}
		p.NoReport = n.State == nil && n.Desired == nil
		if p.Prev != nil && SameBody(p.Prev, doc) {
			p.Skip = fmt.Sprintf("node %s already has this document (seq %d, %s): not pushed", node, p.PrevSeq, plan.Standing(n))
			return p, nil
		}
		seq = next
	}
	if seq != 0 {
		if doc, err = WithSeq(doc, seq); err != nil {
			return nil, err
		}
	}
	d, err := wire.ParseDesired(doc, node)
	if err != nil {
		return nil, err
	}
	p.Doc, p.Seq = doc, d.Seq
	if p.Prev != nil && string(p.Prev) == string(doc) {
		p.Skip = fmt.Sprintf("node %s already has this very document (seq %d, %s): not pushed again", node, d.Seq, plan.Standing(n))
		return p, nil
	}
	p.SameBody = p.Prev != nil && SameBody(p.Prev, doc)
	return p, nil
}

// SameBody reports whether two documents want the same (node and seq aside).
func SameBody(a, b []byte) bool {
	x, err1 := plan.Body(a)
	y, err2 := plan.Body(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
