package netcfg

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Apply sends a plan's steps in waves rather than one by one. A wave is a
// run of consecutive link and address steps that go to the kernel
// together (rtnlBatch); the kernel does them in order. A step waits for
// the next wave when it refers to a link that a step of this wave creates
// or deletes (until the kernel says the link is there, and is netcfg's, no
// request is built on it), and a step that deletes a link, takes it down
// or changes its MTU waits until every step of the wave on the link is
// done. Routes, shaping, the firewall, taps and the steps that cannot be
// undone go alone, in order.
//
// Links get their index from netcfg (one past the highest in use), so that
// the requests on them need no lookup; should another program take the
// index meanwhile, the creation is tried again with the kernel picking
// (NLM_F_EXCL keeps the kernel from changing the link that has it). A
// veth's peer is brought up in the next wave (the kernel cannot as it
// makes the pair).
//
// When a step fails, the kernel has still done the others of its wave:
// every step done, before or after the failed one, is undone.

// call is one request of a step in a wave.
type call struct {
	step    int
	req     *nl.NetlinkRequest
	what    string       // names the request in an error, when not the step itself
	link    string       // the link a follow-up refers to
	release func()       // after sending; may be nil
	ok      func()       // after the kernel did it; may be nil
	retry   func() error // when the index netcfg picked may be taken; may be nil
}

// runSteps runs steps and returns the index of the one that failed, and
// why; x.done tells which ones changed the kernel.
func (x *executor) runSteps(ctx context.Context, steps []Step) (int, error) {
	x.done = make([]bool, len(steps))
	x.resetWave()
	for i, s := range steps {
		err := ctx.Err()
		if err == nil && x.m.failStep != nil {
			err = x.m.failStep(i, s)
		}
		if err != nil {
			// The steps before this one are done first, as they
			// would be one by one (and undone with the rest).
			if k, ferr := x.flushAll(); ferr != nil {
				return k, ferr
			}
			return i, err
		}
		made, refs, batch := s.act.touches()
		// What cannot be undone goes alone, once all before it is done.
		batch = batch && !s.Irreversible
		if !batch || x.conflicts(s.act, made, refs) {
			if k, err := x.flushAll(); err != nil {
				return k, err
			}
		}
		if !batch {
			if err := x.run(s.act); err != nil {
				return i, err
			}
			x.done[i] = true
			continue
		}
		calls, err := x.calls(i, s.act)
		if err != nil {
			if k, ferr := x.flushAll(); ferr != nil {
				return k, ferr
			}
			return i, err
		}
		x.add(calls, made, refs)
	}
	return x.flushAll()
}

// touches returns the links an action makes or deletes and those it refers
// to, and whether it can go in a wave.
func (a action) touches() (made, refs []string, batch bool) {
	switch a.op {
	case opLinkCreate, opLinkDelete:
		if a.op == opLinkCreate && a.link.Kind == Tap {
			return nil, nil, false // made through /dev/net/tun
		}
		for _, n := range []string{a.link.Master, a.link.lower()} {
			if n != "" {
				refs = append(refs, n)
			}
		}
		return a.link.names(), refs, true
	case opLinkSet:
		refs = []string{a.name}
		if a.attr == "master" {
			for _, n := range []string{a.from, a.to} {
				if n != "" {
					refs = append(refs, n)
				}
			}
		}
		return nil, refs, true
	case opAddrAdd, opAddrDel:
		return nil, []string{a.name}, true
	}
	return nil, nil, false
}

// conflicts reports whether a step must wait for the next wave: when it
// refers to a link made or deleted in this one, or when it takes away
// what the wave's steps on the link may need done first (deleting the
// link, taking it down or changing its MTU make the kernel drop addresses
// and routes that a failed step would have removed and its undo would not
// put back).
func (x *executor) conflicts(a action, made, refs []string) bool {
	for _, list := range [][]string{made, refs} {
		for _, n := range list {
			if x.made[n] {
				return true
			}
		}
	}
	var takes []string
	switch {
	case a.op == opLinkDelete:
		takes = made
	case a.op == opLinkSet && (a.attr == "mtu" || a.attr == "up" && a.to == "false"):
		takes = []string{a.name}
	}
	for _, n := range takes {
		if x.refs[n] {
			return true
		}
	}
	return false
}

