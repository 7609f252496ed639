package netcfg

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ErrNotOwned is returned (wrapped) when a desired state would change or
// delete a link that netcfg did not create.
var ErrNotOwned = errors.New("not created by nodekeeper")

// planner computes the steps from a snapshot to a desired Config.
type planner struct {
	s       *snapshot
	d       Config
	want    map[string]*Link // desired links present this round
	create  map[string]bool  // links the plan creates (new or replaced)
	replace map[string]bool  // owned links deleted and created again
	gone    map[string]bool  // links the plan deletes, their local peers too
	cur     map[string]*Link // surviving links as they stand mid-plan
	down    map[string]bool  // surviving links the plan takes down
	steps   []Step
	tail    []Step // irreversible deletions, last
	warn    []string
}

// diff returns the plan from s to d; d must have passed Validate.
func diff(d Config, s *snapshot) (*Plan, error) {
	p := &planner{s: s, d: d, want: map[string]*Link{}, create: map[string]bool{},
		replace: map[string]bool{}, gone: map[string]bool{}, cur: map[string]*Link{}, down: map[string]bool{}}
	if err := p.classify(); err != nil {
		return nil, err
	}
	if err := p.deletions(); err != nil {
		return nil, err
	}
	if err := p.checkRefs(); err != nil {
		return nil, err
	}
	p.findDowns()
	p.deleteRoutes()
	if err := p.deleteLinks(); err != nil {
		return nil, err
	}
	p.createLinks()
	p.modifyLinks()
	p.addresses()
	p.routes()
	// Links go down after their routes and IPv6 addresses are gone (the
	// kernel would drop them, out of reach of an undo).
	for _, name := range sortedKeys(p.down) {
		p.set(name, "up", "true", "false")
	}
	p.shaping()
	if !s.fw.equal(d.Firewall) {
		p.add(Step{Op: "set", Object: "firewall", Detail: fmt.Sprintf("%s (was %s)", fwSummary(d.Firewall), fwSummary(s.fw)),
			act: action{op: opFirewall, fw: d.Firewall.canonical(), oldFW: s.fw.canonical()}})
	}
	p.steps = append(p.steps, p.tail...)
	return &Plan{Steps: p.steps, Warnings: p.warn, Before: s.owned(), Desired: d}, nil
}

func (p *planner) add(s Step) { p.steps = append(p.steps, s) }

func (p *planner) classify() error {
	for i := range p.d.Links {
		l := &p.d.Links[i]
		o := p.s.links[l.Name]
		if l.Kind == External {
			switch {
			case o == nil:
				p.warn = append(p.warn, fmt.Sprintf("external link %s is absent: skipped until its creator makes it", l.Name))
				continue
			case o.owned:
				return fmt.Errorf("link %s was created by nodekeeper as a %s: list it by its kind, not as external", l.Name, o.Kind)
			case o.peerOf != "" && p.s.links[o.peerOf].owned:
				return fmt.Errorf("link %s is the peer of nodekeeper's veth %s: list it there", l.Name, o.peerOf)
			}
			p.want[l.Name] = l
			continue
		}
		p.want[l.Name] = l
		switch {
		case o == nil:
			p.create[l.Name] = true
		case !o.owned:
			return fmt.Errorf("link %s exists but lacks nodekeeper's group %#x mark: refusing to change or delete it: %w", l.Name, OwnerGroup, ErrNotOwned)
		case !p.sameIdentity(l, o):
			p.replace[l.Name] = true
			p.create[l.Name] = true
		}
	}
	return nil
}

// sameIdentity reports whether an observed link is the desired one in all
// that cannot be changed in place.
func (p *planner) sameIdentity(l *Link, o *obsLink) bool {
	if l.Kind != o.Kind {
		return false
	}
	switch l.Kind {
	case Veth:
		if l.Peer.local() {
			peer := p.s.peer(o)
			return peer != nil && peer.Name == l.Peer.Name
		}
		return o.peerIndex == 0
	case VXLAN:
		return o.VXLAN != nil && l.VXLAN.norm() == o.VXLAN.norm()
	case VLAN:
		return o.VLAN != nil && *l.VLAN == *o.VLAN
	case Macvlan:
		return o.Macvlan != nil && l.Macvlan.Parent == o.Macvlan.Parent && l.Macvlan.mode() == o.Macvlan.mode()
	case GRE:
		return o.GRE != nil && *l.GRE == *o.GRE
	}
	return true
}

