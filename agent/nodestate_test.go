package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/wire"
)

func TestNodeHealth(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	tests := []struct {
		name   string
		at     []time.Duration // errors at these offsets
		failed bool
	}{
		{"few errors", []time.Duration{0, time.Second}, false},
		{"threshold in the window", []time.Duration{0, time.Minute, 2 * time.Minute}, true},
		{"spread beyond the window", []time.Duration{0, 6 * time.Minute, 12 * time.Minute}, false},
		{"old ones expire, new ones count", []time.Duration{0, 11 * time.Minute, 12 * time.Minute, 13 * time.Minute}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := nodeHealth{threshold: 3, window: 10 * time.Minute}
			entered := 0
			for _, d := range tt.at {
				if h.record(t0.Add(d), "x") {
					entered++
				}
			}
			if h.failed != tt.failed || entered > 1 || (entered == 1) != tt.failed {
				t.Errorf("failed %v (entered %d times), want %v", h.failed, entered, tt.failed)
			}
			h.reset()
			if h.failed || h.record(t0, "y") {
				t.Error("reset did not leave failure")
			}
		})
	}
}

func TestCapRequest(t *testing.T) {
	tests := []struct {
		state NodeState
		in    container.Request
		want  container.Request
	}{
		{Production, container.Start, container.Start},
		{Safe, container.Start, container.Deploy},
		{Safe, container.Deploy, container.Deploy},
		{Safe, container.Register, container.Register},
		{Failure, container.Start, container.Deploy},
		{Debug, container.Start, container.Register},
		{Debug, container.Deploy, container.Register},
	}
	for _, tt := range tests {
		if got := capRequest(tt.in, tt.state); got != tt.want {
			t.Errorf("capRequest(%s, %s) = %s, want %s", tt.in, tt.state, got, tt.want)
		}
	}
}

// bareAgent is an agent with a configuration and nothing running: enough
// for its errors, health and state report (failure after 3 internal
// errors in a minute).
func bareAgent() *Agent {
	return &Agent{
		cfg:    &Config{Agent: AgentConfig{NodeID: "n1", NodeState: Production}},
		log:    slog.New(slog.DiscardHandler),
		dirty:  make(chan struct{}, 1),
		health: nodeHealth{threshold: 3, window: time.Minute},
	}
}

// Repeated internal errors put the node in failure: reported, and policies
// no longer act.
func TestFailureState(t *testing.T) {
	a := bareAgent()
	for i := range 3 {
		if a.nodeState() != Production {
			t.Fatalf("failure after %d errors", i)
		}
		a.internalError("network", fmt.Errorf("apply %d failed", i))
	}
	r := a.report()
	if a.nodeState() != Failure || r.NodeState != string(Failure) || !hasError(r, "failure state: too many internal errors, last: network: apply 2 failed") {
		t.Errorf("after 3 errors: state %s, report %+v", a.nodeState(), r)
	}
	err := actuator{a}.Act(context.Background(), policy.Action{Op: policy.OpSliverStart, Sliver: "s1"})
	if err == nil || !strings.Contains(err.Error(), "failure state") {
		t.Errorf("a policy's action in failure: %v", err)
	}
}

// hasError reports whether the report lists an error containing s.
func hasError(r wire.StateReport, s string) bool {
	for _, e := range r.Errors {
		if strings.Contains(e.Message, s) {
			return true
		}
	}
	return false
}

// TestWatchTrouble: a network watch that cannot subscribe is a `network`
// error in the state report until it subscribes again; a sync's success
// does not clear it, the watch's recovery does, and leaves the network's
// other errors alone.
func TestWatchTrouble(t *testing.T) {
	a := bareAgent()
	messages := func() (out []string) {
		for _, e := range a.report().Errors {
			out = append(out, e.Kind+": "+e.Message)
		}
		return out
	}
	a.internalError("network", errors.New("apply failed"))
	a.watchTrouble(errors.New("netcfg: watch links: too many open files"))
	if got := fmt.Sprint(messages()); got != "[network: apply failed network: watch: netcfg: watch links: too many open files]" {
		t.Errorf("while the watch fails: %s", got)
	}
	a.watchTrouble(nil)
	if got := fmt.Sprint(messages()); got != "[network: apply failed]" {
		t.Errorf("once the watch subscribed again: %s", got)
	}
}
