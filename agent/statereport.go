package agent

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/wire"
)

// maxErrors bounds the errors the state report keeps (the newest).
const maxErrors = 16

// addError records a problem for the state report.
func (a *Agent) addError(member string, seq uint64, msg string) {
	a.mu.Lock()
	a.errs = append(a.errs, wire.ErrorEntry{Time: time.Now().UTC().Truncate(time.Millisecond), Member: member, Seq: seq, Message: msg})
	if len(a.errs) > maxErrors {
		a.errs = append(a.errs[:0:0], a.errs[len(a.errs)-maxErrors:]...)
	}
	a.mu.Unlock()
	a.markDirty()
}

// report assembles the state report.
func (a *Agent) report() wire.StateReport {
	var recs []container.Sliver
	if a.slivers != nil {
		recs = a.slivers.Slivers()
		a.adapter.observe(recs)
	}
	loaded, quarantined := policyCounter{a}.PolicyCounts()
	a.mu.Lock()
	defer a.mu.Unlock()
	r := wire.StateReport{
		Node:       a.cfg.Agent.NodeID,
		TS:         math.Round(float64(time.Now().UnixMilli())) / 1000,
		NodeState:  string(a.nodeStateLocked()),
		AppliedSeq: a.remote.AppliedSeq,
		SeenSeq:    a.remote.SeenSeq,
		Slivers:    []wire.SliverReport{},
		Errors:     append([]wire.ErrorEntry{}, a.errs...),
	}
	r.Policies.Loaded, r.Policies.Quarantined = loaded, quarantined
	remote := map[string]bool{}
	for _, n := range a.remote.Slivers {
		remote[n] = true
	}
	for _, s := range recs {
		sr := wire.SliverReport{Name: s.Name, Slice: s.Slice, ID: s.ID, State: string(s.State), SetState: string(s.Request),
			Held: string(a.remote.Held[s.Name]), Error: s.Error, Remote: remote[s.Name]}
		if l, ok := a.limits[s.Name]; ok && s.State == container.Started {
			wl := wire.Limits(l)
			sr.Limits = &wl
		}
		r.Slivers = append(r.Slivers, sr)
	}
	return r
}

// stateJSON returns the report as published, and the same without its
// time (to tell whether anything changed).
func stateJSON(r wire.StateReport) (withTime, without []byte) {
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

// status assembles the Status.
func (a *Agent) status() wire.Status {
	s := wire.Status{StateReport: a.report(), PID: os.Getpid(), Started: a.started}
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
