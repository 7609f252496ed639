package webauth

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// The limits on failed logins: past UserFailures failures for one user,
// or IPFailures from one address (an IPv6 /64), within FailureWindow, a
// login is refused without checking the password until the window of the
// first failure has passed. A success clears the user's count.
//
// Behind a reverse proxy every request comes from the proxy's address:
// the per-address limit then counts everyone at once, and the per-user
// limit is what slows a guesser down.
const (
	UserFailures  = 10
	IPFailures    = 30
	FailureWindow = 15 * time.Minute
)

// maxAddrs bounds the per-address counts kept; past it they are
// forgotten (the per-user counts, bounded by the users file, stay).
const maxAddrs = 10000

// A limiter counts failed logins per user and per address.
type limiter struct {
	now   func() time.Time
	mu    sync.Mutex
	users map[string]*failures
	addrs map[netip.Prefix]*failures
}

// failures are the failures since first.
type failures struct {
	first time.Time
	n     int
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, users: map[string]*failures{}, addrs: map[netip.Prefix]*failures{}}
}

// addrOf is the request's client address as the limit counts it: the
// address, or its /64 for IPv6 (one host may hold a whole /64).
func addrOf(r *http.Request) netip.Prefix {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

// live returns f if it is within the window at now.
func live(f *failures, now time.Time) *failures {
	if f == nil || now.Sub(f.first) >= FailureWindow {
		return nil
	}
	return f
}

// blocked reports whether a login for user (known: in the users file)
// from addr is refused now, and for how long.
func (l *limiter) blocked(user string, known bool, addr netip.Prefix) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	if f := live(l.users[user], now); known && f != nil && f.n >= UserFailures {
		wait = max(wait, FailureWindow-now.Sub(f.first))
	}
	if f := live(l.addrs[addr], now); f != nil && f.n >= IPFailures {
		wait = max(wait, FailureWindow-now.Sub(f.first))
	}
	return wait > 0, wait
}

// fail counts a failed login.
func (l *limiter) fail(user string, known bool, addr netip.Prefix) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	count := func(f *failures) *failures {
		if f = live(f, now); f == nil {
			f = &failures{first: now}
		}
		f.n++
		return f
	}
	if known {
		l.users[user] = count(l.users[user])
	}
	if _, ok := l.addrs[addr]; !ok && len(l.addrs) >= maxAddrs {
		for a, f := range l.addrs {
			if live(f, now) == nil {
				delete(l.addrs, a)
			}
		}
		if len(l.addrs) >= maxAddrs {
			clear(l.addrs)
		}
	}
	l.addrs[addr] = count(l.addrs[addr])
}

// succeed clears the user's failures (not the address's: one good
// password must not buy another round of guesses at the others).
func (l *limiter) succeed(user string) {
	l.mu.Lock()
	delete(l.users, user)
	l.mu.Unlock()
}
