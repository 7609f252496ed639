package container

import (
	"context"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

func TestSpecValidate(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	good := func() Spec {
		return Spec{Name: "s1", Template: Archive{URL: "http://h/t.tar.gz", SHA256: strings.ToUpper(hash)},
			Interfaces: []Interface{{Kind: netcfg.Private, IPv4: "10.0.0.2/24", Gateway4: "10.0.0.1"}}}
	}
	tests := []struct {
		name   string
		change func(*Spec)
		errHas string
	}{
		{"good", func(*Spec) {}, ""},
		{"bad name", func(s *Spec) { s.Name = "S 1" }, `sliver name "S 1"`},
		{"name ends in dash", func(s *Spec) { s.Name = "s-" }, "sliver name"},
		{"long name", func(s *Spec) { s.Name = strings.Repeat("a", 33) }, "sliver name"},
		{"bad slice", func(s *Spec) { s.Slice = "Exp!" }, `slice name "Exp!"`},
		{"id too big", func(s *Spec) { s.ID = netcfg.MaxSliverID + 1 }, "id 4096 out of range"},
		{"bad request", func(s *Spec) { s.Request = "run" }, `unknown requested state "run"`},
		{"no template", func(s *Spec) { s.Template.URL = "" }, "template: no URL"},
		{"relative path", func(s *Spec) { s.Template.URL = "t.tar" }, "absolute path"},
		{"ftp", func(s *Spec) { s.Template.URL = "ftp://h/t" }, "http(s) or file URL"},
		{"short hash", func(s *Spec) { s.Template.SHA256 = "abc" }, "not 64 hex digits"},
		{"bad data hash", func(s *Spec) { s.Data = &Archive{URL: "/d.tar", SHA256: strings.Repeat("zz", 32)} }, "data archive"},
		{"negative memory", func(s *Spec) { s.Resources.MemoryBytes = -1 }, "negative"},
		{"shares out of range", func(s *Spec) { s.Resources.CPUShares = 1 }, "cpu shares 1"},
		{"unknown kind", func(s *Spec) { s.Interfaces[0].Kind = "wifi" }, `unknown sliver interface kind "wifi"`},
		{"two private", func(s *Spec) { s.Interfaces = append(s.Interfaces, Interface{Kind: netcfg.Private}) }, "a second private"},
		{"two isolated are fine", func(s *Spec) {
			s.Interfaces = append(s.Interfaces, Interface{Kind: netcfg.Isolated, Parent: "eth1", VLAN: 0x100}, Interface{Kind: netcfg.Isolated, Parent: "eth1", VLAN: 0x101})
		}, ""},
		{"isolated without parent", func(s *Spec) { s.Interfaces = []Interface{{Kind: netcfg.Isolated, VLAN: 0x100}} }, "direct interface"},
		{"isolated tag", func(s *Spec) { s.Interfaces = []Interface{{Kind: netcfg.Isolated, Parent: "eth1", VLAN: 5}} }, "VLAN tag 0x5"},
		{"address without prefix", func(s *Spec) { s.Interfaces[0].IPv4 = "10.0.0.2" }, "address/prefix-length"},
		{"v6 in ipv4", func(s *Spec) { s.Interfaces[0].IPv4 = "fd00::2/64" }, "wrong address family"},
		{"bad gateway", func(s *Spec) { s.Interfaces[0].Gateway4 = "10.0.0" }, "gateway4"},
		// issue 11, finding 1: strings that would reach the LXC config.
		{"bridge with a line of LXC config", func(s *Spec) {
			s.Interfaces[0].Bridge = "nkrtbr\nlxc.hook.pre-start = /bin/touch /tmp/pwned"
		}, "bridge: interface name"},
		{"bridge with CR", func(s *Spec) { s.Interfaces[0].Bridge = "br\rx" }, "bridge: interface name"},
		{"bridge with NUL", func(s *Spec) { s.Interfaces[0].Bridge = "br\x00x" }, "bridge: interface name"},
		{"bridge with a slash", func(s *Spec) { s.Interfaces[0].Bridge = "br/x" }, "bridge: interface name"},
		{"bridge with a space", func(s *Spec) { s.Interfaces[0].Bridge = "br x" }, "bridge: interface name"},
		{"bridge too long", func(s *Spec) { s.Interfaces[0].Bridge = strings.Repeat("b", 16) }, "want 1-15 characters"},
		{"bridge like an option", func(s *Spec) { s.Interfaces[0].Bridge = "-br" }, "bridge: interface name"},
		{"bridge not ASCII", func(s *Spec) { s.Interfaces[0].Bridge = "brü" }, "bridge: interface name"},
		{"bridge of 15 is fine", func(s *Spec) { s.Interfaces[0].Bridge = "br-lan_0.123456" }, ""},
		{"parent with a line", func(s *Spec) {
			s.Interfaces = []Interface{{Kind: netcfg.Isolated, Parent: "eth1\nlxc.hook.start = /x", VLAN: 0x100}}
		}, "parent: interface name"},
		{"parent on a veth kind", func(s *Spec) { s.Interfaces[0].Parent = "eth1" }, "parent and vlan for isolated only"},
		{"bridge on isolated", func(s *Spec) {
			s.Interfaces = []Interface{{Kind: netcfg.Isolated, Parent: "eth1", VLAN: 0x100, Bridge: "br"}}
		}, "bridge is for veth kinds"},
		{"gateway6 with a zone holding a line", func(s *Spec) {
			s.Interfaces[0].Gateway6 = "fe80::1%x\nlxc.hook.pre-start = /bin/sh"
		}, "with a zone"},
		{"gateway6 with a zone", func(s *Spec) { s.Interfaces[0].Gateway6 = "fe80::1%eth0" }, "with a zone"},
		{"url with a newline", func(s *Spec) { s.Template.URL = "http://h/t\nx" }, "printable ASCII"},
		{"url with a space", func(s *Spec) { s.Template.URL = "http://h/t -O/etc/passwd" }, "printable ASCII"},
		{"path with a newline", func(s *Spec) { s.Template.URL = "/srv/t\n.tar" }, "printable ASCII"},
		{"url too long", func(s *Spec) { s.Template.URL = "http://h/" + strings.Repeat("a", 1100) }, "want up to 1024"},
		{"type with a newline", func(s *Spec) { s.Template.Type = "debian\nx" }, "type"},
		{"type too long", func(s *Spec) { s.Template.Type = strings.Repeat("t", 33) }, "type"},
		{"type is fine", func(s *Spec) { s.Template.Type = "openwrt-23.05" }, ""},
		{"memory too big", func(s *Spec) { s.Resources.MemoryBytes = 1<<62 + 1 }, "resource limit beyond"},
		{"pids too big", func(s *Spec) { s.Resources.Pids = 1 << 30 }, "resource limit beyond"},
		{"cpu too big", func(s *Spec) { s.Resources.CPUMillicores = 1 << 30 }, "resource limit beyond"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good()
			tt.change(&s)
			err := s.validate()
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Slice != s.Name || s.Request != Register || s.Template.SHA256 != hash {
					t.Errorf("defaults not filled in: %+v", s)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %v, want one with %q", err, tt.errHas)
			}
		})
	}
}

