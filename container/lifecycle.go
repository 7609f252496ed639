package container

// step is one move of a sliver on CONFINE's ladder.
type step int

const (
	stepNone     step = iota
	stepAllocate      // registered -> allocated
	stepDeploy        // allocated -> deployed
	stepStart         // deployed -> started
	stepStop          // started -> deployed
	stepUndeploy      // deployed, fail_start -> allocated
	stepRelease       // allocated, fail_deploy -> registered
	stepSettle        // fail_* -> the state it failed from, error cleared
)

func (s step) String() string {
	return [...]string{"none", "allocate", "deploy", "start", "stop", "undeploy", "release", "settle"}[s]
}

// nextStep is the one step that moves s towards its requested state, or
// stepNone when it is there or stuck in a failure. retry lets a failed
// sliver try its failed step again (a request given anew, or a new
// instance_sn); without it a failure stays until the request changes.
//
// A deployment older than the sliver's instance_sn is taken down to
// allocated first and rebuilt from scratch.
func nextStep(s *Sliver, retry bool) step {
	l, tl := s.State.level(), s.Request.target().level()
	if l < 0 || tl < 0 {
		return stepNone
	}
	if l >= 2 && s.DeployedSN < s.InstanceSN {
		if s.State == Started {
			return stepStop
		}
		return stepUndeploy
	}
	if s.State.Failed() {
		switch {
		case tl > l && !retry:
			return stepNone
		case tl > l:
			return up(l)
		case tl == l:
			return stepSettle
		}
		return down(l)
	}
	switch {
	case l < tl:
		return up(l)
	case l > tl:
		return down(l)
	}
	return stepNone
}

func up(level int) step {
	return [...]step{stepAllocate, stepDeploy, stepStart}[level]
}

func down(level int) step {
	return [...]step{stepNone, stepRelease, stepUndeploy, stepStop}[level]
}

// settled is the state a failed sliver returns to when its failed step is
// no longer asked for: what it had before the step.
func settled(s State) State {
	switch s {
	case FailAllocate:
		return Registered
	case FailDeploy:
		return Allocated
	case FailStart:
		return Deployed
	}
	return s
}
