package wire

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestParseDesiredLimits: a document (up to 1 MiB) cannot make a node
// keep more than its limits, by class, and no error quotes a field whole
// (errors are published).
func TestParseDesiredLimits(t *testing.T) {
	doc := func(extra string) []byte { return []byte(`{"node":"n1","seq":1` + extra + `}`) }
	many := func(n int, f func(i int) string) string {
		var parts []string
		for i := range n {
			parts = append(parts, f(i))
		}
		return strings.Join(parts, ",")
	}
	huge := strings.Repeat("x", 512<<10)
	hugeJSON, _ := json.Marshal(huge)
	for _, tt := range []struct {
		class string
		doc   []byte
		want  string
	}{
		{"many policies", doc(`,"policies":{` + many(MaxPolicies+1, func(i int) string { return fmt.Sprintf(`"p%d.lua":""`, i) }) + `}`), "policy files, at most"},
		{"many settings", doc(`,"settings":{` + many(MaxSettings+1, func(i int) string { return fmt.Sprintf(`"s.o%d":"v"`, i) }) + `}`), "settings, at most"},
		{"long list", doc(`,"settings":{"s.l":[` + many(MaxSettingValues+1, func(int) string { return `"v"` }) + `]}`), "values, at most"},
		{"long value", doc(`,"settings":{"s.o":` + string(hugeJSON) + `}`), "bytes, at most"},
		{"huge node quoted", []byte(`{"node":` + string(hugeJSON) + `,"seq":1}`), "but this node is"},
		{"huge policy name quoted", doc(`,"policies":{` + string(hugeJSON) + `:""}`), "policy file name"},
		{"huge setting key quoted", doc(`,"settings":{` + string(hugeJSON) + `:"v"}`), "want SECTION.OPTION"},
		{"huge node_state quoted", doc(`,"node_state":` + string(hugeJSON)), "node_state"},
	} {
		t.Run(tt.class, func(t *testing.T) {
			_, err := ParseDesired(tt.doc, "n1")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to say %q", err, tt.want)
			}
			if n := len(err.Error()); n > 512 {
				t.Errorf("error of %d bytes quotes the input whole", n)
			}
		})
	}
	ok := doc(`,"policies":{` + many(MaxPolicies, func(i int) string { return fmt.Sprintf(`"p%d.lua":""`, i) }) + `},"settings":{"s.l":[` +
		many(MaxSettingValues, func(int) string { return `"v"` }) + `]}`)
	if _, err := ParseDesired(ok, "n1"); err != nil {
		t.Errorf("at the limits: %v", err)
	}
}
