// Package webauth is the login of the fleet's web view (nodekeeper-fleet
// serve --admin): the users file (htpasswd-style, bcrypt only), a login
// form, server-side sessions behind a cookie, per-session CSRF tokens and
// a Protect wrapper for the handlers that act on the fleet. Without
// --admin the web view is read-only and none of this is mounted.
//
// The pieces: users.go reads and writes the users file; auth.go holds
// the sessions; login.go serves the form; protect.go guards the actions;
// ratelimit.go slows password guessing; redirect.go keeps the redirect
// after a login on the site.
package webauth

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/nodekeeper/nodekeeper/internal/safefile"
)

// MaxUsersFileBytes bounds the users file: a bcrypt line is under 100
// bytes, so a thousand users fit many times over.
const MaxUsersFileBytes = 1 << 20

// MaxPasswordBytes is the longest password bcrypt uses in full; a longer
// one is refused rather than silently cut.
const MaxPasswordBytes = 72

// NewCost is the bcrypt cost of the hashes SetPassword writes (2^12
// rounds: about a quarter of a second on a laptop, once per login).
const NewCost = 12

// Users are the accounts of a users file: a name and a bcrypt hash each.
type Users struct {
	hashes map[string][]byte
	// dummy is compared against for an unknown user, so that a wrong name
	// costs the time a wrong password does.
	dummyOnce sync.Once
	dummy     []byte
	cost      int
}

// ValidUser reports whether s is a user name as the users file accepts
// it: 1-32 ASCII letters, digits, '.', '_' or '-', starting with a letter
// or a digit.
func ValidUser(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// LoadUsers reads a users file: lines "user:$2y$..." (bcrypt, as
// `htpasswd -B` and `nodekeeper-fleet passwd` write them), blank lines and
// lines starting with '#'. Other hash kinds (MD5 "$apr1$", "{SHA}", crypt,
// plain text) are refused with the file and line. The file is opened
// without blocking and read through a limit; one that others than its
// owner and group may read or write is refused (its hashes can be guessed
// at offline; a writer could add an admin): chmod 600 or 640.
func LoadUsers(path string) (*Users, error) {
	b, fi, err := safefile.ReadFileInfo(path, MaxUsersFileBytes)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 || perm&0o020 != 0 {
		return nil, fmt.Errorf("users file %s: mode %04o lets others read or change it: chmod 600 %s", path, perm, path)
	}
	return parseUsers(path, b)
}

// errHashKind names a hash that is not bcrypt, never quoting it.
func errHashKind(h string) string {
	switch {
	case strings.HasPrefix(h, "$apr1$"), strings.HasPrefix(h, "$1$"):
		return "an MD5 hash"
	case strings.HasPrefix(h, "{SHA}"):
		return "a SHA-1 hash"
	case strings.HasPrefix(h, "$5$"), strings.HasPrefix(h, "$6$"):
		return "a SHA-crypt hash"
	case strings.HasPrefix(h, "$2x$"):
		return "a bcrypt hash of the buggy $2x$ kind"
	case strings.HasPrefix(h, "$"):
		return "a hash of an unknown kind"
	case len(h) == 13:
		return "a DES crypt hash or a plain-text password"
	}
	return "a plain-text password or an unknown hash"
}

func parseUsers(name string, b []byte) (*Users, error) {
	u := &Users{hashes: map[string][]byte{}}
	for i, line := range bytes.Split(b, []byte("\n")) {
		at := fmt.Sprintf("%s:%d", name, i+1)
		s := strings.TrimSuffix(string(line), "\r")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		user, hash, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("%s: want user:bcrypt-hash", at)
		}
		if !ValidUser(user) {
			return nil, fmt.Errorf("%s: user name %q: want 1-32 of letters, digits, '.', '_', '-', starting with a letter or digit", at, clip(user))
		}
		if _, dup := u.hashes[user]; dup {
			return nil, fmt.Errorf("%s: user %s a second time", at, user)
		}
		if !(strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")) {
			return nil, fmt.Errorf("%s: user %s: %s; only bcrypt is accepted (htpasswd -B, or nodekeeper-fleet passwd)", at, user, errHashKind(hash))
		}
		cost, err := bcrypt.Cost([]byte(hash))
		if err != nil || len(hash) != 60 {
			return nil, fmt.Errorf("%s: user %s: not a well-formed bcrypt hash", at, user)
		}
		u.hashes[user] = []byte(hash)
		u.cost = max(u.cost, cost)
	}
	if len(u.hashes) == 0 {
		return nil, fmt.Errorf("%s: no users", name)
	}
	return u, nil
}

// clip keeps an error short when it quotes a bad name.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Names returns the users' names.
func (u *Users) Names() []string {
	out := make([]string, 0, len(u.hashes))
	for n := range u.hashes {
		out = append(out, n)
	}
	return out
}

// has reports whether the user exists.
func (u *Users) has(user string) bool {
	_, ok := u.hashes[user]
	return ok
}

// Check reports whether password is user's. An unknown user costs a
// bcrypt comparison too, so the time taken does not tell which names
// exist; bcrypt's comparison of the results is constant-time.
func (u *Users) Check(user string, password []byte) bool {
	h, ok := u.hashes[user]
	if !ok {
		u.dummyOnce.Do(func() {
			u.dummy, _ = bcrypt.GenerateFromPassword([]byte("no such user"), max(u.cost, bcrypt.MinCost))
		})
		h = u.dummy
	}
	if len(password) == 0 || len(password) > MaxPasswordBytes {
		// Still spend the time: a refusal must not be quicker.
		bcrypt.CompareHashAndPassword(h, []byte("x"))
		return false
	}
	err := bcrypt.CompareHashAndPassword(h, password)
	return err == nil && ok
}
