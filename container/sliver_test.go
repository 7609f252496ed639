package container

import (
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
