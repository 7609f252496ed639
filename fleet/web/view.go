package web

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
	"github.com/nodekeeper/nodekeeper/fleet/status"
	"github.com/nodekeeper/nodekeeper/wire"
)

// NodeRow is one node as the nodes table shows it.
type NodeRow struct {
	ID     string
	Status string // online, offline, unknown
	Since  time.Time
	// SinceStart: the status was retained before the view started, so
	// it holds since at least Since.
	SinceStart bool
	NodeState  string
	Standing   string
	HasTel     bool
	TelAt      time.Time
	Load       float64
	Memory     float64 // percent used
	Flash      float64 // percent used
	Uptime     float64 // seconds
	Running    int
	Slivers    int
	AppliedSeq uint64
	HasPlan    bool
	Drift      []string
	Errors     int
	LastError  string
	StateErr   string
	Labels     map[string]string
	Groups     []string
	Location   *wire.Location
	// History of load and traffic (rx+tx), oldest first.
	LoadHist, TrafficHist []float64
	ver                   uint64
}

// Problem reports whether the row should stand out: offline, in failure
// or safe state, its document failed, or its state report not believed.
func (r NodeRow) Problem() bool {
	return r.Status != "online" || r.NodeState == "failure" || r.Standing == string(plan.Failed) || r.StateErr != ""
}

// row builds a node's row. The caller holds mu (read).
func (m *Model) row(id string, groups map[string][]string, now int64) NodeRow {
	n := m.inv.Nodes[id]
	e := m.entry0(id)
	r := NodeRow{ID: id, Status: n.Status, Since: e.since, SinceStart: e.sinceStart, Standing: string(plan.Standing(n)),
		StateErr: n.StateErr, Groups: groups[id], ver: e.ver}
	if r.Status == "" {
		r.Status = "unknown"
	}
	if st := n.State; st != nil {
		r.NodeState, r.AppliedSeq, r.Slivers, r.Errors = st.NodeState, st.AppliedSeq, len(st.Slivers), len(st.Errors)
		for _, s := range st.Slivers {
			if s.State == "started" || s.State == "running" {
				r.Running++
			}
		}
		if len(st.Errors) > 0 {
			le := st.Errors[len(st.Errors)-1]
			r.LastError = le.Member + ": " + le.Message
		}
	}
	if n.Info != nil {
		r.Labels, r.Location = n.Info.Labels, n.Info.Location
	}
	if m.plan != nil {
		r.HasPlan, r.Drift = true, m.drift[id]
	}
	if t := e.tel; t != nil {
		r.HasTel, r.TelAt = true, e.telAt
		if s := t.System; s != nil {
			r.Load, r.Memory, r.Uptime = s.Load[0], s.Memory.UsedPercent, s.UptimeSeconds
		}
		r.Flash = t.FlashUsed()
	}
	return r
}

// history fills r's load and traffic history. The caller holds mu
// (read).
func (m *Model) history(r *NodeRow, now int64) {
	e := m.entry0(r.ID)
	r.LoadHist = e.hist.points("load", now)
	rx, tx := e.hist.points("rx", now), e.hist.points("tx", now)
	if rx != nil && tx != nil {
		r.TrafficHist = make([]float64, len(rx))
		for i := range rx {
			r.TrafficHist[i] = rx[i] + tx[i]
		}
	}
}

// WithHistory fills the rows' load and traffic history (a page's rows:
// sorting and filtering the whole fleet does without).
func (m *Model) WithHistory(rows []NodeRow) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := bucket(m.now(), m.step)
	for i := range rows {
		m.history(&rows[i], now)
	}
}

// entry0 returns the node's entry or an empty one (not stored).
func (m *Model) entry0(id string) *entry {
	if e := m.nodes[id]; e != nil {
		return e
	}
	return &entry{}
}

// Filter selects and orders the nodes table's rows.
type Filter struct {
	Query   string // part of the node id
	Status  string // online, offline, unknown
	State   string // node state
	Group   string
	Label   string // KEY=VALUE or KEY
	Problem bool   // offline or failing only
	Sort    string // column
	Desc    bool
}

