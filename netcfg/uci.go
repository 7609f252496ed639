package netcfg

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Section is one UCI section as the agent reads it from its config (netcfg
// does not read UCI files itself): `config TYPE 'NAME'` with its options; a
// plain option is a list of one.
type Section struct {
	Type    string              `json:"type"`
	Name    string              `json:"name"`
	Options map[string][]string `json:"options"`
}

// linkSections maps a section type to the link kind it declares.
var linkSections = map[string]Kind{
	"bridge": Bridge, "veth": Veth, "overlay": VXLAN, "vxlan": VXLAN, "vlan": VLAN,
	"macvlan": Macvlan, "tap": Tap, "dummy": Dummy, "gre": GRE, "external": External,
}

// Options each link section takes besides the common ones.
var kindOptions = map[Kind][]string{
	Veth:    {"peer", "peer_netns", "peer_pid", "peer_mtu", "peer_macaddr", "peer_ipaddr", "peer_ip6addr", "peer_up"},
	VXLAN:   {"vni", "peeraddr", "group", "port", "local", "ttl", "device"},
	VLAN:    {"device", "vid"},
	Macvlan: {"device", "mode"},
	GRE:     {"peeraddr", "local", "ttl"},
}

var commonLinkOptions = []string{"name", "disabled", "mtu", "macaddr", "ipaddr", "ip6addr", "bridge", "up", "qdisc", "rate", "burst", "latency"}

var otherSections = map[string][]string{
	"route":        {"target", "gateway", "interface", "source", "metric", "table", "disabled"},
	"shaping":      {"interface", "qdisc", "rate", "burst", "latency", "disabled"},
	"nat":          {"source", "bridge", "disabled"},
	"isolate":      {"interface", "mode", "disabled"},
	"sliver_net":   {"node", "private_bridge", "private_prefix", "public_bridge", "public4_first", "public4_last", "public4_prefixlen", "public4_gateway", "public6_prefix", "public6_gateway", "debug_bridge", "debug_prefix", "management_bridge", "management_prefix", "isolated_parent"},
	"sliver_iface": {"sliver", "type", "device", "vlan", "qdisc", "rate", "burst", "latency", "disabled"},
}

// sec wraps a Section with typed option readers that name the section and
// option in their errors.
type sec struct {
	Section
	err error
}

func (s *sec) where(opt string) string {
	return fmt.Sprintf("config %s '%s' option %s", s.Type, s.Name, opt)
}

func (s *sec) fail(opt, format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%s: %s", s.where(opt), fmt.Sprintf(format, args...))
	}
}

func (s *sec) str(opt string) string {
	v := s.Options[opt]
	if len(v) == 0 {
		return ""
	}
	if len(v) > 1 {
		s.fail(opt, "given %d times, takes one value", len(v))
	}
	return v[0]
}

func (s *sec) list(opt string) []string { return s.Options[opt] }

func (s *sec) integer(opt string, lo, hi int) int {
	v := s.str(opt)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 0, 64)
	if err != nil || n < int64(lo) || n > int64(hi) {
		s.fail(opt, "%q: want an integer in %d..%d", v, lo, hi)
		return 0
	}
	return int(n)
}

func (s *sec) boolean(opt string, def bool) bool {
	switch strings.ToLower(s.str(opt)) {
	case "":
		return def
	case "1", "yes", "on", "true", "enabled":
		return true
	case "0", "no", "off", "false", "disabled":
		return false
	}
	s.fail(opt, "%q: want 0 or 1", s.str(opt))
	return def
}

func (s *sec) addr(opt string) netip.Addr {
	v := s.str(opt)
	if v == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		s.fail(opt, "%q: want an IP address", v)
	}
	return a
}

func (s *sec) prefix(opt string) netip.Prefix {
	v := s.str(opt)
	if v == "" {
		return netip.Prefix{}
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		s.fail(opt, "%q: want address/prefix-length", v)
	}
	return p
}

func (s *sec) prefixes(opts ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, opt := range opts {
		for _, v := range s.list(opt) {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				if a, aerr := netip.ParseAddr(v); aerr == nil {
					p = netip.PrefixFrom(a, a.BitLen())
				} else {
					s.fail(opt, "%q: want address/prefix-length", v)
					continue
				}
			}
			out = append(out, p)
		}
	}
	return out
}

