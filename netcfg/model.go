package netcfg

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"
)

// Kind is the kind of a link.
type Kind string

// The link kinds netcfg creates. External is a link somebody else creates
// (LXC creates a sliver's veth pair): netcfg attaches it to its bridge, sets
// its MTU and shapes it, but never creates or deletes it.
const (
	Bridge   Kind = "bridge"
	Veth     Kind = "veth"
	VXLAN    Kind = "vxlan"
	VLAN     Kind = "vlan"
	Macvlan  Kind = "macvlan"
	Tap      Kind = "tap"
	Dummy    Kind = "dummy"
	GRE      Kind = "gre"
	External Kind = "external"
)

var kinds = []Kind{Bridge, Veth, VXLAN, VLAN, Macvlan, Tap, Dummy, GRE, External}

// OwnerGroup is the link group (IFLA_GROUP, `ip link ... group N`) netcfg
// gives every link it creates. A link is deleted only when it carries this
// mark; a link is changed only when its name starts with Prefix.
const OwnerGroup = 0x6e6b

// RouteProtocol is the routing protocol number (`ip route ... proto N`) of
// the routes netcfg adds. Routes of any other protocol are never touched.
const RouteProtocol = 0x6e

// Config is a desired (or observed) state of everything netcfg owns in one
// network namespace. The zero Config owns nothing: applying it removes all
// that netcfg created before.
type Config struct {
	Links    []Link   `json:"links,omitempty"`
	Routes   []Route  `json:"routes,omitempty"`
	Firewall Firewall `json:"firewall,omitzero"`
}

// Link is one network interface.
type Link struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// MTU 0 leaves the kernel's default (or, for an external link, the
	// current value).
	MTU int `json:"mtu,omitempty"`
	// MAC empty leaves the kernel's choice.
	MAC string `json:"mac,omitempty"`
	// Down keeps the link administratively down; links are up by default.
	// External links keep whatever state their creator gives them.
	Down bool `json:"down,omitempty"`
	// Master is the bridge the link is a port of.
	Master string `json:"master,omitempty"`
	// Addrs are the link's addresses with prefix length (v4 and v6).
	Addrs []netip.Prefix `json:"addrs,omitempty"`
	// Shaping limits what the link sends (its egress).
	Shaping *Shaping `json:"shaping,omitempty"`

	Peer    *VethPeer    `json:"peer,omitempty"`    // veth
	VXLAN   *VXLANOpts   `json:"vxlan,omitempty"`   // vxlan
	VLAN    *VLANOpts    `json:"vlan,omitempty"`    // vlan
	Macvlan *MacvlanOpts `json:"macvlan,omitempty"` // macvlan
	GRE     *GREOpts     `json:"gre,omitempty"`     // gre
}

// VethPeer is the other end of a veth pair.
type VethPeer struct {
	Name string `json:"name"`
	// NetNS moves the peer into a network namespace: a name under
	// /run/netns or a path. PID moves it into the namespace of a process
	// (a container's init). Both are used at creation only.
	NetNS string `json:"netns,omitempty"`
	PID   int    `json:"pid,omitempty"`
	MTU   int    `json:"mtu,omitempty"`
	MAC   string `json:"mac,omitempty"`
	// Down and Addrs apply only while the peer stays in this namespace.
	Down  bool           `json:"down,omitempty"`
	Addrs []netip.Prefix `json:"addrs,omitempty"`
	// Elsewhere is set on an observed peer that lives in another
	// namespace; netcfg cannot see or recreate it there.
	Elsewhere bool `json:"elsewhere,omitempty"`
}

// VXLANOpts are a VXLAN overlay's parameters.
type VXLANOpts struct {
	VNI    int        `json:"vni"`
	Remote netip.Addr `json:"remote,omitzero"` // unicast peer, or
	Group  netip.Addr `json:"group,omitzero"`  // multicast group
	Port   int        `json:"port,omitempty"`  // UDP port, 4789 if 0
	Local  netip.Addr `json:"local,omitzero"`
	TTL    int        `json:"ttl,omitempty"`
	Dev    string     `json:"dev,omitempty"` // underlay link
}

// VLANOpts are an 802.1Q VLAN's parameters.
type VLANOpts struct {
	Parent string `json:"parent"`
	ID     int    `json:"id"`
}

