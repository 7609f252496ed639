package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDesiredSettings(t *testing.T) {
	d, err := ParseDesired([]byte(`{"node":"n1","seq":1,"node_state":"debug","settings":{"b.x":"1","a.l":["p","q"],"a.d":null}}`), "n1")
	if err != nil {
		t.Fatal(err)
	}
	d.WithNodeState()
	got := d.SettingsInOrder()
	if strings.Join(got, " ") != "a.d a.l agent.node_state b.x" {
		t.Errorf("settings in order: %v", got)
	}
	if s := d.Settings["a.l"]; !s.List || len(s.Values) != 2 {
		t.Errorf("list setting: %+v", s)
	}
	if s := d.Settings["a.d"]; !s.Delete {
		t.Errorf("null setting: %+v", s)
	}
	b, _ := json.Marshal(d.Settings)
	if string(b) != `{"a.d":null,"a.l":["p","q"],"agent.node_state":"debug","b.x":"1"}` {
		t.Errorf("settings round trip: %s", b)
	}
}

func TestValidPolicyFile(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"cpu-guard.lua", true},
		{"0_x.y-z.lua", true},
		{long + ".lua", true},
		{long + "a.lua", false},
		{".lua", false},
		{"-x.lua", false},
		{"_x.lua", false},
		{"x.LUA", false},
		{"x", false},
		{"../x.lua", false},
		{"a/b.lua", false},
		{"x y.lua", false},
		{"guard_test.lua", false},
		{"é.lua", false},
	} {
		if got := ValidPolicyFile(tc.name); got != tc.want {
			t.Errorf("ValidPolicyFile(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
