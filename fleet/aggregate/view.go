package aggregate

import (
	lua "github.com/yuin/gopher-lua"
)

// Node is what a policy sees of one node (fleet.nodes[i]).
type Node struct {
	ID         string
	Online     bool
	NodeState  string
	AppliedSeq uint64
	Errors     int
	Labels     map[string]string
	// From the latest telemetry document, when one came (HasTelemetry).
	HasTelemetry bool
	Load         [3]float64
	MemoryUsed   float64 // percent
	FlashUsed    float64 // percent of the fullest of / and /overlay
	Slivers      []Sliver
}

// Sliver is one sliver on a node.
type Sliver struct {
	Name, Slice, State string
	Remote             bool
	CPUPercent         float64
	MemoryBytes        int64
}

// Slice is what a policy sees of one slice (fleet.slices[name]).
type Slice struct {
	Name string
	// Placed are the nodes the plan puts it on; Count the placement's
	// count (0: named nodes or every node of the group).
	Placed []string
	Count  int
	// States counts its slivers per state across nodes; Failed those in a
	// fail_* state.
	States map[string]int
	Failed int
}

// View is the fleet as policies see it.
type View struct {
	Nodes  []Node
	Slices map[string]*Slice
}

func (v *View) table(L *lua.LState) *lua.LTable {
	fleet := L.NewTable()
	nodes := L.CreateTable(len(v.Nodes), 0)
	for _, n := range v.Nodes {
		t := L.NewTable()
		t.RawSetString("id", lua.LString(n.ID))
		t.RawSetString("online", lua.LBool(n.Online))
		t.RawSetString("node_state", lua.LString(n.NodeState))
		t.RawSetString("applied_seq", lua.LNumber(n.AppliedSeq))
		t.RawSetString("errors", lua.LNumber(n.Errors))
		labels := L.NewTable()
		for k, val := range n.Labels {
			labels.RawSetString(k, lua.LString(val))
		}
		t.RawSetString("labels", labels)
		t.RawSetString("has_telemetry", lua.LBool(n.HasTelemetry))
		if n.HasTelemetry {
			load := L.CreateTable(3, 0)
			for _, x := range n.Load {
				load.Append(lua.LNumber(x))
			}
			t.RawSetString("load", load)
			t.RawSetString("memory_used_percent", lua.LNumber(n.MemoryUsed))
			t.RawSetString("flash_used_percent", lua.LNumber(n.FlashUsed))
		}
		svs := L.CreateTable(len(n.Slivers), 0)
		for _, s := range n.Slivers {
			st := L.NewTable()
			st.RawSetString("name", lua.LString(s.Name))
			st.RawSetString("slice", lua.LString(s.Slice))
			st.RawSetString("state", lua.LString(s.State))
			st.RawSetString("remote", lua.LBool(s.Remote))
			st.RawSetString("cpu_percent", lua.LNumber(s.CPUPercent))
			st.RawSetString("memory_bytes", lua.LNumber(s.MemoryBytes))
			svs.Append(st)
		}
		t.RawSetString("slivers", svs)
		nodes.Append(t)
	}
	fleet.RawSetString("nodes", nodes)
	slices := L.NewTable()
	for name, s := range v.Slices {
		t := L.NewTable()
		t.RawSetString("name", lua.LString(name))
		placed := L.CreateTable(len(s.Placed), 0)
		for _, id := range s.Placed {
			placed.Append(lua.LString(id))
		}
		t.RawSetString("placed", placed)
		t.RawSetString("count", lua.LNumber(s.Count))
		states := L.NewTable()
		for k, n := range s.States {
			states.RawSetString(k, lua.LNumber(n))
		}
		t.RawSetString("states", states)
		t.RawSetString("failed", lua.LNumber(s.Failed))
		slices.RawSetString(name, t)
	}
	fleet.RawSetString("slices", slices)
	return fleet
}
