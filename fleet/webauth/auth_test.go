package webauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLogin: only the right password with the form's own token, from
// this site, starts a session; the answer never says which part was
// wrong.
func TestLogin(t *testing.T) {
	s := newSite(t, "/fleet")
	tests := []struct {
		name       string
		user, pw   string
		noToken    bool
		badToken   bool
		header     map[string]string
		wantStatus int
	}{
		{"good", "alice", alicePW, false, false, nil, http.StatusSeeOther},
		{"good, second user", "bob", "bobpw", false, false, nil, http.StatusSeeOther},
		{"same-origin fetch", "alice", alicePW, false, false, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"wrong password", "alice", "wrong", false, false, nil, http.StatusUnauthorized},
		{"other user's password", "bob", alicePW, false, false, nil, http.StatusUnauthorized},
		{"unknown user", "mallory", alicePW, false, false, nil, http.StatusUnauthorized},
		{"invalid name", "alice\n", alicePW, false, false, nil, http.StatusUnauthorized},
		{"empty password", "alice", "", false, false, nil, http.StatusUnauthorized},
		{"overlong password", "alice", alicePW + strings.Repeat("x", 100), false, false, nil, http.StatusUnauthorized},
		{"no login token", "alice", alicePW, true, false, nil, http.StatusForbidden},
		{"token not the cookie's", "alice", alicePW, false, true, nil, http.StatusForbidden},
		{"cross-site", "alice", alicePW, false, false, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"other origin", "alice", alicePW, false, false, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc, tok := s.loginForm()
			if tt.badToken {
				tok = randomToken()
			}
			form := url.Values{"user": {tt.user}, "password": {tt.pw}, "next": {"/fleet/nodes"}}
			var cookies []*http.Cookie
			if !tt.noToken {
				form.Set("csrf", tok)
				cookies = append(cookies, lc)
			}
			resp := s.do("POST", "/fleet/login", form, cookies, tt.header)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %s; want %d", resp.Status, tt.wantStatus)
			}
			sc := cookieNamed(resp, SessionCookie)
			if tt.wantStatus == http.StatusSeeOther {
				if sc == nil || resp.Header.Get("Location") != "/fleet/nodes" {
					t.Fatalf("session cookie %v, Location %q", sc, resp.Header.Get("Location"))
				}
				if st, body := s.get("/fleet/act", []*http.Cookie{sc}); st != 200 || body != "done by "+tt.user {
					t.Fatalf("with the session: %d %q", st, body)
				}
				return
			}
			if sc != nil {
				t.Fatalf("a failed login set a session cookie: %v", sc)
			}
		})
	}
}

// TestCookieAttributes: the session cookie is HttpOnly, SameSite=Strict,
// scoped to the base path, Secure when asked, and holds 256 random bits.
func TestCookieAttributes(t *testing.T) {
	tests := []struct {
		base, wantPath string
		secure         bool
	}{
		{"", "/", false},
		{"/", "/", false},
		{"/fleet", "/fleet", false},
		{"/net/fleet/", "/net/fleet", true},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			s := newSite(t, tt.base, Secure(tt.secure))
			resp := s.login("alice", alicePW, "")
			c := cookieNamed(resp, SessionCookie)
			if c == nil {
				t.Fatalf("no session cookie: %s", resp.Status)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != tt.wantPath || c.Secure != tt.secure || !validToken(c.Value) {
				t.Fatalf("cookie %+v; want HttpOnly, SameSite=Strict, Path=%s, Secure=%v, a 43-character token", c, tt.wantPath, tt.secure)
			}
			if loc := resp.Header.Get("Location"); loc != strings.TrimSuffix(tt.base, "/")+"/" {
				t.Fatalf("Location %q; want the base", loc)
			}
			c2 := cookieNamed(s.login("alice", alicePW, ""), SessionCookie)
			if c2 == nil || c2.Value == c.Value {
				t.Fatal("a second login got the same session id")
			}
		})
	}
}

