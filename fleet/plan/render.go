// Package plan renders every node's desired document from a fleet
// directory and what the broker retains (which nodes exist, what they
// report, what their owners refused), and compares it with what each
// node has now.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
)

// Document is a node's desired document as the fleet renders it (the
// format of docs/remote.md). Slivers and policies are always present, so
// that what a document created and the fleet directory no longer lists is
// removed; what the node's owner made locally is never touched.
type Document struct {
	Node      string                 `json:"node"`
	Seq       uint64                 `json:"seq"`
	NodeState string                 `json:"node_state,omitempty"`
	Slivers   []container.Spec       `json:"slivers"`
	Policies  map[string]string      `json:"policies"`
	Settings  map[string]SettingJSON `json:"settings,omitempty"`
}

// SettingJSON writes a dir.Setting as the document has it: a string, an
// array of strings, or null.
type SettingJSON dir.Setting

// MarshalJSON implements json.Marshaler.
func (s SettingJSON) MarshalJSON() ([]byte, error) {
	switch {
	case s.Delete:
		return []byte("null"), nil
	case s.List:
		return json.Marshal(s.Values)
	case len(s.Values) == 1:
		return json.Marshal(s.Values[0])
	}
	return nil, fmt.Errorf("setting without a value")
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *SettingJSON) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*s = SettingJSON{Delete: true}
		return nil
	case len(b) > 0 && b[0] == '[':
		var v []string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = SettingJSON{Values: v, List: true}
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = SettingJSON{Values: []string{v}}
	return nil
}

// Marshal returns the document's JSON, as signed.
func (d *Document) Marshal() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		panic("plan: document does not marshal: " + err.Error())
	}
	return b
}

// Body returns the document without its node and seq, canonical: two
// documents with the same body want the same thing.
func Body(doc []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	delete(m, "node")
	delete(m, "seq")
	// Re-encode every part through any, so that key order and spacing do
	// not make two equal documents differ.
	out := map[string]any{}
	for k, raw := range m {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return json.Marshal(out)
}

// BodyHash is the sha256 of Body, in hex.
func BodyHash(doc []byte) string {
	b, err := Body(doc)
	if err != nil {
		b = doc
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Placed is where one slice's slivers went.
type Placed struct {
	Slice string
	// Owner is the key id of who answers for the slice (the directory's
	// owner, "" when it names none): shown, not sent (the sliver spec has
	// no owner; a node's admission sees the document's signer).
	Owner string
	Nodes []string
	// Wanted is how many the placement asked for (0: every node of the group).
	Wanted int
	// Skipped are candidates passed over, with why (their owner refused).
	Skipped map[string]string
	// Short says why fewer nodes than wanted were found.
	Short string
}

// Plan is every node's rendered document.
type Plan struct {
	// Docs by node id (Seq 0: the seq is given when it is pushed).
	Docs map[string]*Document
	// Groups are the members of each group.
	Groups map[string][]string
	Placed []*Placed
	// Hash identifies the plan: the sha256 of every node's body.
	Hash string
	// Problems are conflicts found while rendering (two groups setting
	// one option differently for a node): a plan with any is not pushed.
	Problems []string
}

// Options change a rendering.
type Options struct {
	// Exclude are more (slice, node) pairs to pass over, as a rollout
	// learns of refusals: Exclude[slice][node] = why.
	Exclude map[string]map[string]string
	// Changes made by aggregation policies (fleet/aggregate): node states
	// by node, slice counts, slices stopped (start asked down to deploy).
	NodeState  map[string]string
	SliceCount map[string]int
	SliceStop  map[string]bool
}

// Render renders every node's document. The nodes are those the broker
// knows and those the directory names.
func Render(f *dir.Fleet, inv *inventory.Inventory, o Options) *Plan {
	p := &Plan{Docs: map[string]*Document{}, Groups: map[string][]string{}}
	for _, g := range f.Groups {
		for _, n := range g.Nodes {
			inv.Node(n)
		}
	}
	for _, s := range f.Slices {
		for _, n := range s.Placement.Nodes {
			inv.Node(n)
		}
	}
	ids := inv.IDs()
	for _, id := range ids {
		p.Docs[id] = &Document{Node: id, Slivers: []container.Spec{}, Policies: map[string]string{}}
	}
	member := map[string]map[string]bool{}
	for name, g := range f.Groups {
		m := map[string]bool{}
		for _, id := range ids {
			if name == dir.AllGroup || slices.Contains(g.Nodes, id) || g.Match.Matches(inv.Nodes[id].Facts()) {
				m[id] = true
				p.Groups[name] = append(p.Groups[name], id)
			}
		}
		member[name] = m
	}

	// Slices, in name order.
	for _, name := range sortedKeys(f.Slices) {
		s := f.Slices[name]
		if n, ok := o.SliceCount[name]; ok && s.Placement.Group != "" {
			c := *s
			c.Placement.Count = n
			s = &c
		}
		pl := place(s, p.Groups[s.Placement.Group], inv, o.Exclude[name])
		p.Placed = append(p.Placed, pl)
		for _, id := range pl.Nodes {
			spec := s.Spec
			spec.Interfaces = slices.Clone(s.Spec.Interfaces)
			if o.SliceStop[name] && spec.Request == container.Start {
				spec.Request = container.Deploy
			}
			p.Docs[id].Slivers = append(p.Docs[id].Slivers, spec)
		}
	}

	// Policies.
	for _, file := range sortedKeys(f.Policies) {
		pol := f.Policies[file]
		for _, id := range ids {
			for _, g := range pol.Groups {
				if member[g][id] {
					p.Docs[id].Policies[file] = pol.Source
					break
				}
			}
		}
	}

	// Settings, group by group; two groups disagreeing for a node is a
	// problem named by both places.
	for _, id := range ids {
		d := p.Docs[id]
		from := map[string]dir.Pos{}
		var stateFrom dir.Pos
		for _, gs := range f.Settings {
			if !member[gs.Group][id] {
				continue
			}
			if gs.NodeState != "" {
				if d.NodeState != "" && d.NodeState != gs.NodeState {
					p.Problems = append(p.Problems, fmt.Sprintf("%s: node %s: node_state %s here, %s at %s", gs.Pos, id, gs.NodeState, d.NodeState, stateFrom))
				}
				d.NodeState, stateFrom = gs.NodeState, gs.Pos
			}
			for k, v := range gs.Settings {
				if d.Settings == nil {
					d.Settings = map[string]SettingJSON{}
				}
				if old, ok := d.Settings[k]; ok && !sameSetting(dir.Setting(old), v) {
					p.Problems = append(p.Problems, fmt.Sprintf("%s: node %s: setting %s differs from %s (both groups hold the node)", gs.KeyPos[k], id, k, from[k]))
				}
				d.Settings[k] = SettingJSON(v)
				from[k] = gs.KeyPos[k]
			}
		}
	}
	for id, st := range o.NodeState {
		if d := p.Docs[id]; d != nil {
			d.NodeState = st
		}
	}
	sort.Strings(p.Problems)
	h := sha256.New()
	for _, id := range ids {
		body, _ := Body(p.Docs[id].Marshal())
		fmt.Fprintf(h, "%s\n%s\n", id, body)
	}
	p.Hash = hex.EncodeToString(h.Sum(nil))
	return p
}

func sameSetting(a, b dir.Setting) bool {
	return a.Delete == b.Delete && a.List == b.List && slices.Equal(a.Values, b.Values)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
