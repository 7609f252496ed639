package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nodekeeper/nodekeeper/fleet/sim/simtest"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/sim"
	"github.com/nodekeeper/nodekeeper/wire"
)

func TestHistoryRing(t *testing.T) {
	var h history
	for b := int64(100); b < 100+Points+10; b++ {
		if !h.begin(b) {
			t.Fatalf("bucket %d refused", b)
		}
		h.set(b, "x", float64(b))
	}
	now := int64(100 + Points + 9)
	p := h.points("x", now)
	if len(p) != Points || p[0] != float64(now-Points+1) || p[Points-1] != float64(now) {
		t.Fatalf("points: %v", p)
	}
	if h.begin(now - Points) {
		t.Error("a bucket older than the ring was taken")
	}
	// A gap leaves NaN, not the value an hour ago.
	h.begin(now + 5)
	h.set(now+5, "x", 1)
	p = h.points("x", now+5)
	if !math.IsNaN(p[Points-2]) || p[Points-1] != 1 {
		t.Errorf("after a gap: %v", p[Points-6:])
	}
	for i := range maxSeries + 5 {
		h.set(now+5, fmt.Sprint("s", i), 1)
	}
	if len(h.series) != maxSeries {
		t.Errorf("%d series, want at most %d", len(h.series), maxSeries)
	}
}

