package container

import (
	"fmt"
	"net/netip"
)

// The grammar of the strings of a sliver spec, one rule per field
// (docs/slivers.md). Spec.validate applies them; every way a spec comes in
// (a desired document, the CLI, the control socket) goes through it before
// a string reaches a file, a path or a command line. Names are validName,
// interface names netcfg.CheckLinkName; the rest is here.

// maxURLLen bounds a template or data archive URL or path.
const maxURLLen = 1024

// maxAddrLen bounds an address with its prefix length (an IPv6 address
// is at most 45 bytes, "/128" 4 more).
const maxAddrLen = 64

// maxTypeLen bounds an archive's informational type.
const maxTypeLen = 32

// Upper bounds of the limits: beyond any router, and far from overflow
// when the cgroup writer scales them.
const (
	maxBytes         = 1 << 62 // memory and disk: 4 EiB
	maxCPUMillicores = 1 << 20 // 1048 cores
	maxPids          = 1 << 22 // the kernel's PID_MAX_LIMIT
)

// checkText checks the characters of an archive's URL or path (1 to
// maxURLLen bytes of printable ASCII without space, parseSource then
// checks its form) or, with typ, an archive's type (up to maxTypeLen of
// A-Z, a-z, 0-9, '.', '_', '+' and '-'). A URL goes to a download tool as
// one argument of its own, never through a shell.
func checkText(what, s string, typ bool) error {
	max := maxURLLen
	if typ {
		max = maxTypeLen
	}
	ok := len(s) <= max
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= '!' && c <= '~'
		if typ {
			ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '+' || c == '-'
		}
	}
	if !ok {
		if typ {
			return fmt.Errorf("%s %q: want up to %d of A-Z a-z 0-9 . _ + -", what, truncate(s, 40), max)
		}
		return fmt.Errorf("%s %q: want up to %d bytes of printable ASCII without space", what, truncate(s, 100), max)
	}
	return nil
}

// checkAddr checks an interface address: an IPv4 or IPv6 address (v6 says
// which), with a prefix length when prefix is set, in the family asked
// for, without a zone (ParseAddr takes any text after '%' as one).
func checkAddr(what, val string, v6, prefix bool) error {
	var addr netip.Addr
	if len(val) > maxAddrLen { // netip's errors quote it whole
		return fmt.Errorf("%s %q: longer than any address", what, truncate(val, 60))
	}
	if prefix {
		p, err := netip.ParsePrefix(val)
		if err != nil {
			return fmt.Errorf("%s %q: want address/prefix-length: %w", what, val, err)
		}
		addr = p.Addr()
	} else {
		var err error
		if addr, err = netip.ParseAddr(val); err != nil {
			return fmt.Errorf("%s %q: %w", what, val, err)
		}
	}
	if addr.Zone() != "" {
		return fmt.Errorf("%s %q: an address with a zone", what, val)
	}
	if addr.Is6() != v6 || addr.Is4In6() {
		return fmt.Errorf("%s %q: wrong address family", what, val)
	}
	return nil
}
