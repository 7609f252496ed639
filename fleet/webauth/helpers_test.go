package webauth

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hash is a cheap bcrypt hash of pw (the lowest cost: tests only) with
// the given prefix ($2a$, $2b$, $2y$).
func hash(t testing.TB, pw, prefix string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return prefix + string(h[4:])
}

// writeUsers writes a users file (mode 0600) and returns its path.
func writeUsers(t testing.TB, text string) string {
	p := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// site is a real HTTP server with the login mounted under base and one
// protected handler at base+"/act" that answers 200 "done by USER".
type site struct {
	t     *testing.T
	srv   *httptest.Server
	auth  *Auth
	clock *fakeClock
	base  string
}

const alicePW = "correct horse battery staple"

func newSite(t *testing.T, base string, opts ...Option) *site {
	users, err := LoadUsers(writeUsers(t, "# admins\nalice:"+hash(t, alicePW, "$2y$")+"\nbob:"+hash(t, "bobpw", "$2b$")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	opts = append([]Option{Clock(clock.now), Logger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	a := New(users, base, opts...)
	mux := http.NewServeMux()
	a.Routes(mux)
	mux.Handle(a.base+"/act", a.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := a.User(r)
		io.WriteString(w, "done by "+u)
	})))
	mux.HandleFunc("GET "+a.base+"/token", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, a.CSRFToken(r)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &site{t: t, srv: srv, auth: a, clock: clock, base: a.base}
}

// do sends a request without following redirects.
func (s *site) do(method, path string, form url.Values, cookies []*http.Cookie, header map[string]string) *http.Response {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// readBody sends a GET and returns the status and body.
func (s *site) get(path string, cookies []*http.Cookie) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginForm fetches the form: its login cookie and token.
func (s *site) loginForm() (*http.Cookie, string) {
	s.t.Helper()
	resp, err := http.Get(s.srv.URL + s.base + "/login")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := csrfField.FindStringSubmatch(string(b))
	if m == nil {
		s.t.Fatalf("no csrf field in the login form:\n%s", b)
	}
	return cookieNamed(resp, loginCookie), m[1]
}

// login posts the form for user and password with next.
func (s *site) login(user, pw, next string) *http.Response {
	s.t.Helper()
	lc, tok := s.loginForm()
	return s.do("POST", s.base+"/login", url.Values{"csrf": {tok}, "user": {user}, "password": {pw}, "next": {next}}, []*http.Cookie{lc}, nil)
}

// session logs alice in and returns her session cookie and CSRF token.
func (s *site) session() (*http.Cookie, string) {
	s.t.Helper()
	resp := s.login("alice", alicePW, "")
	c := cookieNamed(resp, SessionCookie)
	if resp.StatusCode != http.StatusSeeOther || c == nil {
		s.t.Fatalf("login: %s, cookie %v", resp.Status, c)
	}
	_, tok := s.get(s.base+"/token", []*http.Cookie{c})
	if tok == "" {
		s.t.Fatal("no CSRF token for a fresh session")
	}
	return c, tok
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
