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
// closes the channel.
func (m *Manager) Watch(ctx context.Context, opts WatchOptions) (<-chan Event, error) {
	opts = opts.withDefaults()
	done := make(chan struct{})
	links := make(chan netlink.LinkUpdate, 256)
	addrs := make(chan netlink.AddrUpdate, 256)
	routes := make(chan netlink.RouteUpdate, 256)
	onErr := func(err error) {
		select {
		case <-done:
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
	if err := netlink.LinkSubscribeWithOptions(links, done, netlink.LinkSubscribeOptions{Namespace: &ns, ErrorCallback: onErr}); err != nil {
		close(done)
		return nil, fmt.Errorf("netcfg: watch links: %w", err)
	}
	if err := netlink.AddrSubscribeWithOptions(addrs, done, netlink.AddrSubscribeOptions{Namespace: &ns, ErrorCallback: onErr}); err != nil {
		close(done)
		return nil, fmt.Errorf("netcfg: watch addresses: %w", err)
	}
	if err := netlink.RouteSubscribeWithOptions(routes, done, netlink.RouteSubscribeOptions{Namespace: &ns, ErrorCallback: onErr}); err != nil {
		close(done)
		return nil, fmt.Errorf("netcfg: watch routes: %w", err)
	}
	// Subscribed first, listed second: nothing falls between the two, and
	// a notification that repeats the listed state changes nothing.
	w := &watcher{names: map[int]string{}, up: map[int]bool{}, flaps: newFlapCounter(opts.FlapWindow, opts.FlapThreshold)}
	list, err := m.h.LinkList()
	if err != nil {
		close(done)
		return nil, fmt.Errorf("netcfg: watch: list links: %w", err)
	}
	for _, l := range list {
		w.names[l.Attrs().Index] = l.Attrs().Name
		w.up[l.Attrs().Index] = isUp(l)
	}
	out := make(chan Event, opts.Buffer)
	go func() {
		defer close(out)
		defer func() {
			close(done)
			// Let the subscriptions' readers finish a send in progress.
			go func() {
				for range links {
				}
			}()
			go func() {
				for range addrs {
				}
			}()
			go func() {
				for range routes {
				}
			}()
		}()
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
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-links:
				if !ok {
					return
				}
				send(w.link(u, time.Now()))
			case u, ok := <-addrs:
				if !ok {
					return
				}
				send(w.addr(u, time.Now()))
			case u, ok := <-routes:
				if !ok {
					return
				}
				send(w.route(u, time.Now()))
			}
		}
	}()
	return out, nil
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
