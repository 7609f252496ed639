package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
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

// needEnv skips, or fails with CI=true, when the test's environment is
// missing.
func needEnv(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v (CI=true: the environment must have it)", what, err)
	}
	t.Skipf("%s: %v", what, err)
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