// MacvlanOpts are a macvlan's parameters.
type MacvlanOpts struct {
	Parent string `json:"parent"`
	// Mode is bridge (the default), private, vepa or passthru.
	Mode string `json:"mode,omitempty"`
}

// GREOpts are a GRE (layer 3) tunnel's parameters.
type GREOpts struct {
	Local  netip.Addr `json:"local,omitzero"`
	Remote netip.Addr `json:"remote"`
	TTL    int        `json:"ttl,omitempty"`
}

// Shaping is a link's egress limit: a token bucket filter (tbf) or a
// hierarchical token bucket (htb) with a single class.
type Shaping struct {
	Qdisc string `json:"qdisc"` // tbf or htb
	// Rate in bits per second.
	Rate uint64 `json:"rate"`
	// Burst in bytes; 0 takes DefaultBurst(Rate).
	Burst uint32 `json:"burst,omitempty"`
	// Latency bounds the tbf queue; 0 takes 50ms. Unused by htb.
	Latency time.Duration `json:"latency,omitempty"`
}

// Route is a route netcfg owns (it carries RouteProtocol).
type Route struct {
	Dst    netip.Prefix `json:"dst"`
	Via    netip.Addr   `json:"via,omitzero"`
	Dev    string       `json:"dev,omitempty"`
	Src    netip.Addr   `json:"src,omitzero"`
	Metric int          `json:"metric,omitempty"`
	// Table 0 is the main table.
	Table int `json:"table,omitempty"`
}

// Firewall is what netcfg keeps in its own nftables tables ("inet
// nodekeeper" and "bridge nodekeeper"); nothing else is touched.
type Firewall struct {
	NAT     []NAT       `json:"nat,omitempty"`
	Isolate []Isolation `json:"isolate,omitempty"`
}

// NAT masquerades traffic from Source that leaves through any link but
// Bridge (Bridge may be empty: then all of it).
type NAT struct {
	Source netip.Prefix `json:"source"`
	Bridge string       `json:"bridge,omitempty"`
}

// IsolationMode says what an isolated link may reach.
type IsolationMode string

// The isolation modes.
const (
	// IsolatePrivate is for a private bridge: what enters it cannot reach
	// the node's own addresses (its services) nor any other private
	// bridge; it reaches the outside only by being routed (and NATed).
	IsolatePrivate IsolationMode = "private"
	// IsolatePort is for a port of a private bridge: it cannot reach the
	// bridge's other ports (other slivers), only the bridge itself.
	IsolatePort IsolationMode = "port"
	// IsolatePublic is for a port of a public bridge: it reaches the
	// bridge's network only, never the node itself.
	IsolatePublic IsolationMode = "public"
)

// Isolation restricts what traffic entering Link may reach.
type Isolation struct {
	Link string        `json:"link"`
	Mode IsolationMode `json:"mode"`
}

// Default shaping parameters.
const (
	DefaultLatency = 50 * time.Millisecond
	minBurst       = 2048
)

// DefaultBurst is the burst a Shaping without one gets: what the rate sends
// in 10ms, at least 2 KiB.
func DefaultBurst(rate uint64) uint32 {
	b := rate / 8 / 100
	if b < minBurst {
		b = minBurst
	}
	if b > 1<<30 {
		b = 1 << 30
	}
	return uint32(b)
}

func (s *Shaping) burst() uint32 {
	if s.Burst != 0 {
		return s.Burst
	}
	return DefaultBurst(s.Rate)
}

func (s *Shaping) latency() time.Duration {
	if s.Latency != 0 {
		return s.Latency
	}
	return DefaultLatency
}

func (s *Shaping) String() string {
	out := fmt.Sprintf("%s rate %s burst %d", s.Qdisc, FormatRate(s.Rate), s.burst())
	if s.Qdisc == "tbf" {
		out += " latency " + s.latency().String()
	}
	return out
}

