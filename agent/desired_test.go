package agent

import (
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/wire"
)

func TestParseDesired(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	sliver := func(name, extra string) string {
		return `{"name":"` + name + `","template":{"url":"http://repo/t.tar.gz","sha256":"` + sha + `"}` + extra + `}`
	}
	tests := []struct {
		name, doc, want string // want: "" for success, else part of the error
	}{
		{"minimal", `{"node":"n1","seq":1}`, ""},
		{"full", `{"node":"n1","seq":2,"node_state":"safe","slivers":[` + sliver("s1", `,"set_state":"start"`) + `],
			"policies":{"cpu.lua":"policy \"x\" {}"},"settings":{"telemetry.interval":"10","policy.uci_allow":["wireless"],"agent.log_level":null}}`, ""},
		{"other node", `{"node":"n2","seq":1}`, `node "n2", but this node is "n1"`},
		{"no seq", `{"node":"n1"}`, "seq missing"},
		{"unknown field", `{"node":"n1","seq":1,"slivrs":[]}`, `unknown field "slivrs"`},
		{"trailing data", `{"node":"n1","seq":1} {}`, "trailing data"},
		{"not json", `hello`, "desired document"},
		{"bad node state", `{"node":"n1","seq":1,"node_state":"failure"}`, `node_state "failure"`},
		{"state disagrees", `{"node":"n1","seq":1,"node_state":"safe","settings":{"agent.node_state":"debug"}}`, "disagree"},
		{"bad sliver", `{"node":"n1","seq":1,"slivers":[{"name":"S 1"}]}`, "slivers[0]: sliver name"},
		{"bad checksum", `{"node":"n1","seq":1,"slivers":[{"name":"s1","template":{"url":"/t.tar","sha256":"x"}}]}`, "sha256"},
		{"bad request", `{"node":"n1","seq":1,"slivers":[` + sliver("s1", `,"set_state":"run"`) + `]}`, "slivers[0]"},
		{"twice", `{"node":"n1","seq":1,"slivers":[` + sliver("s1", "") + `,` + sliver("s1", "") + `]}`, "listed twice"},
		{"same id", `{"node":"n1","seq":1,"slivers":[` + sliver("s1", `,"id":3`) + `,` + sliver("s2", `,"id":3`) + `]}`, "both have id 3"},
		{"policy path", `{"node":"n1","seq":1,"policies":{"../x.lua":""}}`, "policy file name"},
		{"policy test file", `{"node":"n1","seq":1,"policies":{"x_test.lua":""}}`, "policy file name"},
		{"big policy", `{"node":"n1","seq":1,"policies":{"x.lua":"` + strings.Repeat("-", wire.MaxPolicyBytes+1) + `"}}`, "at most"},
		{"setting name", `{"node":"n1","seq":1,"settings":{"interval":"10"}}`, "want SECTION.OPTION"},
		{"setting value", `{"node":"n1","seq":1,"settings":{"a.b":5}}`, "want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseDesired([]byte(tt.doc), "n1")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.Seq == 0 || d.Node != "n1" {
					t.Errorf("parsed %+v", d)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestUnmanaged(t *testing.T) {
	u := unmanagedSet{"telemetry", "agent.node_state", "slice:mine", "policy:keep.lua"}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"whole section", first(u.setting("telemetry", "broker")), true},
		{"one option", first(u.setting("agent", "node_state")), true},
		{"other option", first(u.setting("agent", "log_level")), false},
		{"owner only", first(u.setting("remote", "trusted_key")), true},
		{"owner only, unmanaged", first(u.setting("remote", "unmanaged")), true},
		{"owner only, threshold", first(u.setting("remote", "threshold")), true},
		{"remote otherwise", first(u.setting("remote", "confirm_window")), false},
		{"slice", first(u.slice("mine")), true},
		{"other slice", first(u.slice("exp")), false},
		{"all slivers", first(unmanagedSet{"slivers"}.slice("exp")), true},
		{"policy", first(u.policyFile("keep.lua")), true},
		{"other policy", first(u.policyFile("x.lua")), false},
		{"all policies", first(unmanagedSet{"policies"}.policyFile("x.lua")), true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	for _, bad := range []string{"slice:", "policy:x", "a.b.c", "", "-x"} {
		if checkUnmanaged(bad) == nil {
			t.Errorf("checkUnmanaged(%q) accepted", bad)
		}
	}
	for _, good := range []string{"slivers", "policies", "slice:a", "policy:a.lua", "telemetry", "agent.node_state"} {
		if err := checkUnmanaged(good); err != nil {
			t.Errorf("checkUnmanaged(%q): %v", good, err)
		}
	}
}

func first(b bool, _ string) bool { return b }
