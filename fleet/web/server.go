// Package web is the fleet's live web view (nodekeeper-fleet serve):
// pages rendered on the server with html/template from a Model fed by the
// nodes' MQTT topics, inline SVG charts, a little plain JavaScript that
// takes live updates from server-sent events, and everything embedded in
// the binary (no CDN: it works on a mesh without the internet). It is
// read-only unless an Admin is given.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the server.
type Options struct {
	// BasePath is the path prefix the view is served under ("/fleet"),
	// when a reverse proxy passes the prefix on. Without it, a proxy that
	// strips the prefix says it in X-Forwarded-Prefix.
	BasePath string
	// TileURL is a map tile URL template ({z}, {x}, {y}); empty: the map
	// is drawn without a base map (a mesh has no internet).
	TileURL string
	// Tick is how often live updates are sent at most (default 1 s).
	Tick time.Duration
	// Admin is the login of the admin actions; nil: read-only. It must
	// have been made for BasePath.
	Admin Admin
	// Actions are what a logged-in admin may do (with Admin).
	Actions Actions
	// FleetDir is the fleet directory a rollout started here rolls out.
	FleetDir string
	// Prefix is the nodes' topic prefix, as the pages name topics.
	Prefix string
	Logger *slog.Logger
}

// Server serves the pages.
type Server struct {
	m     *Model
	o     Options
	pages map[string]*template.Template
	mux   *http.ServeMux
	// handler is mux under the base path, with the login's routes.
	handler http.Handler
	// streams counts the live connections.
	streams atomic.Int64
}

// basePathRe is what a base path may be: path segments of unreserved
// characters.
var basePathRe = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+){0,8}$`)

// ValidBasePath reports whether p may be a base path ("" or "/a/b").
func ValidBasePath(p string) bool {
	return len(p) <= 200 && basePathRe.MatchString(p) && !strings.Contains(p+"/", "/./") && !strings.Contains(p+"/", "/../")
}

// tileURLRe: an http(s) URL template with {z}, {x} and {y}.
var tileURLRe = regexp.MustCompile(`^https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~{}%/@,;=+-]*)?(\?[A-Za-z0-9._~{}%&=,;@+-]*)?$`)

// ValidTileURL reports whether u is a tile URL template the map takes.
func ValidTileURL(u string) bool {
	return len(u) <= 300 && tileURLRe.MatchString(u) && strings.Contains(u, "{z}") && strings.Contains(u, "{x}") && strings.Contains(u, "{y}")
}

// New returns the server of m's view.
func New(m *Model, o Options) (*Server, error) {
	if !ValidBasePath(o.BasePath) {
		return nil, fmt.Errorf("base path %q: want /SEGMENT[/SEGMENT...] of letters, digits, '.', '_', '~', '-'", o.BasePath)
	}
	if o.TileURL != "" && !ValidTileURL(o.TileURL) {
		return nil, fmt.Errorf("tile URL %q: want http(s)://HOST/PATH with {z}, {x} and {y}", o.TileURL)
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Prefix == "" {
		o.Prefix = m.prefix
	}
	s := &Server{m: m, o: o, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	if o.Actions != nil && o.Admin == nil {
		return nil, fmt.Errorf("web: admin actions without a login")
	}
	for _, p := range []string{"nodes", "node", "slices", "events", "rollouts", "map", "error", "result"} {
		t, err := template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", p, err)
		}
		s.pages[p] = t
	}
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	s.mux.HandleFunc("GET /{$}", s.nodesPage)
	s.mux.HandleFunc("GET /node/{id}", s.nodePage)
	s.mux.HandleFunc("GET /slices", s.slicesPage)
	s.mux.HandleFunc("GET /slice/{name}", s.slicesPage)
	s.mux.HandleFunc("GET /events", s.eventsPage)
	s.mux.HandleFunc("GET /rollouts", s.rolloutsPage)
	s.mux.HandleFunc("GET /map", s.mapPage)
	s.mux.HandleFunc("GET /stream", s.stream)
	s.mux.HandleFunc("GET /api/nodes", s.apiNodes)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	if o.Actions != nil {
		s.adminRoutes()
	}
	var h http.Handler = s.mux
	if o.BasePath != "" {
		outer := http.NewServeMux()
		outer.Handle(o.BasePath+"/", http.StripPrefix(o.BasePath, s.mux))
		outer.Handle(o.BasePath, http.RedirectHandler(o.BasePath+"/", http.StatusMovedPermanently))
		h = outer
		if o.Admin != nil {
			o.Admin.Routes(outer) // its paths carry the base
		}
	} else if o.Admin != nil {
		o.Admin.Routes(s.mux)
	}
	s.handler = secure(h, o.TileURL)
	return s, nil
}

// Handler returns the view's handler, under the base path if one is set.
func (s *Server) Handler() http.Handler { return s.handler }

// base is the path prefix of the request's links.
func (s *Server) base(r *http.Request) string {
	if s.o.BasePath != "" {
		return s.o.BasePath
	}
	if p := strings.TrimRight(r.Header.Get("X-Forwarded-Prefix"), "/"); p != "" && ValidBasePath(p) {
		return p
	}
	return ""
}

// secure sets the headers every answer carries: no script or style
// from elsewhere, no framing.
func secure(h http.Handler, tileURL string) http.Handler {
	img := "'self' data:"
	if tileURL != "" {
		if i := strings.Index(tileURL[8:], "/"); i >= 0 {
			img += " " + tileURL[:8+i]
		} else {
			img += " " + tileURL
		}
		img = strings.NewReplacer("{z}", "*", "{x}", "*", "{y}", "*").Replace(img)
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + img + "; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Base    string
	View    string // nodes, node, slices, events, rollouts, map
	Title   string
	Summary Summary
	Now     time.Time
	// StepLabel is the history's span ("60 min") and Step one point's.
	StepLabel, Step string
	Prefix          string
	Admin           bool
	User            string
	CSRF            string
	// CanAct: an admin is logged in and actions are on.
	CanAct bool
	// Path is the page's own path and query, under the base (the
	// login's way back).
	Path string
	// Stream is the query of the page's live updates.
	Stream string
	Data   any
}

// render renders page p; with the X-Fragment header, only its content
// (the live refresh of a page).
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, status int, p page) {
	p.Base = s.base(r)
	p.View = name
	p.Summary = s.m.Summary()
	p.Now = s.m.now()
	p.Step = s.m.step.String()
	p.StepLabel = spanLabel(s.m.step * Points)
	p.Prefix = s.o.Prefix
	if s.o.Admin != nil {
		p.Admin = true
		p.User, _ = s.o.Admin.User(r)
		p.CSRF = s.o.Admin.CSRFToken(r)
		p.CanAct = p.User != "" && s.o.Actions != nil
		p.Path = p.Base + r.URL.RequestURI()
	}
	t := s.pages[name]
	what := "layout"
	if r.Header.Get("X-Fragment") == "1" {
		what = "content"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, what, p); err != nil {
		s.o.Logger.Error("web: render", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Accept-Encoding")
	// A thousand rows are a megabyte of HTML: compressed, a tenth, which
	// a mesh link carries much sooner.
	if buf.Len() > 8<<10 && acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		zw.Write(buf.Bytes())
		zw.Close()
		return
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if enc, q, _ := strings.Cut(strings.TrimSpace(part), ";"); enc == "gzip" && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

// notFound answers with the error page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, what string) {
	s.render(w, r, "error", http.StatusNotFound, page{Title: "Not found", Data: what})
}

// spanLabel prints a duration as minutes or seconds.
func spanLabel(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d s", int(d/time.Second))
}
