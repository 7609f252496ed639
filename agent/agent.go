package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/netcfg"
	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/telemetry"
	"github.com/nodekeeper/nodekeeper/uci"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Options say where the agent finds its configuration.
type Options struct {
	// ConfDir is the UCI config directory (default /etc/config). Several
	// agents can run side by side on one machine, each with its own.
	ConfDir string
	// Stderr receives the logs when they do not go to syslog, and what
	// cannot be logged; default os.Stderr.
	Stderr io.Writer
	// Worker starts the policy worker; default this executable with the
	// argument "policy-worker".
	Worker policy.WorkerSpec
}

// ShutdownTimeout bounds a clean stop: SIGTERM to exit.
const ShutdownTimeout = 5 * time.Second

// Agent is the running daemon. Its parts (the MQTT publisher, the policy
// engine) are replaced when the configuration changes; the sliver manager
// and the network manager stay for the agent's life.
type Agent struct {
	opts    Options
	ctx     context.Context // the run's: background work ends with it
	cursor  *uci.Cursor     // reads the committed config
	writer  *uci.Cursor     // writes it, staging in a private directory
	level   *slog.LevelVar
	log     *slog.Logger
	store   stateStore
	started time.Time

	slivers *container.Manager // nil when slivers are disabled or unavailable
	// sliversErr says why there are none.
	sliversErr error
	net        *netcfg.Manager // nil when the network is disabled or did not open (a.mu; see network)
	adapter    *sliversAdapter
	peers      *peerSet
	events     chan policy.Event
	dropped    pacer            // events that found the queue full (events.go)
	unsigned   pacer            // desired messages refused before any signature verified (remote.go)
	desired    chan envelopeMsg // the latest desired envelope, capacity one
	dirty      chan struct{}
	sighup     chan os.Signal

	// applyMu serializes what changes the node as a whole: a desired
	// document, a reload, a node state change.
	applyMu sync.Mutex

	netMu sync.Mutex // serializes what the agent asks of netcfg

	mu      sync.Mutex
	ctl     *net.UnixListener
	cfg     *Config
	pub     *telemetry.Publisher
	pubStop func()
	// pubFailed is the publisher whose Run failed (its `telemetry` error
	// stays while it is the one in force).
	pubFailed *telemetry.Publisher
	engine    *policy.Engine
	engStop   func()
	remote    remoteState
	health    nodeHealth
	errs      []wire.ErrorEntry
	limits    map[string]container.Resources // set by policies on running slivers
	ifDown    map[string]bool                // interfaces policies took down (true) or up
	override  overrideFile
	docCache  docCache
	lastSent  []byte // the state last published, without its time

	identity wire.SecretKey // the node's own key: signs its state reports

	// The info topic (info.go): the model and release read, the policies'
	// last decisions (by file and name), the info last published (without
	// its time; also without the decisions) and when.
	sys        [2]string
	decisions  map[string]policy.Decision
	infoSent   []byte
	infoStatic []byte
	infoAt     time.Time
}

// Run starts the agent from the committed configuration in opts.ConfDir
// and runs it until ctx ends (SIGTERM), then stops within ShutdownTimeout:
// the offline status is published, workers stop, slivers keep running (they
// are adopted at the next start). SIGHUP re-reads the configuration and the
// policies; an invalid configuration is refused and the running one stays.
func Run(ctx context.Context, opts Options) error {
	a, err := start(ctx, opts)
	if err != nil {
		return err
	}
	a.loop(ctx)
	return a.shutdown()
}

