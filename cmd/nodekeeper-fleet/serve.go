package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/web"
	"github.com/nodekeeper/nodekeeper/fleet/webaction"
	"github.com/nodekeeper/nodekeeper/fleet/webauth"
	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/wire"
)

func init() {
	register(command{name: "serve", summary: "a live web view of the fleet (nodes, slices, events, rollouts, map)", run: runServe})
}

const serveUsage = `usage: nodekeeper-fleet serve --listen ADDR --broker URL [DIR] [flags]
Serves a live web view of the fleet, fed only by the nodes' MQTT topics:
the nodes table, each node's telemetry charts and state, the slices across
nodes, the events, the running rollout and a map. With DIR, each node's
drift from the plan and the groups. Read-only unless --admin: then admins
who log in (--users, an htpasswd file of bcrypt hashes: passwd) may push a
node state or a document and start or stop a rollout of DIR, signed here
with the -k keys, which never leave this machine (docs/web.md).`

func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var bf brokerFlags
	bf.register(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve on (HOST:PORT)")
	basePath := fs.String("base-path", "", "path prefix the view is served under behind a reverse proxy (/fleet); without it a proxy may say it in X-Forwarded-Prefix")
	tileURL := fs.String("tile-url", "", "map tiles (https://tile.example/{z}/{x}/{y}.png); default: no base map")
	step := fs.Duration("history-step", time.Minute, "one point of history per this long (60 of them are kept)")
	planEvery := fs.Duration("plan-every", 15*time.Second, "with DIR: render the plan again this often when something changed")
	admin := fs.Bool("admin", false, "let logged-in admins act: push a node state or a document, start and stop a rollout of DIR")
	usersFile := fs.String("users", "", "with --admin: the users file (user:bcrypt-hash a line; nodekeeper-fleet passwd writes it)")
	https := fs.Bool("https", false, "with --admin: the view is reached over HTTPS (a TLS proxy): secure cookies")
	var keyFiles listFlag
	fs.Var(&keyFiles, "k", "with --admin: an admin's usign secret key; the first signs rollout records, all sign documents (repeatable)")
	pos, st, done := parseFlags(fs, serveUsage, args, stderr)
	if done {
		return st
	}
	if len(pos) > 1 || bf.url == "" {
		fmt.Fprintln(stderr, serveUsage)
		return 2
	}
	if *step < time.Second || *step > time.Hour || *planEvery < time.Second {
		fmt.Fprintln(stderr, "nodekeeper-fleet serve: --history-step between 1s and 1h, --plan-every at least 1s")
		return 2
	}
	if !web.ValidBasePath(*basePath) {
		fmt.Fprintf(stderr, "nodekeeper-fleet serve: --base-path %q: want /SEGMENT[/SEGMENT...]\n", *basePath)
		return 2
	}
	if *admin != (*usersFile != "") || *admin != (len(keyFiles) > 0) {
		fmt.Fprintln(stderr, "nodekeeper-fleet serve: --admin needs --users FILE and -k ADMIN.sec, and they need --admin")
		return 2
	}
	if *tileURL != "" && !web.ValidTileURL(*tileURL) {
		fmt.Fprintf(stderr, "nodekeeper-fleet serve: --tile-url %q: want http(s)://HOST/PATH with {z}, {x} and {y}\n", *tileURL)
		return 2
	}
	trusted, err := bf.trusted()
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
		return 1
	}
	enrolled, err := bf.enrolment()
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
		return 1
	}
	var f *dir.Fleet
	if len(pos) == 1 {
		if f, err = loadDir(pos[0], stderr); err != nil {
			return 1
		}
	}
	// Most of a large fleet's heap is the view's history, which lives long:
	// collecting at half the default growth keeps the peak near 1.5 times
	// what is live (GOGC in the environment overrides).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m := web.NewModel(web.ModelOptions{Prefix: bf.prefix, Step: *step, Trusted: trusted, Enrolled: enrolled, Fleet: f})
	wo := web.Options{BasePath: *basePath, TileURL: *tileURL, Logger: log}
	var users *webauth.Users
	var keys []wire.SecretKey
	if *admin {
		if users, err = webauth.LoadUsers(*usersFile); err != nil {
			fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
			return 1
		}
		if keys, err = readKeys(keyFiles); err != nil {
			fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
			return 1
		}
		wo.Admin = webauth.New(users, *basePath, webauth.Secure(*https), webauth.Logger(log))
		if len(pos) == 1 {
			wo.FleetDir = pos[0]
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
		return 1
	}
	dctx, cancel := context.WithTimeout(ctx, bf.timeout)
	c, err := bf.dial(dctx)
	cancel()
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
		return 1
	}
	defer c.Close()
	if *admin {
		acts, err := webaction.New(webaction.Config{Conn: c, Keys: keys, Trusted: trusted, Enrolled: enrolled, Quiet: bf.quiet,
			CheckPolicies: dir.CheckPoliciesWith(policy.Tools{}), Log: log})
		if err != nil {
			ln.Close()
			fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
			return 1
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			acts.Close(cctx)
		}()
		wo.Actions = acts
	}
	srv, err := web.New(m, wo)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
		return 1
	}
	sctx, scancel := context.WithTimeout(ctx, bf.timeout)
	err = m.Follow(sctx, c)
	scancel()
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
		return 1
	}
	if f != nil {
		go func() {
			t := time.NewTicker(*planEvery)
			defer t.Stop()
			m.RefreshPlan()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					m.RefreshPlan()
				}
			}
		}()
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	fmt.Fprintf(stdout, "nodekeeper-fleet: serving the fleet view on http://%s%s/\n", ln.Addr(), *basePath)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
		return 0
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "nodekeeper-fleet serve: %v\n", err)
			return 1
		}
		return 0
	}
}
