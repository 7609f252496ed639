package agent

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/telemetry"
)

// decisionSink publishes the policies' decision log on the events topic.
type decisionSink struct{ a *Agent }

// Decision implements policy.DecisionSink.
func (s decisionSink) Decision(d policy.Decision) {
	a := s.a
	sev, kind := "info", "policy_action"
	switch {
	case d.Error != "":
		sev, kind = "warning", "policy_error"
	case d.Quarantined != nil:
		sev, kind = "warning", "policy_quarantine"
	}
	var acts []string
	for _, r := range d.Actions {
		acts = append(acts, r.Action.String()+": "+r.Result)
	}
	msg := d.Error
	if msg == "" {
		msg = strings.Join(acts, "; ")
	}
	// A file that fails to load, or a policy quarantined, is an error of
	// its file in the state report until the file loads cleanly and its
	// policies run (report clears it).
	if file := policyFileOf(d.Source); file != "" && (d.Trigger == "load" && d.Error != "" || d.Quarantined != nil) {
		text := d.Error
		if d.Quarantined != nil {
			text = "quarantined until " + d.Quarantined.UTC().Format(time.RFC3339) + ": " + d.Error
		}
		a.addError("policy "+file, 0, text)
	}
	// The engine logs firings and failures itself; this publishes them.
	pub := a.publisher()
	if pub == nil {
		return
	}
	err := pub.PublishEvent(telemetry.Event{Kind: kind, Source: d.Policy, Severity: sev, Message: msg, Time: d.Time,
		Fields: map[string]any{"decision": d}})
	if err != nil {
		a.log.Warn("policy decision not published", "policy", d.Policy, "err", err)
	}
}

// alert publishes the alert of a policy (source) on the events topic.
func (a *Agent) alert(source, level, message string) error {
	switch level {
	case "info", "warning", "critical":
	default:
		return fmt.Errorf("alert level %q: want info, warning or critical", level)
	}
	a.log.Warn("alert", "policy", source, "level", level, "message", message)
	pub := a.publisher()
	if pub == nil {
		return fmt.Errorf("alert: no publisher")
	}
	if source == "" {
		source = "policy"
	}
	return pub.PublishEvent(telemetry.Event{Kind: "alert", Source: source, Severity: level, Message: message})
}

// policyFileOf returns the file name of a policy source ("x.lua:3" or
// "x.lua").
func policyFileOf(source string) string {
	file, _, _ := strings.Cut(source, ":")
	if file == "" {
		return ""
	}
	return filepath.Base(file)
}
