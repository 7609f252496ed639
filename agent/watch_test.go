package agent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/wire"
)

// The lines of `nodekeeper watch` for the messages nodes publish.
func TestWatchView(t *testing.T) {
	type msg struct{ topic, payload string }
	k1, _ := wire.GenerateKey()
	k2, _ := wire.GenerateKey()
	for _, tc := range []struct {
		name     string
		nodes    []string
		enrolled map[string]wire.PublicKey
		msgs     []msg
		want     []string
	}{
		{
			name: "status changes, repeats quiet",
			msgs: []msg{{"nk/n1/status", "online"}, {"nk/n1/status", "online"}, {"nk/n1/status", "offline"}},
			want: []string{"n1           status    online", "n1           status    offline"},
		},
		{
			name: "telemetry summary with the latest links and slivers",
			msgs: []msg{
				{"nk/n1/telemetry/interfaces", `{"count":4,"up":3}`},
				{"nk/n1/telemetry/slivers", `{"count":1,"running":1}`},
				{"nk/n1/telemetry/system", `{"seq":7,"load1":0.42,"cpu_busy_percent":5,"memory_used_percent":37.51}`},
			},
			want: []string{"n1           telemetry load 0.4  cpu 5%  mem 37.5%  links 3/4 up  slivers 1/1 running  seq 7"},
		},
		{
			name: "first sample without rates",
			msgs: []msg{{"nk/n2/telemetry/system", `{"seq":1,"load1":2}`}},
			want: []string{"n2           telemetry load 2  seq 1"},
		},
		{
			name: "events",
			msgs: []msg{
				{"nk/n1/events", `{"kind":"policy_action","source":"cpu-guard","severity":"warning","message":"limited s1"}`},
				{"nk/n1/events", `not json`},
			},
			want: []string{
				"n1           event     policy_action cpu-guard [warning]: limited s1",
				`n1           event     (unreadable: "not json")`,
			},
		},
		{
			name: "state report changes only, its key pinned on first sight",
			msgs: []msg{
				{"nk/n1/state", signedReport(t, k1, "n1", `{"ts":1,"node_state":"production","applied_seq":1,"seen_seq":1,"policies":{"loaded":5},"slivers":[{"name":"s1","state":"started","set_state":"start","limits":{"cpu_millicores":500}}]}`)},
				{"nk/n1/state", signedReport(t, k1, "n1", `{"ts":2,"node_state":"production","applied_seq":1,"seen_seq":1,"policies":{"loaded":5},"slivers":[{"name":"s1","state":"started","set_state":"start","limits":{"cpu_millicores":500}}]}`)},
				{"nk/n1/state", signedReport(t, k1, "n1", `{"ts":3,"node_state":"safe","applied_seq":1,"seen_seq":2,"policies":{"loaded":5},"errors":[{"message":"seq 2: bad signature"}]}`)},
			},
			want: []string{
				"n1           key       pinned on first sight: " + k1.Public().ID() + " " + k1.Public().String(),
				"n1           state     production  applied seq 1  policies 5  sliver s1 started (wants start) cpu limit 500m",
				"n1           state     safe  applied seq 1  seen 2  policies 5  errors 1, last: seq 2: bad signature",
			},
		},
		{
			name: "reports that do not verify are flagged, never believed",
			msgs: []msg{
				{"nk/n1/state", `{"ts":1,"node":"n1","applied_seq":9,"seen_seq":9}`},
				{"nk/n1/state", signedReport(t, k1, "n1", `{"ts":5,"node_state":"production","applied_seq":1,"seen_seq":1}`)},
				{"nk/n1/state", signedReport(t, k2, "n1", `{"ts":6,"node_state":"production","applied_seq":7,"seen_seq":7}`)},
				{"nk/n1/state", signedReport(t, k1, "n1", `{"ts":4,"node_state":"production","applied_seq":0,"seen_seq":0}`)},
				{"nk/n1/state", signedReport(t, k1, "n2", `{"ts":7,"node_state":"production","applied_seq":3,"seen_seq":3}`)},
			},
			want: []string{
				`n1           state     UNVERIFIED, not believed: state message: not a signed state report: json: unknown field "ts"`,
				"n1           key       pinned on first sight: " + k1.Public().ID() + " " + k1.Public().String(),
				"n1           state     production  applied seq 1  policies 0",
				"n1           state     UNVERIFIED, not believed: state message: key " + k2.Public().ID() + ": signed by a key other than the node's pinned key " + k1.Public().ID(),
				"n1           state     UNVERIFIED, not believed: ts 4 is older than the last report's 5 (replayed)",
				`n1           state     UNVERIFIED, not believed: a report of node "n2" on n1's topic`,
			},
		},
		{
			name:     "enrolled keys only",
			enrolled: map[string]wire.PublicKey{"n1": k1.Public()},
			msgs: []msg{
				{"nk/n1/state", signedReport(t, k2, "n1", `{"ts":1,"node_state":"safe","applied_seq":7,"seen_seq":7}`)},
				{"nk/n1/state", signedReport(t, k1, "n1", `{"ts":2,"node_state":"production","applied_seq":1,"seen_seq":1}`)},
				{"nk/n3/state", signedReport(t, k2, "n3", `{"ts":2,"node_state":"production","applied_seq":1,"seen_seq":1}`)},
			},
			want: []string{
				"n1           state     UNVERIFIED, not believed: state message: key " + k2.Public().ID() + ": signed by a key other than the node's pinned key " + k1.Public().ID(),
				"n1           state     production  applied seq 1  policies 0",
				"n3           state     UNVERIFIED, not believed: node n3 is not enrolled (no key for it)",
			},
		},
		{
			name:  "only the nodes asked for; other prefixes and topics quiet",
			nodes: []string{"n2"},
			msgs: []msg{
				{"nk/n1/status", "online"}, {"other/n2/status", "online"}, {"nk/n2/document", "{}"},
				{"nk/n2/desired", "{}"}, {"nk/n2/telemetry/slivers/s1", "{}"}, {"nk/n2/status", "online"},
			},
			want: []string{"n2           status    online"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			w := NewWatchView("nk", tc.nodes, &b)
			w.enrolled = tc.enrolled
			w.now = func() time.Time { return time.Date(2026, 11, 25, 12, 0, 1, 0, time.UTC) }
			for _, m := range tc.msgs {
				w.Handle(m.topic, []byte(m.payload))
			}
			var want strings.Builder
			for _, l := range tc.want {
				want.WriteString("12:00:01  " + l + "\n")
			}
			if b.String() != want.String() {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), want.String())
			}
		})
	}
}

