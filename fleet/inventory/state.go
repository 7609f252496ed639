package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// StateReport is the node's state report (<prefix>/<node>/state), the
// parts the fleet reads.
// TODO(wire): becomes wire.StateReport once the wire package exists.
type StateReport struct {
	Node       string         `json:"node"`
	TS         float64        `json:"ts"`
	NodeState  string         `json:"node_state"`
	AppliedSeq uint64         `json:"applied_seq"`
	SeenSeq    uint64         `json:"seen_seq"`
	Slivers    []SliverReport `json:"slivers"`
	Errors     []ErrorEntry   `json:"errors"`
}

// SliverReport is one sliver of a state report.
type SliverReport struct {
	Name     string `json:"name"`
	Slice    string `json:"slice"`
	ID       int    `json:"id"`
	State    string `json:"state"`
	SetState string `json:"set_state"`
	Error    string `json:"error,omitempty"`
	Remote   bool   `json:"remote,omitempty"`
}

// ErrorEntry is one problem of a state report.
type ErrorEntry struct {
	Member  string `json:"member"`
	Seq     uint64 `json:"seq,omitempty"`
	Message string `json:"message"`
}

// ParseState reads a state report.
func ParseState(b []byte) (*StateReport, error) {
	var r StateReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("state report: %w", err)
	}
	if r.Node == "" {
		return nil, errors.New("state report: no node")
	}
	return &r, nil
}

// Refused returns the slices whose sliver the node's owner refused
// (admission policies or `list unmanaged`), by sliver name, with why.
func (r *StateReport) Refused() map[string]string {
	out := map[string]string{}
	for _, e := range r.Errors {
		name, ok := strings.CutPrefix(e.Member, "sliver ")
		if !ok {
			continue
		}
		if strings.HasPrefix(e.Message, "refused by") || strings.Contains(e.Message, "unmanaged") {
			out[name] = e.Message
		}
	}
	return out
}

// Sliver returns the sliver of that name, or nil.
func (r *StateReport) Sliver(name string) *SliverReport {
	for i := range r.Slivers {
		if r.Slivers[i].Name == name {
			return &r.Slivers[i]
		}
	}
	return nil
}