// Match reports whether r passes the filter.
func (f *Filter) Match(r *NodeRow) bool {
	if f.Query != "" && !strings.Contains(strings.ToLower(r.ID), strings.ToLower(f.Query)) {
		return false
	}
	if f.Status != "" && r.Status != f.Status {
		return false
	}
	if f.State != "" && r.NodeState != f.State {
		return false
	}
	if f.Problem && !r.Problem() {
		return false
	}
	if f.Group != "" {
		found := f.Group == "all"
		for _, g := range r.Groups {
			found = found || g == f.Group
		}
		if !found {
			return false
		}
	}
	if f.Label != "" {
		k, v, hasV := strings.Cut(f.Label, "=")
		got, ok := r.Labels[k]
		if !ok || hasV && got != v {
			return false
		}
	}
	return true
}

// Columns are the sortable columns of the nodes table.
var Columns = []string{"node", "status", "state", "load", "memory", "flash", "uptime", "slivers", "seq", "errors"}

func less(col string, a, b *NodeRow) int {
	num := func(x, y float64) int {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	switch col {
	case "status":
		return strings.Compare(a.Status, b.Status)
	case "state":
		return strings.Compare(a.NodeState, b.NodeState)
	case "load":
		return num(a.Load, b.Load)
	case "memory":
		return num(a.Memory, b.Memory)
	case "flash":
		return num(a.Flash, b.Flash)
	case "uptime":
		return num(a.Uptime, b.Uptime)
	case "slivers":
		return num(float64(a.Slivers), float64(b.Slivers))
	case "seq":
		return num(float64(a.AppliedSeq), float64(b.AppliedSeq))
	case "errors":
		return num(float64(a.Errors), float64(b.Errors))
	}
	return 0
}

// Rows returns the nodes table's rows through the filter, sorted,
// without their history (WithHistory).
func (m *Model) Rows(f Filter) []NodeRow {
	m.mu.RLock()
	defer m.mu.RUnlock()
	groups := m.groupsOf()
	now := bucket(m.now(), m.step)
	out := make([]NodeRow, 0, len(m.inv.Nodes))
	for id := range m.inv.Nodes {
		r := m.row(id, groups, now)
		if f.Match(&r) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		c := less(f.Sort, &out[i], &out[j])
		if c == 0 {
			c = strings.Compare(out[i].ID, out[j].ID)
			if f.Sort != "" && f.Sort != "node" {
				return c < 0 // ties by id, ascending
			}
		}
		if f.Desc {
			return c > 0
		}
		return c < 0
	})
	return out
}

// ChangedRows returns the rows of nodes that changed after version ver
// and pass the filter, and the ids of those that changed but no longer
// pass it or left the view (Model.clear).
func (m *Model) ChangedRows(f Filter, ver uint64) (rows []NodeRow, gone []string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var groups map[string][]string
	now := bucket(m.now(), m.step)
	for id, e := range m.nodes {
		if e.ver <= ver {
			continue
		}
		if groups == nil {
			groups = m.groupsOf()
		}
		r := m.row(id, groups, now)
		if f.Match(&r) {
			m.history(&r, now)
			rows = append(rows, r)
		} else {
			gone = append(gone, id)
		}
	}
	for id, v := range m.removed {
		if v > ver {
			gone = append(gone, id)
		}
	}
	return rows, gone
}

// Summary counts the fleet's nodes.
type Summary struct {
	Nodes, Online, Offline, Problems int
	Plan                             bool
	PlanTaken                        time.Time
	Step                             time.Duration
	Groups                           []string
	States                           []string
}

// Summary returns the counts for the page header and the filters' choices.
func (m *Model) Summary() Summary {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := Summary{Nodes: len(m.inv.Nodes), Plan: m.plan != nil, PlanTaken: m.planTaken, Step: m.step}
	states := map[string]bool{}
	for _, n := range m.inv.Nodes {
		switch n.Status {
		case "online":
			s.Online++
		case "offline":
			s.Offline++
		}
		if n.State != nil && n.State.NodeState != "" {
			states[n.State.NodeState] = true
		}
	}
	if m.plan != nil {
		for g := range m.plan.Groups {
			s.Groups = append(s.Groups, g)
		}
		sort.Strings(s.Groups)
	}
	for st := range states {
		s.States = append(s.States, st)
	}
	sort.Strings(s.States)
	return s
}

