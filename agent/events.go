package agent

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/policy"
)

// event queues a node event for the policies waiting for it (on = name).
// It never blocks: events that find the queue full are dropped and
// logged, once a minute with their count (a peer's status toggled by
// anyone on the broker would otherwise fill the log at the broker's rate).
func (a *Agent) event(name string, data map[string]any) {
	select {
	case a.events <- policy.Event{Name: name, Data: data}:
	default:
		if n, ok := a.dropped.add(time.Now()); ok {
			a.log.Warn("policy events dropped: queue full", "event", name, "dropped", n)
		}
	}
}

// pacer counts what happens at someone else's rate (dropped events,
// refused unsigned documents) and says when to report it: the first time,
// then at most once a minute, with the count since the last report.
type pacer struct {
	mu     sync.Mutex
	n      int
	logged time.Time
}

// add counts one at now; ok when a report is due, with the count since
// the last one.
func (d *pacer) add(now time.Time) (n int, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	if !d.logged.IsZero() && now.Sub(d.logged) < time.Minute {
		return 0, false
	}
	n, d.n, d.logged = d.n, 0, now
	return n, true
}

// runEvents hands queued events to the policy engine, one at a time.
func (a *Agent) runEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-a.events:
			if e := a.policyEngine(); e != nil {
				e.Event(ctx, ev, time.Now())
			}
		}
	}
}

// sliverChanged turns a sliver's state change into a sliver.state event
// and a new state report; a sliver that started has new host veths for
// the network to attach, shape and isolate.
func (a *Agent) sliverChanged(name, slice string, from, to container.State) {
	a.log.Info("sliver state", "sliver", name, "from", from, "to", to)
	if strings.HasPrefix(string(to), "fail_") {
		// Until the sliver reaches the state it is asked for (report).
		a.addError("sliver "+name, 0, "entered "+string(to)+" from "+string(from))
	}
	a.event("sliver.state", map[string]any{"sliver": name, "slice": slice, "from": string(from), "to": string(to)})
	if from == container.Started {
		// The limits policies set went with the container's cgroups.
		a.mu.Lock()
		delete(a.limits, name)
		a.mu.Unlock()
	}
	a.markDirty()
	if to == container.Started && a.config().Network.Enabled {
		go a.syncNetwork(a.ctx) // also opens a network that did not open yet
	}
}
