package agent

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
	}, true)
	var got []string
	for _, e := range a.errs {
		got = append(got, e.Member)
	}
	if len(got) != 4 || got[0] != "sliver s2" || got[1] != "network" || got[2] != "setting agent.log_level" || got[3] != "config" {
		t.Errorf("after document 6 applied and s1 started: %q, want sliver s2, network, setting agent.log_level, config", got)
	}
}

// TestErrorsOfWhatIsGone: an error of a policy file or a sliver clears
// when it is gone (the file removed from the directory, the sliver removed
// from the CLI): nothing is wrong any more. A file the engine refuses to
// read (too big) stays an error while it is there, even though its
// previous version runs on.
func TestErrorsOfWhatIsGone(t *testing.T) {
	dir := t.TempDir()
	a := &Agent{log: slog.New(slog.DiscardHandler), dirty: make(chan struct{}, 1), events: make(chan policy.Event, 8)}
	e, err := policy.New(policy.Config{Dir: dir, Sink: decisionSink{a}, Logger: slog.New(slog.DiscardHandler),
		Worker: policy.WorkerSpec{Argv: []string{nkBin, "policy-worker"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	a.engine = e
	good := `policy "p" { every = "1m", when = function(node) return false end, act = function(node) end }`
	s2 := container.Sliver{Spec: container.Spec{Name: "s2", Request: container.Start}, State: container.FailStart}
	steps := []struct {
		name    string
		files   map[string]string // written ("" removes)
		slivers []container.Sliver
		want    []string // the members with an error
	}{
		{"a broken file and a sliver that failed", map[string]string{"broken.lua": "policy {", "big.lua": good},
			[]container.Sliver{s2}, []string{"policy broken.lua", "sliver s2"}},
		{"the broken file removed", map[string]string{"broken.lua": ""},
			[]container.Sliver{s2}, []string{"sliver s2"}},
		{"the sliver removed", nil, nil, nil},
		{"a file too big to read (its previous version runs)", map[string]string{"big.lua": good + strings.Repeat("\n-- padding", 40000)},
			nil, []string{"policy big.lua"}},
		{"the big file back as it runs", map[string]string{"big.lua": good}, nil, nil},
		{"a broken edit of a running file", map[string]string{"big.lua": good + "\npolicy {"}, nil, []string{"policy big.lua"}},
		{"the edit reverted", map[string]string{"big.lua": good}, nil, nil},
	}
	for _, st := range steps {
		for f, src := range st.files {
			if src == "" {
				os.Remove(filepath.Join(dir, f))
			} else if err := os.WriteFile(filepath.Join(dir, f), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		e.Reload()
		if st.slivers != nil && st.slivers[0].Name == "s2" {
			a.sliverChanged("s2", "", container.Deployed, container.FailStart)
		}
		a.resolveErrors(st.slivers, true)
		var got []string
		for _, x := range a.errs {
			got = append(got, x.Member)
		}
		if !slices.Equal(got, st.want) {
			t.Errorf("%s: errors of %q, want %q (%+v)", st.name, got, st.want, a.errs)
		}
	}
}

// A state save that fails is a `state` error; the next one that succeeds
// clears it (the state is on disk again), with no restart.
func TestStateErrorClears(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	a := &Agent{
		cfg:    &Config{Agent: AgentConfig{NodeID: "n1", NodeState: Production}},
		log:    slog.New(slog.DiscardHandler),
		dirty:  make(chan struct{}, 1),
		health: nodeHealth{threshold: 5, window: time.Minute},
		store:  stateStore{dir: dir}, // missing: saves fail
	}
	if err := a.saveRemote(remoteState{SeenSeq: 1}); err == nil {
		t.Fatal("a save into a missing directory succeeded")
	} else {
		a.internalError("state", err)
	}
	if r := a.report(); len(r.Errors) != 1 || r.Errors[0].Kind != "state" {
		t.Fatalf("after a failed save: errors %+v", r.Errors)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := a.saveRemote(remoteState{SeenSeq: 2}); err != nil {
		t.Fatal(err)
	}
	if r := a.report(); len(r.Errors) != 0 {
		t.Errorf("after a save that succeeded: errors %+v", r.Errors)
	}
}