// Series is one line of a chart.
type Series struct {
	Name   string
	Values []float64
}

// Chart is one chart of a node page.
type Chart struct {
	Title string
	Unit  string
	Lines []Series
}

// NodeView is what a node page shows.
type NodeView struct {
	Row      NodeRow
	Node     *inventory.Node
	Tel      *inventory.Telemetry
	Charts   []Chart
	StateErr string
	// Sliver usage from the latest document, by sliver name.
	Usage map[string]SliverUsage
	// Rollout is the node's part in the current rollout, if any.
	Rollout *rollout.NodeOutcome
}

// SliverUsage is a sliver's latest use.
type SliverUsage struct {
	CPUPercent       float64
	MemoryBytes      int64
	MemoryLimitBytes int64
}

// Node returns a node's page, false if the view does not know it.
func (m *Model) Node(id string) (NodeView, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := m.inv.Nodes[id]
	if n == nil {
		return NodeView{}, false
	}
	now := bucket(m.now(), m.step)
	c := *n
	v := NodeView{Row: m.row(id, m.groupsOf(), now), Node: &c, Usage: map[string]SliverUsage{}}
	e := m.entry0(id)
	v.Tel = e.tel
	if e.tel != nil {
		for _, s := range e.tel.Slivers {
			v.Usage[s.Name] = SliverUsage{s.CPUPercent, s.MemoryBytes, s.MemoryLimitBytes}
		}
	}
	if m.rec != nil {
		v.Rollout = m.rec.Nodes[id]
	}
	h := &e.hist
	p := func(name string) []float64 { return h.points(name, now) }
	add := func(title, unit string, lines ...Series) {
		var keep []Series
		for _, l := range lines {
			if l.Values != nil {
				keep = append(keep, l)
			}
		}
		if len(keep) > 0 {
			v.Charts = append(v.Charts, Chart{Title: title, Unit: unit, Lines: keep})
		}
	}
	add("CPU busy", "%", Series{"busy", p("cpu")})
	add("Memory used", "%", Series{"used", p("mem")})
	add("Load (1 min)", "", Series{"load", p("load")})
	add("Traffic, all interfaces", "bit/s", Series{"rx", p("rx")}, Series{"tx", p("tx")})
	for _, name := range h.names("if.rx.") {
		ifc := strings.TrimPrefix(name, "if.rx.")
		add("Traffic "+ifc, "bit/s", Series{"rx", p(name)}, Series{"tx", p("if.tx." + ifc)})
	}
	var sta []Series
	for _, name := range h.names("sta.") {
		sta = append(sta, Series{strings.TrimPrefix(name, "sta."), p(name)})
	}
	add("Wifi stations' signal", "dBm", sta...)
	var cpu, mem []Series
	for _, name := range h.names("sv.cpu.") {
		sv := strings.TrimPrefix(name, "sv.cpu.")
		cpu = append(cpu, Series{sv, p(name)})
		mem = append(mem, Series{sv, p("sv.mem." + sv)})
	}
	add("Slivers' CPU", "%", cpu...)
	add("Slivers' memory", "B", mem...)
	return v, true
}

// RolloutVersion returns the version at which the rollout record last
// changed.
func (m *Model) RolloutVersion() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.recVer
}

// NodeVersion returns the version at which the node last changed.
func (m *Model) NodeVersion(id string) uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.entry0(id).ver
}

// SliverRow is one sliver on one node.
type SliverRow struct {
	Node       string
	NodeStatus string
	wire.SliverReport
	Usage   *SliverUsage
	Refused string
}

// SliceView is one slice across the fleet.
type SliceView struct {
	status.SliceRow
	Slivers []SliverRow
}

