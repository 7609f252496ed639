package container

import (
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// TestSpecLimits: a spec from a document (up to 1 MiB) cannot make the
// node keep or say more than its grammar allows, by class: lists longer
// than a sliver can have, and strings of any field as long as the
// document, which an error must not quote whole (errors are logged and
// published on the state topic).
func TestSpecLimits(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	huge := strings.Repeat("x", 1<<20)
	good := func() Spec {
		return Spec{Name: "s1", Template: Archive{URL: "http://h/t.tar.gz", SHA256: hash}}
	}
	iso := func(n int) []Interface {
		var l []Interface
		for i := range n {
			l = append(l, Interface{Kind: netcfg.Isolated, Parent: "eth1", VLAN: 0x100 + i})
		}
		return l
	}
	for _, tt := range []struct {
		class  string
		change func(*Spec)
		errHas string
	}{
		{"many interfaces", func(s *Spec) { s.Interfaces = iso(100000) }, "at most 16"},
		{"twelve isolated", func(s *Spec) { s.Interfaces = iso(12) }, "more than 11 isolated"},
		{"huge name", func(s *Spec) { s.Name = huge }, "sliver name"},
		{"huge slice", func(s *Spec) { s.Slice = huge }, "slice name"},
		{"huge url", func(s *Spec) { s.Template.URL = huge }, "URL"},
		{"huge type", func(s *Spec) { s.Template.Type = huge }, "type"},
		{"huge sha256", func(s *Spec) { s.Template.SHA256 = huge }, "sha256"},
		{"huge request", func(s *Spec) { s.Request = Request(huge) }, "requested state"},
		{"huge kind", func(s *Spec) { s.Interfaces = []Interface{{Kind: netcfg.IfaceKind(huge)}} }, "interface kind"},
		{"huge bridge", func(s *Spec) { s.Interfaces = []Interface{{Kind: netcfg.Private, Bridge: huge}} }, "interface name"},
		{"huge parent", func(s *Spec) { s.Interfaces = []Interface{{Kind: netcfg.Isolated, Parent: huge, VLAN: 0x100}} }, "interface name"},
		{"huge address", func(s *Spec) { s.Interfaces = []Interface{{Kind: netcfg.Private, IPv4: huge}} }, "ipv4"},
		{"huge gateway", func(s *Spec) { s.Interfaces = []Interface{{Kind: netcfg.Private, Gateway6: huge}} }, "gateway6"},
	} {
		t.Run(tt.class, func(t *testing.T) {
			s := good()
			tt.change(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("error %v, want it to say %q", err, tt.errHas)
			}
			if n := len(err.Error()); n > 512 {
				t.Errorf("error of %d bytes: it quotes the input whole", n)
			}
		})
	}
	s := good()
	s.Interfaces = append(iso(11), Interface{Kind: netcfg.Private}, Interface{Kind: netcfg.Public4}, Interface{Kind: netcfg.Public6},
		Interface{Kind: netcfg.Debug}, Interface{Kind: netcfg.Management})
	if err := s.Validate(); err != nil {
		t.Errorf("every kind once and 11 isolated: %v", err)
	}
}
