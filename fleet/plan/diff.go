package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
)

// Where says how a node stands with its current document.
type Where string

// How a node stands.
const (
	// Unmanaged: no desired document is retained for the node.
	Unmanaged Where = "unmanaged"
	// Applied: the node reports the retained document applied.
	Applied Where = "applied"
	// Pending: the node has not seen the retained document yet (offline,
	// or it is on its way).
	Pending Where = "pending"
	// Failed: the node saw the retained document and did not apply it
	// (refused or rolled back: its state report says why).
	Failed Where = "failed"
	// Unknown: no state report (the node never connected) or one that
	// could not be taken.
	Unknown Where = "unknown"
)

// NodeChange is what a plan changes on one node.
type NodeChange struct {
	Node string
	// Where the node stands with its current document, and its seqs.
	Where      Where
	Why        string // for Failed: the node's error for that seq
	CurrentSeq uint64 // the retained document's seq
	AppliedSeq uint64
	// Changes lists what differs, one short phrase each ("+ sliver s1",
	// "~ policy cpu-guard.lua", "- setting telemetry.interval"); empty:
	// no change.
	Changes []string
	// Old and New are the current and rendered documents, indented, for
	// a diff (Old is empty for an unmanaged node).
	Old, New []byte
	// Doc is the rendered document.
	Doc *Document
}

// Changed reports whether the node's document changes.
func (c *NodeChange) Changed() bool { return len(c.Changes) > 0 }

// Compare compares every node's rendered document with the one retained
// for it, node by node in id order.
func Compare(p *Plan, inv *inventory.Inventory) []*NodeChange {
	var out []*NodeChange
	for _, id := range sortedKeys(p.Docs) {
		n := inv.Node(id)
		doc := p.Docs[id]
		c := &NodeChange{Node: id, Doc: doc}
		c.Where, c.Why = standing(n)
		if n.State != nil {
			c.AppliedSeq = n.State.AppliedSeq
		}
		c.New = indent(doc.Marshal(), true)
		var cur Document
		if n.Desired != nil && n.Desired.Document != nil {
			c.CurrentSeq = n.Desired.Seq
			c.Old = indent(n.Desired.Document, true)
			if err := json.Unmarshal(n.Desired.Document, &cur); err != nil {
				c.Changes = append(c.Changes, "~ whole document (the current one does not parse: "+err.Error()+")")
			}
		}
		if c.Changes == nil {
			c.Changes = changes(&cur, doc, n.Desired != nil && n.Desired.Document != nil)
		}
		out = append(out, c)
	}
	return out
}

// standing tells where a node stands with its retained document.
func standing(n *inventory.Node) (Where, string) {
	if n.Desired == nil || n.Desired.Document == nil {
		if n.Desired != nil && n.Desired.Err != "" {
			return Failed, n.Desired.Err
		}
		return Unmanaged, ""
	}
	if n.State == nil {
		return Unknown, n.StateErr
	}
	seq := n.Desired.Seq
	switch {
	case n.State.AppliedSeq == seq:
		return Applied, ""
	case n.State.SeenSeq < seq:
		return Pending, ""
	}
	why := fmt.Sprintf("seq %d seen, %d applied", n.State.SeenSeq, n.State.AppliedSeq)
	for _, e := range n.State.Errors {
		if e.Seq == seq {
			why = e.Message
		}
	}
	return Failed, why
}

// Changes lists what differs between two documents (old nil: the node
// had none).
func Changes(old, new []byte) ([]string, error) {
	var o, n Document
	if old != nil {
		if err := json.Unmarshal(old, &o); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(new, &n); err != nil {
		return nil, err
	}
	return changes(&o, &n, old != nil), nil
}

// changes lists what differs between two documents.
func changes(old, new *Document, had bool) []string {
	var out []string
	if !had {
		out = append(out, "+ first document")
	}
	if old.NodeState != new.NodeState {
		out = append(out, fmt.Sprintf("~ node_state %s -> %s", orNone(old.NodeState), orNone(new.NodeState)))
	}
	olds := map[string]container.Spec{}
	for _, s := range old.Slivers {
		olds[s.Name] = s
	}
	news := map[string]container.Spec{}
	for _, s := range new.Slivers {
		news[s.Name] = s
	}
	for _, name := range unionKeys(olds, news) {
		o, inOld := olds[name]
		n, inNew := news[name]
		switch {
		case !inOld:
			out = append(out, "+ sliver "+name)
		case !inNew:
			out = append(out, "- sliver "+name)
		case !reflect.DeepEqual(normSpec(o), normSpec(n)):
			out = append(out, "~ sliver "+name)
		}
	}
	for _, name := range unionKeys(old.Policies, new.Policies) {
		o, inOld := old.Policies[name]
		n, inNew := new.Policies[name]
		switch {
		case !inOld:
			out = append(out, "+ policy "+name)
		case !inNew:
			out = append(out, "- policy "+name)
		case o != n:
			out = append(out, "~ policy "+name)
		}
	}
	for _, k := range unionKeys(old.Settings, new.Settings) {
		o, inOld := old.Settings[k]
		n, inNew := new.Settings[k]
		switch {
		case !inOld:
			out = append(out, "+ setting "+k)
		case !inNew:
			out = append(out, "- setting "+k+" (left as it is on the node)")
		case !sameSetting(dir.Setting(o), dir.Setting(n)):
			out = append(out, "~ setting "+k)
		}
	}
	if !had && len(out) == 1 && len(new.Slivers) == 0 && len(new.Policies) == 0 && len(new.Settings) == 0 && new.NodeState == "" {
		// Nothing to manage on a node the fleet never managed.
		return nil
	}
	return out
}

// normSpec makes a spec comparable: empty lists and nil lists alike.
func normSpec(s container.Spec) container.Spec {
	if len(s.Interfaces) == 0 {
		s.Interfaces = nil
	}
	if s.Slice == "" {
		s.Slice = s.Name
	}
	if s.Request == "" {
		s.Request = container.Register
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(unset)"
	}
	return s
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// indent pretty-prints a document for a diff; with the policies' Lua
// sources cut into lines so that a diff shows the lines that changed.
func indent(doc []byte, expandLua bool) []byte {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return doc
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if m, ok := v.(map[string]any); ok && expandLua {
		if pols, ok := m["policies"].(map[string]any); ok {
			for k, src := range pols {
				if s, ok := src.(string); ok {
					pols[k] = strings.Split(s, "\n")
				}
			}
		}
	}
	enc.Encode(v)
	return buf.Bytes()
}

// Standing tells how a node stands with its retained document.
func Standing(n *inventory.Node) Where {
	w, _ := standing(n)
	return w
}
