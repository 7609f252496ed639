package container

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// configKeys splits an LXC config as LXC reads it (lines; '#' starts a
// comment; key = value) and returns its keys in order, with the value of
// each line.
func configKeys(t *testing.T, text string) (keys, vals []string) {
	t.Helper()
	if !strings.HasSuffix(text, "\n") {
		t.Fatalf("config does not end in a newline:\n%q", text)
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.ContainsAny(line, "\r\x00") {
			t.Fatalf("line %q holds a carriage return or NUL", line)
		}
		trimmed := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trimmed, "#") {
			keys, vals = append(keys, "#"), append(vals, "")
			continue
		}
		k, v, ok := strings.Cut(trimmed, "=")
		if !ok {
			t.Fatalf("line %q is not key = value", line)
		}
		keys, vals = append(keys, strings.TrimSpace(k)), append(vals, strings.TrimSpace(v))
	}
	return keys, vals
}

// benign replaces every non-empty string of c that comes from outside
// with a harmless one of the same kind: the config it gives has the keys
// c's config must have.
func benign(c ContainerConfig) ContainerConfig {
	or := func(s, b string) string {
		if s == "" {
			return ""
		}
		return b
	}
	c.Name, c.Hostname = or(c.Name, "nk-b"), or(c.Hostname, "b")
	c.Rootfs = Rootfs{Lower: or(c.Rootfs.Lower, "/l"), Dir: or(c.Rootfs.Dir, "/d")}
	nets := make([]Network, len(c.Networks))
	for i, n := range c.Networks {
		nets[i] = Network{Type: n.Type, MAC: n.MAC, VLAN: n.VLAN,
			Name: or(n.Name, "eth0"), Host: or(n.Host, "vh"), Link: or(n.Link, "br"),
			IPv4: or(n.IPv4, "10.0.0.2/24"), Gateway4: or(n.Gateway4, "10.0.0.1"),
			IPv6: or(n.IPv6, "fd00::2/64"), Gateway6: or(n.Gateway6, "fd00::1")}
	}
	c.Networks = nets
	return c
}

// FuzzLXCConfig: whatever the strings of a container config hold, the
// config written has exactly the keys the same config with harmless
// strings has, in the same order, and the values of the names are the
// names given. No input makes a line or a key that it did not name.
func FuzzLXCConfig(f *testing.F) {
	f.Add("s1", "/srv/l", "/srv/d", "nkbr0", "nk1a2bs001i0", "priv", "10.0.0.2/24", "10.0.0.1", "", "", false, int64(64<<20), uint16(0))
	f.Add("s1", "", "/srv/d", "nkrtbr\nlxc.hook.pre-start = /bin/touch /tmp/pwned", "h", "priv", "", "", "", "", false, int64(0), uint16(0))
	f.Add("s\r", "/a", "/b\x00lxc.x=1", "eth1", "", "iso0", "", "", "fd00::2/64", "fe80::1%x\nlxc.y = 1", true, int64(0), uint16(0x123))
	f.Add("s", "", "/d", "br", "h", "n", "10.0.0.2/24 10.0.0.3\nlxc.z", "1.2.3.4\n", "fd00::/64\r", "::1", false, int64(1), uint16(1))
	layouts := map[bool]cgroupLayout{}
	for _, v2 := range []bool{false, true} {
		file := "mountinfo-hybrid"
		if v2 {
			file = "mountinfo-v2"
		}
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		layouts[v2] = parseCgroupLayout(b)
	}
	mac := net.HardwareAddr{0x6e, 0x6b, 0, 1, 0, 0x10}
	f.Fuzz(func(t *testing.T, host, lower, dir, link, veth, inner, ip4, gw4, ip6, gw6 string, v2 bool, mem int64, vlan uint16) {
		c := ContainerConfig{Name: "nk-" + host, Hostname: host, Rootfs: Rootfs{Lower: lower, Dir: dir},
			Limits: Resources{MemoryBytes: mem & (1<<40 - 1)}}
		typ := Veth
		if vlan != 0 {
			typ, veth = VLAN, ""
		}
		c.Networks = []Network{{Type: typ, Name: inner, Host: veth, MAC: mac, Link: link, VLAN: int(vlan),
			IPv4: ip4, Gateway4: gw4, IPv6: ip6, Gateway6: gw6}}
		got, err := lxcConfig(c, layouts[v2])
		if err != nil {
			return
		}
		want, err := lxcConfig(benign(c), layouts[v2])
		if err != nil {
			t.Fatalf("the harmless twin of an accepted config is refused: %v", err)
		}
		gk, gv := configKeys(t, got)
		wk, _ := configKeys(t, want)
		if fmt.Sprint(gk) != fmt.Sprint(wk) {
			t.Fatalf("keys differ from the harmless twin's:\ngot  %q\nwant %q\nconfig:\n%s", gk, wk, got)
		}
		named := map[string]string{"lxc.uts.name": host, "lxc.net.0.link": link, "lxc.net.0.name": inner}
		if typ == Veth {
			named["lxc.net.0.veth.pair"] = veth
		}
		for i, k := range gk {
			if w, ok := named[k]; ok && gv[i] != strings.TrimSpace(w) {
				t.Fatalf("%s = %q, want %q as given", k, gv[i], w)
			}
		}
	})
}