func TestParseSource(t *testing.T) {
	tests := []struct {
		in, http, file string
		err            bool
	}{
		{"http://h/t.tgz", "http://h/t.tgz", "", false},
		{"https://h:8443/a/b", "https://h:8443/a/b", "", false},
		{"file:///srv/t.tar", "", "/srv/t.tar", false},
		{"file://localhost/srv/t.tar", "", "/srv/t.tar", false},
		{"/srv/../srv/t.tar", "", "/srv/t.tar", false},
		{"file://other/srv/t.tar", "", "", true},
		{"http:///nohost", "", "", true},
		{"t.tar", "", "", true},
		{"gopher://h/t", "", "", true},
	}
	for _, tt := range tests {
		s, err := parseSource(tt.in)
		if (err != nil) != tt.err || s.http != tt.http || s.file != tt.file {
			t.Errorf("%q: %+v %v", tt.in, s, err)
		}
	}
}

func TestSizeString(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 1024: "1 KiB", 64 << 20: "64 MiB", 1536 << 20: "1.5 GiB", 1 << 50: "1 PiB"} {
		if got := sizeString(n); got != want {
			t.Errorf("sizeString(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestOpenRefusesBadBridge: the bridges a node's config (UCI, the CLI's
// --bridge) gives the Manager pass the interface name grammar too.
func TestOpenRefusesBadBridge(t *testing.T) {
	for _, b := range []string{"nkrtbr\nlxc.hook.pre-start = /bin/touch /tmp/pwned", "br/x", "", strings.Repeat("b", 16)} {
		_, _, err := Open(context.Background(), Config{StateDir: t.TempDir(), Node: "n", Bridges: map[netcfg.IfaceKind]string{netcfg.Private: b}})
		if err == nil || !strings.Contains(err.Error(), "bridge of private interfaces") {
			t.Errorf("bridge %q: error %v, want the bridge refused", b, err)
		}
	}
}