// start reads the configuration and brings every part up.
func start(ctx context.Context, opts Options) (*Agent, error) {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.ConfDir == "" {
		opts.ConfDir = DefaultConfDir
	}
	a := &Agent{
		opts:    opts,
		cursor:  cursorFor(opts.ConfDir),
		level:   new(slog.LevelVar),
		events:  make(chan policy.Event, 64),
		desired: make(chan envelopeMsg, 1),
		dirty:   make(chan struct{}, 1),
		limits:  map[string]container.Resources{},
		ifDown:  map[string]bool{},
		started: time.Now(),
		ctx:     ctx,
	}
	if _, err := os.Stat(filepath.Join(opts.ConfDir, Package)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s/%s: no such file: the agent's UCI config goes there; start from the shipped one "+
			"(/etc/config/nodekeeper of the package, openwrt-package/nodekeeper/files/nodekeeper.config in the source) "+
			"or give --config-dir; docs/config.md", opts.ConfDir, Package)
	}
	cfg, err := LoadConfig(a.cursor)
	if err != nil {
		return nil, err
	}
	a.cfg = cfg
	a.level.Set(parseLevel(cfg.Agent.LogLevel))
	a.log = newLogger(cfg.Agent.LogTarget, opts.Stderr, a.level)
	if cfg.Agent.MemoryLimit > 0 {
		debug.SetMemoryLimit(cfg.Agent.MemoryLimit)
	}
	a.writer = cursorFor(opts.ConfDir)
	a.writer.SaveDir = filepath.Join(cfg.Agent.RunDir, "uci")
	a.override = overrideFile{path: cfg.Telemetry.Override, log: a.log, changed: a.markDirty}
	a.override.get() // one in force or refused is logged at start
	a.health = nodeHealth{threshold: cfg.Agent.FailureThreshold, window: cfg.Agent.FailureWindow}
	a.store = stateStore{dir: cfg.Agent.StateDir}
	a.peers = newPeerSet(cfg.Remote.MaxPeers, a.event)
	fail := func(err error) (*Agent, error) {
		a.closeParts()
		return nil, err
	}
	for _, d := range []string{cfg.Agent.RunDir, a.writer.SaveDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fail(fmt.Errorf("run dir: %w", err))
		}
	}
	if err := a.store.init(); err != nil {
		return fail(err)
	}
	if a.remote, err = a.store.load(); err != nil {
		return fail(err)
	}
	var made bool
	if a.identity, made, err = loadIdentity(cfg.Agent.StateDir); err != nil {
		return fail(err)
	}
	a.loadSysInfo()
	if made {
		a.log.Info("node identity made: state reports are signed with it", "key", a.identity.Public().String(), "key_id", a.identity.Public().ID())
	}
	a.log.Info("nodekeeper agent starting", "node", cfg.Agent.NodeID, "config", cfg.File, "state", cfg.Agent.NodeState)

	// Without its network or its slivers the node still reports and takes
	// remote management: the error is reported instead.
	if cfg.Network.Enabled {
		if _, err := a.openNetwork(ctx); err != nil {
			a.internalError("network", err)
		}
	}
	if cfg.Slivers.Enabled {
		if err := a.openSlivers(ctx); err != nil {
			a.sliversErr = err
			a.internalError("slivers", err)
		}
	} else {
		a.sliversErr = errors.New("slivers are disabled on this node (slivers.enabled)")
	}
	a.adapter = &sliversAdapter{m: a.slivers, changed: a.sliverChanged}
	if err := a.startEngine(); err != nil {
		return fail(err)
	}
	if err := a.startPublisher(nil); err != nil {
		return fail(err)
	}
	if err := a.listenControl(ctx); err != nil {
		return fail(err)
	}
	// An apply that the previous run did not finish is rolled back first.
	if u, err := a.store.pending(); err != nil {
		a.internalError("remote", err)
	} else if u != nil {
		a.applyMu.Lock()
		a.rollback(ctx, u, fmt.Errorf("the agent stopped inside the confirm window of document seq %d", u.Seq))
		a.applyMu.Unlock()
	}
	go a.runEvents(ctx)
	go a.runDesired(ctx)
	if n := a.network(); n != nil {
		go a.watchNetwork(ctx, n)
	}
	go func() {
		a.applyMu.Lock()
		defer a.applyMu.Unlock()
		a.syncNetwork(ctx)
		a.enforceNodeState(ctx)
		a.convergeAll(ctx)
	}()
	return a, nil
}

// cursorFor reads UCI from dir; outside /etc/config no override directory
// is consulted (several agents on one machine must not share one).
func cursorFor(dir string) *uci.Cursor {
	c := &uci.Cursor{ConfDir: dir}
	if dir != DefaultConfDir {
		c.OverrideDir = "-"
	}
	return c
}

