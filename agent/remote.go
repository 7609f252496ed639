package agent

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nodekeeper/nodekeeper/telemetry"
	"github.com/nodekeeper/nodekeeper/wire"
)

// runDesired handles desired envelopes one at a time, the latest first
// (an older one not handled yet is dropped for a newer).
func (a *Agent) runDesired(ctx context.Context) {
	var seen envelopeFilter
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-a.desired:
			if !seen.fresh(m) {
				continue
			}
			a.applyMu.Lock()
			a.handleDesired(ctx, m)
			a.applyMu.Unlock()
		}
	}
}

// envelopeFilter tells a new envelope from the one handled last: a
// retained message comes again after every reconnection, and is neither
// applied nor refused twice.
type envelopeFilter struct{ last [32]byte }

func (f *envelopeFilter) fresh(m envelopeMsg) bool {
	sum := sha256.Sum256(m.payload)
	if m.payload == nil {
		sum = sha256.Sum256([]byte("oversized " + strconv.Itoa(m.size)))
	}
	if sum == f.last {
		return false
	}
	f.last = sum
	return true
}

// handleDesired checks an envelope and applies its document, or refuses
// it: too big, unsigned, signed by a key not trusted, badly signed,
// replayed (a seq not above the last seen), malformed, or for another
// node. A refusal is logged and reported in the state topic; nothing of a
// refused document is applied. The caller holds applyMu.
func (a *Agent) handleDesired(ctx context.Context, m envelopeMsg) {
	cfg := a.config()
	if m.size == 0 {
		a.log.Info("desired topic cleared: the node keeps its state")
		return
	}
	if m.payload == nil {
		a.refuse(0, fmt.Errorf("desired document of %d bytes exceeds the %d-byte limit", m.size, wire.MaxEnvelopeBytes))
		return
	}
	doc, key, err := wire.Open(cfg.Remote.TrustedKeys, m.payload)
	if err != nil {
		a.refuse(0, err)
		return
	}
	var head struct {
		Node string `json:"node"`
		Seq  uint64 `json:"seq"`
	}
	if err := json.Unmarshal(doc, &head); err != nil || head.Seq == 0 {
		a.refuse(0, fmt.Errorf("desired document signed by %s has no valid seq", key.ID()))
		return
	}
	// Only a document for this node spends its seq: one for another node,
	// republished here, must not (its seq could be 2^64-1).
	if head.Node != cfg.Agent.NodeID {
		a.refuse(head.Seq, fmt.Errorf("desired document: node %q, but this node is %q (its seq is not spent)", head.Node, cfg.Agent.NodeID))
		return
	}
	a.mu.Lock()
	seen := a.remote.SeenSeq
	a.mu.Unlock()
	if head.Seq <= seen {
		a.refuse(head.Seq, fmt.Errorf("desired document seq %d is not above the last seen %d: replayed or old, refused", head.Seq, seen))
		return
	}
	// The seq is spent from now on, whatever becomes of the document.
	a.mu.Lock()
	a.remote.SeenSeq = head.Seq
	rs := a.remote
	a.mu.Unlock()
	if err := a.store.save(rs); err != nil {
		a.internalError("state", err)
		a.refuse(head.Seq, fmt.Errorf("cannot record seq %d: %w", head.Seq, err))
		return
	}
	d, err := parseDesired(doc, cfg.Agent.NodeID)
	if err != nil {
		a.refuse(head.Seq, err)
		return
	}
	a.log.Info("desired document received", "seq", d.Seq, "signer", key.ID())
	a.apply(ctx, d, doc, key)
}

// refuse reports a refused document.
func (a *Agent) refuse(seq uint64, err error) {
	a.log.Warn("desired document refused", "seq", seq, "err", oneLine(err))
	a.addError("desired", seq, "refused: "+err.Error())
	a.remoteEvent("desired_refused", "warning", seq, err.Error())
}

// remoteEvent publishes what became of a document on the events topic.
func (a *Agent) remoteEvent(kind, severity string, seq uint64, msg string) {
	if pub := a.publisher(); pub != nil {
		e := telemetry.Event{Kind: kind, Source: "desired", Severity: severity, Message: msg, Fields: map[string]any{"seq": seq}}
		if err := pub.PublishEvent(e); err != nil {
			a.log.Warn("event not published", "kind", kind, "err", err)
		}
	}
}