func TestAgentEvents(t *testing.T) {
	now := time.Now()
	e, err := parseAgentEvent("n1", []byte(`{"node":"n1","ts":`+fmt.Sprint(now.Unix())+`,"kind":"alert","source":"cpu-guard","severity":"warning","message":"load\n9"}`), now)
	if err != nil || e.Kind != "alert" || e.Severity != "warning" || e.Message != "load 9" {
		t.Fatalf("%+v %v", e, err)
	}
	for _, bad := range []string{`{"node":"n2","kind":"alert"}`, `{"kind":"Alert!"}`, `{"kind":"alert","severity":"fatal"}`, `{"kind":"alert","source":"a b"}`, `[]`} {
		if _, err := parseAgentEvent("n1", []byte(bad), now); err == nil {
			t.Errorf("%s taken", bad)
		}
	}
	var l eventLog
	for i := range maxEvents + 10 {
		l.add(Event{Message: fmt.Sprint(i)})
	}
	got := l.since(0)
	if len(got) != maxEvents || got[0].Message != "10" || got[len(got)-1].Seq != maxEvents+10 {
		t.Errorf("ring: %d events, first %+v", len(got), got[0])
	}
	if got := l.since(maxEvents + 8); len(got) != 2 {
		t.Errorf("since: %d", len(got))
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestModelWithSimulator: simulated nodes against a real mosquitto feed
// the model through the broker; the pages render what they report.
func TestModelWithSimulator(t *testing.T) {
	br, err := sim.StartBroker(t.TempDir(), "")
	if errors.Is(err, sim.ErrNoMosquitto) {
		needEnv(t, "mosquitto", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	key, _ := wire.GenerateKey()
	var nodes []*sim.Node
	for i := range 3 {
		info := inventory.Info{Labels: map[string]string{"owner": fmt.Sprint("o", i%2)}, Location: &wire.Location{Lat: 41.38 + float64(i)/100, Lon: 2.16 + float64(i)/100}}
		n := sim.New(fmt.Sprintf("sim-%d", i), sim.Options{Broker: br.URL(), Trusted: []wire.PublicKey{key.Public()}}, sim.NodeOptions{Info: info})
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Stop)
		nodes = append(nodes, n)
	}
	m := NewModel(ModelOptions{Step: time.Second})
	c, err := broker.Dial(ctx, broker.Options{URL: br.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := m.Follow(ctx, c); err != nil {
		t.Fatal(err)
	}
	online := func() int {
		n := 0
		for _, r := range m.Rows(Filter{}) {
			if r.Status == "online" && r.NodeState == "production" {
				n++
			}
		}
		return n
	}
	waitFor(t, "three nodes online with their state reports", func() bool { return online() == 3 })
	waitFor(t, "the label filter to find sim-1 by its info", func() bool {
		rows := m.Rows(Filter{Label: "owner=o1"})
		return len(rows) == 1 && rows[0].ID == "sim-1"
	})
	// Documents make history and charts.
	nodes[0].SetLoad([3]float64{1.5, 1, 0.5})
	waitFor(t, "sim-0's telemetry in its history", func() bool {
		nodes[0].PublishDocument(10, 1<<20)
		v, _ := m.Node("sim-0")
		return v.Row.HasTel && v.Row.Load == 1.5 && len(v.Charts) > 0
	})
	// A node that stops turns offline, with an event.
	nodes[2].Stop()
	waitFor(t, "sim-2 offline", func() bool {
		for _, r := range m.Rows(Filter{Status: "offline"}) {
			if r.ID == "sim-2" && r.Problem() {
				return true
			}
		}
		return false
	})
	found := false
	for _, e := range m.Events(0) {
		found = found || e.Node == "sim-2" && e.Kind == KindOffline
	}
	if !found {
		t.Errorf("no offline event: %+v", m.Events(0))
	}
	// An agent's alert.
	pub, err := broker.Dial(ctx, broker.Options{URL: br.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Publish(ctx, "nodekeeper/sim-1/events", []byte(`{"node":"sim-1","kind":"alert","source":"lab","severity":"critical","message":"the roof is on fire"}`), false)
	waitFor(t, "the alert", func() bool {
		for _, e := range m.Events(0) {
			if e.Kind == "alert" && e.Node == "sim-1" {
				return true
			}
		}
		return false
	})

	// Every page renders, under a base path too.
	for _, base := range []string{"", "/fleet"} {
		s, err := New(m, Options{BasePath: base})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s.Handler())
		for path, want := range map[string]string{
			"/":                                  `id="n-sim-2" data-status="offline"`,
			"/node/sim-0":                        `data-points=`,
			"/slices":                            "Slices",
			"/events":                            "the roof is on fire",
			"/rollouts":                          "No rollout record",
			"/map":                               `aria-label="map of 3 nodes`,
			"/?status=online&sort=load&dir=desc": `sim-0`,
			"/node/nope":                         "knows no node",
		} {
			resp, err := http.Get(ts.URL + base + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), want) {
				t.Errorf("GET %s%s: %d, no %q in\n%.3000s", base, path, resp.StatusCode, want, b)
			}
			if base != "" && resp.StatusCode == 200 && !strings.Contains(string(b), `href="/fleet/static/style.css"`) {
				t.Errorf("GET %s%s: links not under the base path", base, path)
			}
		}
		ts.Close()
	}
	// Behind a proxy that strips its prefix and says it.
	s, _ := New(m, Options{})
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Forwarded-Prefix", "/nk/fleet")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `href="/nk/fleet/node/sim-0"`) {
		t.Errorf("X-Forwarded-Prefix not followed")
	}
	req.Header.Set("X-Forwarded-Prefix", `/"><script>`)
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "<script>") {
		t.Errorf("a bad X-Forwarded-Prefix was taken")
	}
}

// signedInfo is a node's info signed with its own key, as agents sign it.
func signedInfo(t *testing.T, id string, lat, lon float64) []byte {
	t.Helper()
	k, _ := wire.GenerateKey()
	b, _ := json.Marshal(inventory.Info{Node: id, Location: &wire.Location{Lat: lat, Lon: lon}})
	s, err := wire.SignInfo(k, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMapLinks: two nodes that see each other (one's wifi station is the
// other's radio) are joined on the map; a node without a location is
// counted, not drawn.
func TestMapLinks(t *testing.T) {
	m := NewModel(ModelOptions{Prefix: "p"})
	for i, id := range []string{"a", "b", "c"} {
		m.Ingest("p/"+id+"/status", []byte("online"))
		if id != "c" {
			m.Ingest("p/"+id+"/info", signedInfo(t, id, 41.38+float64(i)/100, 2.16))
		}
	}
	m.Ingest("p/a/document", []byte(`{"node":"a","wifi":{"radios":[{"name":"wlan0","mac":"02:00:00:00:00:0A"}],"stations":[{"ifname":"wlan0","mac":"02:00:00:00:00:0b","signal_dbm":-80}]}}`))
	m.Ingest("p/b/document", []byte(`{"node":"b","interfaces":[{"name":"wlan0","mac":"02:00:00:00:00:0b"}],"wifi":{"stations":[{"ifname":"wlan0","mac":"02:00:00:00:00:0a","signal_dbm":-60}]}}`))
	nodes, links, unplaced := m.Map()
	if len(nodes) != 2 || unplaced != 1 || len(links) != 1 || links[0].A != "a" || links[0].B != "b" {
		t.Fatalf("map: %+v %+v %d", nodes, links, unplaced)
	}
	svg := string(mapSVG(mapData{Nodes: nodes, Links: links, Base: "/x"}))
	for _, want := range []string{`href="/x/node/a"`, `a ↔ b`, `stroke-dasharray`} {
		if !strings.Contains(svg, want) {
			t.Errorf("map SVG lacks %q", want)
		}
	}
	// With tiles: images from the tile URL, nothing else.
	svg = string(mapSVG(mapData{Nodes: nodes, Links: links, TileURL: "https://tile.example/{z}/{x}/{y}.png"}))
	if !strings.Contains(svg, `<image href="https://tile.example/`) {
		t.Errorf("no tiles:\n%.500s", svg)
	}
}

// TestStream: a page's live stream sends the row of a node that changed.
func TestStream(t *testing.T) {
	m := NewModel(ModelOptions{Prefix: "p"})
	m.Ingest("p/n1/status", []byte("online"))
	s, err := New(m, Options{Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/stream?view=nodes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	m.Ingest("p/n1/status", []byte("offline"))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	deadline := time.AfterFunc(time.Minute, func() { resp.Body.Close() })
	defer deadline.Stop()
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok && event == "rows" {
			var msg struct{ Rows []struct{ ID, HTML string } }
			if err := json.Unmarshal([]byte(d), &msg); err != nil {
				t.Fatal(err)
			}
			if len(msg.Rows) == 1 && msg.Rows[0].ID == "n1" && strings.Contains(msg.Rows[0].HTML, `data-status="offline"`) {
				return
			}
		}
	}
	t.Fatal("no row of n1 offline on the stream")
}

// needEnv is the fleet tests' shared rule for a missing environment.
var needEnv = simtest.NeedEnv

// TestClearedNodeLeaves: a node stays while the broker retains any of its
// parts; once its last retained topic is cleared (nodekeeper-fleet forget)
// it leaves the rows, live pages are told it is gone, and an event says
// so. A node that publishes again comes back.
func TestClearedNodeLeaves(t *testing.T) {
	m := NewModel(ModelOptions{Step: time.Second})
	ids := func() (out []string) {
		for _, r := range m.Rows(Filter{}) {
			out = append(out, r.ID)
		}
		return out
	}
	m.Ingest("nodekeeper/old/status", []byte("offline"))
	m.Ingest("nodekeeper/old/info", signedInfo(t, "old", 41.4, 2.2))
	m.Ingest("nodekeeper/keep/status", []byte("online"))
	if got := fmt.Sprint(ids()); got != "[keep old]" {
		t.Fatalf("rows %s", got)
	}
	ver := m.Version()
	m.Ingest("nodekeeper/old/status", nil)
	if got := fmt.Sprint(ids()); got != "[keep old]" {
		t.Errorf("with its info still retained: rows %s, want old kept", got)
	}
	m.Ingest("nodekeeper/old/info", nil)
	if got := fmt.Sprint(ids()); got != "[keep]" {
		t.Errorf("with nothing retained: rows %s, want old gone", got)
	}
	if _, gone := m.ChangedRows(Filter{}, ver); fmt.Sprint(gone) != "[old]" {
		t.Errorf("live pages are told gone %v, want [old]", gone)
	}
	var removed []string
	for _, e := range m.Events(0) {
		if e.Kind == KindRemoved {
			removed = append(removed, e.Node)
		}
	}
	if fmt.Sprint(removed) != "[old]" {
		t.Errorf("removed events for %v, want [old]", removed)
	}
	m.Ingest("nodekeeper/ghost/state", nil) // a node never seen: nothing
	ver = m.Version()
	m.Ingest("nodekeeper/old/status", []byte("online"))
	if got := fmt.Sprint(ids()); got != "[keep old]" {
		t.Errorf("after it published again: rows %s", got)
	}
	if rows, gone := m.ChangedRows(Filter{}, ver); len(rows) != 1 || len(gone) != 0 {
		t.Errorf("after it came back: changed %d rows, gone %v", len(rows), gone)
	}
}
