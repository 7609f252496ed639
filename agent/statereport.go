package agent

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/wire"
)

// maxErrors bounds the errors the state report keeps (the newest).
const maxErrors = 16

// addError records a problem for the state report, under what it belongs
// to (member: "desired" for a document, "setting S.O", "policy F",
// "sliver N", "node_state N", or one of the agent's parts). The same
// problem again only moves to the end with its new time.
func (a *Agent) addError(member string, seq uint64, msg string) {
	member, msg = boundText(member, maxMemberText), boundText(msg, maxErrorText)
	e := wire.ErrorEntry{Time: time.Now().UTC().Truncate(time.Millisecond), Member: member, Seq: seq, Message: msg}
	kind, id, _ := strings.Cut(member, " ")
	e.Kind, e.ID = kind, id
	if member == "desired" {
		e.Kind = wire.KindDocument
		if seq > 0 {
			e.ID = strconv.FormatUint(seq, 10)
		}
	}
	a.mu.Lock()
	a.errs = dropErrors(a.errs, func(o *wire.ErrorEntry) bool {
		return o.Kind == e.Kind && o.ID == e.ID && o.Seq == e.Seq && o.Message == e.Message
	})
	a.errs = append(a.errs, e)
	if len(a.errs) > maxErrors {
		a.errs = append(a.errs[:0:0], a.errs[len(a.errs)-maxErrors:]...)
	}
	a.mu.Unlock()
	a.markDirty()
}

// dropErrors removes the entries that match, in place.
func dropErrors(errs []wire.ErrorEntry, match func(*wire.ErrorEntry) bool) []wire.ErrorEntry {
	out := errs[:0]
	for i := range errs {
		if !match(&errs[i]) {
			out = append(out, errs[i])
		}
	}
	return out
}

// clearErrors drops the errors that match: what they belong to succeeded.
func (a *Agent) clearErrors(match func(*wire.ErrorEntry) bool) {
	a.mu.Lock()
	n := len(a.errs)
	a.errs = dropErrors(a.errs, match)
	cleared := len(a.errs) != n
	a.mu.Unlock()
	if cleared {
		a.markDirty()
	}
}

