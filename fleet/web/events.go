package web

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one thing that happened in the fleet: an agent's event (a
// policy's action or alert, what became of a desired document), or what
// the view saw change (a node going offline, its node state, a new error,
// a policy's decision, a rollout's progress).
type Event struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Node     string    `json:"node,omitempty"`
	Kind     string    `json:"kind"`
	Source   string    `json:"source,omitempty"`
	Severity string    `json:"severity"`
	Message  string    `json:"message"`
}

// Kinds the view itself reports (agents report theirs: policy_action,
// policy_error, policy_quarantine, alert, desired...).
const (
	KindOnline   = "online"
	KindOffline  = "offline"
	KindState    = "state_change"
	KindApplied  = "applied"
	KindError    = "error"
	KindDecision = "policy_decision"
	KindRollout  = "rollout"
	KindRemoved  = "removed"
)

// maxEvents is how many events the view keeps.
const maxEvents = 2000

// eventLog is a ring of the latest events.
type eventLog struct {
	ring []Event
	next uint64 // seq of the next event
}

func (l *eventLog) add(e Event) Event {
	l.next++
	e.Seq = l.next
	if len(l.ring) < maxEvents {
		l.ring = append(l.ring, e)
	} else {
		l.ring[int(e.Seq-1)%maxEvents] = e
	}
	return e
}

// since returns the events after seq, oldest first.
func (l *eventLog) since(seq uint64) []Event {
	var out []Event
	first := uint64(1)
	if l.next > maxEvents {
		first = l.next - maxEvents + 1
	}
	for s := max(seq+1, first); s <= l.next; s++ {
		out = append(out, l.ring[int(s-1)%maxEvents])
	}
	return out
}

var (
	kindRe     = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,31}$`)
	sourceRe   = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,64}$`)
	severities = map[string]bool{"info": true, "warning": true, "critical": true}
)

// maxMessage bounds an event's message (in bytes).
const maxMessage = 512

// parseAgentEvent reads an agent's event (docs/telemetry.md, "Events")
// published on node's events topic, checked against its grammar.
func parseAgentEvent(node string, b []byte, now time.Time) (Event, error) {
	var raw struct {
		Node     string  `json:"node"`
		TS       float64 `json:"ts"`
		Kind     string  `json:"kind"`
		Source   string  `json:"source"`
		Severity string  `json:"severity"`
		Message  string  `json:"message"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Event{}, fmt.Errorf("event of %s: %w", node, err)
	}
	if raw.Node != "" && raw.Node != node {
		return Event{}, fmt.Errorf("event for node %q on %s's topic", raw.Node, node)
	}
	if !kindRe.MatchString(raw.Kind) {
		return Event{}, fmt.Errorf("event of %s: kind %q: want [a-z][a-z0-9_.]{0,31}", node, raw.Kind)
	}
	if raw.Source != "" && !sourceRe.MatchString(raw.Source) {
		return Event{}, fmt.Errorf("event of %s: source %q: want [A-Za-z0-9_.:/-]{1,64}", node, raw.Source)
	}
	if raw.Severity == "" {
		raw.Severity = "info"
	}
	if !severities[raw.Severity] {
		return Event{}, fmt.Errorf("event of %s: severity %q: want info, warning or critical", node, raw.Severity)
	}
	e := Event{Time: now, Node: node, Kind: raw.Kind, Source: raw.Source, Severity: raw.Severity, Message: clean(raw.Message, maxMessage)}
	// The node's own time, when it is sane: a spooled event keeps when it
	// happened.
	if raw.TS > 0 && !math.IsInf(raw.TS, 0) {
		t := time.UnixMilli(int64(raw.TS * 1000))
		if t.After(now.Add(-24*time.Hour)) && t.Before(now.Add(time.Minute)) {
			e.Time = t
		}
	}
	return e, nil
}

// clean returns s as valid UTF-8 without control characters, cut to n
// bytes.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
