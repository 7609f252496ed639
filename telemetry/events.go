package telemetry

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is a policy decision or an alert, published on <prefix>/<node>/events
// through the same spool as telemetry (so it is not lost either).
type Event struct {
	// Kind says what happened, e.g. "policy_action", "policy_error",
	// "alert".
	Kind string `json:"kind"`
	// Source is what raised it, e.g. the policy's name.
	Source string `json:"source,omitempty"`
	// Severity is "info", "warning" or "critical" (default "info").
	Severity string `json:"severity"`
	// Message is for people.
	Message string `json:"message,omitempty"`
	// Fields carry details (they must encode as JSON).
	Fields map[string]any `json:"fields,omitempty"`
	// Time defaults to now.
	Time time.Time `json:"-"`
}

// PublishEvent spools e for publication on <prefix>/<node>/events. It never
// blocks on the network.
func (p *Publisher) PublishEvent(e Event) error {
	if e.Kind == "" {
		return fmt.Errorf("event: no kind")
	}
	if e.Severity == "" {
		e.Severity = "info"
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b, err := json.Marshal(struct {
		Node string  `json:"node"`
		TS   float64 `json:"ts"`
		Event
	}{p.cfg.NodeID, float64(e.Time.UnixMilli()) / 1000, e})
	if err != nil {
		return fmt.Errorf("event %s from %s: %w", e.Kind, e.Source, err)
	}
	p.spool.push(message{Topic: p.cfg.Prefix + "/" + p.cfg.NodeID + "/events", Payload: b, QoS: byte(p.cfg.QoS)})
	return nil
}
