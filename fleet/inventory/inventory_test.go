package inventory

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/wire"
)

func signedState(t *testing.T, k wire.SecretKey, r wire.StateReport) []byte {
	t.Helper()
	r.NodeKey = k.Public().String()
	b, _ := json.Marshal(r)
	s, err := wire.SignState(k, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signedInfo(t *testing.T, k wire.SecretKey, info string) []byte {
	t.Helper()
	s, err := wire.SignInfo(k, []byte(info))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFromMessages(t *testing.T) {
	k, _ := wire.GenerateKey()
	other, _ := wire.GenerateKey()
	big := make([]byte, maxPayload+1)
	msgs := map[string][]byte{
		"nodekeeper/n1/status":      []byte("online"),
		"nodekeeper/n1/state":       signedState(t, k, wire.StateReport{Node: "n1", AppliedSeq: 3, SeenSeq: 4}),
		"nodekeeper/n1/info":        signedInfo(t, k, `{"node":"n1","labels":{"site":"roof-1"},"tags":["outdoor"],"model":"TP-Link Archer C7","release":"OpenWrt 23.05.3"}`),
		"nodekeeper/n1/desired":     []byte(`{"document":"` + b64(`{"node":"n1","seq":4}`) + `","signature":"x"}`),
		"nodekeeper/n2/status":      []byte("offline"),
		"nodekeeper/n2/state":       signedState(t, other, wire.StateReport{Node: "n1"}), // another node's report on n2's topic
		"nodekeeper/n2/info":        []byte(`{"node":"n9"}`),
		"nodekeeper/n3/state":       []byte(`{"node":"n3","seen_seq":99}`), // unsigned
		"nodekeeper/n3/status":      []byte("maybe"),
		"nodekeeper/n3/info":        []byte(`{"node":"n3","labels":{"site":"roof-1"}}`), // unsigned: not believed
		"nodekeeper/n4/desired":     big,
		"nodekeeper/_fleet/rollout": []byte("{}"),
		"other/n5/status":           []byte("online"),
	}
	inv := FromMessages("nodekeeper", msgs, Verifier{Pinned: map[string]wire.PublicKey{"n2": k.Public()}})
	if got := strings.Join(inv.IDs(), ","); got != "n1,n2,n3,n4" {
		t.Errorf("nodes %s, want n1..n4 (not _fleet, not another prefix)", got)
	}
	n1 := inv.Node("n1")
	if !n1.Online() || n1.State == nil || n1.State.SeenSeq != 4 || n1.StateSigned || n1.StateKey != k.Public().String() {
		t.Errorf("n1: %+v (a first-sight key: taken, not pinned)", n1)
	}
	if n1.Desired == nil || n1.Desired.Seq != 4 {
		t.Errorf("n1 desired: %+v", n1.Desired)
	}
	f := n1.Facts()
	if !(&dir.Match{Labels: map[string]string{"site": "roof*"}, Tags: []string{"out*"}, Model: "TP-Link*"}).Matches(f) {
		t.Errorf("n1's facts %+v do not match", f)
	}
	if (&dir.Match{Release: "OpenWrt 22*"}).Matches(f) {
		t.Errorf("n1's release matched another")
	}
	n2 := inv.Node("n2")
	if n2.Online() || n2.State != nil || !strings.Contains(n2.StateErr, "pinned key") || n2.Info != nil || n2.InfoErr == "" {
		t.Errorf("n2: %+v", n2)
	}
	n3 := inv.Node("n3")
	if n3.State != nil || n3.Status != "" || !strings.Contains(n3.StateErr, "not a signed state report") {
		t.Errorf("n3: %+v (an unsigned report is not believed)", n3)
	}
	if n3.Info != nil || n3.InfoErr == "" {
		t.Errorf("n3's unsigned info was believed: %+v", n3.Info)
	}
	if n4 := inv.Node("n4"); n4.Desired != nil {
		t.Errorf("n4: an oversized message was taken: %+v", n4.Desired)
	}
}

func b64(s string) string {
	b, _ := json.Marshal([]byte(s))
	return strings.Trim(string(b), `"`)
}
