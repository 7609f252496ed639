package container

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// ParseSize reads a byte count: a number with an optional binary unit,
// K, M, G or T, optionally followed by "iB" or "B" ("64M", "1.5GiB", "4096").
func ParseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "B") // 64MB, 64MiB, 4096B
	mult := int64(1)
	if u, ok := strings.CutSuffix(t, "i"); ok {
		t = u
	}
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", strings.ToUpper(t[n-1:])[0]); i >= 0 {
			mult = 1 << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || !(f >= 0 && f*float64(mult) <= 1<<62) { // NaN fails both
		return 0, fmt.Errorf("size %q: want a number with an optional unit K, M, G or T (binary)", s)
	}
	return int64(f * float64(mult)), nil
}

// ParseInterface reads an interface given as text, as the CLI and UCI
// take it: the kind, then comma-separated key=value settings,
//
//	private,ipv4=10.0.3.2/24,gw4=10.0.3.1
//	public4,bridge=br-lan
//	isolated,parent=eth1,vlan=0x123
//
// Keys: bridge, ipv4, gw4, ipv6, gw6, parent, vlan.
func ParseInterface(s string) (Interface, error) {
	parts := strings.Split(s, ",")
	ifc := Interface{Kind: netcfg.IfaceKind(strings.TrimSpace(parts[0]))}
	if _, _, err := netcfg.IfaceNumber(ifc.Kind, 0); err != nil {
		return Interface{}, fmt.Errorf("interface %q: %w", s, err)
	}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || v == "" {
			return Interface{}, fmt.Errorf("interface %q: %q is not key=value", s, p)
		}
		switch k {
		case "bridge":
			ifc.Bridge = v
		case "ipv4":
			ifc.IPv4 = v
		case "gw4":
			ifc.Gateway4 = v
		case "ipv6":
			ifc.IPv6 = v
		case "gw6":
			ifc.Gateway6 = v
		case "parent":
			ifc.Parent = v
		case "vlan":
			n, err := strconv.ParseInt(v, 0, 32)
			if err != nil {
				return Interface{}, fmt.Errorf("interface %q: vlan %q: %w", s, v, err)
			}
			ifc.VLAN = int(n)
		default:
			return Interface{}, fmt.Errorf("interface %q: unknown key %q (want bridge, ipv4, gw4, ipv6, gw6, parent or vlan)", s, k)
		}
	}
	if err := ifc.validate(); err != nil {
		return Interface{}, fmt.Errorf("interface %q: %w", s, err)
	}
	return ifc, nil
}