// hasErrorOf tells whether an error of kind is listed.
func (a *Agent) hasErrorOf(kind string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.errs {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// saveRemote saves the remote state; one saved clears the errors of
// earlier saves that failed (kind `state`). The caller reports a failure.
func (a *Agent) saveRemote(rs remoteState) error {
	if err := a.store.save(rs); err != nil {
		return err
	}
	a.clearErrors(func(e *wire.ErrorEntry) bool { return e.Kind == "state" })
	return nil
}

// report assembles the state report.
func (a *Agent) report() wire.StateReport {
	var recs []container.Sliver
	if a.slivers != nil {
		recs = a.slivers.Slivers()
		a.adapter.observe(recs)
	}
	loaded, quarantined := policyCounter{a}.PolicyCounts()
	a.resolveErrors(recs, a.slivers != nil)
	a.mu.Lock()
	defer a.mu.Unlock()
	r := wire.StateReport{
		Node:       a.cfg.Agent.NodeID,
		NodeKey:    a.nodeKey(),
		TS:         math.Round(float64(time.Now().UnixMilli())) / 1000,
		NodeState:  string(a.nodeStateLocked()),
		AppliedSeq: a.remote.AppliedSeq,
		SeenSeq:    a.remote.SeenSeq,
		Slivers:    []wire.SliverReport{},
		Errors:     append([]wire.ErrorEntry{}, a.errs...),
	}
	a.override.get()
	r.Override = a.override.state()
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
	if same {
		return
	}
	if a.identity.Key == nil {
		a.log.Error("state report not published: no node identity")
		return
	}
	signed, err := wire.SignState(a.identity, b)
	if err != nil {
		a.log.Error("state report not signed", "err", err)
		return
	}
	pub.Enqueue(pub.Topic("state"), signed, 1, true)
}

// nodeKey returns the node's public key as reports show it ("" before
// the identity is loaded).
func (a *Agent) nodeKey() string {
	if a.identity.Key == nil {
		return ""
	}
	return a.identity.Public().String()
}

// status assembles the Status.
func (a *Agent) status() wire.Status {
	s := wire.Status{StateReport: a.report(), PID: os.Getpid(), Started: a.started}
	cfg := a.config()
	s.Config, s.Broker = cfg.File, cfg.Telemetry.Broker
	s.Remote = remoteOn(cfg)
	s.TrustedKeys, s.Threshold = len(cfg.Remote.TrustedKeys), cfg.Remote.Threshold
	a.mu.Lock()
	pub, failed := a.pub, a.pub != nil && a.pub == a.pubFailed
	a.mu.Unlock()
	if pub != nil {
		// A publisher whose Run failed may hold a connection it adopted,
		// but sends nothing on it.
		s.Connected = pub.Connected() && !failed
		if err := pub.LastError(); err != nil {
			s.BrokerError = err.Error()
		}
		if d := pub.Latest(); d != nil && d.Agent != nil {
			s.RSSBytes = d.Agent.RSSBytes
		}
	}
	return s
}

// remoteOn tells whether cfg takes desired documents.
func remoteOn(cfg *Config) bool { return cfg.Remote.Enabled && len(cfg.Remote.TrustedKeys) > 0 }

// resolveErrors clears the errors of what has since succeeded: a sliver
// that reached the state it is asked for, one the node state could not
// move down that is now where the node state allows (stopped, or the node
// state changed back), a policy file that loads (its
// last load did not fail) and whose policies are out of quarantine; and
// of what is gone: a sliver no longer there (slivers says recs lists them
// all), a policy file the engine neither runs nor failed to load; of the
// telemetry once the publisher in force runs (its Run did not fail), is
// connected and serves its Prometheus address (if it has one). Errors a
// document brought (Seq set) wait for a later document instead.
func (a *Agent) resolveErrors(recs []container.Sliver, slivers bool) {
	a.mu.Lock()
	pubOK := a.pub != nil && a.pub != a.pubFailed
	pub := a.pub
	a.mu.Unlock()
	pubOK = pubOK && pub.Connected() && pub.ListenerError() == nil
	okSliver, enforced := map[string]bool{}, map[string]bool{}
	allowed := 0
	if a.hasErrorOf(wire.KindNodeState) {
		allowed = requestRank(stateCap(a.nodeState()))
	}
	for _, s := range recs {
		okSliver[s.Name] = reached(s.Request, s.State)
		enforced[s.Name] = stateRank(s.State) <= allowed
	}
	e := a.policyEngine()
	okPolicy := map[string]bool{}
	if e != nil {
		now := time.Now()
		for _, p := range e.Policies() {
			f := policyFileOf(p.Source)
			if _, seen := okPolicy[f]; !seen {
				okPolicy[f] = true
			}
			okPolicy[f] = okPolicy[f] && !p.QuarantinedUntil.After(now)
		}
		for _, f := range e.FailedFiles() {
			okPolicy[f] = false
		}
	}
	a.clearErrors(func(x *wire.ErrorEntry) bool {
		if x.Seq != 0 {
			return false
		}
		switch x.Kind {
		case wire.KindSliver:
			ok, there := okSliver[x.ID]
			return ok || slivers && !there
		case wire.KindNodeState:
			ok, there := enforced[x.ID]
			return ok || slivers && !there
		case wire.KindPolicy:
			ok, there := okPolicy[x.ID]
			return ok || e != nil && !there
		case "telemetry":
			return pubOK
		}
		return false
	})
}

// stateRank is the rank (requestRank) of the request a sliver in state s
// is at: started is start's, deployed (or failed to start) deploy's, the
// others register's.
func stateRank(s container.State) int {
	switch s {
	case container.Started:
		return 2
	case container.Deployed, container.FailStart:
		return 1
	}
	return 0
}

// reached tells whether a sliver in state s is where request r asks.
func reached(r container.Request, s container.State) bool {
	switch r {
	case container.Start:
		return s == container.Started
	case container.Deploy:
		return s == container.Deployed
	case container.Register:
		return s == container.Registered
	}
	return false
}

// Bounds of what an error entry or event says: the text of an error may
// quote what anyone on the broker sent (an unknown JSON field of any
// length), and errors are kept (16) and published with every state report.
const (
	maxErrorText  = 512
	maxMemberText = 128
)

// boundText cuts s to at most max bytes (at a UTF-8 boundary), marking
// the cut.
func boundText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "... (truncated)"
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
