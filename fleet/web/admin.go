package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/webaction"
)

// Admin is the login the admin actions need (package fleet/webauth: an
// htpasswd file of bcrypt hashes, a session cookie, CSRF tokens;
// *webauth.Auth is one). Without one the view is read-only and has no
// action at all.
type Admin interface {
	// Routes adds the login and logout pages to mux, under the base path.
	Routes(mux *http.ServeMux)
	// User returns the logged-in user of r.
	User(r *http.Request) (string, bool)
	// CSRFToken returns the token r's forms carry (field "csrf").
	CSRFToken(r *http.Request) string
	// Protect requires a login, and a same-origin request with a valid
	// CSRF token for anything but GET and HEAD.
	Protect(h http.Handler) http.Handler
}

// Actions are what an admin may do (package fleet/webaction; the
// server's process holds the signing keys, the browser only asks).
type Actions interface {
	PushDocument(ctx context.Context, user, node string, doc []byte) (*webaction.Pushed, error)
	SetNodeState(ctx context.Context, user, node, state string) (*webaction.Pushed, error)
	StartRollout(ctx context.Context, user, root string, o webaction.RolloutOptions) (*webaction.Rollout, error)
	StopRollout(ctx context.Context, user string) error
	Rollout() *webaction.Rollout
}

// actionTimeout bounds one action (a push waits for the broker's
// snapshot and acknowledgement; a rollout runs on in the background).
const actionTimeout = time.Minute

// adminRoutes adds the actions, each behind the login.
func (s *Server) adminRoutes() {
	p := s.o.Admin.Protect
	s.mux.Handle("POST /node/{id}/state", p(http.HandlerFunc(s.setNodeState)))
	s.mux.Handle("POST /node/{id}/document", p(http.HandlerFunc(s.pushDocument)))
	s.mux.Handle("POST /rollouts/start", p(http.HandlerFunc(s.startRollout)))
	s.mux.Handle("POST /rollouts/stop", p(http.HandlerFunc(s.stopRollout)))
}

// result answers an action with a page saying what came of it.
func (s *Server) result(w http.ResponseWriter, r *http.Request, status int, title string, lines []string, back string) {
	s.render(w, r, "result", status, page{Title: title, Data: struct {
		Lines []string
		Back  string
	}{lines, s.base(r) + back}})
}

// actionError maps an action's error to a status.
func actionError(err error) int {
	switch {
	case errors.Is(err, webaction.ErrRolloutRunning), errors.Is(err, webaction.ErrNoRollout):
		return http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusBadRequest
}

func (s *Server) user(r *http.Request) string {
	u, _ := s.o.Admin.User(r)
	return u
}

func pushedLines(p *webaction.Pushed) []string {
	var out []string
	if p.Skipped != "" {
		out = append(out, "Not pushed: "+p.Skipped)
	} else {
		out = append(out, fmt.Sprintf("Pushed to %s as seq %d.", p.Node, p.Seq))
	}
	for _, c := range p.Changes {
		out = append(out, "change: "+c)
	}
	for _, w := range p.Warnings {
		out = append(out, "⚠ "+w)
	}
	return out
}

func (s *Server) setNodeState(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	back := "/node/" + id
	if !dir.ValidNodeID(id) {
		s.result(w, r, http.StatusBadRequest, "Not done", []string{"No such node."}, "/")
		return
	}
	state := r.PostFormValue("state")
	switch state {
	case "production", "safe", "debug":
	default:
		s.result(w, r, http.StatusBadRequest, "Not done", []string{"A node state is production, safe or debug."}, back)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	p, err := s.o.Actions.SetNodeState(ctx, s.user(r), id, state)
	if err != nil {
		s.result(w, r, actionError(err), "Not done", []string{err.Error()}, back)
		return
	}
	s.result(w, r, http.StatusOK, "Node state "+state+" for "+id, pushedLines(p), back)
}

func (s *Server) pushDocument(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	back := "/node/" + id
	if !dir.ValidNodeID(id) {
		s.result(w, r, http.StatusBadRequest, "Not done", []string{"No such node."}, "/")
		return
	}
	doc := strings.TrimSpace(r.PostFormValue("document"))
	if doc == "" {
		s.result(w, r, http.StatusBadRequest, "Not done", []string{"The document is empty."}, back)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	p, err := s.o.Actions.PushDocument(ctx, s.user(r), id, []byte(doc))
	if err != nil {
		s.result(w, r, actionError(err), "Not done", []string{err.Error()}, back)
		return
	}
	s.result(w, r, http.StatusOK, "Document for "+id, pushedLines(p), back)
}

func (s *Server) startRollout(w http.ResponseWriter, r *http.Request) {
	if s.o.FleetDir == "" {
		s.result(w, r, http.StatusBadRequest, "Not done", []string{"The view was started without a fleet directory: there is nothing to roll out."}, "/rollouts")
		return
	}
	num := func(name string, def, lo, hi float64) (float64, bool) {
		v := strings.TrimSpace(r.PostFormValue(name))
		if v == "" {
			return def, true
		}
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil && f >= lo && f <= hi
	}
	canary, ok1 := num("canary", 1, 1, 1e6)
	growth, ok2 := num("growth", 2, 1, 100)
	soak, ok3 := num("soak", 60, 0, 86400)
	maxFailed, ok4 := num("max_failed", 10, 0, 99)
	if !ok1 || !ok2 || !ok3 || !ok4 || canary != float64(int(canary)) {
		s.result(w, r, http.StatusBadRequest, "Not done", []string{"Canary: a whole number of nodes, at least 1; growth: 1 to 100; soak: 0 to 86400 seconds; max failed: 0 to 99 percent."}, "/rollouts")
		return
	}
	o := webaction.RolloutOptions{Canary: int(canary), Growth: growth, Soak: time.Duration(soak * float64(time.Second)),
		MaxFailed: maxFailed / 100, WaveTimeout: 5 * time.Minute, Resume: r.PostFormValue("resume") == "1", TakeOver: r.PostFormValue("take_over") == "1"}
	if soak == 0 {
		o.Soak = -1
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	if _, err := s.o.Actions.StartRollout(ctx, s.user(r), s.o.FleetDir, o); err != nil {
		s.result(w, r, actionError(err), "Not started", []string{err.Error()}, "/rollouts")
		return
	}
	http.Redirect(w, r, s.base(r)+"/rollouts", http.StatusSeeOther)
}

func (s *Server) stopRollout(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	if err := s.o.Actions.StopRollout(ctx, s.user(r)); err != nil {
		s.result(w, r, actionError(err), "Not stopped", []string{err.Error()}, "/rollouts")
		return
	}
	http.Redirect(w, r, s.base(r)+"/rollouts", http.StatusSeeOther)
}