// shaping reads qdisc, rate, burst and latency; nil without a rate.
func (s *sec) shaping() *Shaping {
	rate := s.str("rate")
	if rate == "" {
		for _, o := range []string{"qdisc", "burst", "latency"} {
			if s.str(o) != "" {
				s.fail(o, "given without a rate")
			}
		}
		return nil
	}
	sh := &Shaping{Qdisc: s.str("qdisc")}
	if sh.Qdisc == "" {
		sh.Qdisc = "tbf"
	}
	r, err := ParseRate(rate)
	if err != nil {
		s.fail("rate", "%v", err)
	}
	sh.Rate = r
	if b := s.str("burst"); b != "" {
		v, err := ParseSize(b)
		if err != nil || v > 1<<30 {
			s.fail("burst", "%q: want a size like 32k, at most 1g", b)
		}
		sh.Burst = uint32(v)
	}
	if l := s.str("latency"); l != "" {
		d, err := time.ParseDuration(l)
		if err != nil {
			s.fail("latency", "%q: want a duration like 50ms", l)
		}
		sh.Latency = d
	}
	return sh
}

func (s *sec) checkOptions(allowed []string) {
	names := make([]string, 0, len(s.Options))
	for o := range s.Options {
		names = append(names, o)
	}
	sort.Strings(names)
	for _, o := range names {
		if !slices.Contains(allowed, o) {
			s.fail(o, "unknown option (this section takes %s)", strings.Join(allowed, ", "))
			return
		}
	}
}

// FromSections maps the agent's network sections to a desired Config.
// Sections of other types are none of netcfg's business and are skipped;
// an unknown option in a known section is an error, as is a bad value: the
// error names the section and the option. See docs/network.md.
func FromSections(secs []Section) (Config, error) {
	var c Config
	var sliverNet *SliverNet
	slivers := map[int]*SliverSpec{}
	var shaping []*sec
	for i := range secs {
		s := &sec{Section: secs[i]}
		if s.Options == nil {
			s.Options = map[string][]string{}
		}
		if kind, ok := linkSections[s.Type]; ok {
			s.checkOptions(append(slices.Clone(commonLinkOptions), kindOptions[kind]...))
			if !s.boolean("disabled", false) {
				l := s.link(kind)
				if s.err == nil {
					c.Links = append(c.Links, l)
				}
			}
		} else if allowed, ok := otherSections[s.Type]; ok {
			s.checkOptions(allowed)
			if s.boolean("disabled", false) {
				continue
			}
			switch s.Type {
			case "route":
				c.Routes = append(c.Routes, Route{Dst: s.prefix("target"), Via: s.addr("gateway"), Dev: s.str("interface"),
					Src: s.addr("source"), Metric: s.integer("metric", 0, 1<<31-1), Table: s.integer("table", 0, 1<<31-1)})
				if r := &c.Routes[len(c.Routes)-1]; r.Dst.IsValid() {
					r.Dst = r.Dst.Masked()
				}
			case "shaping":
				shaping = append(shaping, s)
			case "nat":
				c.Firewall.NAT = append(c.Firewall.NAT, NAT{Source: s.prefix("source"), Bridge: s.str("bridge")})
			case "isolate":
				c.Firewall.Isolate = append(c.Firewall.Isolate, Isolation{Link: s.str("interface"), Mode: IsolationMode(s.str("mode"))})
			case "sliver_net":
				if sliverNet != nil {
					s.fail("node", "a second sliver_net section")
				}
				sliverNet = s.sliverNet()
			case "sliver_iface":
				id := s.integer("sliver", 1, MaxSliverID)
				if id == 0 && s.err == nil {
					s.fail("sliver", "missing: the sliver's number")
				}
				sp := slivers[id]
				if sp == nil {
					sp = &SliverSpec{ID: id}
					slivers[id] = sp
				}
				sp.Ifaces = append(sp.Ifaces, SliverIfaceSpec{Kind: IfaceKind(s.str("type")), Parent: s.str("device"),
					VLAN: s.integer("vlan", 0, 0xfff), Shaping: s.shaping()})
			}
		} else {
			continue
		}
		if s.err != nil {
			return Config{}, s.err
		}
	}
	for _, s := range shaping {
		name := s.str("interface")
		i := -1
		for j := range c.Links {
			if c.Links[j].Name == name {
				i = j
				break
			}
		}
		if i < 0 {
			return Config{}, fmt.Errorf("%s: no link section named %q", s.where("interface"), name)
		}
		if c.Links[i].Shaping != nil {
			return Config{}, fmt.Errorf("%s: link %s is shaped twice", s.where("interface"), name)
		}
		c.Links[i].Shaping = s.shaping()
		if c.Links[i].Shaping == nil && s.err == nil {
			s.fail("rate", "missing")
		}
		if s.err != nil {
			return Config{}, s.err
		}
	}
	if len(slivers) > 0 && sliverNet == nil {
		return Config{}, fmt.Errorf("config sliver_iface needs a config sliver_net section (the node's sliver network)")
	}
	if sliverNet != nil {
		// In id order: ids are at most MaxSliverID (a loop, not a sort:
		// no sort of ints in the router binary).
		specs := make([]SliverSpec, 0, len(slivers))
		for id := 0; id <= MaxSliverID && len(specs) < len(slivers); id++ {
			if sp, ok := slivers[id]; ok {
				specs = append(specs, *sp)
			}
		}
		sc, _, err := sliverNet.Network(specs)
		if err != nil {
			return Config{}, fmt.Errorf("config sliver_net: %w", err)
		}
		c.Links = append(c.Links, sc.Links...)
		c.Routes = append(c.Routes, sc.Routes...)
		c.Firewall.NAT = append(c.Firewall.NAT, sc.Firewall.NAT...)
		c.Firewall.Isolate = append(c.Firewall.Isolate, sc.Firewall.Isolate...)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("network sections: %w", err)
	}
	return c, nil
}

