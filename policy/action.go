package policy

import (
	"context"
	"fmt"
)

// Action operations a policy can ask for. Every action but uci.get (a
// query, answered during the evaluation) is collected while `act` runs and
// performed after the round's conflicts are resolved.
const (
	OpSliverStart = "sliver.start"
	OpSliverStop  = "sliver.stop"
	OpSliverLimit = "sliver.limit"
	OpIfaceUp     = "iface.up"
	OpIfaceDown   = "iface.down"
	OpUCISet      = "uci.set"
	OpUCICommit   = "uci.commit"
	OpAlert       = "alert"
	// OpRefuse is asked by an admission policy (on = "sliver.admit") to
	// refuse the sliver it was shown; Engine.Admit turns it into the answer.
	OpRefuse = "refuse"
)

// An Action is one thing a policy asked for. Which fields are set depends on
// Op; its JSON form is flat, e.g. {"op":"sliver.limit","sliver":"s3","cpu":0.5}.
type Action struct {
	Op string `json:"op"`
	// Sliver names the sliver of sliver.* actions.
	Sliver string `json:"sliver,omitempty"`
	// Iface names the interface of iface.* actions.
	Iface string `json:"iface,omitempty"`
	// Limits of sliver.limit: CPU in cores (0.5 = half a core), memory in
	// bytes, number of processes. Zero means "leave as it is".
	CPU         float64 `json:"cpu,omitempty"`
	MemoryBytes int64   `json:"memory_bytes,omitempty"`
	Pids        int64   `json:"pids,omitempty"`
	// Package, Section, Option and Value address uci.set and uci.commit
	// (commit sets only Package).
	Package string `json:"package,omitempty"`
	Section string `json:"section,omitempty"`
	Option  string `json:"option,omitempty"`
	Value   string `json:"value,omitempty"`
	// Level (info, warning, critical) and Message of an alert; Message is
	// also the reason of a refusal.
	Level   string `json:"level,omitempty"`
	Message string `json:"message,omitempty"`
	// Policy names the policy that acts; the engine sets it when it hands
	// the action to the Actuator (an alert's source).
	Policy string `json:"-"`
}

// resource names what an action acts on, for conflict resolution: two
// policies acting on the same resource in one round are resolved by
// priority. Alerts and refusals act on nothing and never conflict.
func (a Action) resource() string {
	switch a.Op {
	case OpSliverStart, OpSliverStop, OpSliverLimit:
		return "sliver " + a.Sliver
	case OpIfaceUp, OpIfaceDown:
		return "iface " + a.Iface
	case OpUCISet:
		return "uci " + a.Package + "." + a.Section + "." + a.Option
	case OpUCICommit:
		return "uci " + a.Package
	}
	return ""
}

// String renders the action as an admin reads it in logs.
func (a Action) String() string {
	switch a.Op {
	case OpSliverStart, OpSliverStop:
		return fmt.Sprintf("%s(%q)", a.Op, a.Sliver)
	case OpSliverLimit:
		return fmt.Sprintf("%s(%q, cpu=%g memory_bytes=%d pids=%d)", a.Op, a.Sliver, a.CPU, a.MemoryBytes, a.Pids)
	case OpIfaceUp, OpIfaceDown:
		return fmt.Sprintf("%s(%q)", a.Op, a.Iface)
	case OpUCISet:
		return fmt.Sprintf("%s(%q, %q, %q, %q)", a.Op, a.Package, a.Section, a.Option, a.Value)
	case OpUCICommit:
		return fmt.Sprintf("%s(%q)", a.Op, a.Package)
	case OpAlert:
		return fmt.Sprintf("alert(%s: %s)", a.Level, a.Message)
	case OpRefuse:
		return fmt.Sprintf("refuse(%s)", a.Message)
	}
	return a.Op
}

// An Actuator performs the actions policies ask for. The agent implements
// it over its container, netcfg and uci packages. The engine calls it from
// one goroutine at a time, and never in dry-run mode. UCI packages are
// checked against Config.UCIAllow before either method is called.
type Actuator interface {
	// Act performs one action (any Op but OpRefuse, which the engine
	// answers itself). An error is recorded as the action's result.
	Act(ctx context.Context, a Action) error
	// UCIGet reads one UCI option; ok is false when it is not set.
	UCIGet(ctx context.Context, pkg, section, option string) (value string, ok bool, err error)
}

// A PeerSource gives the last node document seen from each peer node, keyed
// by node id; policies read them with peers().
type PeerSource interface {
	PeerDocuments() map[string][]byte
}

// A NodeSource gives the node's current document (the telemetry sample, as
// JSON) that periodic policies see as `node`.
type NodeSource interface {
	NodeDocument() []byte
}

// A DecisionSink receives the decision log: one entry for every firing,
// every failed evaluation or load, and every quarantine. The agent
// publishes them on MQTT under <prefix>/<node>/events.
type DecisionSink interface {
	Decision(d Decision)
}
