// Package status sums the fleet up from what the broker holds: per node
// (online, node state, applied and seen seq, drift from the plan,
// errors) and per slice (slivers per state across nodes, failures with
// their reasons, the slice's CPU, memory and traffic from the slivers'
// telemetry).
package status

import (
	"fmt"
	"sort"

	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
)

// NodeRow is one node.
type NodeRow struct {
	Node       string `json:"node"`
	Status     string `json:"status"` // online, offline, unknown
	NodeState  string `json:"node_state,omitempty"`
	AppliedSeq uint64 `json:"applied_seq"`
	SeenSeq    uint64 `json:"seen_seq"`
	// Standing is how the node stands with its retained document
	// (applied, pending, failed, unmanaged, unknown).
	Standing string `json:"standing"`
	// Drift lists what the plan would change (with a fleet directory).
	Drift   []string `json:"drift,omitempty"`
	Slivers int      `json:"slivers"`
	// Remote are the slivers documents manage on the node.
	Remote []string `json:"remote,omitempty"`
	// Local are the slivers the node's owner made (no document manages them).
	Local     []string `json:"local,omitempty"`
	Errors    int      `json:"errors"`
	LastError string   `json:"last_error,omitempty"`
	// StateError says why the node's retained state report is not
	// believed (unsigned, signed by another key than the pinned one).
	StateError string `json:"state_error,omitempty"`
}

// SliceRow is one slice across the fleet.
type SliceRow struct {
	Slice string `json:"slice"`
	// Owner is the key id of who answers for the slice, as the fleet
	// directory says (with a directory that names one).
	Owner string `json:"owner,omitempty"`
	// Planned is how many nodes the plan places it on (with a directory).
	Planned int `json:"planned,omitempty"`
	// States counts its slivers per CONFINE state across nodes.
	States   map[string]int `json:"states"`
	Failures []string       `json:"failures,omitempty"`
	// From the slivers' telemetry (nodes that published a document).
	Reporting   int     `json:"reporting"`
	CPUPercent  float64 `json:"cpu_percent"`
	MemoryBytes int64   `json:"memory_bytes"`
	RxBps       float64 `json:"rx_bps"`
	TxBps       float64 `json:"tx_bps"`
}

// Report is the fleet's status.
type Report struct {
	Nodes  []NodeRow  `json:"nodes"`
	Slices []SliceRow `json:"slices"`
}

// Build sums up inv; p (a rendered plan) and docs (the latest telemetry
// by node) may be nil.
func Build(inv *inventory.Inventory, p *plan.Plan, docs map[string]*inventory.Telemetry) *Report {
	r := &Report{Nodes: []NodeRow{}, Slices: []SliceRow{}}
	var drift map[string][]string
	if p != nil {
		drift = map[string][]string{}
		for _, c := range plan.Compare(p, inv) {
			drift[c.Node] = c.Changes
		}
	}
	slices := map[string]*SliceRow{}
	slice := func(name string) *SliceRow {
		s := slices[name]
		if s == nil {
			s = &SliceRow{Slice: name, States: map[string]int{}}
			slices[name] = s
		}
		return s
	}
	if p != nil {
		for _, pl := range p.Placed {
			s := slice(pl.Slice)
			s.Planned, s.Owner = len(pl.Nodes), pl.Owner
		}
	}
	for _, id := range inv.IDs() {
		n := inv.Nodes[id]
		row := NodeRow{Node: id, Status: n.Status, Drift: drift[id]}
		if row.Status == "" {
			row.Status = "unknown"
		}
		row.Standing = string(standing(n))
		row.StateError = n.StateErr
		if st := n.State; st != nil {
			row.NodeState, row.AppliedSeq, row.SeenSeq = st.NodeState, st.AppliedSeq, st.SeenSeq
			row.Slivers, row.Errors = len(st.Slivers), len(st.Errors)
			if len(st.Errors) > 0 {
				e := st.Errors[len(st.Errors)-1]
				row.LastError = e.Member + ": " + e.Message
			}
			for _, sv := range st.Slivers {
				if !sv.Remote {
					row.Local = append(row.Local, sv.Name)
					continue // the owner's own: not a fleet slice
				}
				row.Remote = append(row.Remote, sv.Name)
				s := slice(sv.Slice)
				s.States[sv.State]++
				if sv.Error != "" || len(sv.State) > 5 && sv.State[:5] == "fail_" {
					s.Failures = append(s.Failures, fmt.Sprintf("%s: %s: %s", id, sv.State, sv.Error))
				}
			}
		}
		if t := docs[id]; t != nil {
			seen := map[string]bool{}
			for _, sv := range t.Slivers {
				s := slices[sv.Slice]
				if s == nil {
					continue
				}
				if !seen[sv.Slice] {
					s.Reporting++
					seen[sv.Slice] = true
				}
				s.CPUPercent += sv.CPUPercent
				s.MemoryBytes += sv.MemoryBytes
				s.RxBps += sv.RxBps
				s.TxBps += sv.TxBps
			}
		}
		r.Nodes = append(r.Nodes, row)
	}
	names := make([]string, 0, len(slices))
	for name := range slices {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := slices[name]
		sort.Strings(s.Failures)
		r.Slices = append(r.Slices, *s)
	}
	return r
}

func standing(n *inventory.Node) plan.Where {
	return plan.Standing(n)
}