func (s *sec) link(kind Kind) Link {
	name := s.str("name")
	if name == "" {
		name = s.Name
	}
	l := Link{Name: name, Kind: kind, MTU: s.integer("mtu", 68, 65535), MAC: s.str("macaddr"), Master: s.str("bridge"),
		Down: !s.boolean("up", true), Addrs: s.prefixes("ipaddr", "ip6addr"), Shaping: s.shaping()}
	switch kind {
	case Veth:
		l.Peer = &VethPeer{Name: s.str("peer"), NetNS: s.str("peer_netns"), PID: s.integer("peer_pid", 0, 1<<22),
			MTU: s.integer("peer_mtu", 68, 65535), MAC: s.str("peer_macaddr"), Down: !s.boolean("peer_up", true),
			Addrs: s.prefixes("peer_ipaddr", "peer_ip6addr")}
		if l.Peer.Name == "" {
			s.fail("peer", "missing: the name of the veth's other end")
		}
		if !l.Peer.local() && !s.boolean("peer_up", true) {
			s.fail("peer_up", "the state of a peer in another namespace is its owner's")
		}
		if !l.Peer.local() {
			l.Peer.Down = false
		}
	case VXLAN:
		v := &VXLANOpts{VNI: s.integer("vni", 1, 1<<24-1), Port: s.integer("port", 1, 65535), Local: s.addr("local"),
			TTL: s.integer("ttl", 0, 255), Dev: s.str("device")}
		if v.VNI == 0 && s.err == nil {
			s.fail("vni", "missing")
		}
		if a := s.addr("peeraddr"); a.IsValid() {
			v.Remote = a
		}
		v.Group = s.addr("group")
		l.VXLAN = v
	case VLAN:
		l.VLAN = &VLANOpts{Parent: s.str("device"), ID: s.integer("vid", 1, 4094)}
	case Macvlan:
		l.Macvlan = &MacvlanOpts{Parent: s.str("device"), Mode: s.str("mode")}
	case GRE:
		l.GRE = &GREOpts{Remote: s.addr("peeraddr"), Local: s.addr("local"), TTL: s.integer("ttl", 0, 255)}
	}
	return l
}

func (s *sec) sliverNet() *SliverNet {
	return &SliverNet{
		Node: s.str("node"), PrivateBridge: s.str("private_bridge"), PrivatePrefix: s.prefix("private_prefix"),
		PublicBridge: s.str("public_bridge"), Public4First: s.addr("public4_first"), Public4Last: s.addr("public4_last"),
		Public4Bits: s.integer("public4_prefixlen", 0, 32), Public4Gateway: s.addr("public4_gateway"),
		Public6Prefix: s.prefix("public6_prefix"), Public6Gateway: s.addr("public6_gateway"),
		DebugBridge: s.str("debug_bridge"), DebugPrefix: s.prefix("debug_prefix"),
		ManagementBridge: s.str("management_bridge"), ManagementPrefix: s.prefix("management_prefix"),
		IsolatedParents: s.list("isolated_parent"),
	}
}

// ParseDesired reads a desired state from JSON: either a Config object or
// an array of Sections (as `nodekeeper net plan -f` takes).
func ParseDesired(data []byte) (Config, error) {
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "[") {
		var secs []Section
		if err := json.Unmarshal(data, &secs); err != nil {
			return Config{}, fmt.Errorf("sections: %w", err)
		}
		return FromSections(secs)
	}
	var c Config
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
