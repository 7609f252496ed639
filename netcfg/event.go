package netcfg

import (
	"time"
)

// Event is a change the kernel reported, for the agent to turn into a
// policy event.
type Event struct {
	// Type is link.add, link.del, link.up, link.down, link.flapping,
	// addr.add, addr.del, route.add or route.del.
	Type  string `json:"type"`
	Link  string `json:"link,omitempty"`
	Addr  string `json:"addr,omitempty"`  // addr.*: address with prefix length
	Route string `json:"route,omitempty"` // route.*: as `ip route` writes it
	// Flaps counts the link's up/down changes within the flap window
	// (link.up, link.down, link.flapping).
	Flaps int       `json:"flaps,omitempty"`
	Time  time.Time `json:"time"`
}

// WatchOptions tune a watcher.
type WatchOptions struct {
	// FlapWindow is how far back up/down changes are counted; 1 minute if 0.
	FlapWindow time.Duration
	// FlapThreshold is the count at which link.flapping is sent (once per
	// episode: again only after the count fell below it); 5 if 0.
	FlapThreshold int
	// Buffer is the channel's capacity; 64 if 0. Events that find the
	// channel full are dropped (and counted in the log) rather than
	// stalling the kernel's notifications.
	Buffer int
	// ReceiveBuffer is the size of the netlink sockets' receive buffers
	// in bytes, set past the system's limit (needs CAP_NET_ADMIN); the
	// system's default if 0. A burst of notifications larger than it
	// ends a subscription, which Watch then makes again.
	ReceiveBuffer int
	// OnTrouble, if set, is told when a subscription that ended cannot be
	// made again (the first failure of a streak; the watch keeps trying)
	// and, with nil, when it is made again after such failures.
	OnTrouble func(error)

	// fault, in tests, fails a subscription that it returns an error for.
	fault func() error
}

func (o WatchOptions) withDefaults() WatchOptions {
	if o.FlapWindow <= 0 {
		o.FlapWindow = time.Minute
	}
	if o.FlapThreshold <= 0 {
		o.FlapThreshold = 5
	}
	if o.Buffer <= 0 {
		o.Buffer = 64
	}
	return o
}

// flapCounter counts each link's state changes in a sliding window.
type flapCounter struct {
	window    time.Duration
	threshold int
	changes   map[string][]time.Time
	flapping  map[string]bool
}

func newFlapCounter(window time.Duration, threshold int) *flapCounter {
	return &flapCounter{window: window, threshold: threshold, changes: map[string][]time.Time{}, flapping: map[string]bool{}}
}

// record notes a change of link at now and returns the changes within the
// window and whether the link just started flapping.
func (f *flapCounter) record(link string, now time.Time) (count int, started bool) {
	cut := now.Add(-f.window)
	ts := f.changes[link]
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	ts = append(ts[i:], now)
	f.changes[link] = ts
	if len(ts) < f.threshold {
		f.flapping[link] = false
		return len(ts), false
	}
	started = !f.flapping[link]
	f.flapping[link] = true
	return len(ts), started
}

func (f *flapCounter) forget(link string) {
	delete(f.changes, link)
	delete(f.flapping, link)
}
