package webauth

import (
	"crypto/subtle"
	"net/http"
	"net/url"
)

// Protect lets through to h only requests of a logged-in user that are
// not forged by another site:
//   - no session: GET and HEAD are sent (303) to the login form, which
//     brings the user back; other methods get 401;
//   - every method but GET, HEAD and OPTIONS must come from this site
//     (Sec-Fetch-Site or Origin, when the browser sends them: else 403)
//     and carry the session's CSRF token, in the form field "csrf" or the
//     header X-CSRF-Token (compared in constant time; else 403).
//
// The body of a protected request is limited (MaxBody).
func (a *Auth) Protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := a.session(r)
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				pageHeaders(w)
				w.Header().Set("Location", a.base+"/login?next="+url.QueryEscape(localPath(a.base, r.URL.RequestURI())))
				w.WriteHeader(http.StatusSeeOther)
				return
			}
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		if !a.allowed(w, r, s) {
			return
		}
		h.ServeHTTP(w, r)
	})
}

// allowed checks a request of session s: a safe method passes; another
// must be same-origin and carry s's CSRF token. It answers a refused
// request itself (403) and returns false.
func (a *Auth) allowed(w http.ResponseWriter, r *http.Request, s *session) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if err := a.cop.Check(r); err != nil {
		a.log.Warn("web: cross-origin request refused", "user", s.user, "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"), "addr", addrOf(r))
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.maxBody)
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf") // parses the form (also multipart)
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf)) != 1 {
		a.log.Warn("web: request without the session's CSRF token refused", "user", s.user, "method", r.Method, "path", r.URL.Path, "addr", addrOf(r))
		http.Error(w, "missing or wrong CSRF token: reload the page", http.StatusForbidden)
		return false
	}
	return true
}
