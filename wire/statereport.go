package wire

import "time"

// ErrorEntry is one problem in the state report: what it concerns
// (member: "desired", "sliver s1", "network", "config", ...), the document
// it came with (Seq, if any) and why.
type ErrorEntry struct {
	Time    time.Time `json:"time"`
	Member  string    `json:"member"`
	Seq     uint64    `json:"seq,omitempty"`
	Message string    `json:"message"`
}

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
	Node       string         `json:"node"`
	TS         float64        `json:"ts"`
	NodeState  string         `json:"node_state"`
	AppliedSeq uint64         `json:"applied_seq"`
	SeenSeq    uint64         `json:"seen_seq"`
	Slivers    []SliverReport `json:"slivers"`
	Policies   PolicyCounts   `json:"policies"`
	Errors     []ErrorEntry   `json:"errors"`
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