// TestOpenRedirect: after a login, only paths on this site under the
// base are followed; anything else goes to the base.
func TestOpenRedirect(t *testing.T) {
	s := newSite(t, "/fleet")
	tests := []struct{ next, want string }{
		{"/fleet/nodes?group=roof#x", "/fleet/nodes?group=roof#x"},
		{"/fleet/", "/fleet/"},
		{"/fleet", "/fleet"},
		{"", "/fleet/"},
		{"https://evil.example/fleet/", "/fleet/"},
		{"//evil.example/fleet/", "/fleet/"},
		{"/\\evil.example", "/fleet/"},
		{"/fleet/\\evil", "/fleet/"},
		{"\\\\evil.example", "/fleet/"},
		{"/fleet/../admin", "/fleet/"},
		{"/fleet//evil.example", "/fleet/"},
		{"/fleetx/nodes", "/fleet/"},
		{"/other", "/fleet/"},
		{"javascript:alert(1)", "/fleet/"},
		{"/fleet/a\nLocation: https://evil", "/fleet/"},
		{"/fleet/login", "/fleet/"},
		{"fleet/nodes", "/fleet/"},
		{"/fleet/%2F%2Fevil.example", "/fleet/%2F%2Fevil.example"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			resp := s.login("alice", alicePW, tt.next)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.want {
				t.Fatalf("%s, Location %q; want %q", resp.Status, resp.Header.Get("Location"), tt.want)
			}
		})
	}
}

// TestProtect: without a session a page sends to the login form and an
// action is refused; with one, an action needs the session's CSRF token
// and a same-site request.
func TestProtect(t *testing.T) {
	s := newSite(t, "/fleet")
	sc, tok := s.session()
	_, otherTok := s.session() // another session's token is no good here
	tests := []struct {
		name         string
		method       string
		session      bool
		form         url.Values
		header       map[string]string
		wantStatus   int
		wantLocation string
	}{
		{"page, no session", "GET", false, nil, nil, http.StatusSeeOther, "/fleet/login?next=%2Ffleet%2Fact%3Fa%3D1"},
		{"action, no session", "POST", false, url.Values{"csrf": {tok}}, nil, http.StatusUnauthorized, ""},
		{"delete, no session", "DELETE", false, nil, map[string]string{"X-CSRF-Token": tok}, http.StatusUnauthorized, ""},
		{"page", "GET", true, nil, nil, http.StatusOK, ""},
		{"action, token in the form", "POST", true, url.Values{"csrf": {tok}, "node": {"n1"}}, nil, http.StatusOK, ""},
		{"action, token in the header", "PUT", true, nil, map[string]string{"X-CSRF-Token": tok}, http.StatusOK, ""},
		{"action, no token", "POST", true, url.Values{"node": {"n1"}}, nil, http.StatusForbidden, ""},
		{"action, empty token", "POST", true, url.Values{"csrf": {""}}, nil, http.StatusForbidden, ""},
		{"action, wrong token", "POST", true, url.Values{"csrf": {randomToken()}}, nil, http.StatusForbidden, ""},
		{"action, another session's token", "DELETE", true, nil, map[string]string{"X-CSRF-Token": otherTok}, http.StatusForbidden, ""},
		{"action, cross-site", "POST", true, url.Values{"csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, ""},
		{"action, same-site sibling", "POST", true, url.Values{"csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden, ""},
		{"action, other origin", "POST", true, url.Values{"csrf": {tok}}, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cookies []*http.Cookie
			if tt.session {
				cookies = append(cookies, sc)
			}
			resp := s.do(tt.method, "/fleet/act?a=1", tt.form, cookies, tt.header)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != tt.wantLocation {
				t.Fatalf("%s, Location %q; want %d, %q", resp.Status, resp.Header.Get("Location"), tt.wantStatus, tt.wantLocation)
			}
		})
	}
}

// TestTrustedOrigin: behind a proxy that rewrites Host, the public
// origin is let through when configured, and only it.
func TestTrustedOrigin(t *testing.T) {
	s := newSite(t, "/fleet", TrustedOrigin("https://fleet.example.net"))
	sc, tok := s.session()
	for origin, want := range map[string]int{"https://fleet.example.net": 200, "https://evil.example": 403} {
		resp := s.do("POST", "/fleet/act", url.Values{"csrf": {tok}}, []*http.Cookie{sc}, map[string]string{"Origin": origin})
		if resp.StatusCode != want {
			t.Errorf("Origin %s: %s; want %d", origin, resp.Status, want)
		}
	}
}

// TestSessionExpiry: a session ends an idle hour after its last request
// and twelve hours after its login, whatever its use.
func TestSessionExpiry(t *testing.T) {
	s := newSite(t, "")
	sc, tok := s.session()
	act := func() int {
		return s.do("POST", "/act", url.Values{"csrf": {tok}}, []*http.Cookie{sc}, nil).StatusCode
	}
	if st := act(); st != 200 {
		t.Fatalf("fresh session: %d", st)
	}
	for i := 0; i < 12; i++ { // used every 59 minutes: alive for 11h48m
		s.clock.add(59 * time.Minute)
		if st := act(); st != 200 {
			t.Fatalf("after %d idle periods of 59m: %d", i+1, st)
		}
	}
	s.clock.add(13 * time.Minute) // 12h01m after the login
	if st := act(); st != http.StatusUnauthorized {
		t.Fatalf("past the lifetime: %d; want 401", st)
	}
	sc, tok = s.session()
	s.clock.add(time.Hour)
	if st := act(); st != http.StatusUnauthorized {
		t.Fatalf("idle for an hour: %d; want 401", st)
	}
	if st, _ := s.get("/act", []*http.Cookie{sc}); st != http.StatusSeeOther {
		t.Fatalf("page of an expired session: %d; want 303 to the login", st)
	}
}

// TestLogout: a logout needs the token and ends the session for good.
func TestLogout(t *testing.T) {
	s := newSite(t, "/fleet")
	sc, tok := s.session()
	if resp := s.do("POST", "/fleet/logout", url.Values{}, []*http.Cookie{sc}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without the token: %s; want 403", resp.Status)
	}
	resp := s.do("POST", "/fleet/logout", url.Values{"csrf": {tok}}, []*http.Cookie{sc}, nil)
	if c := cookieNamed(resp, SessionCookie); resp.StatusCode != http.StatusSeeOther || c == nil || c.MaxAge >= 0 || resp.Header.Get("Location") != "/fleet/" {
		t.Fatalf("logout: %s, cookie %v, Location %q", resp.Status, c, resp.Header.Get("Location"))
	}
	if st, _ := s.get("/fleet/act", []*http.Cookie{sc}); st != http.StatusSeeOther {
		t.Fatalf("the old cookie after logout: %d; want 303 to the login", st)
	}
}

// TestRateLimit: after UserFailures failed logins for a user, even the
// right password is refused until the window has passed; an address is
// refused after IPFailures, whichever users it tried.
func TestRateLimit(t *testing.T) {
	s := newSite(t, "")
	for i := 0; i < UserFailures; i++ {
		if st := s.login("alice", "guess", "").StatusCode; st != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, st)
		}
	}
	resp := s.login("alice", alicePW, "")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("right password after %d failures: %s, Retry-After %q; want 429 with Retry-After", UserFailures, resp.Status, resp.Header.Get("Retry-After"))
	}
	if st := s.login("bob", "bobpw", "").StatusCode; st != http.StatusSeeOther {
		t.Fatalf("another user meanwhile: %d; want 303", st)
	}
	s.clock.add(FailureWindow)
	if st := s.login("alice", alicePW, "").StatusCode; st != http.StatusSeeOther {
		t.Fatalf("after the window: %d; want 303", st)
	}

	// Many names from one address.
	for i := 0; i < IPFailures; i++ {
		if st := s.login("user"+string(rune('a'+i%26))+string(rune('a'+i/26)), "guess", "").StatusCode; st != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, st)
		}
	}
	if st := s.login("bob", "bobpw", "").StatusCode; st != http.StatusTooManyRequests {
		t.Fatalf("after %d failures from one address: %d; want 429", IPFailures, st)
	}
	s.clock.add(FailureWindow)
	if st := s.login("bob", "bobpw", "").StatusCode; st != http.StatusSeeOther {
		t.Fatalf("after the window: %d; want 303", st)
	}
}

