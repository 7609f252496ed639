package webauth

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"strconv"
)

// loginPage is the login form: labelled fields, the browser's password
// manager hints, the error announced to screen readers, readable at 360
// px wide. It loads nothing: no script, no style sheet, no image.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · nodekeeper fleet</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;padding:1rem;line-height:1.4}
main{max-width:22rem;margin:2rem auto}
label{display:block;margin-top:1rem;font-weight:600}
input{display:block;width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;margin-top:.25rem}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem}
input:focus,button:focus{outline:3px solid #1a5fb4;outline-offset:2px}
.error{border-left:4px solid #a51d2d;padding:.5rem .75rem;background:#fbe9eb}
</style>
</head>
<body>
<main>
<h1>Sign in</h1>
<p>Sign in to act on the fleet: push a node's state, start or stop a rollout. Looking needs no sign-in.</p>
{{if .Error}}<p class="error" role="alert" id="login-error"><strong>Error:</strong> {{.Error}}</p>{{end}}
{{if .User}}<p>Signed in as <strong>{{.User}}</strong>.</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="next" value="{{.Next}}">
<label for="user">User name</label>
<input id="user" name="user" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="32" value="{{.Name}}"{{if .Error}} aria-describedby="login-error"{{end}} autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="72">
<button type="submit">Sign in</button>
</form>
<p><a href="{{.Home}}">Back to the fleet</a></p>
</main>
</body>
</html>
`))

// loginData fills loginPage.
type loginData struct {
	Action, CSRF, Next, Name, Error, User, Home string
}

// Routes mounts the login on mux: GET {base}/login (the form), POST
// {base}/login (checks the password, starts a session, redirects to the
// form's "next" path if it is under base) and POST {base}/logout (needs
// the session's CSRF token; ends the session).
func (a *Auth) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+a.base+"/login", a.loginForm)
	mux.HandleFunc("POST "+a.base+"/login", a.login)
	mux.HandleFunc("POST "+a.base+"/logout", a.logout)
}

// pageHeaders are set on the login page and its answers: not cached, not
// framed, no referrer, nothing loaded.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// render writes the form with a login CSRF token (also set as a cookie:
// the POST must carry both, equal).
func (a *Auth) render(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	// The token of a form open in another tab stays good.
	tok := randomToken()
	if c, err := r.Cookie(loginCookie); err == nil && validToken(c.Value) {
		tok = c.Value
	}
	http.SetCookie(w, a.cookie(loginCookie, tok, 3600))
	d.Action, d.CSRF, d.Home = a.base+"/login", tok, a.base+"/"
	if u, ok := a.User(r); ok {
		d.User = u
	}
	pageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := loginPage.Execute(w, d); err != nil {
		a.log.Warn("web login: page", "err", err)
	}
}

func (a *Auth) loginForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, loginData{Next: localPath(a.base, r.URL.Query().Get("next"))})
}

func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	addr := addrOf(r)
	if err := a.cop.Check(r); err != nil {
		a.log.Warn("web login: cross-origin request refused", "addr", addr, "origin", r.Header.Get("Origin"))
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	next := localPath(a.base, r.PostForm.Get("next"))
	c, err := r.Cookie(loginCookie)
	if err != nil || !validToken(c.Value) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
		a.log.Warn("web login: form without its CSRF token", "addr", addr)
		a.render(w, r, http.StatusForbidden, loginData{Next: next, Error: "the form had expired or came from elsewhere: please sign in again"})
		return
	}
	user, password := r.PostForm.Get("user"), r.PostForm.Get("password")
	valid := ValidUser(user)
	known := valid && a.users.has(user)
	if blocked, wait := a.limit.blocked(user, known, addr); blocked {
		secs := int(wait.Seconds()) + 1
		a.log.Warn("web login: refused, too many failed attempts", "user", logName(user, valid), "addr", addr, "retry_after_s", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		a.render(w, r, http.StatusTooManyRequests, loginData{Next: next, Name: nameIf(user, valid),
			Error: "too many failed attempts: try again in " + strconv.Itoa((secs+59)/60) + " minutes"})
		return
	}
	if !a.users.Check(nameIf(user, valid), []byte(password)) || !valid {
		a.limit.fail(user, known, addr)
		a.log.Warn("web login: failed", "user", logName(user, valid), "known", known, "addr", addr)
		a.render(w, r, http.StatusUnauthorized, loginData{Next: next, Name: nameIf(user, valid), Error: "wrong user name or password"})
		return
	}
	a.limit.succeed(user)
	a.endSession(r) // a new id at every login: no session fixation
	id := a.newSession(user)
	http.SetCookie(w, a.cookie(SessionCookie, id, int(a.lifetime.Seconds())))
	http.SetCookie(w, a.cookie(loginCookie, "", -1))
	a.log.Info("web login", "user", user, "addr", addr)
	pageHeaders(w)
	w.Header().Set("Location", next)
	w.WriteHeader(http.StatusSeeOther)
}

// nameIf is user if it is a valid name, else "".
func nameIf(user string, valid bool) string {
	if valid {
		return user
	}
	return ""
}

// logName is how a login's user name is logged: a name outside the
// grammar is not repeated into the log.
func logName(user string, valid bool) string {
	if valid {
		return user
	}
	return "(invalid name)"
}

// logout ends the session (a request without one has nothing to end and
// is sent home too); it needs the session's CSRF token, as every action.
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	if s := a.session(r); s != nil {
		if !a.allowed(w, r, s) {
			return
		}
		a.log.Info("web logout", "user", s.user, "addr", addrOf(r))
		a.endSession(r)
	}
	http.SetCookie(w, a.cookie(SessionCookie, "", -1))
	pageHeaders(w)
	w.Header().Set("Location", a.base+"/")
	w.WriteHeader(http.StatusSeeOther)
}
