// Package rollout pushes a plan to the fleet in waves, and keeps the
// rollout's record on the broker: signed, retained, on its own topic
// (<prefix>/_fleet/rollout). The record is the lock (a second apply sees
// a running one and refuses), what a resumed apply continues from, what
// the web view shows, and what a rollback needs: each node's previous
// document, which the broker no longer keeps once a new one is retained.
package rollout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/wire"
)

// TopicLeaf is the record's topic under the prefix: <prefix>/_fleet/rollout.
// Node ids the fleet accepts never start with '_'.
const TopicLeaf = "_fleet/rollout"

// Topic returns the record's topic.
func Topic(c *broker.Conn) string { return c.Prefix() + "/" + TopicLeaf }

// States of a rollout.
const (
	Running    = "running"     // in progress (or interrupted: resume it)
	Done       = "done"        // every wave applied
	RolledBack = "rolled_back" // a wave failed: its nodes got their previous documents back
	Stopped    = "stopped"     // a wave failed and its rollback failed too: see the nodes
)

// Outcomes of a node in a rollout.
const (
	OutApplied    = "applied"
	OutRefused    = "refused" // applied, but the node's owner refused a part (Reason)
	OutFailed     = "failed"
	OutPending    = "pending" // offline: the retained document reaches it when it comes back
	OutRolledBack = "rolled_back"
	OutPushed     = "pushed" // published, no report yet
)

// Record is a rollout as retained on the broker.
type Record struct {
	ID      string    `json:"id"`
	Who     string    `json:"who"`
	Key     string    `json:"key"` // id of the key that signs the record and the documents
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// PlanHash is the plan's hash (plan.Plan.Hash): a resume continues
	// only the same plan.
	PlanHash string   `json:"plan_hash"`
	State    string   `json:"state"`
	Options  Settings `json:"options"`
	Waves    []*Wave  `json:"waves"`
	// Nodes are the outcomes by node id.
	Nodes map[string]*NodeOutcome `json:"nodes"`
	// Previous holds the nodes' previous documents without node and seq
	// (plan.Body), by their sha256: a thousand nodes with the same
	// previous document keep one copy.
	Previous map[string]json.RawMessage `json:"previous,omitempty"`
	// Refusals are the slivers nodes' owners refused, slice -> node ->
	// why: placement passes these nodes over from now on.
	Refusals map[string]map[string]string `json:"refusals,omitempty"`
	// NodeKeys pins each node's identity key (usign base64), as first seen
	// signing its state reports: later applies believe a node's report
	// only when it verifies with this key (an enrolment list overrides).
	NodeKeys map[string]string `json:"node_keys,omitempty"`
	// Decisions are the aggregation policies' decisions this rollout
	// carries out.
	Decisions []string `json:"policy_decisions,omitempty"`
	// Note says why the rollout stopped, if it did.
	Note string `json:"note,omitempty"`
}

// Settings are the rollout's rules.
type Settings struct {
	Canary    int     `json:"canary"`
	Growth    float64 `json:"growth"`
	SoakSecs  float64 `json:"soak_seconds"`
	MaxFailed float64 `json:"max_failed"` // a fraction: 0.1 stops above 10% failed
}

// Wave is one wave of a rollout.
type Wave struct {
	Nodes  []string `json:"nodes"`
	State  string   `json:"state"` // running, applied, failed
	Failed int      `json:"failed"`
}

// NodeOutcome is one node's part of a rollout.
type NodeOutcome struct {
	Wave    int      `json:"wave"`
	Seq     uint64   `json:"seq"`
	Outcome string   `json:"outcome"`
	Reason  string   `json:"reason,omitempty"`
	Changes []string `json:"changes,omitempty"`
	// Previous is the sha256 (in Record.Previous) of the node's previous
	// document, "" when it had none; PrevSeq its seq.
	Previous string `json:"previous,omitempty"`
	PrevSeq  uint64 `json:"prev_seq,omitempty"`
	// RollbackSeq is the seq of the document that gave it back.
	RollbackSeq uint64 `json:"rollback_seq,omitempty"`
}

// keep stores a previous document's body and returns its key.
func (r *Record) keep(doc []byte) string {
	body, err := plan.Body(doc)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	if r.Previous == nil {
		r.Previous = map[string]json.RawMessage{}
	}
	r.Previous[h] = body
	return h
}

// Read returns the retained record, if any, and whether its signature
// verified with one of trusted. A record that does not verify is
// returned with the error (callers show who it claims to be).
func Read(ctx context.Context, c *broker.Conn, trusted []wire.PublicKey, quiet time.Duration) (*Record, error) {
	msgs, err := c.Retained(ctx, []string{Topic(c)}, quiet)
	if err != nil {
		return nil, err
	}
	b, ok := msgs[Topic(c)]
	if !ok {
		return nil, nil
	}
	return Parse(b, trusted)
}

// Parse reads a record's envelope and checks its signature.
func Parse(b []byte, trusted []wire.PublicKey) (*Record, error) {
	doc, _, verr := wire.Open(trusted, b)
	if verr != nil {
		var env wire.Envelope
		if json.Unmarshal(b, &env) != nil {
			return nil, fmt.Errorf("rollout record: %w", verr)
		}
		doc = env.Document
	}
	var r Record
	if err := json.Unmarshal(doc, &r); err != nil {
		return nil, fmt.Errorf("rollout record: %w", err)
	}
	if verr != nil {
		return &r, fmt.Errorf("rollout record by %q: %w", r.Who, verr)
	}
	return &r, nil
}

// save signs and publishes the record, retained.
func (r *Record) save(ctx context.Context, c *broker.Conn, k wire.SecretKey) error {
	r.Updated = time.Now().UTC().Truncate(time.Millisecond)
	if err := c.PublishSealed(ctx, Topic(c), k, r, "rollout record"); err != nil {
		if errors.Is(err, broker.ErrTooLarge) {
			return fmt.Errorf("%w: roll out fewer nodes at once", err)
		}
		return err
	}
	return nil
}

// Pinned returns the record's node keys, parsed.
func (r *Record) Pinned() map[string]wire.PublicKey {
	out := map[string]wire.PublicKey{}
	if r == nil {
		return out
	}
	for id, s := range r.NodeKeys {
		if k, err := wire.ParsePublicKey([]byte(s)); err == nil {
			out[id] = k
		}
	}
	return out
}
