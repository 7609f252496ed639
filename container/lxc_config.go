package container

import (
	"fmt"
	"net/netip"
	"strings"
)

// lxcDevices are the device nodes a sliver may use: the usual character
// devices and pseudo-terminals, as LXC's own common.conf allows.
var lxcDevices = []string{
	"c *:* m", "b *:* m",
	"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", // null zero full random urandom
	"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", // tty console ptmx pts
	"c 10:200 rwm", // tun
}

// lineBreakers end a line of an LXC config file, or (NUL) the C string
// LXC reads it into.
const lineBreakers = "\n\r\x00"

// lxcDroppedCaps are capabilities a sliver never gets.
const lxcDroppedCaps = "mac_admin mac_override sys_module sys_rawio sys_time"

// lxcConfig renders c as an LXC configuration file. Only what is written
// here applies: LXC's default.conf is read by lxc-create, which nodekeeper
// does not use.
func lxcConfig(c ContainerConfig, cg cgroupLayout) (string, error) {
	var b strings.Builder
	// Every line is written here; a key or value that could end it and
	// start another (newline, carriage return, NUL: LXC reads C strings)
	// is refused, whatever the caller checked before.
	var bad error
	kv := func(k, v string) {
		if bad == nil && (strings.ContainsAny(k, lineBreakers) || strings.ContainsAny(v, lineBreakers)) {
			bad = fmt.Errorf("container %q: %s: newline, carriage return or NUL", c.Name, k)
		}
		b.WriteString(k + " = " + v + "\n")
	}
	for _, s := range []string{c.Name, c.Hostname, c.Rootfs.Lower, c.Rootfs.Dir} {
		if strings.ContainsAny(s, lineBreakers) {
			return "", fmt.Errorf("container %q: newline, carriage return or NUL in a name or path", c.Name)
		}
	}
	if c.Rootfs.Dir == "" {
		return "", fmt.Errorf("container %s: no rootfs directory", c.Name)
	}
	fmt.Fprintf(&b, "# Written by nodekeeper for container %s; rewritten at every deploy.\n", c.Name)
	kv("lxc.uts.name", c.Hostname)
	if c.Rootfs.Lower != "" {
		if strings.Contains(c.Rootfs.Lower+c.Rootfs.Dir, ":") {
			return "", fmt.Errorf("container %s: ':' in an overlay layer path", c.Name)
		}
		kv("lxc.rootfs.path", "overlay:"+c.Rootfs.Lower+":"+c.Rootfs.Dir)
	} else {
		kv("lxc.rootfs.path", "dir:"+c.Rootfs.Dir)
	}
	kv("lxc.autodev", "1")
	kv("lxc.tty.max", "0")
	kv("lxc.pty.max", "16")
	kv("lxc.mount.auto", "proc:mixed sys:mixed cgroup:mixed")
	kv("lxc.cap.drop", lxcDroppedCaps)

	if k, err := cg.key("devices", "devices.deny", "devices.deny"); err == nil {
		kv(k, "a")
		allow := strings.TrimSuffix(k, "deny") + "allow"
		for _, d := range lxcDevices {
			kv(allow, d)
		}
	}
	limits, err := cg.limitLines(c.Limits)
	if err != nil {
		return "", fmt.Errorf("container %s: %w", c.Name, err)
	}
	for _, l := range limits {
		kv(l[0], l[1])
	}

	if len(c.Networks) == 0 {
		kv("lxc.net.0.type", "empty")
	}
	for i, n := range c.Networks {
		p := fmt.Sprintf("lxc.net.%d.", i)
		switch n.Type {
		case Veth:
			kv(p+"type", "veth")
			kv(p+"veth.pair", n.Host)
		case VLAN:
			kv(p+"type", "vlan")
			kv(p+"vlan.id", fmt.Sprint(n.VLAN))
		default:
			return "", fmt.Errorf("container %s: network %d: unknown type %q", c.Name, i, n.Type)
		}
		if n.Link == "" {
			return "", fmt.Errorf("container %s: network %d (%s): no bridge or parent device to link to", c.Name, i, n.Name)
		}
		kv(p+"link", n.Link)
		kv(p+"name", n.Name)
		if n.MAC != nil {
			kv(p+"hwaddr", n.MAC.String())
		}
		kv(p+"flags", "up")
		// Addresses are written only once they parse (netip takes no
		// space or line break, but for a zone, which is refused).
		for _, a := range []struct {
			key, val   string
			v6, prefix bool
		}{
			{"ipv4.address", n.IPv4, false, true}, {"ipv4.gateway", n.Gateway4, false, false},
			{"ipv6.address", n.IPv6, true, true}, {"ipv6.gateway", n.Gateway6, true, false},
		} {
			if a.val == "" {
				continue
			}
			if err := checkAddr(a.key, a.val, a.v6, a.prefix); err != nil {
				return "", fmt.Errorf("container %s: network %s: %w", c.Name, n.Name, err)
			}
			v := a.val
			if a.key == "ipv4.address" {
				// LXC 5 computes a wrong broadcast address when none is given.
				pfx, _ := netip.ParsePrefix(v)
				v += " " + broadcast4(pfx).String()
			}
			kv(p+a.key, v)
		}
	}
	if bad != nil {
		return "", bad
	}
	return b.String(), nil
}

// broadcast4 is the last address of an IPv4 prefix.
func broadcast4(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	bits := p.Bits()
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				a[i] |= 0x80 >> j
			}
		}
	}
	return netip.AddrFrom4(a)
}
