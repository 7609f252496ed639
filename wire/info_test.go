package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestVerifyInfo: the info message is believed only when signed by the
// node's pinned key, over the very bytes it carries.
func TestVerifyInfo(t *testing.T) {
	node, _ := GenerateKey()
	other, _ := GenerateKey()
	info := []byte(`{"node":"n1","ts":1.5,"labels":{"owner":"alice"},"tags":["outdoor"],"location":{"lat":41.3874,"lon":2.1686},` +
		`"policies":[{"file":"cpu.lua","name":"cpu","last_decision":{"time":"2026-01-01T12:00:00Z","fired":true,"actions":1}}]}`)
	good, err := SignInfo(node, info)
	if err != nil {
		t.Fatal(err)
	}
	var forged SignedState
	json.Unmarshal(good, &forged)
	forged.Report = []byte(strings.Replace(string(forged.Report), "alice", "mallory", 1))
	forgedMsg, _ := json.Marshal(forged)
	byOther, _ := SignInfo(other, info)
	tests := []struct {
		name, msg, want string
	}{
		{"good", string(good), ""},
		{"unsigned", string(info), "not a signed info report"},
		{"changed after signing", string(forgedMsg), "signature does not verify"},
		{"another key", string(byOther), "other than the node's pinned key"},
		{"too big", `{"report":"` + strings.Repeat("x", MaxStateBytes) + `"}`, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, err := VerifyInfo(node.Public(), []byte(tt.msg))
			if tt.want == "" {
				if err != nil || i.Node != "n1" || i.Labels["owner"] != "alice" || i.Location == nil || i.Location.Lon != 2.1686 ||
					len(i.Policies) != 1 || i.Policies[0].LastDecision == nil || i.Policies[0].LastDecision.Actions != 1 {
					t.Fatalf("VerifyInfo = %+v, %v", i, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to say %q", err, tt.want)
			}
		})
	}
	if _, err := SignInfo(node, []byte("{")); err == nil {
		t.Error("SignInfo signed invalid JSON")
	}
}
