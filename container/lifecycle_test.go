package container

import (
	"math/rand/v2"
	"testing"
)

func TestNextStep(t *testing.T) {
	tests := []struct {
		state     State
		req       Request
		sn, depSN uint64
		retry     bool
		want      step
		settlesIn State
	}{
		{Registered, Register, 0, 0, false, stepNone, ""},
		{Registered, Deploy, 0, 0, false, stepAllocate, ""},
		{Registered, Start, 0, 0, false, stepAllocate, ""},
		{Allocated, Start, 0, 0, false, stepDeploy, ""},
		{Deployed, Start, 0, 0, false, stepStart, ""},
		{Started, Start, 0, 0, false, stepNone, ""},
		{Started, Deploy, 0, 0, false, stepStop, ""},
		{Started, Register, 0, 0, false, stepStop, ""},
		{Deployed, Register, 0, 0, false, stepUndeploy, ""},
		{Allocated, Register, 0, 0, false, stepRelease, ""},
		{Allocated, Deploy, 0, 0, false, stepDeploy, ""},
		// instance_sn went up: down to allocated first, whatever the request.
		{Started, Start, 2, 1, false, stepStop, ""},
		{Deployed, Start, 2, 1, false, stepUndeploy, ""},
		{FailStart, Start, 2, 1, false, stepUndeploy, ""},
		{Allocated, Start, 2, 0, false, stepDeploy, ""},
		// Failures stay until asked again...
		{FailAllocate, Start, 0, 0, false, stepNone, ""},
		{FailDeploy, Start, 0, 0, false, stepNone, ""},
		{FailStart, Start, 0, 0, false, stepNone, ""},
		// ...which retries the failed step...
		{FailAllocate, Start, 0, 0, true, stepAllocate, ""},
		{FailDeploy, Deploy, 0, 0, true, stepDeploy, ""},
		{FailStart, Start, 0, 0, true, stepStart, ""},
		// ...unless the request no longer needs it.
		{FailAllocate, Register, 0, 0, false, stepSettle, Registered},
		{FailDeploy, Register, 0, 0, false, stepRelease, ""},
		{FailStart, Deploy, 0, 0, false, stepSettle, Deployed},
		{FailStart, Register, 0, 0, true, stepUndeploy, ""},
		{FailDeploy, Deploy, 0, 0, false, stepNone, ""},
		{State("bogus"), Start, 0, 0, false, stepNone, ""},
	}
	for _, tt := range tests {
		s := &Sliver{Spec: Spec{Request: tt.req, InstanceSN: tt.sn}, State: tt.state, DeployedSN: tt.depSN}
		if got := nextStep(s, tt.retry); got != tt.want {
			t.Errorf("%s, request %s, sn %d/%d, retry %v: step %v, want %v", tt.state, tt.req, tt.depSN, tt.sn, tt.retry, got, tt.want)
		}
		if tt.settlesIn != "" && settled(tt.state) != tt.settlesIn {
			t.Errorf("%s settles in %s, want %s", tt.state, settled(tt.state), tt.settlesIn)
		}
	}
}

// TestLadderConverges replays random requests from random states through
// nextStep with a model of each step: every walk reaches the requested
// state (or a failure) within maxSteps, one level at a time.
func TestLadderConverges(t *testing.T) {
	states := []State{Registered, Allocated, Deployed, Started, FailAllocate, FailDeploy, FailStart}
	reqs := []Request{Register, Deploy, Start}
	ok := map[step]State{stepAllocate: Allocated, stepDeploy: Deployed, stepStart: Started, stepStop: Deployed, stepUndeploy: Allocated, stepRelease: Registered}
	fail := map[step]State{stepAllocate: FailAllocate, stepDeploy: FailDeploy, stepStart: FailStart}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		s := &Sliver{State: states[r.IntN(len(states))], Spec: Spec{Request: reqs[r.IntN(len(reqs))], InstanceSN: uint64(r.IntN(3))}}
		if s.State.level() >= 2 {
			s.DeployedSN = uint64(r.IntN(3))
		}
		retry := r.IntN(2) == 0
		failures := r.IntN(2) == 0
		n := 0
		for ; n <= maxSteps; n++ {
			st := nextStep(s, retry)
			retry = false
			if st == stepNone {
				break
			}
			from := s.State.level()
			switch {
			case st == stepSettle:
				s.State = settled(s.State)
			case failures && fail[st] != "" && r.IntN(4) == 0:
				s.State = fail[st]
			default:
				s.State = ok[st]
			}
			if d := s.State.level() - from; d > 1 || d < -1 {
				t.Fatalf("step %v jumped from level %d to %s", st, from, s.State)
			}
			if s.State == Deployed && st == stepDeploy {
				s.DeployedSN = s.InstanceSN
			}
		}
		if n > maxSteps {
			t.Fatalf("walk %d did not settle: %+v", i, s)
		}
		if !s.State.Failed() && s.State != s.Request.target() {
			t.Fatalf("walk %d settled in %s, want %s", i, s.State, s.Request.target())
		}
	}
}
