package agent

import (
	"context"
	"sync"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/telemetry"
)

// sliversAdapter is telemetry's SliverLister over the container manager:
// each sample lists the slivers with their init PID, host-side veths and
// memory limit, from which the slivers collector reads their cgroups and
// counters. It also notices state changes, for sliver.state policies.
type sliversAdapter struct {
	m *container.Manager
	// changed is called for every sliver whose state differs from the one
	// seen before (not for the first sighting).
	changed func(name, slice string, from, to container.State)

	mu   sync.Mutex
	seen map[string]container.State
}

// Slivers implements telemetry.SliverLister.
func (s *sliversAdapter) Slivers(ctx context.Context) ([]telemetry.Sliver, error) {
	if s.m == nil {
		return nil, nil
	}
	st, err := s.m.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]telemetry.Sliver, 0, len(st))
	for _, x := range st {
		out = append(out, telemetry.Sliver{Name: x.Name, Slice: x.Slice, State: string(x.State), ID: x.ID,
			PID: x.PID, HostIfaces: x.HostInterfaces, MemoryLimitBytes: x.MemoryLimitBytes})
	}
	s.observe(s.m.Slivers())
	return out, nil
}

// observe compares the records' states with the ones seen before.
func (s *sliversAdapter) observe(recs []container.Sliver) {
	type change struct {
		name, slice string
		from, to    container.State
	}
	var cs []change
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[string]container.State{}
	}
	now := map[string]container.State{}
	for _, r := range recs {
		now[r.Name] = r.State
		if prev, ok := s.seen[r.Name]; ok && prev != r.State {
			cs = append(cs, change{r.Name, r.Slice, prev, r.State})
		}
	}
	s.seen = now
	s.mu.Unlock()
	if s.changed != nil {
		for _, c := range cs {
			s.changed(c.name, c.slice, c.from, c.to)
		}
	}
}
