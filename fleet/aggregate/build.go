package aggregate

import (
	"strings"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
)

// BuildView builds what policies see from the broker's snapshot, the
// rendered plan (where slices go) and the latest telemetry by node.
func BuildView(f *dir.Fleet, inv *inventory.Inventory, p *plan.Plan, docs map[string]*inventory.Telemetry) *View {
	v := &View{Slices: map[string]*Slice{}}
	for name, s := range f.Slices {
		v.Slices[name] = &Slice{Name: name, Count: s.Placement.Count, States: map[string]int{}}
		if s.Placement.Group != "" && s.Placement.Count == 0 {
			v.Slices[name].Count = 0
		}
	}
	for _, pl := range p.Placed {
		if s := v.Slices[pl.Slice]; s != nil {
			s.Placed = pl.Nodes
		}
	}
	for _, id := range inv.IDs() {
		n := inv.Nodes[id]
		nv := Node{ID: id, Online: n.Online()}
		if n.Info != nil {
			nv.Labels = n.Info.Labels
		}
		var t *inventory.Telemetry
		if docs != nil {
			t = docs[id]
		}
		if t != nil && t.System != nil {
			nv.HasTelemetry = true
			nv.Load = t.System.Load
			nv.MemoryUsed = t.System.Memory.UsedPercent
			nv.FlashUsed = t.FlashUsed()
		}
		use := map[string][2]float64{}
		if t != nil {
			for _, s := range t.Slivers {
				use[s.Name] = [2]float64{s.CPUPercent, float64(s.MemoryBytes)}
			}
		}
		if st := n.State; st != nil {
			nv.NodeState, nv.AppliedSeq, nv.Errors = st.NodeState, st.AppliedSeq, len(st.Errors)
			for _, s := range st.Slivers {
				u := use[s.Name]
				nv.Slivers = append(nv.Slivers, Sliver{Name: s.Name, Slice: s.Slice, State: s.State, Remote: s.Remote, CPUPercent: u[0], MemoryBytes: int64(u[1])})
				if sl := v.Slices[s.Slice]; sl != nil && s.Remote {
					sl.States[s.State]++
					if strings.HasPrefix(s.State, "fail_") {
						sl.Failed++
					}
				}
			}
		}
		v.Nodes = append(v.Nodes, nv)
	}
	return v
}
