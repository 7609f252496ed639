package webauth

import (
	"net/url"
	"path"
	"strings"
)

// localPath returns next if it is a path on this server under base (a
// redirect there cannot leave the site), else base + "/". Refused: other
// hosts and schemes ("https://evil", "//evil", "/\evil"), paths outside
// base (also through ".."), control characters, the login page itself.
func localPath(base, next string) string {
	home := base + "/"
	if next == "" || len(next) > 2000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return home
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return home
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	p := u.EscapedPath()
	if c := path.Clean(p); c != p && c+"/" != p {
		return home // dot segments or doubled slashes: not followed
	}
	if base != "" && p != base && !strings.HasPrefix(p, base+"/") {
		return home
	}
	if p == base+"/login" || p == base+"/logout" {
		return home
	}
	return next
}
