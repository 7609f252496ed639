package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/sim"
	"github.com/nodekeeper/nodekeeper/fleet/webaction"
	"github.com/nodekeeper/nodekeeper/fleet/webauth"
	"github.com/nodekeeper/nodekeeper/wire"
)

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestAdminActions: behind the login (webauth), an admin sets a simulated
// node's state from its page; the node applies it and the view shows it.
// Without a login or a CSRF token nothing is done; a read-only view has
// no action at all.
func TestAdminActions(t *testing.T) {
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
	n := sim.New("sim-a", sim.Options{Broker: br.URL(), Trusted: []wire.PublicKey{key.Public()}}, sim.NodeOptions{})
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	c, err := broker.Dial(ctx, broker.Options{URL: br.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	m := NewModel(ModelOptions{Trusted: []wire.PublicKey{key.Public()}})
	if err := m.Follow(ctx, c); err != nil {
		t.Fatal(err)
	}
	usersFile := filepath.Join(t.TempDir(), "users")
	if err := webauth.SetPassword(usersFile, "alice", []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	users, err := webauth.LoadUsers(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := webaction.New(webaction.Config{Conn: c, Keys: []wire.SecretKey{key}, Quiet: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, Options{BasePath: "/fleet", Admin: webauth.New(users, "/fleet"), Actions: acts})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	waitFor(t, "sim-a in the view", func() bool {
		v, ok := m.Node("sim-a")
		return ok && v.Row.NodeState == "production"
	})
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	get := func(path string) string {
		resp, err := cl.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(path string, form url.Values) (int, string) {
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ts.URL)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Not logged in: the page offers a login, the action is refused.
	if page := get("/fleet/node/sim-a"); !strings.Contains(page, "to act on this node") || strings.Contains(page, "Push the node state") ||
		!strings.Contains(strings.ToLower(page), `/fleet/login?next=%2ffleet%2fnode%2fsim-a"`) {
		t.Errorf("the node page without a login:\n%.2000s", page)
	}
	if st, _ := post("/fleet/node/sim-a/state", url.Values{"state": {"safe"}}); st != http.StatusUnauthorized {
		t.Errorf("an action without a login: %d", st)
	}
	// Log in.
	form := csrfRe.FindStringSubmatch(get("/fleet/login?next=/fleet/node/sim-a"))
	if form == nil {
		t.Fatal("no CSRF token in the login form")
	}
	if st, body := post("/fleet/login", url.Values{"user": {"alice"}, "password": {"correct horse"}, "csrf": {form[1]}, "next": {"/fleet/node/sim-a"}}); st != http.StatusOK || !strings.Contains(body, "Push the node state") {
		t.Fatalf("login: %d\n%.3000s", st, body)
	}
	page := get("/fleet/node/sim-a")
	tok := csrfRe.FindStringSubmatch(page)
	if tok == nil || !strings.Contains(page, "alice") {
		t.Fatalf("the node page after the login:\n%.3000s", page)
	}
	if st, _ := post("/fleet/node/sim-a/state", url.Values{"state": {"safe"}}); st != http.StatusForbidden {
		t.Errorf("an action without the CSRF token: %d", st)
	}
	if st, body := post("/fleet/node/sim-a/state", url.Values{"state": {"failure"}, "csrf": {tok[1]}}); st != http.StatusBadRequest {
		t.Errorf("a node state outside the grammar: %d\n%.1000s", st, body)
	}
	st, body := post("/fleet/node/sim-a/state", url.Values{"state": {"safe"}, "csrf": {tok[1]}})
	if st != http.StatusOK || !strings.Contains(body, "Pushed to sim-a as seq 1") {
		t.Fatalf("set the node state: %d\n%.3000s", st, body)
	}
	waitFor(t, "sim-a in safe state, in the view", func() bool {
		v, _ := m.Node("sim-a")
		return v.Row.NodeState == "safe"
	})
	// A rollout without a fleet directory: refused, said why.
	if st, body := post("/fleet/rollouts/start", url.Values{"csrf": {tok[1]}}); st != http.StatusBadRequest || !strings.Contains(body, "without a fleet directory") {
		t.Errorf("a rollout without a directory: %d\n%.1000s", st, body)
	}
	// A read-only view has no action.
	ro, _ := New(m, Options{})
	rec := httptest.NewRecorder()
	ro.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/node/sim-a/state", strings.NewReader("state=debug")))
	if rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound {
		t.Errorf("a read-only view took an action: %d", rec.Code)
	}
}
