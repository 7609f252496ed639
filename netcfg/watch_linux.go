package netcfg

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Watch subscribes to the kernel's link, address and route notifications in
// the Manager's namespace and sends them as Events until ctx ends, then
// closes the channel. A subscription that fails (the kernel drops a
// socket's notifications when its buffer overflows, ENOBUFS, and the
// subscription ends) is made again after a pause that doubles from
// watchRetryMin to watchRetryMax, and the links are listed again: a link
// that came, went, or went up or down meanwhile gets its event then.
func (m *Manager) Watch(ctx context.Context, opts WatchOptions) (<-chan Event, error) {
	opts = opts.withDefaults()
	w := &watcher{names: map[int]string{}, up: map[int]bool{}, flaps: newFlapCounter(opts.FlapWindow, opts.FlapThreshold)}
	sub, list, err := m.subscribe(ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, l := range list {
		w.names[l.Attrs().Index] = l.Attrs().Name
		w.up[l.Attrs().Index] = isUp(l)
	}
	out := make(chan Event, opts.Buffer)
	go func() {
		defer close(out)
		dropped := 0
		send := func(evs []Event) {
			for _, e := range evs {
				select {
				case out <- e:
				default:
					dropped++
					m.log.Warn("watch: event dropped, channel full", "type", e.Type, "link", e.Link, "dropped", dropped)
				}
			}
		}
		pause := watchRetryMin
		for {
			began := time.Now()
			sub.run(ctx, w, send)
			sub.stop()
			if ctx.Err() != nil {
				return
			}
			if time.Since(began) > watchRetryMax {
				pause = watchRetryMin
			}
			failing := false
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(pause):
				}
				pause = min(2*pause, watchRetryMax)
				if sub, list, err = m.subscribe(ctx, opts); err == nil {
					break
				}
				m.log.Warn("watch: netlink subscription", "err", err)
				if !failing && opts.OnTrouble != nil {
					opts.OnTrouble(err)
				}
				failing = true
			}
			if failing && opts.OnTrouble != nil {
				opts.OnTrouble(nil)
			}
			send(w.relist(list, time.Now()))
		}
	}()
	return out, nil
}

// The pauses before a failed subscription is made again.
const (
	watchRetryMin = time.Second
	watchRetryMax = time.Minute
)

// subscription is one set of the three netlink subscriptions.
type subscription struct {
	done   chan struct{}
	links  chan netlink.LinkUpdate
	addrs  chan netlink.AddrUpdate
	routes chan netlink.RouteUpdate
}

// subscribe subscribes to links, addresses and routes, then lists the
// links: nothing falls between the two, and a notification that repeats
// the listed state changes nothing.
func (m *Manager) subscribe(ctx context.Context, opts WatchOptions) (*subscription, []netlink.Link, error) {
	if opts.fault != nil {
		if err := opts.fault(); err != nil {
			return nil, nil, err
		}
	}
	s := &subscription{
		done:   make(chan struct{}),
		links:  make(chan netlink.LinkUpdate, 256),
		addrs:  make(chan netlink.AddrUpdate, 256),
		routes: make(chan netlink.RouteUpdate, 256),
	}
	onErr := func(err error) {
		select {
		case <-s.done:
			// The watch is ending: its sockets' readers fail as they are
			// closed, which is no news for the admin.
			return
		default:
		}
		if ctx.Err() == nil {
			m.log.Warn("watch: netlink subscription", "err", err)
		}
	}
	ns := m.ns
	force := opts.ReceiveBuffer > 0
	if err := netlink.LinkSubscribeWithOptions(s.links, s.done, netlink.LinkSubscribeOptions{Namespace: &ns, ErrorCallback: onErr,
		ReceiveBufferSize: opts.ReceiveBuffer, ReceiveBufferForceSize: force}); err != nil {
		close(s.done)
		return nil, nil, fmt.Errorf("netcfg: watch links: %w", err)
	}
	if err := netlink.AddrSubscribeWithOptions(s.addrs, s.done, netlink.AddrSubscribeOptions{Namespace: &ns, ErrorCallback: onErr,
		ReceiveBufferSize: opts.ReceiveBuffer, ReceiveBufferForceSize: force}); err != nil {
		close(s.done)
		return nil, nil, fmt.Errorf("netcfg: watch addresses: %w", err)
	}
	if err := netlink.RouteSubscribeWithOptions(s.routes, s.done, netlink.RouteSubscribeOptions{Namespace: &ns, ErrorCallback: onErr,
		ReceiveBufferSize: opts.ReceiveBuffer, ReceiveBufferForceSize: force}); err != nil {
		close(s.done)
		return nil, nil, fmt.Errorf("netcfg: watch routes: %w", err)
	}
	list, err := m.h.LinkList()
	if err != nil {
		close(s.done)
		return nil, nil, fmt.Errorf("netcfg: watch: list links: %w", err)
	}
	return s, list, nil
}

