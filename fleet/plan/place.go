package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
)

// place chooses a slice's nodes. Named nodes are taken as named (a node
// whose owner refuses is reported, not replaced). Count nodes of a group
// are chosen stably: nodes that run the sliver already first, then nodes
// online, then by a hash of slice and node (rendezvous hashing: adding a
// node to the group moves few slivers); a node whose owner refused the
// sliver (its state report says so, or the rollout learnt it) is passed
// over for the next candidate. Count 0 is every node of the group.
func place(s *dir.Slice, group []string, inv *inventory.Inventory, exclude map[string]string) *Placed {
	pl := &Placed{Slice: s.Name, Owner: s.Owner, Skipped: map[string]string{}}
	refused := func(id string) (string, bool) {
		if why, ok := exclude[id]; ok {
			return why, true
		}
		if n := inv.Nodes[id]; n != nil && n.State != nil {
			if why, ok := inventory.Refused(n.State)[s.Name]; ok {
				return why, true
			}
		}
		return "", false
	}
	if len(s.Placement.Nodes) > 0 {
		pl.Wanted = len(s.Placement.Nodes)
		for _, id := range s.Placement.Nodes {
			if why, ok := refused(id); ok {
				pl.Skipped[id] = why
			}
			pl.Nodes = append(pl.Nodes, id)
		}
		sort.Strings(pl.Nodes)
		return pl
	}
	type cand struct {
		id        string
		holds, up bool
		hash      uint64
	}
	var cs []cand
	for _, id := range group {
		if why, ok := refused(id); ok {
			pl.Skipped[id] = why
			continue
		}
		n := inv.Nodes[id]
		c := cand{id: id, up: n.Online()}
		if n.State != nil {
			if sr := inventory.SliverOf(n.State, s.Name); sr != nil && sr.Remote {
				c.holds = true
			}
		}
		sum := sha256.Sum256([]byte(s.Name + "\x00" + id))
		c.hash = binary.BigEndian.Uint64(sum[:8])
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.holds != b.holds {
			return a.holds
		}
		if a.up != b.up {
			return a.up
		}
		if a.hash != b.hash {
			return a.hash > b.hash
		}
		return a.id < b.id
	})
	pl.Wanted = s.Placement.Count
	n := len(cs)
	if s.Placement.Count > 0 {
		n = min(n, s.Placement.Count)
		if n < s.Placement.Count {
			pl.Short = fmt.Sprintf("%d of %d placed: group %s has %d nodes that do not refuse it", n, s.Placement.Count, s.Placement.Group, len(cs))
		}
	}
	for _, c := range cs[:n] {
		pl.Nodes = append(pl.Nodes, c.id)
	}
	slices.Sort(pl.Nodes)
	return pl
}
