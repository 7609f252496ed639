package web

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Leaves are the node topics the view follows (<prefix>/+/LEAF); it also
// follows the rollout record (<prefix>/_fleet/rollout).
var Leaves = []string{"status", "state", "info", "desired", "document", "events"}

// Model is the fleet as the view knows it: what the broker retains of
// every node (read by package inventory), each node's latest telemetry
// document and an hour of its history, the latest events and the
// rollout record. It is fed message by message (Ingest) and read by the
// pages; every change bumps a version the live updates follow.
type Model struct {
	prefix  string
	step    time.Duration
	now     func() time.Time
	trusted []wire.PublicKey
	// enrolled are the nodes' keys from an enrolment list (override the
	// rollout record's pins).
	enrolled map[string]wire.PublicKey

	mu      sync.RWMutex
	inv     *inventory.Inventory
	pinned  map[string]wire.PublicKey
	nodes   map[string]*entry
	removed map[string]uint64 // nodes that left the view, at which version
	events  eventLog
	ver     uint64
	changed chan struct{} // closed and replaced on every change

	rec     *rollout.Record
	recErr  string
	recVer  uint64
	started time.Time

	// With a fleet directory: the plan and each node's drift from it.
	fleet     *dir.Fleet
	plan      *plan.Plan
	drift     map[string][]string
	planVer   uint64 // the model version the plan was rendered at
	planTaken time.Time
}

// entry is what the view keeps of a node beside its inventory.Node.
type entry struct {
	since      time.Time // of its status
	sinceStart bool      // the status was already there when the view started
	tel        *inventory.Telemetry
	telAt      time.Time
	hist       history
	ver        uint64
}

