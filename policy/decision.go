package policy

import (
	"encoding/json"
	"time"
)

// Results of an action in the decision log.
const (
	ResultDone       = "done"       // the actuator performed it
	ResultFailed     = "failed"     // the actuator returned an error (see Detail)
	ResultDryRun     = "dry-run"    // computed only: the engine or the policy is in dry-run mode
	ResultOverridden = "overridden" // a policy of higher priority acted on the same resource
	ResultRefused    = "refused"    // an admission refusal, answered to the caller
)

// A Decision is one entry of the decision log.
type Decision struct {
	Time time.Time `json:"time"`
	// Policy is the policy's name; Source is where it is declared
	// (file:line).
	Policy string `json:"policy"`
	Source string `json:"source,omitempty"`
	// Trigger says why the policy ran: "every 30s", "event link.down",
	// "load" (a file failed to load), "quarantine".
	Trigger string `json:"trigger"`
	// Fired is true when the condition held and act ran.
	Fired  bool `json:"fired"`
	DryRun bool `json:"dry_run,omitempty"`
	// Inputs lists the parts of the node document the policy read, e.g.
	// "system.load", "slivers[].cpu_percent".
	Inputs []string `json:"inputs,omitempty"`
	// Values are the values of the inputs as the policy read them (JSON:
	// scalars and short arrays of scalars; a path through an array has
	// the values of its elements in an array), e.g.
	// {"system.load": [9.5,8,7], "slivers[].cpu_percent": [12.5,80]}.
	Values map[string]json.RawMessage `json:"values,omitempty"`
	// Actions asked for and what became of each.
	Actions []ActionResult `json:"actions,omitempty"`
	// Logs are the lines the policy wrote with log().
	Logs []string `json:"logs,omitempty"`
	// Error is set when the evaluation or load failed; it names file:line.
	Error string `json:"error,omitempty"`
	// Quarantined is set when this failure put the policy in quarantine,
	// until the given time.
	Quarantined *time.Time `json:"quarantined_until,omitempty"`
}

// An ActionResult is an action with what became of it.
type ActionResult struct {
	Action
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// inputValues maps the inputs to their recorded values (nil when none).
func inputValues(inputs, values []string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	for i, v := range values {
		if v != "" && i < len(inputs) {
			if m == nil {
				m = map[string]json.RawMessage{}
			}
			m[inputs[i]] = json.RawMessage(v)
		}
	}
	return m
}