func (v VXLANOpts) norm() VXLANOpts {
	if v.Port == 0 {
		v.Port = 4789
	}
	return v
}

func (m *MacvlanOpts) mode() string {
	if m.Mode == "" {
		return "bridge"
	}
	return m.Mode
}

// deletions finds every link the plan deletes: owned links not desired,
// replaced ones, and owned links sitting on a deleted one (the kernel
// deletes those with it).
func (p *planner) deletions() error {
	del := map[string]bool{}
	for name, o := range p.s.links {
		if o.owned && (p.want[name] == nil || p.replace[name]) {
			del[name] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, name := range sortedKeys(p.s.links) {
			o := p.s.links[name]
			if del[name] || o.lower == "" || !del[o.lower] {
				continue
			}
			if !o.owned {
				return fmt.Errorf("deleting %s would delete %s (a %s on it), which nodekeeper did not create: %w", o.lower, name, o.Kind, ErrNotOwned)
			}
			del[name] = true
			changed = true
			if p.want[name] != nil {
				p.replace[name] = true
				p.create[name] = true
			}
		}
	}
	for name := range del {
		p.gone[name] = true
		if peer := p.s.peer(p.s.links[name]); peer != nil {
			p.gone[peer.Name] = true
		}
	}
	for name, o := range p.s.links {
		if !p.gone[name] {
			l := cloneLink(o.Link)
			p.cur[name] = &l
		}
	}
	for _, name := range sortedKeys(p.create) {
		l := p.want[name]
		if l.Peer != nil && l.Peer.Elsewhere {
			return fmt.Errorf("cannot create veth %s: its peer was in another namespace, which netcfg cannot name", name)
		}
		for _, n := range l.names() {
			if p.cur[n] != nil {
				return fmt.Errorf("cannot create link %s: a link named %s exists: %w", name, n, ErrNotOwned)
			}
		}
	}
	return nil
}

// exists reports whether a link will exist once the plan's links are made.
func (p *planner) exists(name string) bool {
	if l := p.want[name]; l != nil && (l.Kind != External || p.cur[name] != nil) {
		return true
	}
	for _, l := range p.want {
		if l.Peer.local() && l.Peer.Name == name {
			return true
		}
	}
	return p.cur[name] != nil
}

func (p *planner) checkRefs() error {
	for _, name := range sortedKeys(p.want) {
		l := p.want[name]
		if m := l.Master; m != "" {
			ok := false
			if w := p.want[m]; w != nil {
				ok = w.Kind == Bridge
			} else if c := p.cur[m]; c != nil {
				ok = c.Kind == Bridge
			}
			if !ok {
				return fmt.Errorf("link %s: master %s is not a bridge in the config or the kernel", name, m)
			}
		}
		if lower := l.lower(); lower != "" && !p.exists(lower) {
			return fmt.Errorf("link %s: %s %s does not exist", name, l.Kind, lower)
		}
	}
	for _, r := range p.d.Routes {
		if r.Dev != "" && !p.exists(r.Dev) {
			return fmt.Errorf("route %s: dev %s does not exist", r, r.Dev)
		}
	}
	return nil
}

// lower is the link a link sits on.
func (l *Link) lower() string {
	switch {
	case l.VLAN != nil:
		return l.VLAN.Parent
	case l.Macvlan != nil:
		return l.Macvlan.Parent
	case l.VXLAN != nil:
		return l.VXLAN.Dev
	}
	return ""
}

// findDowns lists the surviving links that are up and must go down.
func (p *planner) findDowns() {
	for _, l := range p.d.Links {
		if p.want[l.Name] == nil || p.create[l.Name] || l.Kind == External {
			continue
		}
		if c := p.cur[l.Name]; c != nil && l.Down && !c.Down {
			p.down[l.Name] = true
		}
		if l.Peer.local() {
			if c := p.cur[l.Peer.Name]; c != nil && l.Peer.Down && !c.Down {
				p.down[l.Peer.Name] = true
			}
		}
	}
}

func (p *planner) deleteRoutes() {
	want := map[string]Route{}
	for _, r := range p.d.Routes {
		want[r.key()] = r
	}
	for _, r := range p.s.routes {
		w, ok := want[r.key()]
		if ok && !p.gone[r.Dev] && !p.down[r.Dev] && !(w.Dev != "" && p.create[w.Dev]) {
			continue
		}
		p.add(Step{Op: "delete", Object: "route " + r.String(), act: action{op: opRouteDel, route: r}})
	}
}

// deleteLinks deletes the gone links, each after what depends on it (the
// links on it, its ports), taking off first what the kernel would take with
// it (addresses, shaping, ports) so that undo puts all of it back.
func (p *planner) deleteLinks() error {
	var todo []string
	for _, name := range sortedKeys(p.gone) {
		if p.s.links[name].peerOf == "" || !p.gone[p.s.links[name].peerOf] {
			todo = append(todo, name)
		}
	}
	done := map[string]bool{}
	dependsOn := func(x *obsLink, name string) bool {
		if x.lower == name || x.Master == name {
			return true
		}
		peer := p.s.peer(x)
		return peer != nil && peer.Master == name
	}
	for len(todo) > 0 {
		progress := false
		for i := 0; i < len(todo); i++ {
			name := todo[i]
			blocked := false
			for _, other := range todo {
				if other != name && !done[other] && dependsOn(p.s.links[other], name) {
					blocked = true
					break
				}
			}
			if blocked {
				continue
			}
			if err := p.deleteLink(name); err != nil {
				return err
			}
			done[name] = true
			todo = append(todo[:i], todo[i+1:]...)
			i--
			progress = true
		}
		if !progress {
			return fmt.Errorf("links %v depend on each other", todo)
		}
	}
	return nil
}

func (p *planner) deleteLink(name string) error {
	o := p.s.links[name]
	if o.Shaping != nil {
		p.add(Step{Op: "delete", Object: "shaping on " + name, Detail: o.Shaping.String(),
			act: action{op: opShaping, name: name, oldShaping: o.Shaping}})
	}
	p.deleteAddrs(name, o.Addrs)
	peer := p.s.peer(o)
	if peer != nil {
		p.deleteAddrs(peer.Name, peer.Addrs)
	}
	if o.Kind == Bridge {
		for _, port := range sortedKeys(p.cur) {
			c := p.cur[port]
			if c.Master != name {
				continue
			}
			if !strings.HasPrefix(port, Prefix) {
				return fmt.Errorf("bridge %s has port %s, which nodekeeper did not attach: refusing to delete the bridge: %w", name, port, ErrNotOwned)
			}
			p.add(Step{Op: "set", Object: "link " + port, Detail: "master " + name + " -> none",
				act: action{op: opLinkSet, name: port, attr: "master", from: name}})
			c.Master = ""
		}
	}
	spec := cloneLink(o.Link)
	a := action{op: opLinkDelete, link: &spec, index: o.index, kernelQueues: !o.oneQueue}
	if peer != nil {
		spec.Peer = &VethPeer{Name: peer.Name, MTU: peer.MTU, MAC: peer.MAC, Down: peer.Down}
		a.peerIndex, a.peerKernelQueues = peer.index, !peer.oneQueue
	}
	spec.Addrs, spec.Shaping = nil, nil
	s := Step{Op: "delete", Object: "link " + name, Detail: string(o.Kind), act: a}
	if o.Kind == Veth && peer == nil {
		s.Irreversible = true
		if !p.replace[name] {
			p.tail = append(p.tail, s)
			return nil
		}
	}
	p.add(s)
	return nil
}

// deleteAddrs deletes addresses last first, so that undo adds them back in
// their order (and secondaries go before their primary).
func (p *planner) deleteAddrs(link string, addrs []netip.Prefix) {
	for i := len(addrs) - 1; i >= 0; i-- {
		p.add(Step{Op: "delete", Object: fmt.Sprintf("address %s on %s", addrs[i], link),
			act: action{op: opAddrDel, name: link, addr: addrs[i]}})
	}
}

func (p *planner) createLinks() {
	var todo []string
	for _, l := range p.d.Links {
		if p.create[l.Name] {
			todo = append(todo, l.Name)
		}
	}
	done := map[string]bool{}
	for len(todo) > 0 {
		progress := false
		for i := 0; i < len(todo); i++ {
			l := p.want[todo[i]]
			if (l.Master != "" && p.create[l.Master] && !done[l.Master]) || (l.lower() != "" && p.create[l.lower()] && !done[l.lower()]) {
				continue
			}
			spec := cloneLink(*l)
			spec.Addrs, spec.Shaping = nil, nil
			p.add(Step{Op: "create", Object: "link " + l.Name, Detail: describe(l), act: action{op: opLinkCreate, link: &spec}})
			c := cloneLink(spec)
			c.Peer = nil
			p.cur[l.Name] = &c
			if l.Peer.local() {
				p.cur[l.Peer.Name] = &Link{Name: l.Peer.Name, Kind: Veth, MTU: l.Peer.MTU, MAC: l.Peer.MAC, Down: l.Peer.Down}
			}
			done[l.Name] = true
			todo = append(todo[:i], todo[i+1:]...)
			i--
			progress = true
		}
		if !progress {
			// Validate and checkRefs rule out cycles; never loop forever.
			panic(fmt.Sprintf("netcfg: links %v depend on each other", todo))
		}
	}
}

func describe(l *Link) string {
	parts := []string{string(l.Kind)}
	switch {
	case l.Peer != nil:
		where := ""
		if l.Peer.NetNS != "" {
			where = " in netns " + l.Peer.NetNS
		} else if l.Peer.PID != 0 {
			where = fmt.Sprintf(" in the netns of pid %d", l.Peer.PID)
		}
		parts = append(parts, "peer "+l.Peer.Name+where)
	case l.VXLAN != nil:
		v := l.VXLAN.norm()
		parts = append(parts, fmt.Sprintf("vni %d", v.VNI))
		if v.Remote.IsValid() {
			parts = append(parts, "remote "+v.Remote.String())
		}
		if v.Group.IsValid() {
			parts = append(parts, "group "+v.Group.String())
		}
		parts = append(parts, fmt.Sprintf("port %d", v.Port))
		if v.Dev != "" {
			parts = append(parts, "dev "+v.Dev)
		}
	case l.VLAN != nil:
		parts = append(parts, fmt.Sprintf("id %d on %s", l.VLAN.ID, l.VLAN.Parent))
	case l.Macvlan != nil:
		parts = append(parts, l.Macvlan.mode()+" on "+l.Macvlan.Parent)
	case l.GRE != nil:
		parts = append(parts, "remote "+l.GRE.Remote.String())
	}
	if l.MTU != 0 {
		parts = append(parts, fmt.Sprintf("mtu %d", l.MTU))
	}
	if l.MAC != "" {
		parts = append(parts, "mac "+l.MAC)
	}
	if l.Master != "" {
		parts = append(parts, "master "+l.Master)
	}
	switch {
	case l.Kind == External:
	case l.Down:
		parts = append(parts, "down")
	default:
		parts = append(parts, "up")
	}
	return strings.Join(parts, ", ")
}

func (p *planner) modifyLinks() {
	for _, l := range p.d.Links {
		if p.want[l.Name] == nil || p.create[l.Name] {
			continue
		}
		c := p.cur[l.Name]
		ext := l.Kind == External
		p.setAttrs(l.Name, c, l.MTU, l.MAC, ext)
		if ext {
			if l.Master != "" && l.Master != c.Master {
				p.set(l.Name, "master", c.Master, l.Master)
			}
			continue
		}
		if l.Master != c.Master {
			p.set(l.Name, "master", c.Master, l.Master)
		}
		p.setUp(l.Name, c, !l.Down)
		if l.Peer.local() {
			pc := p.cur[l.Peer.Name]
			p.setAttrs(l.Peer.Name, pc, l.Peer.MTU, l.Peer.MAC, false)
			p.setUp(l.Peer.Name, pc, !l.Peer.Down)
		}
	}
}

func (p *planner) setAttrs(name string, c *Link, mtu int, mac string, external bool) {
	if mtu != 0 && mtu != c.MTU {
		p.set(name, "mtu", fmt.Sprint(c.MTU), fmt.Sprint(mtu))
	}
	if !external && mac != "" && !macEqual(mac, c.MAC) {
		p.set(name, "mac", c.MAC, mac)
	}
}

// setUp brings a link up; taking links down waits for the end (p.down).
func (p *planner) setUp(name string, c *Link, up bool) {
	if !up || !c.Down {
		return
	}
	p.set(name, "up", fmt.Sprint(!c.Down), fmt.Sprint(up))
}

func (p *planner) set(name, attr, from, to string) {
	show := func(v string) string {
		switch {
		case v == "" && attr == "master":
			return "none"
		case attr == "up" && v == "true":
			return "up"
		case attr == "up":
			return "down"
		}
		return v
	}
	what := attr + " "
	if attr == "up" {
		what = ""
	}
	p.add(Step{Op: "set", Object: "link " + name, Detail: what + show(from) + " -> " + show(to),
		act: action{op: opLinkSet, name: name, attr: attr, from: from, to: to}})
}

func macEqual(a, b string) bool {
	x, err1 := net.ParseMAC(a)
	y, err2 := net.ParseMAC(b)
	return err1 == nil && err2 == nil && x.String() == y.String()
}

func (p *planner) addresses() {
	type change struct {
		link  string
		addrs []netip.Prefix
	}
	var dels, adds []change
	diffAddrs := func(link string, want []netip.Prefix) {
		var have []netip.Prefix
		if c := p.cur[link]; c != nil {
			have = c.Addrs
		}
		var d, a []netip.Prefix
		for _, x := range have {
			if !hasPrefix(want, x) {
				d = append(d, x)
			}
		}
		for _, x := range want {
			if !hasPrefix(have, x) {
				a = append(a, x)
			}
		}
		dels = append(dels, change{link, d})
		adds = append(adds, change{link, a})
	}
	for _, l := range p.d.Links {
		if p.want[l.Name] == nil || l.Kind == External {
			continue
		}
		diffAddrs(l.Name, l.Addrs)
		if l.Peer.local() {
			diffAddrs(l.Peer.Name, l.Peer.Addrs)
		}
	}
	for _, c := range dels {
		p.deleteAddrs(c.link, c.addrs)
	}
	for _, c := range adds {
		for _, a := range c.addrs {
			p.add(Step{Op: "add", Object: fmt.Sprintf("address %s on %s", a, c.link),
				act: action{op: opAddrAdd, name: c.link, addr: a}})
		}
	}
}

func (p *planner) routes() {
	have := map[string]Route{}
	for _, r := range p.s.routes {
		if !p.gone[r.Dev] && !p.down[r.Dev] {
			have[r.key()] = r
		}
	}
	for _, r := range p.d.Routes {
		old, ok := have[r.key()]
		switch {
		case !ok || (r.Dev != "" && p.create[r.Dev]):
			p.add(Step{Op: "add", Object: "route " + r.String(), act: action{op: opRouteAdd, route: r}})
		case !r.same(old):
			p.add(Step{Op: "replace", Object: "route " + r.String(), Detail: "was " + old.String(),
				act: action{op: opRouteReplace, route: r, oldRoute: old}})
		}
	}
}

func (p *planner) shaping() {
	for _, l := range p.d.Links {
		if p.want[l.Name] == nil {
			continue
		}
		var have *Shaping
		if c := p.cur[l.Name]; c != nil {
			have = c.Shaping
		}
		if shapingEqual(l.Shaping, have) {
			continue
		}
		from, to := "none", "none"
		if have != nil {
			from = have.String()
		}
		if l.Shaping != nil {
			to = l.Shaping.String()
		}
		p.add(Step{Op: "set", Object: "shaping on " + l.Name, Detail: from + " -> " + to,
			act: action{op: opShaping, name: l.Name, shaping: l.Shaping, oldShaping: have}})
	}
}

// shapingEqual compares a desired shaping with one read back from the
// kernel, which keeps times in ticks and rates in bytes.
func shapingEqual(want, have *Shaping) bool {
	if want == nil || have == nil {
		return want == have
	}
	near := func(a, b, slack uint64) bool {
		if a < b {
			a, b = b, a
		}
		return a-b <= slack+b/100
	}
	if want.Qdisc != have.Qdisc || want.Rate/8 != have.Rate/8 {
		return false
	}
	if !near(uint64(want.burst()), uint64(have.burst()), 64) {
		return false
	}
	if want.Qdisc == "tbf" && !near(uint64(want.latency().Microseconds()), uint64(have.latency().Microseconds()), 1000) {
		return false
	}
	return true
}

func fwSummary(f Firewall) string {
	return fmt.Sprintf("%d nat, %d isolation", len(f.NAT), len(f.Isolate))
}

// hasPrefix tells whether ps holds p. It and the other element loops of
// netcfg stand for slices.Contains, Index, Equal and Clone, whose
// instantiation per element type costs the router binary (docs/packaging.md).
func hasPrefix(ps []netip.Prefix, p netip.Prefix) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}