// signedReport signs a state report as node's agent does with k, its node
// and node_key filled in.
func signedReport(t *testing.T, k wire.SecretKey, node, report string) string {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		t.Fatal(err)
	}
	r["node"], r["node_key"] = node, k.Public().String()
	b, _ := json.Marshal(r)
	signed, err := wire.SignState(k, b)
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// TestWatchTerminalSafe: what anyone on the broker publishes (a node name
// in a topic, an event, a status) reaches the admin's terminal without
// escape sequences or other control characters, and bounded.
func TestWatchTerminalSafe(t *testing.T) {
	var b strings.Builder
	w := NewWatchView("nk", nil, &b)
	w.Handle("nk/n1\x1b]0;owned\x07/status", []byte("online"))
	w.Handle("nk/n1/events", []byte(`{"kind":"alert","source":"x","severity":"warning","message":"\u001b[2J\u001b[1;1Hall is well\r\u009b"}`))
	w.Handle("nk/n1/status", []byte("offline\x1b[2J"+strings.Repeat("x", 10000)))
	out := b.String()
	for _, c := range []string{"\x1b", "\x07", "\r", "\u009b"} {
		if strings.Contains(out, c) {
			t.Errorf("output holds %q:\n%q", c, out)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if len(l) > 2300 {
			t.Errorf("a line of %d bytes", len(l))
		}
	}
	if !strings.Contains(out, "all is well") {
		t.Errorf("the event's text is gone:\n%s", out)
	}
}