// run turns the subscription's notifications into events until ctx ends
// or one of the three subscriptions ends.
func (s *subscription) run(ctx context.Context, w *watcher, send func([]Event)) {
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-s.links:
			if !ok {
				return
			}
			send(w.link(u, time.Now()))
		case u, ok := <-s.addrs:
			if !ok {
				return
			}
			send(w.addr(u, time.Now()))
		case u, ok := <-s.routes:
			if !ok {
				return
			}
			send(w.route(u, time.Now()))
		}
	}
}

// stop closes the subscription's sockets and lets their readers finish a
// send in progress.
func (s *subscription) stop() {
	close(s.done)
	go func() {
		links, addrs, routes := s.links, s.addrs, s.routes
		for links != nil || addrs != nil || routes != nil {
			select {
			case _, ok := <-links:
				if !ok {
					links = nil
				}
			case _, ok := <-addrs:
				if !ok {
					addrs = nil
				}
			case _, ok := <-routes:
				if !ok {
					routes = nil
				}
			}
		}
	}()
}

type watcher struct {
	names map[int]string
	up    map[int]bool
	flaps *flapCounter
}

// isUp: administratively up with a carrier.
func isUp(l netlink.Link) bool {
	a := l.Attrs()
	return a.Flags&net.FlagUp != 0 && a.RawFlags&unix.IFF_RUNNING != 0
}

func (w *watcher) link(u netlink.LinkUpdate, now time.Time) []Event {
	a := u.Link.Attrs()
	name, known := w.names[a.Index]
	if u.Header.Type == unix.RTM_DELLINK {
		delete(w.names, a.Index)
		delete(w.up, a.Index)
		w.flaps.forget(a.Name)
		return []Event{{Type: "link.del", Link: a.Name, Time: now}}
	}
	var evs []Event
	if !known || name != a.Name {
		w.names[a.Index] = a.Name
		if !known {
			evs = append(evs, Event{Type: "link.add", Link: a.Name, Time: now})
		}
	}
	up := isUp(u.Link)
	was, seen := w.up[a.Index]
	w.up[a.Index] = up
	if (!seen && !up) || (seen && was == up) {
		return evs
	}
	n, started := w.flaps.record(a.Name, now)
	typ := "link.down"
	if up {
		typ = "link.up"
	}
	evs = append(evs, Event{Type: typ, Link: a.Name, Flaps: n, Time: now})
	if started {
		evs = append(evs, Event{Type: "link.flapping", Link: a.Name, Flaps: n, Time: now})
	}
	return evs
}

// relist compares a new list of the links with what the watcher knew and
// returns the events of the differences, as if their notifications had
// arrived: links added, removed, gone up or down.
func (w *watcher) relist(list []netlink.Link, now time.Time) []Event {
	var evs []Event
	present := map[int]bool{}
	for _, l := range list {
		present[l.Attrs().Index] = true
		evs = append(evs, w.link(netlink.LinkUpdate{Header: unix.NlMsghdr{Type: unix.RTM_NEWLINK}, Link: l}, now)...)
	}
	for i, name := range w.names {
		if !present[i] {
			evs = append(evs, w.link(netlink.LinkUpdate{Header: unix.NlMsghdr{Type: unix.RTM_DELLINK},
				Link: &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: i, Name: name}}}, now)...)
		}
	}
	return evs
}

func (w *watcher) addr(u netlink.AddrUpdate, now time.Time) []Event {
	typ := "addr.del"
	if u.NewAddr {
		typ = "addr.add"
	}
	return []Event{{Type: typ, Link: w.names[u.LinkIndex], Addr: u.LinkAddress.String(), Time: now}}
}

func (w *watcher) route(u netlink.RouteUpdate, now time.Time) []Event {
	if u.Table == unix.RT_TABLE_LOCAL {
		return nil // local and broadcast routes follow addresses
	}
	typ := "route.del"
	if u.Type == unix.RTM_NEWROUTE {
		typ = "route.add"
	}
	r := observeRoute(u.Route, func(i int) string { return w.names[i] })
	return []Event{{Type: typ, Link: r.Dev, Route: r.String(), Time: now}}
}