// Validate checks a desired Config on its own: names, kinds, parameters and
// references between its parts. What it refers to outside itself (a parent
// link netcfg does not own) is checked by Plan against the kernel.
func (c *Config) Validate() error {
	names := map[string]*Link{}
	for i := range c.Links {
		l := &c.Links[i]
		if err := l.validate(); err != nil {
			return fmt.Errorf("link %d (%s): %w", i, l.Name, err)
		}
		for _, n := range l.names() {
			if names[n] != nil {
				return fmt.Errorf("link %s: name %s used twice", l.Name, n)
			}
			names[n] = l
		}
	}
	for i := range c.Links {
		l := &c.Links[i]
		if l.Master != "" {
			// A master outside the config (the community network's bridge)
			// is checked against the kernel by Plan.
			m := names[l.Master]
			if m != nil && m.Kind != Bridge {
				return fmt.Errorf("link %s: master %s is a %s, not a bridge", l.Name, l.Master, m.Kind)
			}
		}
	}
	down := map[string]bool{}
	for _, l := range c.Links {
		down[l.Name] = l.Down
		if l.Peer.local() {
			down[l.Peer.Name] = l.Peer.Down
		}
	}
	seen := map[string]bool{}
	for i, r := range c.Routes {
		if err := r.validate(); err != nil {
			return fmt.Errorf("route %d (%s): %w", i, r.Dst, err)
		}
		if down[r.Dev] {
			return fmt.Errorf("route %d (%s): link %s is down, and the kernel drops routes through a link that is down", i, r.Dst, r.Dev)
		}
		k := r.key()
		if seen[k] {
			return fmt.Errorf("route %d (%s): listed twice", i, r.Dst)
		}
		seen[k] = true
	}
	return c.Firewall.validate()
}

// local reports whether the peer stays in the namespace of its veth.
func (p *VethPeer) local() bool {
	return p != nil && !p.Elsewhere && p.NetNS == "" && p.PID == 0
}

func (l *Link) names() []string {
	if l.Peer.local() {
		return []string{l.Name, l.Peer.Name}
	}
	return []string{l.Name}
}

// checkName checks a link name of the config: it reaches netlink and the
// nftables rules' comments (which are read back), so it must keep to
// CheckLinkName's grammar.
func checkName(name string) error { return CheckLinkName(name) }

func checkMAC(mac string) error {
	if mac == "" {
		return nil
	}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return fmt.Errorf("MAC %q: want six bytes like 6e:6b:00:01:02:03", mac)
	}
	if hw[0]&1 != 0 {
		return fmt.Errorf("MAC %q is multicast", mac)
	}
	return nil
}

func checkAddrs(addrs []netip.Prefix) error {
	seen := map[netip.Prefix]bool{}
	for _, a := range addrs {
		switch {
		case !a.IsValid():
			return fmt.Errorf("invalid address")
		case a.Addr().Is4In6():
			return fmt.Errorf("address %s: IPv4-mapped IPv6 is not allowed", a)
		case a.Addr().IsLinkLocalUnicast() && a.Addr().Is6():
			return fmt.Errorf("address %s: IPv6 link-local addresses are the kernel's", a)
		case a.Addr().IsMulticast() || a.Addr().IsUnspecified():
			return fmt.Errorf("address %s is not a unicast address", a)
		case seen[a]:
			return fmt.Errorf("address %s listed twice", a)
		}
		seen[a] = true
	}
	return nil
}

// checkDownAddrs: the kernel flushes a link's IPv6 addresses when it goes
// down, so a down link cannot keep one.
func checkDownAddrs(down bool, addrs []netip.Prefix) error {
	if !down {
		return nil
	}
	for _, a := range addrs {
		if a.Addr().Is6() {
			return fmt.Errorf("address %s: the kernel drops IPv6 addresses of a link that is down", a)
		}
	}
	return nil
}

