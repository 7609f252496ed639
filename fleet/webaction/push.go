package webaction

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/deliver"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Pushed is what a push did.
type Pushed struct {
	Node string
	// Seq is the seq the document was published under (0: not pushed).
	Seq uint64
	// Skipped, when not empty, says why nothing was pushed (the node has
	// this document already).
	Skipped string
	// Changes are the differences from the document retained before
	// ("+ sliver s1", "~ setting agent.node_state").
	Changes []string
	// Warnings are for the admin to read (a node key seen for the first
	// time, no state report on the broker).
	Warnings []string
}

// PushDocument signs doc (a desired document for node, docs/remote.md)
// with the server's keys and publishes it retained on the node's desired
// topic under the next seq, as `nodekeeper-fleet push --seq auto` does. A
// document the node already has is not pushed again (Skipped). It is
// refused while a rollout runs. What the node makes of it shows in its
// state report (the web view follows it live).
func (a *Actions) PushDocument(ctx context.Context, user, node string, doc []byte) (*Pushed, error) {
	if !dir.ValidNodeID(node) {
		return nil, fmt.Errorf("node id %q: want 1-64 of letters, digits, '-', '_', '.'", clip(node))
	}
	if len(doc) > wire.MaxEnvelopeBytes {
		return nil, fmt.Errorf("document of %d bytes: nodes take envelopes of at most %d", len(doc), wire.MaxEnvelopeBytes)
	}
	v, rec, err := a.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.rolloutRunning(rec); err != nil {
		return nil, err
	}
	p, err := deliver.Prepare(ctx, a.cfg.Conn, v, a.cfg.Quiet, node, doc, true, 0)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	out := &Pushed{Node: node}
	if p.FirstSightKey != "" {
		out.Warnings = append(out.Warnings, fmt.Sprintf("the seq came from node %s's state report, signed by a key seen for the first time (%s): pin it with an enrolment list", node, p.FirstSightKey))
	}
	if p.NoReport {
		out.Warnings = append(out.Warnings, fmt.Sprintf("node %s has no state report on the broker: seq 1", node))
	}
	if p.Skip != "" {
		out.Skipped = p.Skip
		return out, nil
	}
	if err := deliver.Push(ctx, a.cfg.Conn, a.cfg.Keys, node, p.Doc); err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	out.Seq = p.Seq
	out.Changes, _ = plan.Changes(p.Prev, p.Doc)
	a.cfg.Log.Info("web action: pushed", "user", user, "node", node, "seq", p.Seq, "changes", len(out.Changes))
	return out, nil
}

// SetNodeState pushes node's retained document (verified with the
// trusted keys) with node_state set to state (production, safe or debug)
// under the next seq; a node with no document retained gets one that
// says only that (absent parts leave the node's as they are). A retained
// document that does not verify, or that has expired, is not touched.
func (a *Actions) SetNodeState(ctx context.Context, user, node, state string) (*Pushed, error) {
	switch state {
	case wire.Production, wire.Safe, wire.Debug:
	default:
		return nil, fmt.Errorf("node state %q: want production, safe or debug", clip(state))
	}
	if !dir.ValidNodeID(node) {
		return nil, fmt.Errorf("node id %q: want 1-64 of letters, digits, '-', '_', '.'", clip(node))
	}
	v, _, err := a.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	msgs, err := a.cfg.Conn.Retained(ctx, []string{a.cfg.Conn.NodeTopic(node, "desired")}, a.cfg.Quiet)
	if err != nil {
		return nil, err
	}
	var doc []byte
	if env, ok := msgs[a.cfg.Conn.NodeTopic(node, "desired")]; ok && len(env) > 0 {
		if v.Desired == nil {
			return nil, fmt.Errorf("node %s: no trusted key to verify its retained document", node)
		}
		prev, _, err := v.Desired(env)
		if err != nil {
			return nil, fmt.Errorf("node %s: the retained document does not verify (%v): push a whole document instead", node, err)
		}
		if doc, err = withNodeState(prev, state, time.Now()); err != nil {
			return nil, fmt.Errorf("node %s: retained document: %w", node, err)
		}
	} else {
		doc, _ = json.Marshal(map[string]any{"node": node, "seq": 0, "node_state": state})
	}
	p, err := a.PushDocument(ctx, user, node, doc)
	if err == nil && p.Seq != 0 {
		a.cfg.Log.Info("web action: node state", "user", user, "node", node, "state", state, "seq", p.Seq)
	}
	return p, err
}

// withNodeState returns doc with node_state (and the setting
// agent.node_state, if the document has it) set to state, its ts now.
// A document that has expired is refused: its parts are stale.
func withNodeState(doc []byte, state string, now time.Time) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	if raw, ok := m["expires"]; ok {
		var exp time.Time
		if err := json.Unmarshal(raw, &exp); err != nil {
			return nil, fmt.Errorf("expires: %w", err)
		}
		if !exp.After(now) {
			return nil, fmt.Errorf("expired at %s: push a fresh document instead", exp.Format(time.RFC3339))
		}
	}
	m["node_state"], _ = json.Marshal(state)
	if _, ok := m["ts"]; ok {
		m["ts"], _ = json.Marshal(now.UTC().Truncate(time.Second))
	}
	if raw, ok := m["settings"]; ok {
		var settings map[string]json.RawMessage
		if err := json.Unmarshal(raw, &settings); err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
		if _, ok := settings["agent.node_state"]; ok {
			settings["agent.node_state"], _ = json.Marshal(state)
			m["settings"], _ = json.Marshal(settings)
		}
	}
	return json.Marshal(m)
}

// clip keeps an error short when it quotes what a request said.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