func (x *executor) add(calls []call, made, refs []string) {
	x.wave = append(x.wave, calls...)
	for _, n := range made {
		x.made[n], x.refs[n] = true, true
	}
	for _, n := range refs {
		x.refs[n] = true
	}
}

func (x *executor) resetWave() {
	x.wave, x.made, x.refs = nil, map[string]bool{}, map[string]bool{}
}

// calls builds the requests of step i.
func (x *executor) calls(i int, a action) ([]call, error) {
	switch a.op {
	case opLinkCreate:
		l := a.link
		picked := a.index == 0
		if picked {
			var err error
			if a.index, err = x.newIndex(); err != nil {
				return nil, err
			}
			if l.Peer.local() {
				if a.peerIndex, err = x.newIndex(); err != nil {
					return nil, err
				}
			}
		}
		req, release, err := linkCreateReq(a, x.index)
		if err != nil {
			return nil, err
		}
		c := call{step: i, req: req, release: release, ok: func() {
			if x.idx == nil {
				x.idx = map[string]int{} // a lookup of another name reads all
			}
			x.idx[l.Name] = a.index
			if l.Peer.local() {
				x.idx[l.Peer.Name] = a.peerIndex
				if !l.Peer.Down {
					x.followUps = append(x.followUps, call{step: i, req: peerUpReq(l), what: "bring peer " + l.Peer.Name + " up", link: l.Peer.Name})
				}
			}
		}}
		if picked {
			c.retry = func() error {
				x.m.log.Debug("link index taken meanwhile: the kernel picks", "link", l.Name, "index", a.index, "peer index", a.peerIndex)
				b := a
				b.index, b.peerIndex = 0, 0
				x.forget(l)
				return x.m.newLink(b, x.index)
			}
		}
		return []call{c}, nil
	case opLinkDelete:
		return []call{{step: i, req: linkDelReq(a.link.Name), ok: func() { x.forget(a.link) }}}, nil
	case opLinkSet:
		c, err := linkChangeOf(a)
		if err != nil {
			return nil, err
		}
		req, err := linkSetReq(a.name, c, x.index)
		if err != nil {
			return nil, err
		}
		return []call{{step: i, req: req}}, nil
	case opAddrAdd, opAddrDel:
		li, err := x.index(a.name)
		if err != nil {
			return nil, err
		}
		return []call{{step: i, req: addrReq(a.op == opAddrAdd, li, a.addr)}}, nil
	}
	return nil, fmt.Errorf("action %d cannot go in a wave", a.op)
}

// flushAll sends the wave, then the follow-ups it leaves, until none is
// left.
func (x *executor) flushAll() (int, error) {
	for len(x.wave) > 0 {
		if k, err := x.flush(); err != nil {
			return k, err
		}
	}
	return 0, nil
}

// flush sends the wave and returns the first step that failed; the next
// wave starts with the follow-ups of this one.
func (x *executor) flush() (int, error) {
	wave := x.wave
	x.resetWave()
	reqs := make([]*nl.NetlinkRequest, len(wave))
	for j, c := range wave {
		reqs[j] = c.req
	}
	res := x.m.rtnlBatch(reqs)
	failed, ferr := -1, error(nil)
	for j, c := range wave {
		if c.release != nil {
			c.release()
		}
		err := res[j]
		switch {
		case err == nil:
			if c.ok != nil {
				c.ok()
			}
		case c.retry != nil && ferr == nil && (errors.Is(err, unix.EEXIST) || errors.Is(err, unix.EBUSY)):
			// A link holds the index netcfg picked (the kernel says
			// EEXIST for the link's, EBUSY for a veth peer's), or
			// the name: with the kernel picking, only the name
			// stands in the way.
			err = c.retry()
		}
		switch {
		case err == nil:
			x.done[c.step] = true
			continue
		case errors.Is(err, errNotSent):
			continue
		case errors.Is(err, errNoAnswer):
			x.done[c.step] = true // perhaps done: undo it
		}
		if c.what != "" {
			err = fmt.Errorf("%s: %w", c.what, err)
		}
		if failed < 0 || c.step < failed {
			failed, ferr = c.step, err
		}
	}
	if ferr != nil {
		x.followUps = nil
		return failed, ferr
	}
	for _, c := range x.followUps {
		x.add([]call{c}, nil, []string{c.link})
	}
	x.followUps = nil
	return 0, nil
}
