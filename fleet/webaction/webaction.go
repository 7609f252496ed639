// Package webaction is what the fleet's web view does when an admin acts
// (nodekeeper-fleet serve --admin, behind package webauth's login): push
// a document or a node state to one node, start a rollout of the fleet
// directory, stop it. It is the fleet tool's own code (fleet/deliver,
// fleet/rollout) driven by the server's process, which holds the admins'
// signing keys: they never leave that machine, and the browser only says
// what to do.
//
// Actions are logged with the web user who asked; a rollout's record
// names them (WEBUSER@HOST (web)).
package webaction

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Config is what the server's process holds.
type Config struct {
	// Conn is the server's broker connection.
	Conn *broker.Conn
	// Keys are the admins' secret keys: every one signs each document
	// (nodes with remote.threshold N need N); the first signs rollout
	// records. At least one.
	Keys []wire.SecretKey
	// Trusted are other admins' public keys whose documents and rollout
	// records are believed (the Keys' own are added).
	Trusted []wire.PublicKey
	// Enrolled are the nodes' identity keys (an enrolment list), if any;
	// else those the rollout record pinned, else first sight.
	Enrolled map[string]wire.PublicKey
	// Quiet is how long the broker must be quiet before a snapshot of
	// retained messages is complete (default 500ms).
	Quiet time.Duration
	// CheckPolicies checks a fleet directory's policy files as a node
	// would (dir.CheckPoliciesWith(policy.Tools{}) in the fleet binary);
	// nil: not checked.
	CheckPolicies func(files []string) []string
	// Log gets a line for every action (default slog.Default()).
	Log *slog.Logger
}

// Actions acts on the fleet for the web view. Its methods are safe for
// concurrent use; one rollout runs at a time.
type Actions struct {
	cfg     Config
	trusted []wire.PublicKey
	host    string

	mu      sync.Mutex
	current *Rollout // the running or last rollout; nil: none yet
}

// Errors of the actions.
var (
	// ErrRolloutRunning: a rollout is running (this server's or another
	// process's, by its retained record): stop it first.
	ErrRolloutRunning = errors.New("a rollout is running")
	// ErrNoRollout: no rollout of this server is running.
	ErrNoRollout = errors.New("no rollout is running")
)

// New returns the actions of a server.
func New(cfg Config) (*Actions, error) {
	if cfg.Conn == nil {
		return nil, errors.New("webaction: no broker connection")
	}
	if len(cfg.Keys) == 0 {
		return nil, errors.New("webaction: no signing key (serve --admin needs -k ADMIN.sec)")
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = 500 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	trusted := append([]wire.PublicKey(nil), cfg.Trusted...)
	for _, k := range cfg.Keys {
		trusted = append(trusted, k.Public())
	}
	host, _ := os.Hostname()
	return &Actions{cfg: cfg, trusted: trusted, host: host}, nil
}

// who names a web user in a rollout record.
func (a *Actions) who(user string) string { return user + "@" + a.host + " (web)" }

// snapshot reads the pins (the enrolment list's, the verified record's)
// and returns the verifier and the record.
func (a *Actions) snapshot(ctx context.Context) (inventory.Verifier, *rollout.Record, error) {
	pinned, rec, recErr := rollout.Pins(ctx, a.cfg.Conn, a.trusted, a.cfg.Enrolled, a.cfg.Quiet)
	if ctx.Err() != nil {
		return inventory.Verifier{}, nil, ctx.Err()
	}
	if recErr != nil {
		// A record that does not verify pins nothing; it still says
		// whether someone claims to be rolling out.
		a.cfg.Log.Warn("web action: rollout record does not verify", "err", recErr)
	}
	return inventory.NewVerifier(a.trusted, pinned), rec, nil
}

// rolloutRunning returns an error if a rollout runs here or, by the
// retained record, elsewhere.
func (a *Actions) rolloutRunning(rec *rollout.Record) error {
	if r := a.Rollout(); r != nil && r.Running() {
		return fmt.Errorf("%w (started here by %s at %s): stop it first", ErrRolloutRunning, r.Who, r.Started.Format(time.RFC3339))
	}
	if rec != nil && rec.State == rollout.Running {
		return fmt.Errorf("%w (record %s by %s, started %s): stop it, or resume it to its end, first", ErrRolloutRunning, rec.ID, rec.Who, rec.Started.Format(time.RFC3339))
	}
	return nil
}