func (l *Link) validate() error {
	if err := checkName(l.Name); err != nil {
		return err
	}
	if !strings.HasPrefix(l.Name, Prefix) {
		return fmt.Errorf("name %q does not start with %q: netcfg only manages its own links", l.Name, Prefix)
	}
	if !slices.Contains(kinds, l.Kind) {
		return fmt.Errorf("unknown kind %q (want one of %v)", l.Kind, kinds)
	}
	if l.MTU != 0 && (l.MTU < 68 || l.MTU > 65535) {
		return fmt.Errorf("MTU %d out of range 68..65535", l.MTU)
	}
	if err := checkMAC(l.MAC); err != nil {
		return err
	}
	if err := checkAddrs(l.Addrs); err != nil {
		return err
	}
	if err := checkDownAddrs(l.Down, l.Addrs); err != nil {
		return err
	}
	if l.Master == l.Name {
		return fmt.Errorf("link is its own master")
	}
	if l.Master != "" {
		if err := checkName(l.Master); err != nil {
			return fmt.Errorf("master: %w", err)
		}
		if l.Kind == Bridge {
			return fmt.Errorf("a bridge cannot be a port of bridge %s", l.Master)
		}
		if l.Master == l.lower() {
			return fmt.Errorf("%s is both the link's master and the link it sits on", l.Master)
		}
	}
	if l.Shaping != nil {
		if err := l.Shaping.validate(); err != nil {
			return fmt.Errorf("shaping: %w", err)
		}
	}
	opts := map[Kind]bool{Veth: l.Peer != nil, VXLAN: l.VXLAN != nil, VLAN: l.VLAN != nil, Macvlan: l.Macvlan != nil, GRE: l.GRE != nil}
	for k, set := range opts {
		if set && k != l.Kind {
			return fmt.Errorf("%s options on a %s link", k, l.Kind)
		}
	}
	switch l.Kind {
	case External:
		if len(l.Addrs) > 0 || l.MAC != "" || l.Down {
			return fmt.Errorf("an external link takes only master, mtu and shaping")
		}
	case Veth:
		if l.Peer == nil {
			return fmt.Errorf("veth needs a peer")
		}
		p := l.Peer
		if p.Elsewhere {
			// An observed peer in another namespace: nothing to check.
			break
		}
		if err := checkName(p.Name); err != nil {
			return fmt.Errorf("peer: %w", err)
		}
		if p.NetNS != "" && p.PID != 0 {
			return fmt.Errorf("peer: netns and pid both given")
		}
		if p.NetNS != "" {
			if err := CheckNetns(p.NetNS); err != nil {
				return fmt.Errorf("peer: %w", err)
			}
		}
		if p.PID < 0 {
			return fmt.Errorf("peer: pid %d", p.PID)
		}
		if p.MTU != 0 && (p.MTU < 68 || p.MTU > 65535) {
			return fmt.Errorf("peer: MTU %d out of range 68..65535", p.MTU)
		}
		if err := checkMAC(p.MAC); err != nil {
			return fmt.Errorf("peer: %w", err)
		}
		if err := checkAddrs(p.Addrs); err != nil {
			return fmt.Errorf("peer: %w", err)
		}
		if err := checkDownAddrs(p.Down, p.Addrs); err != nil {
			return fmt.Errorf("peer: %w", err)
		}
		if p.local() && !strings.HasPrefix(p.Name, Prefix) {
			return fmt.Errorf("peer %q stays in this namespace and must start with %q", p.Name, Prefix)
		}
		if !p.local() && (len(p.Addrs) > 0 || p.Down) {
			return fmt.Errorf("peer: addresses and state of a peer in another namespace are its owner's")
		}
	case VXLAN:
		v := l.VXLAN
		switch {
		case v == nil:
			return fmt.Errorf("vxlan needs a vni")
		case v.VNI < 1 || v.VNI > 1<<24-1:
			return fmt.Errorf("vxlan vni %d out of range 1..16777215", v.VNI)
		case v.Remote.IsValid() && v.Group.IsValid():
			return fmt.Errorf("vxlan takes a remote or a group, not both")
		case v.Group.IsValid() && !v.Group.IsMulticast():
			return fmt.Errorf("vxlan group %s is not multicast", v.Group)
		case v.Group.IsValid() && v.Dev == "":
			return fmt.Errorf("vxlan group %s needs the underlay dev", v.Group)
		case v.Remote.IsValid() && v.Remote.IsMulticast():
			return fmt.Errorf("vxlan remote %s is multicast: use group", v.Remote)
		case v.Port < 0 || v.Port > 65535:
			return fmt.Errorf("vxlan port %d out of range", v.Port)
		case v.TTL < 0 || v.TTL > 255:
			return fmt.Errorf("vxlan ttl %d out of range 0..255", v.TTL)
		}
		if v.Dev != "" {
			if err := checkName(v.Dev); err != nil {
				return fmt.Errorf("vxlan dev: %w", err)
			}
		}
	case VLAN:
		v := l.VLAN
		if v == nil || v.Parent == "" {
			return fmt.Errorf("vlan needs a parent and an id")
		}
		if err := checkName(v.Parent); err != nil {
			return fmt.Errorf("vlan parent: %w", err)
		}
		if v.ID < 1 || v.ID > 4094 {
			return fmt.Errorf("vlan id %d out of range 1..4094", v.ID)
		}
	case Macvlan:
		m := l.Macvlan
		if m == nil || m.Parent == "" {
			return fmt.Errorf("macvlan needs a parent")
		}
		if err := checkName(m.Parent); err != nil {
			return fmt.Errorf("macvlan parent: %w", err)
		}
		switch m.Mode {
		case "", "bridge", "private", "vepa", "passthru":
		default:
			return fmt.Errorf("macvlan mode %q (want bridge, private, vepa or passthru)", m.Mode)
		}
	case GRE:
		g := l.GRE
		switch {
		case g == nil || !g.Remote.IsValid():
			return fmt.Errorf("gre needs a remote")
		case !g.Remote.Is4() || (g.Local.IsValid() && !g.Local.Is4()):
			return fmt.Errorf("gre endpoints must be IPv4")
		case g.TTL < 0 || g.TTL > 255:
			return fmt.Errorf("gre ttl %d out of range 0..255", g.TTL)
		}
	}
	return nil
}

