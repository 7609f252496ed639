package apkadb

import (
	"fmt"
	"strings"
)

// validName is apk's package name grammar (name_fromstring): an ASCII
// letter or digit, then letters, digits and "+-._".
func validName(s string) bool {
	if s == "" || len(s) > 255 || !isAlnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && !strings.ContainsRune("+-._", rune(s[i])) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// versionSuffixes are the suffixes apk_version_validate allows after "_".
var versionSuffixes = []string{"alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"}

// ValidVersion is apk's version grammar: numbers separated by dots, an
// optional letter, any number of _suffix[N], an optional ~hash and an
// optional -rN (e.g. 0.1.0-r1).
func ValidVersion(s string) bool {
	i, n := 0, len(s)
	digits := func() bool {
		j := i
		for i < n && isDigit(s[i]) {
			i++
		}
		return i > j
	}
	if !digits() {
		return false
	}
	for i < n && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < n && s[i] >= 'a' && s[i] <= 'z' {
		i++
	}
	for i < n && s[i] == '_' {
		i++
		ok := false
		for _, suf := range versionSuffixes {
			if strings.HasPrefix(s[i:], suf) {
				i += len(suf)
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
		digits()
	}
	if i < n && s[i] == '~' {
		i++
		j := i
		for i < n && (isDigit(s[i]) || s[i] >= 'a' && s[i] <= 'f') {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < n && s[i] == '-' {
		i++
		if i >= n || s[i] != 'r' {
			return false
		}
		i++
		if !digits() {
			return false
		}
	}
	return i == n
}

// validArch is an apk architecture: letters, digits, "_" and "-".
func validArch(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '_' && s[i] != '-' {
			return false
		}
	}
	return true
}

// validText is a one-line info value: printable, no control characters.
func validText(s string) error {
	if len(s) > 1024 {
		return fmt.Errorf("%d bytes, at most 1024", len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return fmt.Errorf("control character %#02x at byte %d", s[i], i)
		}
	}
	return nil
}

// dep is one parsed dependency: name, and a version with its match bits.
type dep struct {
	name, version string
	match         uint64
}

// parseDeps splits a space-separated dependency list ("libc
// luci-base>=25.0"), as apk_dep_split and apk_dep_parse read it. Conflicts
// ("!name") and fuzzy matches are not supported.
func parseDeps(s string) ([]dep, error) {
	var out []dep
	for _, f := range strings.Fields(s) {
		if strings.ContainsAny(f, ",!~") {
			return nil, fmt.Errorf("dependency %q: only name or name(=|<|>|<=|>=)version", f)
		}
		i := strings.IndexAny(f, "=<>")
		if i < 0 {
			if !validName(f) {
				return nil, fmt.Errorf("dependency %q: not a package name", f)
			}
			out = append(out, dep{name: f, match: verAny})
			continue
		}
		name, rest := f[:i], f[i:]
		var match uint64
		for len(rest) > 0 && strings.ContainsRune("=<>", rune(rest[0])) {
			switch rest[0] {
			case '=':
				match |= verEqual
			case '<':
				match |= verLess
			case '>':
				match |= verGreater
			}
			rest = rest[1:]
		}
		if !validName(name) || !ValidVersion(rest) || match == verLess|verGreater || match == verAny {
			return nil, fmt.Errorf("dependency %q: want name(=|<|>|<=|>=)version", f)
		}
		out = append(out, dep{name: name, version: rest, match: match})
	}
	return out, nil
}
