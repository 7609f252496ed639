package wire

import "time"

// ErrorEntry is one problem in the state report: when it happened, what
// it belongs to (Kind and ID), the document it came with (Seq, if any)
// and why. An entry stays until the thing it belongs to succeeds: a
// later document applies (clears every earlier document's entries), the
// policy file loads cleanly, the sliver reaches the state it is asked
// for; the same problem again only updates its time (docs/remote.md).
type ErrorEntry struct {
	Time time.Time `json:"time"`
	// Kind is what the problem belongs to: one of the Kind constants.
	Kind string `json:"kind"`
	// ID names it within its kind: a document's seq, a setting's
	// SECTION.OPTION, a policy's file name, a sliver's name; empty for
	// the agent's parts.
	ID string `json:"id,omitempty"`
	// Member is Kind and ID for people: "desired" for a document,
	// "setting telemetry.broker", "policy cpu.lua", "sliver s1",
	// "network", "config", ...
	Member  string `json:"member"`
	Seq     uint64 `json:"seq,omitempty"`
	Message string `json:"message"`
}

// The kinds of ErrorEntry. The agent's own parts (network, slivers,
// telemetry, state, config, node, ...) are kinds of their own, without ID.
const (
	KindDocument = "document" // a desired document: refused or rolled back
	KindSetting  = "setting"  // a document's setting left out
	KindPolicy   = "policy"   // a policy file
	KindSliver   = "sliver"   // a sliver
	// KindNodeState is a sliver the node state could not move down (ID
	// its name): it runs beyond what the node state allows.
	KindNodeState = "node_state"
)

// Limits are resource limits of a sliver (docs/slivers.md), as the state
// report shows them (the fields of the container package's Resources, in
// the same order, so that each converts to the other).
type Limits struct {
	MemoryBytes   int64 `json:"memory_bytes,omitempty"`
	CPUShares     int   `json:"cpu_shares,omitempty"`
	CPUMillicores int   `json:"cpu_millicores,omitempty"`
	Pids          int   `json:"pids,omitempty"`
	DiskBytes     int64 `json:"disk_bytes,omitempty"`
}

// SliverReport is one sliver in the state report. State and SetState are
// CONFINE's (registered, allocated, deployed, started, fail_*; register,
// deploy, start).
type SliverReport struct {
	Name     string `json:"name"`
	Slice    string `json:"slice"`
	ID       int    `json:"id"`
	State    string `json:"state"`
	SetState string `json:"set_state"`
	// Held is the request the node state holds down (safe, debug, failure).
	Held  string `json:"held,omitempty"`
	Error string `json:"error,omitempty"`
	// Limits are those policies set on the running sliver (sliver.limit),
	// beyond its spec's.
	Limits *Limits `json:"limits,omitempty"`
	// Remote is true for slivers that desired documents manage.
	Remote bool `json:"remote,omitempty"`
}

// PolicyCounts counts the node's policies.
type PolicyCounts struct {
	Loaded      int `json:"loaded"`
	Quarantined int `json:"quarantined"`
}

// StateReport is what a node publishes, retained, on <prefix>/<node>/state,
// and what `nodekeeper status` shows.
type StateReport struct {
	Node string `json:"node"`
	// NodeKey is the node's own public key (usign base64), with which it
	// signs its state reports (SignedState).
	NodeKey    string         `json:"node_key,omitempty"`
	TS         float64        `json:"ts"`
	NodeState  string         `json:"node_state"`
	AppliedSeq uint64         `json:"applied_seq"`
	SeenSeq    uint64         `json:"seen_seq"`
	Slivers    []SliverReport `json:"slivers"`
	Policies   PolicyCounts   `json:"policies"`
	Errors     []ErrorEntry   `json:"errors"`
	// Override is the override file when one is in force (policies see
	// faked values) or refused.
	Override *OverrideState `json:"override,omitempty"`
}

// OverrideState is the override file (telemetry.override) in the state
// report: active when policies see its faked values, or why it is refused.
type OverrideState struct {
	File   string `json:"file"`
	Active bool   `json:"active"`
	Error  string `json:"error,omitempty"`
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
	// Remote says whether remote management is on: desired documents
	// are taken (remote.enabled and at least one trusted key), from how
	// many trusted keys, with how many signatures needed.
	Remote      bool `json:"remote"`
	TrustedKeys int  `json:"trusted_keys"`
	Threshold   int  `json:"threshold,omitempty"`
}
