package uci

// Name rules of libuci: section and option names are [A-Za-z0-9_]+, package
// names also allow '-', section types any printable ASCII but space.

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func validStr(s string, name, pkg bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '_' || c == '-' && pkg {
			continue
		}
		if name || c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// ValidName reports whether s is a valid section or option name.
func ValidName(s string) bool { return validStr(s, true, false) }

// ValidType reports whether s is a valid section type.
func ValidType(s string) bool { return validStr(s, false, false) }

// ValidPackage reports whether s is a valid package (config file) name.
func ValidPackage(s string) bool { return validStr(s, true, true) }

// validText reports whether a value is acceptable: no control characters
// other than tab, CR and LF (and, as in C, no NUL).
func validText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 32 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// djbHash is libuci's hash for anonymous section names (Bernstein's, masked
// to 31 bits).
func djbHash(s string) uint32 {
	h := uint32(5381)
	for i := 0; i < len(s); i++ {
		h = h<<5 + h + uint32(int32(int8(s[i])))
	}
	return h & 0x7fffffff
}