func (s *Shaping) validate() error {
	if s.Qdisc != "tbf" && s.Qdisc != "htb" {
		return fmt.Errorf("qdisc %q (want tbf or htb)", s.Qdisc)
	}
	if s.Rate < 8 || s.Rate > 32e9 {
		return fmt.Errorf("rate %d bit/s out of range 8bit..32gbit", s.Rate)
	}
	if s.Burst != 0 && s.Burst < 1600 {
		return fmt.Errorf("burst %d bytes is below one packet (1600)", s.Burst)
	}
	if s.Latency < 0 || s.Latency > 10*time.Second {
		return fmt.Errorf("latency %s out of range 0..10s", s.Latency)
	}
	if s.Qdisc == "htb" && s.Latency != 0 {
		return fmt.Errorf("latency is a tbf parameter")
	}
	return nil
}

func (r *Route) validate() error {
	switch {
	case !r.Dst.IsValid():
		return fmt.Errorf("no destination")
	case r.Dst != r.Dst.Masked():
		return fmt.Errorf("destination %s has host bits set (want %s)", r.Dst, r.Dst.Masked())
	case !r.Via.IsValid() && r.Dev == "":
		return fmt.Errorf("needs a gateway (via) or a dev")
	case r.Via.IsValid() && r.Via.Is4() != r.Dst.Addr().Is4():
		return fmt.Errorf("gateway %s and destination of different families", r.Via)
	case r.Src.IsValid() && r.Src.Is4() != r.Dst.Addr().Is4():
		return fmt.Errorf("source %s and destination of different families", r.Src)
	case r.Metric < 0:
		return fmt.Errorf("metric %d", r.Metric)
	case r.Table < 0 || r.Table == 255 || r.Table == 253:
		return fmt.Errorf("table %d is not for netcfg's routes", r.Table)
	}
	if r.Dev != "" {
		return checkName(r.Dev)
	}
	return nil
}

// norm fills in what the kernel fills in: the main table, and metric 1024
// for IPv6 routes without one.
func (r Route) norm() Route {
	if r.Table == 0 {
		r.Table = 254
	}
	if r.Metric == 0 && r.Dst.Addr().Is6() {
		r.Metric = 1024
	}
	return r
}

// key identifies a route in the kernel: a second route with the same key
// replaces the first.
func (r Route) key() string {
	n := r.norm()
	return fmt.Sprintf("%d %s %d", n.Table, n.Dst, n.Metric)
}

// same reports whether the kernel's route o is r. The kernel names the dev
// of a route through a gateway even when it was not asked to.
func (r Route) same(o Route) bool {
	a, b := r.norm(), o.norm()
	if a.Dev == "" {
		b.Dev = ""
	}
	return a == b
}

func (r Route) String() string {
	var b strings.Builder
	b.WriteString(r.Dst.String())
	if r.Via.IsValid() {
		b.WriteString(" via " + r.Via.String())
	}
	if r.Dev != "" {
		b.WriteString(" dev " + r.Dev)
	}
	if r.Src.IsValid() {
		b.WriteString(" src " + r.Src.String())
	}
	if r.Metric != 0 {
		fmt.Fprintf(&b, " metric %d", r.Metric)
	}
	if r.Table != 0 && r.Table != 254 {
		fmt.Fprintf(&b, " table %d", r.Table)
	}
	return b.String()
}

