package webauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "nk_session"

// loginCookie carries the login form's CSRF token before there is a
// session (a double-submit token: the form's field must equal it).
const loginCookie = "nk_login"

// maxSessions bounds the session store; past it, the oldest goes.
const maxSessions = 1000

// Auth is the login of one web server: its users, its sessions and its
// rules. Its methods are safe for concurrent use.
type Auth struct {
	users    *Users
	base     string // "" or "/prefix", without a trailing slash
	secure   bool
	lifetime time.Duration
	idle     time.Duration
	now      func() time.Time
	log      *slog.Logger
	cop      *http.CrossOriginProtection
	maxBody  int64
	limit    *limiter

	mu       sync.Mutex
	sessions map[[32]byte]*session
}

// A session is one login: its user, CSRF token and times.
type session struct {
	user     string
	csrf     string
	created  time.Time
	lastSeen time.Time
}

// An Option changes an Auth's defaults.
type Option func(*Auth)

// Secure marks the cookies Secure: set it when the browser reaches the
// server over TLS (directly, or through a reverse proxy that terminates
// TLS). Default: off, for a server on 127.0.0.1 over plain HTTP.
func Secure(on bool) Option { return func(a *Auth) { a.secure = on } }

// Lifetime bounds a session from its login (default 12h) and idle since
// its last request (default 1h); a zero duration keeps the default.
func Lifetime(total, idle time.Duration) Option {
	return func(a *Auth) {
		if total > 0 {
			a.lifetime = total
		}
		if idle > 0 {
			a.idle = idle
		}
	}
}

// Clock replaces time.Now (tests).
func Clock(now func() time.Time) Option { return func(a *Auth) { a.now = now } }

// Logger is where logins, failed logins and refused requests are logged
// (default slog.Default()).
func Logger(l *slog.Logger) Option { return func(a *Auth) { a.log = l } }

// TrustedOrigin accepts requests whose Origin header is origin
// ("https://fleet.example.net"), for a reverse proxy that rewrites the
// Host header; one that keeps it needs none.
func TrustedOrigin(origin string) Option {
	return func(a *Auth) {
		if err := a.cop.AddTrustedOrigin(origin); err != nil {
			panic(fmt.Sprintf("webauth: trusted origin %q: %v", origin, err))
		}
	}
}

// MaxBody bounds the body of a protected request (default 1 MiB).
func MaxBody(n int64) Option { return func(a *Auth) { a.maxBody = n } }

// CleanBasePath checks a path prefix as New takes it ("", "/" or
// "/fleet/view": segments of letters, digits, '.', '_', '~', '-', neither
// "." nor "..") and returns it without a trailing slash ("" for the root).
func CleanBasePath(s string) (string, error) {
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return "", nil
	}
	if !strings.HasPrefix(s, "/") || len(s) > 200 {
		return "", fmt.Errorf("base path %q: want /segment/... (at most 200 bytes)", clip(s))
	}
	for _, seg := range strings.Split(s[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("base path %q: empty, . or .. segment", clip(s))
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._~-", c) >= 0) {
				return "", fmt.Errorf("base path %q: want letters, digits, '.', '_', '~', '-' between slashes", clip(s))
			}
		}
	}
	return s, nil
}

// New returns the login of a server whose pages are under basePath (""
// or "/" at the root; "/fleet" behind a reverse proxy that forwards
// /fleet/...). basePath must pass CleanBasePath: New panics otherwise
// (check the flag where it enters).
func New(users *Users, basePath string, opts ...Option) *Auth {
	base, err := CleanBasePath(basePath)
	if err != nil {
		panic("webauth: " + err.Error())
	}
	if users == nil {
		panic("webauth: no users")
	}
	a := &Auth{users: users, base: base, lifetime: 12 * time.Hour, idle: time.Hour, now: time.Now,
		log: slog.Default(), cop: http.NewCrossOriginProtection(), maxBody: 1 << 20, sessions: map[[32]byte]*session{}}
	for _, o := range opts {
		o(a)
	}
	a.limit = newLimiter(a.now)
	return a
}

// cookiePath is the Path of the cookies: the base path, "/" at the root.
func (a *Auth) cookiePath() string {
	if a.base == "" {
		return "/"
	}
	return a.base
}

// randomToken is 256 random bits, base64url.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validToken reports whether s looks like a token randomToken makes.
func validToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// key is how a session id is kept server-side: its SHA-256, so that the
// store's lookups never compare secrets byte by byte.
func key(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// session returns the request's live session (nil: none), touching it.
func (a *Auth) session(r *http.Request) *session {
	c, err := r.Cookie(SessionCookie)
	if err != nil || !validToken(c.Value) {
		return nil
	}
	k := key(c.Value)
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[k]
	if s == nil {
		return nil
	}
	if now.Sub(s.created) >= a.lifetime || now.Sub(s.lastSeen) >= a.idle {
		delete(a.sessions, k)
		return nil
	}
	s.lastSeen = now
	return s
}

// User returns the user logged in with the request's session cookie.
func (a *Auth) User(r *http.Request) (string, bool) {
	s := a.session(r)
	if s == nil {
		return "", false
	}
	return s.user, true
}

// CSRFToken returns the request's session's CSRF token, for the hidden
// field "csrf" of every form that acts (or the X-CSRF-Token header of a
// script's request); "" without a session.
func (a *Auth) CSRFToken(r *http.Request) string {
	s := a.session(r)
	if s == nil {
		return ""
	}
	return s.csrf
}

// newSession stores a session for user and returns its id.
func (a *Auth) newSession(user string) string {
	id := randomToken()
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, s := range a.sessions {
		if now.Sub(s.created) >= a.lifetime || now.Sub(s.lastSeen) >= a.idle {
			delete(a.sessions, k)
		}
	}
	if len(a.sessions) >= maxSessions {
		var oldest [32]byte
		var t time.Time
		for k, s := range a.sessions {
			if t.IsZero() || s.lastSeen.Before(t) {
				oldest, t = k, s.lastSeen
			}
		}
		delete(a.sessions, oldest)
	}
	a.sessions[key(id)] = &session{user: user, csrf: randomToken(), created: now, lastSeen: now}
	return id
}

// endSession removes the request's session, if any.
func (a *Auth) endSession(r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, key(c.Value))
		a.mu.Unlock()
	}
}

// cookie is a cookie of this server with the attributes every one has.
func (a *Auth) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: a.cookiePath(), MaxAge: maxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode}
}
