package netcfg

import (
	"fmt"
	"strings"
)

// String prints a Config for humans (`nodekeeper net show`).
func (c Config) String() string {
	var b strings.Builder
	if len(c.Links) == 0 && len(c.Routes) == 0 && c.Firewall.empty() {
		return "nothing owned by nodekeeper\n"
	}
	if len(c.Links) > 0 {
		b.WriteString("links:\n")
		for _, l := range c.Links {
			fmt.Fprintf(&b, "  %-15s %s", l.Name, describe(&l))
			for _, a := range l.Addrs {
				fmt.Fprintf(&b, ", %s", a)
			}
			if l.Peer != nil {
				for _, a := range l.Peer.Addrs {
					fmt.Fprintf(&b, ", peer %s", a)
				}
			}
			if l.Shaping != nil {
				fmt.Fprintf(&b, ", shaping %s", l.Shaping)
			}
			b.WriteString("\n")
		}
	}
	if len(c.Routes) > 0 {
		b.WriteString("routes:\n")
		for _, r := range c.Routes {
			fmt.Fprintf(&b, "  %s\n", r)
		}
	}
	if !c.Firewall.empty() {
		b.WriteString("firewall:\n")
		for _, n := range c.Firewall.NAT {
			fmt.Fprintf(&b, "  masquerade %s", n.Source)
			if n.Bridge != "" {
				fmt.Fprintf(&b, " leaving through any link but %s", n.Bridge)
			}
			b.WriteString("\n")
		}
		for _, s := range c.Firewall.Isolate {
			fmt.Fprintf(&b, "  isolate %s as %s\n", s.Link, s.Mode)
		}
	}
	return b.String()
}