// Slices returns every slice the nodes report (and the plan places),
// with their slivers across nodes.
func (m *Model) Slices() []SliceView {
	m.mu.RLock()
	defer m.mu.RUnlock()
	docs := map[string]*inventory.Telemetry{}
	for id, e := range m.nodes {
		if e.tel != nil {
			docs[id] = e.tel
		}
	}
	rep := status.Build(m.inv, m.plan, docs)
	byName := map[string]*SliceView{}
	var out []SliceView
	for _, s := range rep.Slices {
		out = append(out, SliceView{SliceRow: s})
	}
	for i := range out {
		byName[out[i].Slice] = &out[i]
	}
	for _, id := range m.inv.IDs() {
		n := m.inv.Nodes[id]
		if n.State == nil {
			continue
		}
		refused := inventory.Refused(n.State)
		for _, sv := range n.State.Slivers {
			if !sv.Remote {
				continue
			}
			v := byName[sv.Slice]
			if v == nil {
				continue
			}
			r := SliverRow{Node: id, NodeStatus: n.Status, SliverReport: sv, Refused: refused[sv.Name]}
			if e := m.nodes[id]; e != nil && e.tel != nil {
				for _, u := range e.tel.Slivers {
					if u.Name == sv.Name {
						r.Usage = &SliverUsage{u.CPUPercent, u.MemoryBytes, u.MemoryLimitBytes}
					}
				}
			}
			v.Slivers = append(v.Slivers, r)
		}
	}
	return out
}

// Events returns the events after seq, oldest first.
func (m *Model) Events(seq uint64) []Event {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.events.since(seq)
}

// Rollout returns the retained rollout record, why it did not verify,
// and the version it came at.
func (m *Model) Rollout() (*rollout.Record, string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.rec, m.recErr
}

// MapNode is a node on the map.
type MapNode struct {
	ID       string
	Status   string
	Problem  bool
	Lat, Lon float64
}

// MapLink joins two nodes that see each other: one's wifi station is
// the other's interface or radio.
type MapLink struct {
	A, B      string
	SignalDBM float64
}

// Map returns the nodes with a location and the links between them.
func (m *Model) Map() (nodes []MapNode, links []MapLink, unplaced int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	macs := map[string]string{} // MAC -> node
	for id, e := range m.nodes {
		if e.tel == nil {
			continue
		}
		for _, ifc := range e.tel.Interfaces {
			if ifc.MAC != "" {
				macs[strings.ToLower(ifc.MAC)] = id
			}
		}
		if e.tel.Wifi != nil {
			for _, r := range e.tel.Wifi.Radios {
				if r.MAC != "" {
					macs[strings.ToLower(r.MAC)] = id
				}
			}
		}
	}
	groups := m.groupsOf()
	now := bucket(m.now(), m.step)
	placed := map[string]bool{}
	for _, id := range m.inv.IDs() {
		n := m.inv.Nodes[id]
		if n.Info == nil || n.Info.Location == nil || !validLocation(n.Info.Location) {
			unplaced++
			continue
		}
		r := m.row(id, groups, now)
		nodes = append(nodes, MapNode{ID: id, Status: r.Status, Problem: r.Problem(), Lat: n.Info.Location.Lat, Lon: n.Info.Location.Lon})
		placed[id] = true
	}
	// A link's signal is the weaker of the two directions heard.
	byPair := map[[2]string]int{}
	for _, id := range m.inv.IDs() {
		e := m.nodes[id]
		if e == nil || e.tel == nil || e.tel.Wifi == nil || !placed[id] {
			continue
		}
		for _, st := range e.tel.Wifi.Stations {
			peer := macs[strings.ToLower(st.MAC)]
			if peer == "" || peer == id || !placed[peer] {
				continue
			}
			k := [2]string{min(id, peer), max(id, peer)}
			if i, ok := byPair[k]; ok {
				links[i].SignalDBM = min(links[i].SignalDBM, st.SignalDBM)
				continue
			}
			byPair[k] = len(links)
			links = append(links, MapLink{A: k[0], B: k[1], SignalDBM: st.SignalDBM})
		}
	}
	sort.Slice(links, func(i, j int) bool { return links[i].A+"\x00"+links[i].B < links[j].A+"\x00"+links[j].B })
	return nodes, links, unplaced
}

func validLocation(l *wire.Location) bool {
	return !math.IsNaN(l.Lat) && !math.IsNaN(l.Lon) && l.Lat >= -85 && l.Lat <= 85 && l.Lon >= -180 && l.Lon <= 180 && (l.Lat != 0 || l.Lon != 0)
}
