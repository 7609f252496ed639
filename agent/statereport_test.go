package agent

import (
	"log/slog"
	"testing"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/wire"
)

// The errors' lifecycle: each belongs to something (kind, id), the same
// problem again is one entry, and an entry clears when what it belongs to
// succeeds: a later document applies (every earlier document's entries),
// a sliver reaches the state it is asked for.
func TestErrorLifecycle(t *testing.T) {
	a := &Agent{log: slog.New(slog.DiscardHandler), dirty: make(chan struct{}, 1), events: make(chan policy.Event, 8)}
	a.addError("desired", 5, "refused: bad")
	a.addError("desired", 0, "refused: unsigned")
	a.addError("setting telemetry.broker", 5, "not allowed: not changed")
	a.addError("sliver s1", 0, "entered fail_start from deployed")
	a.addError("sliver s2", 0, "entered fail_start from deployed")
	a.addError("network", 0, "apply failed")
	a.addError("network", 0, "apply failed") // again: one entry
	a.addError("setting agent.log_level", 6, "not allowed: not changed")
	a.addError("config", 0, "refused: option interval")
	want := []struct{ kind, id string }{
		{wire.KindDocument, "5"}, {wire.KindDocument, ""}, {wire.KindSetting, "telemetry.broker"},
		{wire.KindSliver, "s1"}, {wire.KindSliver, "s2"}, {"network", ""}, {wire.KindSetting, "agent.log_level"}, {"config", ""},
	}
	if len(a.errs) != len(want) {
		t.Fatalf("errors %+v, want %d", a.errs, len(want))
	}
	for i, w := range want {
		if e := a.errs[i]; e.Kind != w.kind || e.ID != w.id || e.Time.IsZero() {
			t.Errorf("error %d: %+v, want kind %q id %q and a time", i, e, w.kind, w.id)
		}
	}
	// Document 6 applies (its own left-out setting stays).
	a.documentApplied(6, &applyPlan{}, &undoLog{})
	// s1 reached its wanted state; s2 did not.
	a.resolveErrors([]container.Sliver{
		{Spec: container.Spec{Name: "s1", Request: container.Start}, State: container.Started},
		{Spec: container.Spec{Name: "s2", Request: container.Start}, State: container.FailStart},
	})
	var got []string
	for _, e := range a.errs {
		got = append(got, e.Member)
	}
	if len(got) != 4 || got[0] != "sliver s2" || got[1] != "network" || got[2] != "setting agent.log_level" || got[3] != "config" {
		t.Errorf("after document 6 applied and s1 started: %q, want sliver s2, network, setting agent.log_level, config", got)
	}
}
