package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/wire"
)

func loadGood(t *testing.T) *dir.Fleet {
	t.Helper()
	f, err := dir.Load("../dir/testdata/good", dir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// msgs builds retained messages: node -> leaf -> payload.
func inv(t *testing.T, nodes map[string]map[string]string) *inventory.Inventory {
	t.Helper()
	m := map[string][]byte{}
	key, err := wire.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for id, leaves := range nodes {
		for leaf, p := range leaves {
			if leaf == "state" { // signed by the node, as agents do
				b, err := wire.SignState(key, []byte(strings.Replace(p, "{", `{"node_key":"`+key.Public().String()+`",`, 1)))
				if err != nil {
					t.Fatal(err)
				}
				p = string(b)
			}
			if leaf == "info" { // signed by the node too
				b, err := wire.SignInfo(key, []byte(p))
				if err != nil {
					t.Fatal(err)
				}
				p = string(b)
			}
			m["nodekeeper/"+id+"/"+leaf] = []byte(p)
		}
	}
	return inventory.FromMessages("nodekeeper", m, inventory.Verifier{})
}

func envelope(t *testing.T, doc string) string {
	b, err := json.Marshal(map[string][]byte{"document": []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRenderPlacement(t *testing.T) {
	f := loadGood(t)
	tests := []struct {
		name    string
		nodes   map[string]map[string]string
		exclude map[string]map[string]string
		// want: slice -> nodes
		want map[string]string
		skip string // a node passed over for exp-mesh
	}{
		{"two of three core nodes", nil, nil, map[string]string{"exp-mesh": "2 nodes", "probe": "node-1"}, ""},
		{"a node that runs it already keeps it", map[string]map[string]string{
			"node-3": {"status": "online", "state": `{"node":"node-3","slivers":[{"name":"exp-mesh","remote":true}]}`},
		}, nil, map[string]string{"exp-mesh": "node-3"}, ""},
		{"owner refused: the next candidate", map[string]map[string]string{
			"node-1": {"state": `{"node":"node-1","errors":[{"member":"sliver exp-mesh","message":"refused by policy owner-admission: no"}]}`},
			"node-2": {"state": `{"node":"node-2","errors":[{"member":"sliver exp-mesh","message":"refused by policy owner-admission: no"}]}`},
		}, nil, map[string]string{"exp-mesh": "node-3"}, "node-1"},
		{"a refusal the rollout learnt", nil, map[string]map[string]string{"exp-mesh": {"node-2": "refused"}}, map[string]string{"exp-mesh": "node-1,node-3"}, "node-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Render(f, inv(t, tc.nodes), Options{Exclude: tc.exclude})
			if len(p.Problems) > 0 {
				t.Fatalf("problems: %v", p.Problems)
			}
			got := map[string][]string{}
			for _, pl := range p.Placed {
				got[pl.Slice] = pl.Nodes
				if pl.Slice == "exp-mesh" && tc.skip != "" && pl.Skipped[tc.skip] == "" {
					t.Errorf("exp-mesh: %s not reported as skipped: %v", tc.skip, pl.Skipped)
				}
			}
			for slice, want := range tc.want {
				nodes := got[slice]
				switch {
				case want == "2 nodes":
					if len(nodes) != 2 {
						t.Errorf("%s on %v, want 2 nodes", slice, nodes)
					}
				case strings.Contains(want, ","):
					if strings.Join(nodes, ",") != want {
						t.Errorf("%s on %v, want %s", slice, nodes, want)
					}
				default:
					found := false
					for _, n := range nodes {
						found = found || n == want
					}
					if !found {
						t.Errorf("%s on %v, want %s among them", slice, nodes, want)
					}
				}
			}
			// Each node's document holds exactly the slivers placed on it.
			for id, d := range p.Docs {
				for _, s := range d.Slivers {
					ok := false
					for _, n := range got[s.Name] {
						ok = ok || n == id
					}
					if !ok {
						t.Errorf("node %s has sliver %s not placed on it", id, s.Name)
					}
				}
			}
		})
	}
}

func TestRenderGroupsPoliciesSettings(t *testing.T) {
	f := loadGood(t)
	p := Render(f, inv(t, map[string]map[string]string{
		"roof-9": {"status": "online", "info": `{"node":"roof-9","labels":{"site":"roof-east"},"tags":["outdoor","solar"]}`},
		"roof-8": {"status": "online", "info": `{"node":"roof-8","labels":{"site":"basement"},"tags":["outdoor"]}`},
	}), Options{})
	if got := strings.Join(p.Groups["rooftop"], ","); got != "roof-9" {
		t.Errorf("rooftop = %s, want roof-9 (by its labels and tags)", got)
	}
	core := p.Docs["node-2"]
	if core.Policies["cpu-guard.lua"] == "" || core.NodeState != "production" || core.Settings["telemetry.interval"].Values[0] != "10" || !core.Settings["agent.log_level"].Delete {
		t.Errorf("node-2 document: %s", core.Marshal())
	}
	roof := p.Docs["roof-9"]
	if len(roof.Policies) != 0 || roof.NodeState != "" || len(roof.Settings) != 1 {
		t.Errorf("roof-9 document: %s", roof.Marshal())
	}
	// Two groups setting one option differently for a node: a problem
	// naming both places.
	f.Settings = append(f.Settings, &dir.GroupSettings{Group: "rooftop", Settings: map[string]dir.Setting{"telemetry.interval": {Values: []string{"30"}}},
		KeyPos: map[string]dir.Pos{"telemetry.interval": {File: "settings.yaml", Line: 12}}})
	p = Render(f, inv(t, map[string]map[string]string{"roof-9": {"info": `{"labels":{"site":"roof"},"tags":["outdoor"]}`}}), Options{})
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0], "settings.yaml:12: node roof-9: setting telemetry.interval differs from settings.yaml:3") {
		t.Errorf("problems: %v", p.Problems)
	}
}

func TestCompare(t *testing.T) {
	f := loadGood(t)
	p0 := Render(f, inv(t, nil), Options{})
	doc := p0.Docs["node-1"]
	doc.Seq = 7
	applied := string(doc.Marshal())
	tests := []struct {
		name    string
		node    map[string]string
		where   Where
		changed bool
		has     string
	}{
		{"never managed", map[string]string{"status": "online"}, Unmanaged, true, "+ first document"},
		{"applied and the same", map[string]string{"desired": envelope(t, applied), "state": `{"node":"node-1","applied_seq":7,"seen_seq":7}`}, Applied, false, ""},
		{"pending", map[string]string{"desired": envelope(t, applied), "state": `{"node":"node-1","applied_seq":6,"seen_seq":6}`}, Pending, false, ""},
		{"refused", map[string]string{"desired": envelope(t, applied), "state": `{"node":"node-1","applied_seq":6,"seen_seq":7,"errors":[{"member":"desired","seq":7,"message":"refused: bad"}]}`}, Failed, false, ""},
		{"a policy changed", map[string]string{"desired": envelope(t, strings.Replace(applied, "load %.1f", "load=%.1f", 1)), "state": `{"node":"node-1","applied_seq":7,"seen_seq":7}`}, Applied, true, "~ policy cpu-guard.lua"},
		{"a sliver to remove", map[string]string{"desired": envelope(t, strings.Replace(applied, `"slivers":[`, `"slivers":[{"name":"old","template":{"url":"http://x/y","sha256":"00"}},`, 1)), "state": `{"node":"node-1","applied_seq":7,"seen_seq":7}`}, Applied, true, "- sliver old"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iv := inv(t, map[string]map[string]string{"node-1": tc.node})
			p := Render(f, iv, Options{})
			var c *NodeChange
			for _, x := range Compare(p, iv) {
				if x.Node == "node-1" {
					c = x
				}
			}
			if c.Where != tc.where || c.Changed() != tc.changed {
				t.Errorf("where %s changed %v (%v), want %s %v", c.Where, c.Changed(), c.Changes, tc.where, tc.changed)
			}
			if tc.has != "" && !strings.Contains(strings.Join(c.Changes, "\n"), tc.has) {
				t.Errorf("changes %v, want %q", c.Changes, tc.has)
			}
			if tc.where == Failed && c.Why != "refused: bad" {
				t.Errorf("why = %q", c.Why)
			}
			if tc.changed && c.Old != nil {
				var b bytes.Buffer
				WriteDiff(&b, c.Old, c.New, 2)
				if !strings.Contains(b.String(), "\n  + ") && !strings.Contains(b.String(), "\n  - ") {
					t.Errorf("diff shows no change:\n%s", b.String())
				}
			}
		})
	}
}
