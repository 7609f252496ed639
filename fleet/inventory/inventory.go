// Package inventory is what the broker retains about every node, read as
// one snapshot: its status (online/offline, the last will), its state
// report, its info (labels, model, release, location, policies) and the
// desired document retained for it. The broker is the fleet's only
// state: this is how the fleet tool learns it.
package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Node is one node as the broker retains it. Parts the node never
// published are nil.
type Node struct {
	ID string
	// Status is the retained status: "online", "offline" or "" (never seen).
	Status string
	// State is the node's state report; StateErr says why a retained one
	// was not taken (malformed, not for this node, or its signature did
	// not verify).
	State    *StateReport
	StateErr string
	// StateSigned is true when the report's signature verified with the
	// node's pinned key (an enrolment list, or the rollout record that
	// pinned it): only then is its seen_seq trusted for a new seq. A report
	// signed by the key it carries, not pinned yet, is taken (trust on
	// first sight) with StateSigned false; an unsigned one is not taken.
	StateSigned bool
	// StateKey is the key (usign base64) that signed the report.
	StateKey string
	// Info is what the node says of itself; InfoErr why it was not taken.
	Info    *Info
	InfoErr string
	// Desired is the document retained on its desired topic.
	Desired *Desired
}

// Online reports whether the node's retained status says online.
func (n *Node) Online() bool { return n.Status == "online" }

// Desired is a retained desired document as the fleet reads it.
type Desired struct {
	Seq      uint64
	Document []byte // the signed bytes
	Signer   string // the id of the key that signed it, if it verified
	// Err says why the envelope could not be read or verified.
	Err string
}

// Inventory is the snapshot of every node.
type Inventory struct {
	Nodes map[string]*Node
	// Taken is when the snapshot was read.
	Taken time.Time
}

// IDs returns the nodes' ids, sorted.
func (inv *Inventory) IDs() []string {
	ids := make([]string, 0, len(inv.Nodes))
	for id := range inv.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Node returns the node, adding an empty one if the broker knows nothing
// of it (a node named in the fleet directory that never connected).
func (inv *Inventory) Node(id string) *Node {
	n := inv.Nodes[id]
	if n == nil {
		n = &Node{ID: id}
		inv.Nodes[id] = n
	}
	return n
}

// Leaves are the node topics a snapshot reads.
var Leaves = []string{"status", "state", "info", "desired"}

// Verifier checks signed parts of a snapshot. A nil Desired takes
// envelopes unverified.
type Verifier struct {
	// Pinned are the nodes' keys: their state reports must verify with
	// them. A node without one is trusted on first sight.
	Pinned map[string]wire.PublicKey
	// Desired opens a desired envelope and returns the document and the
	// signer's key id.
	Desired func(payload []byte) (doc []byte, signer string, err error)
}

// Read takes a snapshot: the retained messages of every node's topics,
// until the broker has been quiet for quiet.
func Read(ctx context.Context, c *broker.Conn, v Verifier, quiet time.Duration) (*Inventory, error) {
	filters := make([]string, len(Leaves))
	for i, l := range Leaves {
		filters[i] = c.Prefix() + "/+/" + l
	}
	msgs, err := c.Retained(ctx, filters, quiet)
	if err != nil {
		return nil, err
	}
	return FromMessages(c.Prefix(), msgs, v), nil
}

// FromMessages builds a snapshot from retained messages by topic.
func FromMessages(prefix string, msgs map[string][]byte, v Verifier) *Inventory {
	inv := &Inventory{Nodes: map[string]*Node{}, Taken: time.Now()}
	for topic, payload := range msgs {
		rest, ok := strings.CutPrefix(topic, prefix+"/")
		if !ok {
			continue
		}
		id, leaf, ok := strings.Cut(rest, "/")
		if !ok || !broker.ValidTopicLevel(id) || strings.HasPrefix(id, "_") {
			continue
		}
		n := inv.Node(id)
		n.Apply(leaf, payload, v)
	}
	return inv
}

// maxPayload bounds what is parsed of one message.
const maxPayload = 1 << 20

// Apply takes one message of the node's topic leaf into n.
func (n *Node) Apply(leaf string, payload []byte, v Verifier) {
	if len(payload) > maxPayload {
		return
	}
	switch leaf {
	case "status":
		switch s := string(payload); s {
		case "online", "offline":
			n.Status = s
		}
	case "state":
		n.State, n.StateErr, n.StateSigned, n.StateKey = nil, "", false, ""
		var r *StateReport
		var err error
		pinned, ok := v.Pinned[n.ID]
		if ok {
			r, err = wire.VerifyState(pinned, payload)
		} else {
			r, _, err = wire.OpenState(payload)
		}
		if err == nil && r.Node != n.ID {
			err = fmt.Errorf("state report for node %q on %s's topic", r.Node, n.ID)
		}
		if err != nil {
			n.StateErr = err.Error()
			return
		}
		n.State, n.StateSigned, n.StateKey = r, ok, r.NodeKey
	case "info":
		// Signed by the node's own key, as its state report: checked
		// against the pinned key, or against the key of its state report
		// when none is pinned yet; unsigned info is not believed.
		n.Info, n.InfoErr = nil, ""
		var i *Info
		var err error
		if pinned, ok := v.Pinned[n.ID]; ok {
			i, err = wire.VerifyInfo(pinned, payload)
		} else {
			var k wire.PublicKey
			i, k, err = wire.OpenInfo(payload)
			if err == nil && n.StateKey != "" && k.String() != n.StateKey {
				err = fmt.Errorf("info signed by another key than the node's state report")
			}
		}
		if err != nil {
			n.InfoErr = "info: " + err.Error()
			return
		}
		if i.Node != "" && i.Node != n.ID {
			n.InfoErr = fmt.Sprintf("info for node %q on %s's topic", i.Node, n.ID)
			return
		}
		n.Info = i
	case "desired":
		d := &Desired{}
		n.Desired = d
		var doc []byte
		if v.Desired != nil {
			b, signer, err := v.Desired(payload)
			if err != nil {
				d.Err = err.Error()
				return
			}
			doc, d.Signer = b, signer
		} else {
			var env struct {
				Document []byte `json:"document"`
			}
			if err := json.Unmarshal(payload, &env); err != nil {
				d.Err = "desired envelope: " + err.Error()
				return
			}
			doc = env.Document
		}
		var head struct {
			Node string `json:"node"`
			Seq  uint64 `json:"seq"`
		}
		if err := json.Unmarshal(doc, &head); err != nil {
			d.Err = "desired document: " + err.Error()
			return
		}
		if head.Node != n.ID {
			d.Err = fmt.Sprintf("desired document for node %q on %s's topic", head.Node, n.ID)
			return
		}
		d.Seq, d.Document = head.Seq, doc
	}
}
