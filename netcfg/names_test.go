package netcfg

import (
	"strings"
	"testing"
)

func TestSliverVethName(t *testing.T) {
	tests := []struct {
		node        string
		sliver, num int
		wantErr     string
		wantSuffix  string
	}{
		{"node-1", 3, 0, "", "s003i0"},
		{"node-1", 0xfff, 15, "", "sfffif"},
		{"node-1", 0, 0, "out of range", ""},
		{"node-1", 0x1000, 0, "out of range", ""},
		{"node-1", 1, 16, "out of range", ""},
	}
	for _, tt := range tests {
		got, err := SliverVethName(tt.node, tt.sliver, tt.num)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SliverVethName(%q,%d,%d) err %v, want %q", tt.node, tt.sliver, tt.num, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) > 15 || !strings.HasPrefix(got, Prefix) || !strings.HasSuffix(got, tt.wantSuffix) {
			t.Errorf("SliverVethName(%q,%d,%d) = %q, %v", tt.node, tt.sliver, tt.num, got, err)
		}
	}
}

func TestNamesAreDeterministicAndDistinct(t *testing.T) {
	a1, _ := SliverVethName("node-a", 7, 2)
	a2, _ := SliverVethName("node-a", 7, 2)
	b, _ := SliverVethName("node-b", 7, 2)
	if a1 != a2 {
		t.Errorf("same input, names %q and %q", a1, a2)
	}
	if a1 == b {
		t.Errorf("nodes node-a and node-b share veth name %q", a1)
	}
	m1, _ := SliverMAC("node-a", 7, 2)
	m2, _ := SliverMAC("node-a", 7, 3)
	if m1.String() == m2.String() {
		t.Errorf("interfaces 2 and 3 share MAC %s", m1)
	}
	if m1[0]&1 != 0 || m1[0]&2 == 0 {
		t.Errorf("MAC %s is not locally administered unicast", m1)
	}
}

func TestIfaceNumber(t *testing.T) {
	tests := []struct {
		kind  IfaceKind
		index int
		num   int
		inner string
		bad   bool
	}{
		{Private, 0, 0, "priv", false},
		{Management, 0, 1, "mgmt0", false},
		{Public4, 0, 2, "pub0", false},
		{Public6, 0, 3, "pub1", false},
		{Debug, 0, 4, "dbg0", false},
		{Isolated, 2, 7, "iso2", false},
		{Isolated, 11, 0, "", true},
		{"tunnel", 0, 0, "", true},
	}
	for _, tt := range tests {
		num, inner, err := IfaceNumber(tt.kind, tt.index)
		if (err != nil) != tt.bad || num != tt.num || inner != tt.inner {
			t.Errorf("IfaceNumber(%s,%d) = %d,%q,%v", tt.kind, tt.index, num, inner, err)
		}
	}
}

// TestNetnsGrammar: a network namespace from outside (UCI, a flag, a veth
// peer) is a plain name or an absolute clean path; nothing that climbs out
// of /run/netns, reads as an option, or carries a control character.
func TestNetnsGrammar(t *testing.T) {
	for _, tt := range []struct {
		ns string
		ok bool
	}{
		{"lab1", true}, {"node-a.b_c", true}, {"/proc/1/ns/net", true}, {"/run/netns/x", true},
		{strings.Repeat("n", 64), true},
		{"", false}, // the caller's to allow
		{"..", false}, {".hidden", false}, {"-n", false}, {"--net=/proc/1/ns/net", false},
		{"../../proc/1/ns/net", false}, {"a b", false}, {"a\nb", false}, {"a\x00", false},
		{strings.Repeat("n", 65), false}, {"ns/x", false},
		{"/run/netns/../../etc/shadow", false}, {"/run//netns/x", false}, {"/run/netns/x/", false},
		{"/proc/1/ns/net\nlxc.hook.pre-start = /bin/sh", false}, {"/a b", false},
		{"/" + strings.Repeat("p", 4096), false},
	} {
		if err := CheckNetns(tt.ns); (err == nil) != tt.ok {
			t.Errorf("CheckNetns(%q) = %v, want ok %v", tt.ns, err, tt.ok)
		}
	}
	// A veth peer's namespace goes through the same grammar.
	c := Config{Links: []Link{{Name: "nkv0", Kind: Veth, Peer: &VethPeer{Name: "nkv1", NetNS: "../x"}}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "network namespace") {
		t.Errorf("veth peer netns ../x: %v, want a network namespace error", err)
	}
	if _, err := Open(Options{NetNS: "--help"}); err == nil || !strings.Contains(err.Error(), "network namespace") {
		t.Errorf("Open(--help): %v, want a network namespace error", err)
	}
}
