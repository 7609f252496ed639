package web

import (
	"net/http"
)

// Admin is the login the admin actions need (package fleet/webauth: an
// htpasswd file of bcrypt hashes, a session cookie, CSRF tokens). Without
// one the view is read-only and has no action at all.
type Admin interface {
	// Routes adds the login and logout pages to mux.
	Routes(mux *http.ServeMux)
	// User returns the logged-in user of r.
	User(r *http.Request) (string, bool)
	// CSRFToken returns the token r's forms carry.
	CSRFToken(r *http.Request) string
	// Protect requires a login, and a valid CSRF token on a POST.
	Protect(h http.Handler) http.Handler
}

func (s *Server) adminRoutes() {
	s.o.Admin.Routes(s.mux)
}
