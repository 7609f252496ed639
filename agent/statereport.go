package agent

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
)

// maxErrors bounds the errors the state report keeps (the newest).
const maxErrors = 16

// ErrorEntry is one problem in the state report: what it concerns
// (member: "desired", "sliver s1", "network", "config", ...), the document
// it came with (Seq, if any) and why.
type ErrorEntry struct {
	Time    time.Time `json:"time"`
	Member  string    `json:"member"`
	Seq     uint64    `json:"seq,omitempty"`
	Message string    `json:"message"`
}

// SliverReport is one sliver in the state report.
type SliverReport struct {
	Name     string            `json:"name"`
	Slice    string            `json:"slice"`
	ID       int               `json:"id"`
	State    container.State   `json:"state"`
	SetState container.Request `json:"set_state"`
	// Held is the request the node state holds down (safe, debug, failure).
	Held  container.Request `json:"held,omitempty"`
	Error string            `json:"error,omitempty"`
	// Limits are those policies set on the running sliver (sliver.limit),
	// beyond its spec's.
	Limits *container.Resources `json:"limits,omitempty"`
	// Remote is true for slivers that desired documents manage.
	Remote bool `json:"remote,omitempty"`
}

// StateReport is what the agent publishes, retained, on
// <prefix>/<node>/state, and what `nodekeeper status` shows.
type StateReport struct {
	Node       string         `json:"node"`
	TS         float64        `json:"ts"`
	NodeState  NodeState      `json:"node_state"`
	AppliedSeq uint64         `json:"applied_seq"`
	SeenSeq    uint64         `json:"seen_seq"`
	Slivers    []SliverReport `json:"slivers"`
	Policies   struct {
		Loaded      int `json:"loaded"`
		Quarantined int `json:"quarantined"`
	} `json:"policies"`
	Errors []ErrorEntry `json:"errors"`
	// Override is the override file when one is in force (policies see
	// faked values) or refused.
	Override *OverrideState `json:"override,omitempty"`
}

// addError records a problem for the state report.
func (a *Agent) addError(member string, seq uint64, msg string) {
	a.mu.Lock()
	a.errs = append(a.errs, ErrorEntry{Time: time.Now().UTC().Truncate(time.Millisecond), Member: member, Seq: seq, Message: msg})
	if len(a.errs) > maxErrors {
		a.errs = append(a.errs[:0:0], a.errs[len(a.errs)-maxErrors:]...)
	}
	a.mu.Unlock()
	a.markDirty()
}

// report assembles the state report.
func (a *Agent) report() StateReport {
	var recs []container.Sliver
	if a.slivers != nil {
		recs = a.slivers.Slivers()
		a.adapter.observe(recs)
	}
	loaded, quarantined := policyCounter{a}.PolicyCounts()
	a.mu.Lock()
	defer a.mu.Unlock()
	r := StateReport{
		Node:       a.cfg.Agent.NodeID,
		TS:         math.Round(float64(time.Now().UnixMilli())) / 1000,
		NodeState:  a.nodeStateLocked(),
		AppliedSeq: a.remote.AppliedSeq,
		SeenSeq:    a.remote.SeenSeq,
		Slivers:    []SliverReport{},
		Errors:     append([]ErrorEntry{}, a.errs...),
	}
	a.override.get()
	r.Override = a.override.state()
	r.Policies.Loaded, r.Policies.Quarantined = loaded, quarantined
	remote := map[string]bool{}
	for _, n := range a.remote.Slivers {
		remote[n] = true
	}
	for _, s := range recs {
		sr := SliverReport{Name: s.Name, Slice: s.Slice, ID: s.ID, State: s.State, SetState: s.Request,
			Held: a.remote.Held[s.Name], Error: s.Error, Remote: remote[s.Name]}
		if l, ok := a.limits[s.Name]; ok && s.State == container.Started {
			sr.Limits = &l
		}
		r.Slivers = append(r.Slivers, sr)
	}
	return r
}

// stateJSON returns the report as published, and the same without its
// time (to tell whether anything changed).
func stateJSON(r StateReport) (withTime, without []byte) {
	withTime, _ = json.Marshal(r)
	r.TS = 0
	without, _ = json.Marshal(r)
	return withTime, without
}

// publishState spools the state report, retained, when it changed.
func (a *Agent) publishState() {
	pub := a.publisher()
	if pub == nil {
		return
	}
	b, key := stateJSON(a.report())
	a.mu.Lock()
	same := bytes.Equal(key, a.lastSent)
	if !same {
		a.lastSent = key
	}
	a.mu.Unlock()
	if !same {
		pub.Enqueue(pub.Topic("state"), b, 1, true)
	}
}

// Status is what `nodekeeper status` shows: the state report and how the
// agent is doing.
type Status struct {
	StateReport
	PID         int       `json:"pid"`
	Started     time.Time `json:"started"`
	Config      string    `json:"config"`
	Broker      string    `json:"broker"`
	Connected   bool      `json:"connected"`
	BrokerError string    `json:"broker_error,omitempty"`
	RSSBytes    int64     `json:"rss_bytes,omitempty"`
}

// status assembles the Status.
func (a *Agent) status() Status {
	s := Status{StateReport: a.report(), PID: os.Getpid(), Started: a.started}
	cfg := a.config()
	s.Config, s.Broker = cfg.File, cfg.Telemetry.Broker
	if pub := a.publisher(); pub != nil {
		s.Connected = pub.Connected()
		if err := pub.LastError(); err != nil {
			s.BrokerError = err.Error()
		}
		if d := pub.Latest(); d != nil && d.Agent != nil {
			s.RSSBytes = d.Agent.RSSBytes
		}
	}
	return s
}
