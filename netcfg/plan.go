package netcfg

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Plan is the ordered list of changes that takes the kernel from the state
// it was in when the plan was made to a desired Config. Apply carries it out
// as a transaction.
type Plan struct {
	Steps    []Step   `json:"steps"`
	Warnings []string `json:"warnings,omitempty"`
	// Before is what netcfg owned when the plan was made: applying it
	// restores that state (confirm-or-revert keeps it on disk).
	Before Config `json:"-"`
	// Desired is the Config the plan leads to.
	Desired Config `json:"-"`
}

// Step is one change: a single kernel operation, undone by its inverse.
type Step struct {
	Op     string `json:"op"`     // create, delete, set, add, replace
	Object string `json:"object"` // what it changes: "link nkbr0", "route ..."
	Detail string `json:"detail,omitempty"`
	// Irreversible steps cannot be undone (a veth whose peer lives in
	// another namespace cannot be recreated there): plans put them last.
	Irreversible bool `json:"irreversible,omitempty"`

	act action
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }

// String prints the plan for humans, one numbered step a line.
func (p *Plan) String() string {
	var b strings.Builder
	if len(p.Steps) == 0 {
		b.WriteString("no changes\n")
	} else {
		fmt.Fprintf(&b, "%d change(s):\n", len(p.Steps))
		w := len(fmt.Sprint(len(p.Steps)))
		for i, s := range p.Steps {
			fmt.Fprintf(&b, "  %*d. %s\n", w, i+1, s.String())
		}
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}

func (s Step) String() string {
	out := fmt.Sprintf("%-7s %s", s.Op, s.Object)
	if s.Detail != "" {
		out += ": " + s.Detail
	}
	if s.Irreversible {
		out += " (cannot be undone)"
	}
	return out
}

// JSON is the plan as indented JSON: {"steps":[{"op","object","detail"}],
// "warnings":[...]}.
func (p *Plan) JSON() []byte {
	steps := p.Steps
	if steps == nil {
		steps = []Step{}
	}
	out, _ := json.MarshalIndent(struct {
		Steps    []Step   `json:"steps"`
		Warnings []string `json:"warnings,omitempty"`
	}{steps, p.Warnings}, "", "  ")
	return append(out, '\n')
}

type opcode int

const (
	opLinkCreate opcode = iota
	opLinkDelete
	opLinkSet
	opAddrAdd
	opAddrDel
	opRouteAdd
	opRouteDel
	opRouteReplace
	opShaping
	opFirewall
)

// action is what a step does; its inverse undoes it.
type action struct {
	op opcode
	// link is the full spec of a link to create, or of the link being
	// deleted (to recreate it on undo), with the kernel indexes to give
	// it back.
	link      *Link
	index     int
	peerIndex int
	// kernelQueues and peerKernelQueues recreate a veth end with the
	// kernel's queues, as it was made (netcfg gives its veths one).
	kernelQueues, peerKernelQueues bool

	name     string // link the step acts on
	attr     string // for opLinkSet: mtu, mac, master, up
	from, to string

	addr netip.Prefix

	route, oldRoute Route

	shaping, oldShaping *Shaping

	fw, oldFW Firewall
}

func (a action) inverse() action {
	b := a
	switch a.op {
	case opLinkCreate:
		b.op = opLinkDelete
	case opLinkDelete:
		b.op = opLinkCreate
	case opLinkSet:
		b.from, b.to = a.to, a.from
	case opAddrAdd:
		b.op = opAddrDel
	case opAddrDel:
		b.op = opAddrAdd
	case opRouteAdd:
		b.op = opRouteDel
	case opRouteDel:
		b.op = opRouteAdd
	case opRouteReplace:
		b.route, b.oldRoute = a.oldRoute, a.route
	case opShaping:
		b.shaping, b.oldShaping = a.oldShaping, a.shaping
	case opFirewall:
		b.fw, b.oldFW = a.oldFW, a.fw
	}
	return b
}

// obsLink is one link as read from the kernel.
type obsLink struct {
	Link
	index int
	// owned: the link carries OwnerGroup, netcfg created it.
	owned bool
	// peerIndex is the index of a veth's peer in this namespace (0 when
	// the peer lives elsewhere).
	peerIndex int
	// peerOf is the name of the veth whose local peer this link is.
	peerOf string
	// lower is the link this one sits on (vlan, macvlan parent, vxlan dev).
	lower string
	// oneQueue: the link has one transmit and one receive queue.
	oneQueue bool
}

// snapshot is what netcfg reads from the kernel before planning.
type snapshot struct {
	links  map[string]*obsLink
	routes []Route // netcfg's routes only
	fw     Firewall
}

// owned returns the Config netcfg owns in the snapshot: the links it
// created (with their local peers folded in), the links named with its
// prefix that others created (as External), its routes and its firewall.
func (s *snapshot) owned() Config {
	var c Config
	for _, name := range sortedKeys(s.links) {
		o := s.links[name]
		switch {
		case o.owned:
			l := cloneLink(o.Link)
			if p := s.peer(o); p != nil {
				l.Peer = &VethPeer{Name: p.Name, MTU: p.MTU, MAC: p.MAC, Down: p.Down, Addrs: append(p.Addrs[:0:0], p.Addrs...)}
			}
			c.Links = append(c.Links, l)
		case o.peerOf != "" && s.links[o.peerOf] != nil && s.links[o.peerOf].owned:
			// folded into its veth
		case strings.HasPrefix(name, Prefix):
			c.Links = append(c.Links, Link{Name: name, Kind: External, MTU: o.MTU, Master: o.Master, Shaping: o.Shaping})
		}
	}
	c.Routes = append(s.routes[:0:0], s.routes...)
	c.Firewall = s.fw.canonical()
	return c
}

// peer returns the local peer of an observed veth, or nil.
func (s *snapshot) peer(o *obsLink) *obsLink {
	if o.Kind != Veth || o.peerIndex == 0 {
		return nil
	}
	for _, p := range s.links {
		if p.index == o.peerIndex {
			return p
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func cloneLink(l Link) Link {
	l.Addrs = append(l.Addrs[:0:0], l.Addrs...)
	if l.Shaping != nil {
		s := *l.Shaping
		l.Shaping = &s
	}
	if l.Peer != nil {
		p := *l.Peer
		p.Addrs = append(p.Addrs[:0:0], p.Addrs...)
		l.Peer = &p
	}
	if l.VXLAN != nil {
		v := *l.VXLAN
		l.VXLAN = &v
	}
	if l.VLAN != nil {
		v := *l.VLAN
		l.VLAN = &v
	}
	if l.Macvlan != nil {
		v := *l.Macvlan
		l.Macvlan = &v
	}
	if l.GRE != nil {
		v := *l.GRE
		l.GRE = &v
	}
	return l
}