// ModelOptions configure a Model.
type ModelOptions struct {
	Prefix string // the nodes' topic prefix (default "nodekeeper")
	// Step is the history's resolution (default a minute: Points of them
	// make an hour).
	Step time.Duration
	// Trusted admins' keys: desired documents and rollout records are
	// verified with them (without, they are read unverified).
	Trusted []wire.PublicKey
	// Enrolled are the nodes' identity keys (an enrolment list); others
	// are pinned as the rollout record pins them, or trusted on first
	// sight.
	Enrolled map[string]wire.PublicKey
	// Fleet is the fleet directory, for drift from the plan and groups.
	Fleet *dir.Fleet
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewModel returns an empty model.
func NewModel(o ModelOptions) *Model {
	if o.Prefix == "" {
		o.Prefix = "nodekeeper"
	}
	if o.Step <= 0 {
		o.Step = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Model{prefix: o.Prefix, step: o.Step, now: o.Now, trusted: o.Trusted, enrolled: o.Enrolled,
		inv: &inventory.Inventory{Nodes: map[string]*inventory.Node{}}, nodes: map[string]*entry{}, removed: map[string]uint64{},
		changed: make(chan struct{}), fleet: o.Fleet}
	m.started = o.Now()
	m.pinned = m.pins(nil)
	return m
}

// Step is the history's resolution.
func (m *Model) Step() time.Duration { return m.step }

// Filters are the topic filters the model is fed from.
func (m *Model) Filters() []string {
	out := make([]string, 0, len(Leaves)+1)
	for _, l := range Leaves {
		out = append(out, m.prefix+"/+/"+l)
	}
	return append(out, m.prefix+"/"+rollout.TopicLeaf)
}

func (m *Model) pins(rec *rollout.Record) map[string]wire.PublicKey {
	p := rec.Pinned()
	for id, k := range m.enrolled {
		p[id] = k
	}
	return p
}

func (m *Model) verifier() inventory.Verifier { return inventory.NewVerifier(m.trusted, m.pinned) }

// Changed returns a channel closed at the next change.
func (m *Model) Changed() <-chan struct{} {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.changed
}

// Version is the model's version: it grows with every change.
func (m *Model) Version() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ver
}

// bump records a change (of node id, if not ""). The caller holds mu.
func (m *Model) bump(e *entry) {
	m.ver++
	if e != nil {
		e.ver = m.ver
	}
	close(m.changed)
	m.changed = make(chan struct{})
}

// event adds an event. The caller holds mu.
func (m *Model) event(e Event) {
	if e.Time.IsZero() {
		e.Time = m.now()
	}
	m.events.add(e)
}

// Ingest takes one message of a followed topic. Messages of other topics,
// of ids that are not one topic level and of malformed payloads are
// dropped (malformed state and info are kept as the node's error, as
// package inventory does).
func (m *Model) Ingest(topic string, payload []byte) {
	rest, ok := strings.CutPrefix(topic, m.prefix+"/")
	if !ok {
		return
	}
	if rest == rollout.TopicLeaf {
		m.ingestRollout(payload)
		return
	}
	id, leaf, ok := strings.Cut(rest, "/")
	if !ok || !broker.ValidTopicLevel(id) || strings.HasPrefix(id, "_") || len(id) > 128 {
		return
	}
	if len(payload) > broker.MaxMessageBytes {
		return
	}
	now := m.now()
	switch leaf {
	case "document":
		m.ingestDocument(id, payload, now)
		return
	case "events":
		ev, err := parseAgentEvent(id, payload, now)
		if err != nil {
			return
		}
		m.mu.Lock()
		if m.inv.Nodes[id] == nil {
			m.mu.Unlock()
			return // events of a node the fleet does not know: not kept
		}
		m.event(ev)
		m.bump(m.entry(id)) // its page lists its latest events
		m.mu.Unlock()
		return
	case "status", "state", "info", "desired":
	default:
		return
	}
	if len(payload) == 0 {
		m.clear(id, leaf)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.inv.Node(id)
	e := m.entry(id)
	delete(m.removed, id) // back again
	prev := *n
	n.Apply(leaf, payload, m.verifier())
	switch leaf {
	case "status":
		if n.Status == prev.Status {
			return
		}
		e.since, e.sinceStart = now, prev.Status == "" && now.Sub(m.started) < 10*time.Second
		switch {
		case prev.Status == "":
		case n.Status == "offline":
			m.event(Event{Node: id, Kind: KindOffline, Severity: "warning", Message: "offline (its last will, or a clean stop)"})
		case n.Status == "online":
			m.event(Event{Node: id, Kind: KindOnline, Severity: "info", Message: "online again"})
		}
	case "state":
		m.stateEvents(id, prev.State, n.State, prev.StateErr, n.StateErr)
	case "info":
		m.infoEvents(id, prev.Info, n.Info)
	}
	m.bump(e)
}

// clear takes a cleared retained topic (an empty message on leaf): the
// node's part goes, and a node left with none of its retained parts
// (status, state, info, desired) leaves the view, its history with it,
// as a retired node whose topics an admin cleared
// (`nodekeeper-fleet forget`) should.
func (m *Model) clear(id, leaf string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.inv.Nodes[id]
	if n == nil {
		return
	}
	switch leaf {
	case "status":
		n.Status = ""
	case "state":
		n.State, n.StateErr, n.StateSigned, n.StateKey = nil, "", false, ""
	case "info":
		n.Info, n.InfoErr = nil, ""
	case "desired":
		n.Desired = nil
	}
	if n.Status != "" || n.State != nil || n.StateErr != "" || n.Info != nil || n.InfoErr != "" || n.Desired != nil {
		m.bump(m.entry(id))
		return
	}
	delete(m.inv.Nodes, id)
	delete(m.nodes, id)
	m.event(Event{Node: id, Kind: KindRemoved, Severity: "info", Message: "removed: the broker retains nothing of it any more"})
	m.bump(nil)
	m.removed[id] = m.ver // live pages drop its row (ChangedRows)
}

func (m *Model) entry(id string) *entry {
	e := m.nodes[id]
	if e == nil {
		e = &entry{}
		m.nodes[id] = e
	}
	return e
}

// stateEvents reports what changed between two state reports. The
// caller holds mu.
func (m *Model) stateEvents(id string, old, cur *inventory.StateReport, oldErr, curErr string) {
	if curErr != "" && curErr != oldErr {
		m.event(Event{Node: id, Kind: KindError, Source: "state", Severity: "warning", Message: "state report not believed: " + clean(curErr, maxMessage)})
	}
	if cur == nil || old == nil {
		return
	}
	if cur.NodeState != old.NodeState {
		sev := "info"
		if cur.NodeState == "failure" || cur.NodeState == "safe" {
			sev = "warning"
		}
		m.event(Event{Node: id, Kind: KindState, Severity: sev, Message: fmt.Sprintf("node state %s → %s", clean(old.NodeState, 32), clean(cur.NodeState, 32))})
	}
	if cur.AppliedSeq != old.AppliedSeq {
		m.event(Event{Node: id, Kind: KindApplied, Source: "desired", Severity: "info", Message: fmt.Sprintf("applied document seq %d (was %d)", cur.AppliedSeq, old.AppliedSeq)})
	}
	var last time.Time
	for _, e := range old.Errors {
		if e.Time.After(last) {
			last = e.Time
		}
	}
	for _, e := range cur.Errors {
		if e.Time.After(last) {
			m.event(Event{Time: e.Time, Node: id, Kind: KindError, Source: clean(e.Kind, 32), Severity: "warning", Message: clean(e.Member+": "+e.Message, maxMessage)})
		}
	}
	oldSliver := map[string]string{}
	for _, s := range old.Slivers {
		oldSliver[s.Name] = s.State
	}
	for _, s := range cur.Slivers {
		if was, ok := oldSliver[s.Name]; ok && was != s.State {
			sev := "info"
			if strings.HasPrefix(s.State, "fail") {
				sev = "warning"
			}
			msg := fmt.Sprintf("sliver %s: %s → %s", clean(s.Name, 64), clean(was, 32), clean(s.State, 32))
			if s.Error != "" {
				msg += ": " + clean(s.Error, 256)
			}
			m.event(Event{Node: id, Kind: KindState, Source: "sliver", Severity: sev, Message: msg})
		}
	}
}

// infoEvents reports the policies' new decisions. The caller holds mu.
func (m *Model) infoEvents(id string, old, cur *inventory.Info) {
	if cur == nil {
		return
	}
	was := map[string]time.Time{}
	if old != nil {
		for _, p := range old.Policies {
			if p.LastDecision != nil {
				was[p.Name] = p.LastDecision.Time
			}
		}
	} else if m.now().Sub(m.started) < 10*time.Second {
		return // what nodes retained before the view started: not news
	}
	for _, p := range cur.Policies {
		d := p.LastDecision
		if d == nil || !d.Time.After(was[p.Name]) {
			continue
		}
		sev, msg := "info", fmt.Sprintf("%s: fired, %d actions", clean(p.Name, 64), d.Actions)
		if !d.Fired {
			msg = clean(p.Name, 64) + ": evaluated, did not fire"
		}
		if d.Error != "" {
			sev, msg = "warning", clean(p.Name, 64)+": error: "+clean(d.Error, 256)
		}
		m.event(Event{Time: d.Time, Node: id, Kind: KindDecision, Source: clean(p.Name, 64), Severity: sev, Message: msg})
	}
}

// ingestDocument takes a telemetry document into the node's latest and
// its history.
func (m *Model) ingestDocument(id string, payload []byte, now time.Time) {
	t, err := inventory.ParseTelemetry(payload)
	if err != nil || (t.Node != "" && t.Node != id) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inv.Nodes[id] == nil {
		// A document of a node that has no retained status, state or
		// info: not a node of the fleet (yet).
		return
	}
	e := m.entry(id)
	e.tel, e.telAt = t, now
	b := bucket(now, m.step)
	if e.hist.begin(b) {
		record(&e.hist, b, t)
	}
	m.bump(e)
}

// record puts a document's numbers into the history's bucket b.
func record(h *history, b int64, t *inventory.Telemetry) {
	if s := t.System; s != nil {
		h.set(b, "load", s.Load[0])
		h.set(b, "cpu", s.CPU.BusyPercent)
		h.set(b, "mem", s.Memory.UsedPercent)
	}
	rx, tx := traffic(t)
	h.set(b, "rx", rx)
	h.set(b, "tx", tx)
	for i, ifc := range t.Interfaces {
		if i >= 4 || ifc.Name == "lo" {
			continue
		}
		h.set(b, "if.rx."+ifc.Name, ifc.RxBps)
		h.set(b, "if.tx."+ifc.Name, ifc.TxBps)
	}
	if t.Wifi != nil {
		for i, st := range t.Wifi.Stations {
			if i < 4 {
				h.set(b, "sta."+st.MAC, st.SignalDBM)
			}
		}
	}
	for i, sv := range t.Slivers {
		if i < 4 {
			h.set(b, "sv.cpu."+sv.Name, sv.CPUPercent)
			h.set(b, "sv.mem."+sv.Name, float64(sv.MemoryBytes))
		}
	}
}

// traffic sums the interfaces' rates but loopback's (bits per second).
func traffic(t *inventory.Telemetry) (rx, tx float64) {
	for _, ifc := range t.Interfaces {
		if ifc.Name != "lo" {
			rx += ifc.RxBps
			tx += ifc.TxBps
		}
	}
	return rx, tx
}

// ingestRollout takes the retained rollout record (empty: cleared).
func (m *Model) ingestRollout(payload []byte) {
	var rec *rollout.Record
	var errText string
	if len(payload) > 0 {
		r, err := rollout.Parse(payload, m.trusted)
		if r == nil {
			return
		}
		rec = r
		if err != nil {
			errText = err.Error()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.rec
	m.rec, m.recErr = rec, errText
	if rec != nil && errText == "" {
		m.pinned = m.pins(rec)
	}
	if rec != nil && (old == nil || old.ID != rec.ID || old.State != rec.State || len(old.Waves) != len(rec.Waves)) {
		msg := fmt.Sprintf("rollout %s by %s: %s, %d waves begun", clean(rec.ID, 64), clean(rec.Who, 64), clean(rec.State, 32), len(rec.Waves))
		if rec.Note != "" {
			msg += ": " + clean(rec.Note, 256)
		}
		sev := "info"
		if rec.State == rollout.RolledBack || rec.State == rollout.Stopped {
			sev = "warning"
		}
		m.event(Event{Kind: KindRollout, Source: "rollout", Severity: sev, Message: msg})
	}
	m.bump(nil)
	m.recVer = m.ver
}

// RefreshPlan renders the plan again from the fleet directory when the
// model changed since the last rendering, and each node's drift from it.
// The serve loop calls it now and then (rendering a large fleet costs).
func (m *Model) RefreshPlan() {
	m.mu.RLock()
	if m.fleet == nil || (m.plan != nil && m.planVer == m.ver) {
		m.mu.RUnlock()
		return
	}
	ver := m.ver
	// A copy of every node: Apply replaces a node's parts, never changes
	// them in place, so the copies are a consistent snapshot.
	inv := &inventory.Inventory{Nodes: make(map[string]*inventory.Node, len(m.inv.Nodes)), Taken: m.now()}
	for id, n := range m.inv.Nodes {
		c := *n
		inv.Nodes[id] = &c
	}
	var exclude map[string]map[string]string
	if m.rec != nil && m.recErr == "" {
		exclude = m.rec.Refusals
	}
	f := m.fleet
	m.mu.RUnlock()
	p := plan.Render(f, inv, plan.Options{Exclude: exclude})
	drift := map[string][]string{}
	for _, c := range plan.Compare(p, inv) {
		drift[c.Node] = c.Changes
	}
	m.mu.Lock()
	m.plan, m.drift, m.planVer, m.planTaken = p, drift, ver, m.now()
	m.mu.Unlock()
}

// groupsOf returns the groups of the plan each node is in. The caller
// holds mu.
func (m *Model) groupsOf() map[string][]string {
	out := map[string][]string{}
	if m.plan == nil {
		return out
	}
	names := make([]string, 0, len(m.plan.Groups))
	for g := range m.plan.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		for _, id := range m.plan.Groups[g] {
			out[id] = append(out[id], g)
		}
	}
	return out
}

// Follow subscribes c to the model's topics and feeds it their messages
// (again after every reconnection: the broker sends the retained ones).
func (m *Model) Follow(ctx context.Context, c *broker.Conn) error {
	for _, filter := range m.Filters() {
		if err := c.Subscribe(ctx, filter, m.Ingest); err != nil {
			return fmt.Errorf("fleet view: %w", err)
		}
	}
	return nil
}
