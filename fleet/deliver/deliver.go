package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/wire"
)

// NextSeq is the seq a new document for the node takes: above the seq
// the node reports it has seen and above the document retained for it
// (which it may not have seen yet). Signed says whether the seen seq came
// from a state report that verified with the node's pinned key; one
// signed by a key seen for the first time is used too (callers say so,
// and the rollout record pins the key). A report that is unsigned or
// signed by another key is never taken (inventory), so its seen_seq is
// never used.
func NextSeq(n *inventory.Node) (seq uint64, signed bool) {
	if n.State != nil {
		seq = n.State.SeenSeq
		signed = n.StateSigned
	}
	if n.Desired != nil && n.Desired.Seq > seq {
		seq = n.Desired.Seq
	}
	return seq + 1, signed
}

// WithSeq returns doc with its seq set (doc is a JSON object with "seq").
func WithSeq(doc []byte, seq uint64) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	m["seq"] = json.RawMessage(fmt.Sprint(seq))
	return json.Marshal(m)
}

// Push checks doc as a node would (wire.ParseDesired: strictly, for this
// node), signs it with every key (nodes with remote.threshold N need N
// distinct trusted signers) and publishes it retained on the node's
// desired topic.
func Push(ctx context.Context, c *broker.Conn, keys []wire.SecretKey, node string, doc []byte) error {
	if _, err := wire.ParseDesired(doc, node); err != nil {
		return err
	}
	env, err := wire.SealAll(keys, doc)
	if err != nil {
		return err
	}
	if len(env) > wire.MaxEnvelopeBytes {
		return fmt.Errorf("node %s: envelope of %d bytes exceeds the %d-byte limit nodes accept", node, len(env), wire.MaxEnvelopeBytes)
	}
	return c.Publish(ctx, c.NodeTopic(node, "desired"), env, true)
}

// Result is what became of a document.
type Result string

// The results of a delivery.
const (
	// Applied: the node applied it (some parts may have been refused by
	// its owner: Refusals).
	Applied Result = "applied"
	// Failed: the node refused or rolled back the document (Reason).
	Failed Result = "failed"
	// Pending: the node is offline; the retained document reaches it when
	// it comes back.
	Pending Result = "pending"
	// Timeout: the node is online but did not report within the time.
	Timeout Result = "timeout"
	// Superseded: the node saw a later document.
	Superseded Result = "superseded"
)

// Outcome is what a node reported of one seq.
type Outcome struct {
	Node   string
	Seq    uint64
	Result Result
	Reason string
	// Refusals are the parts the node's owner refused (member, why).
	Refusals []wire.ErrorEntry
}

// OutcomeOf tells, from the node's current report, what became of seq;
// ok is false while the node has not decided yet: a node reports the seq
// as seen before it applies the document (it is spent from then on), so
// seen without applied is a failure only once an error about that seq
// (member "desired") says why, or a later seq was seen.
func OutcomeOf(n *inventory.Node, seq uint64) (Outcome, bool) {
	o := Outcome{Node: n.ID, Seq: seq}
	r := n.State
	if r == nil || r.SeenSeq < seq {
		return o, false
	}
	failed := false
	for _, e := range r.Errors {
		if e.Seq != seq {
			continue
		}
		if e.Member == "desired" {
			o.Reason, failed = e.Message, true
		} else {
			o.Refusals = append(o.Refusals, e)
		}
	}
	switch {
	case r.AppliedSeq == seq:
		o.Result = Applied
	case r.AppliedSeq > seq:
		o.Result = Superseded
	case failed:
		o.Result = Failed
	case r.SeenSeq > seq:
		o.Result = Failed
		o.Reason = fmt.Sprintf("the node saw a later seq %d and applied %d", r.SeenSeq, r.AppliedSeq)
	default:
		return o, false // seen, being applied
	}
	return o, true
}

// ErrOffline is returned by Await for a node that is offline.
var ErrOffline = errors.New("node offline")

// SeqlessRefusals returns the node's reported document refusals that
// carry no seq (a bad signature, too few signers: the node refuses before
// it reads the seq), to tell a new one from those already there.
func SeqlessRefusals(n *inventory.Node) map[string]bool {
	out := map[string]bool{}
	if n.State != nil {
		for _, e := range n.State.Errors {
			if e.Seq == 0 && (e.Member == "desired" || e.Kind == wire.KindDocument) {
				out[e.Time.String()+"|"+e.Message] = true
			}
		}
	}
	return out
}

// Await waits for the node's report about seq, at most timeout. A node
// offline (now, or going offline while waited for) is Pending. before
// (SeqlessRefusals taken before the push; nil: none) lets a refusal
// without a seq that appears meanwhile count as this document's.
func (w *Watcher) Await(ctx context.Context, node string, seq uint64, timeout time.Duration, before map[string]bool) Outcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out Outcome
	err := w.Until(ctx, func(inv *inventory.Inventory) bool {
		n := inv.Node(node)
		if o, ok := OutcomeOf(n, seq); ok {
			out = o
			return true
		}
		if before != nil && n.State != nil {
			for _, e := range n.State.Errors {
				if e.Seq == 0 && (e.Member == "desired" || e.Kind == wire.KindDocument) && !before[e.Time.String()+"|"+e.Message] {
					out = Outcome{Node: node, Seq: seq, Result: Failed, Reason: e.Message}
					return true
				}
			}
		}
		if n.Status == "offline" {
			out = Outcome{Node: node, Seq: seq, Result: Pending, Reason: "offline: the retained document reaches it when it comes back"}
			return true
		}
		return false
	})
	if err != nil {
		return Outcome{Node: node, Seq: seq, Result: Timeout, Reason: fmt.Sprintf("no state report about seq %d within %v", seq, timeout)}
	}
	return out
}

// RefusedSlivers returns the slivers named in refusals.
func RefusedSlivers(rs []wire.ErrorEntry) map[string]string {
	out := map[string]string{}
	for _, e := range rs {
		if name, ok := strings.CutPrefix(e.Member, "sliver "); ok {
			out[name] = e.Message
		}
	}
	return out
}
