package telemetry

import (
	"encoding/json"
	"strings"
	"testing"
)

// haTopicLevel is Home Assistant's grammar for a discovery topic's node
// and object levels.
func haTopicLevel(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// TestHANodeID: node ids Home Assistant accepts stay as they are; others
// are mapped into its grammar with a hash, so that ids which map alike
// stay apart.
func TestHANodeID(t *testing.T) {
	tests := []struct{ id, want string }{
		{"nk-02fc00000001", "nk-02fc00000001"},
		{"router_1", "router_1"},
		{"a.b", ""},
		{"a_b", "a_b"},
		{"a:b", ""},
		{"a-b", "a-b"},
		{"ap.lan.example", ""},
		{"é", ""},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := haNodeID(tt.id)
		if tt.want != "" && got != tt.want {
			t.Errorf("haNodeID(%q) = %q, want %q", tt.id, got, tt.want)
		}
		if tt.want == "" && (got == tt.id || len(got) != len(tt.id)+9 || got[len(tt.id)] != '_') {
			t.Errorf("haNodeID(%q) = %q, want it mapped with '_' and an 8-digit hash", tt.id, got)
		}
		if !haTopicLevel(got) {
			t.Errorf("haNodeID(%q) = %q: not a Home Assistant topic level", tt.id, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("haNodeID(%q) = haNodeID(%q) = %q", tt.id, other, got)
		}
		seen[got] = tt.id
		if again := haNodeID(tt.id); again != got {
			t.Errorf("haNodeID(%q) not stable: %q then %q", tt.id, got, again)
		}
	}
}

// TestDiscoveryConfigs: each config sits on a topic Home Assistant
// accepts, names its entity with default_entity_id (object_id is ignored
// from Home Assistant 2026.4), and keeps the node's real id in what it
// points at.
func TestDiscoveryConfigs(t *testing.T) {
	for _, node := range []string{"nk-1", "ap.lan", "ap_lan"} {
		c := DefaultConfig()
		c.NodeID = node
		cfgs := discoveryConfigs(&c, []string{"system", "agent"})
		if len(cfgs) != len(haSensors)/6 {
			t.Fatalf("%s: %d configs, want %d", node, len(cfgs), len(haSensors)/6)
		}
		for i, m := range cfgs {
			s := struct{ group, key string }{haSensors[6*i], haSensors[6*i+1]}
			lv := strings.Split(m[0], "/")
			if len(lv) != 5 || lv[0] != "homeassistant" || lv[1] != "sensor" || lv[2] != haNodeID(node) || lv[3] != s.key || lv[4] != "config" {
				t.Errorf("%s: topic %q", node, m[0])
			}
			for _, l := range lv {
				if !haTopicLevel(l) {
					t.Errorf("%s: topic %q: level %q is refused by Home Assistant", node, m[0], l)
				}
			}
			var cfg map[string]any
			if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
				t.Fatal(err)
			}
			uid := haNodeID(node) + "_" + s.key
			want := map[string]any{
				"unique_id":          uid,
				"default_entity_id":  "sensor." + strings.ToLower(strings.ReplaceAll(uid, "-", "_")),
				"state_topic":        "nodekeeper/" + node + "/telemetry/" + s.group,
				"availability_topic": "nodekeeper/" + node + "/status",
				"value_template":     "{{ value_json." + s.key + " }}",
			}
			for k, v := range want {
				if cfg[k] != v {
					t.Errorf("%s %s: %s = %v, want %v", node, s.key, k, cfg[k], v)
				}
			}
			if _, ok := cfg["object_id"]; ok {
				t.Errorf("%s %s: deprecated object_id still sent", node, s.key)
			}
			dev, _ := cfg["device"].(map[string]any)
			if dev["name"] != node {
				t.Errorf("%s: device %v, want the real id as its name", node, dev)
			}
		}
	}
	// Only the enabled groups' sensors.
	c := DefaultConfig()
	c.NodeID = "n"
	for _, m := range discoveryConfigs(&c, []string{"agent"}) {
		if !strings.Contains(m[1], `"state_topic":"nodekeeper/n/telemetry/agent"`) {
			t.Errorf("agent only: %s %s", m[0], m[1])
		}
	}
}