func (a *Agent) openSlivers(ctx context.Context) error {
	sc := a.cfg.Slivers
	d, err := container.NewLXC(container.LXCOptions{Path: sc.LXCPath, Netns: sc.Netns, Logger: a.log.With("component", "lxc")})
	if err != nil {
		return fmt.Errorf("slivers: %w", err)
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, rep, err := container.Open(octx, container.Config{
		StateDir: sc.StateDir, Node: a.cfg.Agent.NodeID, Bridges: a.bridges(), Driver: d, Rootfs: sc.Rootfs,
		MinFreeBytes: sc.MinFree, StopTimeout: sc.StopTimeout, Logger: a.log.With("component", "slivers"),
		MaxArchiveBytes: sc.MaxTemplate, MaxUnpackedBytes: sc.MaxUnpacked,
	})
	if err != nil {
		return fmt.Errorf("slivers: %w", err)
	}
	a.slivers = m
	if len(rep.Adopted)+len(rep.Stopped)+len(rep.Rebuild) > 0 {
		a.log.Info("slivers found", "adopted", rep.Adopted, "stopped", rep.Stopped, "rebuild", rep.Rebuild)
	}
	for _, o := range rep.Orphans {
		a.log.Warn("orphan container: no sliver record, left alone", "container", o)
	}
	return nil
}

// loop waits for signals and state changes until ctx ends.
func (a *Agent) loop(ctx context.Context) {
	a.sighup = make(chan os.Signal, 1)
	signal.Notify(a.sighup, syscall.SIGHUP)
	defer signal.Stop(a.sighup)
	var debounce <-chan time.Time
	hourly := time.NewTicker(time.Hour) // an override in force is said again
	defer hourly.Stop()
	// Whatever `status` would show is published: besides the changes that
	// mark the state dirty, a look every few seconds catches the rest (a
	// policy file dropped into the directory, a sliver removed from the
	// CLI); publishState sends only a report that changed.
	look := time.NewTicker(stateLookInterval)
	defer look.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hourly.C:
			a.mu.Lock()
			a.override.get()
			a.mu.Unlock()
		case <-look.C:
			a.publishState()
			a.publishInfo()
		case <-a.sighup:
			a.log.Info("SIGHUP: reloading the configuration and the policies")
			a.applyMu.Lock()
			a.reload(ctx)
			a.applyMu.Unlock()
		case <-a.dirty:
			if debounce == nil {
				debounce = time.After(200 * time.Millisecond)
			}
		case <-debounce:
			debounce = nil
			a.publishState()
			a.publishInfo()
		}
	}
}

// stateLookInterval is how often the agent compares the state report with
// the one it published last.
const stateLookInterval = 5 * time.Second

// markDirty asks for the state topic to be published again.
func (a *Agent) markDirty() {
	select {
	case a.dirty <- struct{}{}:
	default:
	}
}

// shutdown stops every part within ShutdownTimeout; slivers keep running.
func (a *Agent) shutdown() error {
	done := make(chan struct{})
	go func() {
		// What changes the node (an apply, a converge) ends with the
		// context; wait for it before releasing the managers.
		a.applyMu.Lock()
		defer a.applyMu.Unlock()
		a.closeParts()
		close(done)
	}()
	select {
	case <-done:
		a.log.Info("nodekeeper agent stopped")
		return nil
	case <-time.After(ShutdownTimeout - 500*time.Millisecond):
		return errors.New("shutdown: parts did not stop in time")
	}
}

// closeParts stops the publisher and the engine and releases the managers.
func (a *Agent) closeParts() {
	a.closeControl()
	a.mu.Lock()
	pubStop, engStop := a.pubStop, a.engStop
	a.pubStop, a.engStop = nil, nil
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, stop := range []func(){pubStop, engStop} {
		if stop != nil {
			wg.Add(1)
			go func() { defer wg.Done(); stop() }()
		}
	}
	wg.Wait()
	if a.slivers != nil {
		a.slivers.Close()
	}
	if n := a.network(); n != nil {
		n.Close()
	}
}

// config returns the configuration in force.
func (a *Agent) config() *Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg
}

// publisher returns the MQTT publisher in force.
func (a *Agent) publisher() *telemetry.Publisher {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pub
}

// policyEngine returns the policy engine in force.
func (a *Agent) policyEngine() *policy.Engine {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.engine
}