func (f *Firewall) validate() error {
	seen := map[string]bool{}
	for i, n := range f.NAT {
		if !n.Source.IsValid() || n.Source != n.Source.Masked() {
			return fmt.Errorf("nat %d: source %s is not a network prefix", i, n.Source)
		}
		if n.Bridge != "" {
			if err := checkName(n.Bridge); err != nil {
				return fmt.Errorf("nat %d: %w", i, err)
			}
		}
		if seen[n.tag()] {
			return fmt.Errorf("nat %d: listed twice", i)
		}
		seen[n.tag()] = true
	}
	for i, s := range f.Isolate {
		if err := checkName(s.Link); err != nil {
			return fmt.Errorf("isolate %d: %w", i, err)
		}
		switch s.Mode {
		case IsolatePrivate, IsolatePort, IsolatePublic:
		default:
			return fmt.Errorf("isolate %d (%s): mode %q (want private, port or public)", i, s.Link, s.Mode)
		}
		if seen[s.tag()] {
			return fmt.Errorf("isolate %d (%s): listed twice", i, s.Link)
		}
		seen[s.tag()] = true
	}
	return nil
}

// Each firewall entry becomes rules tagged (in the rule's comment) with the
// entry they come from, so the tables can be read back into a Firewall.
const tagPrefix = "nodekeeper "

func (n NAT) tag() string { return fmt.Sprintf("%snat %s %s", tagPrefix, n.Source, n.Bridge) }
func (s Isolation) tag() string {
	return fmt.Sprintf("%sisolate %s %s", tagPrefix, s.Mode, s.Link)
}

// parseTag turns a rule comment back into the firewall entry it came from.
func parseTag(tag string, f *Firewall) bool {
	rest, ok := strings.CutPrefix(tag, tagPrefix)
	if !ok {
		return false
	}
	fields := strings.Split(rest, " ")
	switch {
	case len(fields) == 3 && fields[0] == "nat":
		p, err := netip.ParsePrefix(fields[1])
		if err != nil {
			return false
		}
		n := NAT{Source: p, Bridge: fields[2]}
		if !hasNAT(f.NAT, n) {
			f.NAT = append(f.NAT, n)
		}
		return true
	case len(fields) == 3 && fields[0] == "isolate":
		s := Isolation{Mode: IsolationMode(fields[1]), Link: fields[2]}
		if !hasIsolation(f.Isolate, s) {
			f.Isolate = append(f.Isolate, s)
		}
		return true
	}
	return false
}

// canonical returns the firewall with its entries sorted, for comparison.
func (f Firewall) canonical() Firewall {
	out := Firewall{NAT: append(f.NAT[:0:0], f.NAT...), Isolate: append(f.Isolate[:0:0], f.Isolate...)}
	// sort.Slice, not slices.SortFunc: each struct type would get a
	// sort of its own, 10 KB on mips (docs/packaging.md).
	sort.Slice(out.NAT, func(i, j int) bool { return out.NAT[i].tag() < out.NAT[j].tag() })
	sort.Slice(out.Isolate, func(i, j int) bool { return out.Isolate[i].tag() < out.Isolate[j].tag() })
	return out
}

func (f Firewall) equal(g Firewall) bool {
	a, b := f.canonical(), g.canonical()
	if len(a.NAT) != len(b.NAT) || len(a.Isolate) != len(b.Isolate) {
		return false
	}
	for i := range a.NAT {
		if a.NAT[i] != b.NAT[i] {
			return false
		}
	}
	for i := range a.Isolate {
		if a.Isolate[i] != b.Isolate[i] {
			return false
		}
	}
	return true
}

// hasNAT tells whether ns holds n (see hasPrefix).
func hasNAT(ns []NAT, n NAT) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

// hasIsolation tells whether is holds s (see hasPrefix).
func hasIsolation(is []Isolation, s Isolation) bool {
	for _, x := range is {
		if x == s {
			return true
		}
	}
	return false
}

func (f Firewall) empty() bool { return len(f.NAT) == 0 && len(f.Isolate) == 0 }