// TestLoginPage: the form is labelled, carries its token and the next
// path (escaped), and is neither cached nor framed.
func TestLoginPage(t *testing.T) {
	s := newSite(t, "/fleet")
	st, body := s.get("/fleet/login?next=/fleet/nodes%3Fq%3D%22%3E%3Cscript%3E", nil)
	if st != 200 {
		t.Fatalf("status %d", st)
	}
	for _, want := range []string{`<label for="user">`, `<label for="password">`, `autocomplete="current-password"`, `name="csrf" value="`, `action="/fleet/login"`, `value="/fleet/nodes?q=&#34;&gt;&lt;script&gt;"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	resp := s.do("GET", "/fleet/login", nil, nil, nil)
	if resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("headers %v", resp.Header)
	}
}

// TestBasePath: the base path is checked where it enters.
func TestBasePath(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{"", "", ""}, {"/", "", ""}, {"/fleet", "/fleet", ""}, {"/a/b-c_d.e~/", "/a/b-c_d.e~", ""},
		{"fleet", "", "want /segment"}, {"/a//b", "", "empty"}, {"/a/../b", "", ".."}, {"/a b", "", "letters"}, {"/{x}", "", "letters"},
	}
	for _, tt := range tests {
		got, err := CleanBasePath(tt.in)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CleanBasePath(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
