package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// DefaultStateDir is where slivers live when nothing else is configured.
const DefaultStateDir = "/srv/nodekeeper"

// Config configures a Manager.
type Config struct {
	// StateDir holds the sliver records (slivers/), their writable layers
	// (layers/) and the lock that keeps a second manager out.
	StateDir string
	// CacheDir holds templates and data archives; default StateDir/cache.
	CacheDir string
	// Node is the node's id; it names the slivers' host-side veths and
	// their MAC addresses (netcfg.SliverVethName, netcfg.SliverMAC).
	Node string
	// Bridges are the host bridges of the veth kinds of interface (private,
	// public4, public6, debug, management), set up by netcfg.
	Bridges map[netcfg.IfaceKind]string
	// Driver runs the containers; default LXC with its path in StateDir/lxc.
	Driver Driver
	// Rootfs chooses how slivers share their template: "overlay" (a
	// writable layer over the read-only template), "copy" (a private copy),
	// or "" to use overlay where the kernel and the state dir allow it.
	Rootfs string
	// MinFreeBytes: when free space in the cache falls below it, unused
	// templates are removed, least recently used first. Default 64 MiB.
	MinFreeBytes int64
	// StopTimeout is how long a sliver's init gets to halt before it is
	// killed. Default 10s.
	StopTimeout time.Duration
	// FetchCommand downloads http(s) templates and data archives: a
	// program and its arguments, to which the URL is appended; it writes
	// the archive to stdout and exits non-zero on failure (e.g.
	// {"curl", "-fsSL", "--cacert", "/etc/ca.pem", "-o", "-"}). Default:
	// the first of DefaultFetchCommands in PATH (uclient-fetch, wget, curl).
	FetchCommand []string
	// FetchTimeout caps one download, or one copy of a local archive.
	// Default DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxArchiveBytes is the largest template or data archive (as fetched,
	// before unpacking) a download or a copy of a local file may give.
	// Default DefaultMaxArchiveBytes.
	MaxArchiveBytes int64
	// MaxUnpackedBytes bounds the contents of the files one template or
	// data archive unpacks to (a small gzip of zeros unpacks to a disk
	// full). Default DefaultMaxUnpackedBytes.
	MaxUnpackedBytes int64
	// ReadOnly opens the state directory to read it only (`sliver list`,
	// `sliver show`): nothing is created, no record is written (what
	// reconciling finds stays in memory), no cache is opened, and every
	// method that would change a sliver fails with ErrReadOnly. It takes
	// a shared lock, if the directory has a lock file, so that it reads
	// no record a writer is changing.
	ReadOnly bool
	// BootTime is when the host booted: a started sliver whose record is
	// older finds its container stopped by the reboot, which is no
	// warning. Default: btime of /proc/stat.
	BootTime time.Time
	Logger   *slog.Logger
}

// Manager keeps the slivers of one node: their records, templates,
// writable layers and containers. One Manager at a time owns a state
// directory; a second Open waits for the first to Close (or die).
type Manager struct {
	cfg     Config
	driver  Driver
	store   *store
	cache   *cache
	log     *slog.Logger
	overlay bool

	mu      sync.Mutex
	slivers map[string]*entry
}

// entry is one sliver: op serialises its lifecycle steps; the record is
// read and replaced under Manager.mu.
type entry struct {
	op sync.Mutex
	s  Sliver
	// unsaved: s changed in memory (by note) since the store last saved it.
	unsaved bool
	// pending: files written by writeFileLater for this sliver that the
	// next record saved must wait for (latersync.go). Guarded by op.
	pending []string
}

// ErrNotFound is wrapped by errors about a sliver that does not exist.
var ErrNotFound = errors.New("no such sliver")

// ErrReadOnly is wrapped by the errors of the methods that change slivers
// on a Manager opened with Config.ReadOnly.
var ErrReadOnly = errors.New("the slivers were opened read-only")

// ErrExists is wrapped by Create's error for a name or id already in use.
var ErrExists = errors.New("sliver already exists")

// Report is what Open found when it compared the records with the
// containers the driver has.
type Report struct {
	// Adopted slivers have a running container, taken over as started.
	Adopted []string `json:"adopted,omitempty"`
	// Stopped slivers were recorded as started but their container is not
	// running; they are restarted when converged.
	Stopped []string `json:"stopped,omitempty"`
	// Rebuild slivers were recorded as deployed or started but the driver
	// has no container for them; they are deployed again when converged.
	Rebuild []string `json:"rebuild,omitempty"`
	// Orphans are containers with ContainerPrefix that no record explains.
	// They are reported, never destroyed.
	Orphans []string `json:"orphans,omitempty"`
}

// Open takes the state directory, loads the records and reconciles them
// with the driver's containers (see Report). It waits for the directory's
// lock until ctx ends.
func Open(ctx context.Context, cfg Config) (*Manager, Report, error) {
	if cfg.StateDir == "" {
		return nil, Report{}, errors.New("slivers: no state directory")
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(cfg.StateDir, "cache")
	}
	if cfg.Node == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, Report{}, fmt.Errorf("slivers: no node id and no hostname: %w", err)
		}
		cfg.Node = h
	}
	for k, b := range cfg.Bridges {
		if err := netcfg.CheckLinkName(b); err != nil {
			return nil, Report{}, fmt.Errorf("slivers: bridge of %s interfaces: %w", k, err)
		}
	}
	if cfg.MinFreeBytes == 0 {
		cfg.MinFreeBytes = 64 << 20
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 10 * time.Second
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	if cfg.MaxArchiveBytes <= 0 {
		cfg.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if cfg.MaxUnpackedBytes <= 0 {
		cfg.MaxUnpackedBytes = DefaultMaxUnpackedBytes
	}
	if cfg.BootTime.IsZero() {
		cfg.BootTime = bootTime("/proc/stat")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadOnly {
		return openReadOnly(ctx, cfg, log)
	}
	st, err := openStore(ctx, cfg.StateDir)
	if err != nil {
		return nil, Report{}, fmt.Errorf("slivers: %w", err)
	}
	m := &Manager{cfg: cfg, store: st, log: log, driver: cfg.Driver, slivers: map[string]*entry{}}
	fail := func(err error) (*Manager, Report, error) {
		st.close()
		return nil, Report{}, fmt.Errorf("slivers: %w", err)
	}
	if m.driver == nil {
		d, err := NewLXC(LXCOptions{Path: filepath.Join(cfg.StateDir, "lxc"), Logger: log})
		if err != nil {
			return fail(err)
		}
		m.driver = d
	}
	if err := os.MkdirAll(m.layersDir(), 0o750); err != nil {
		return fail(err)
	}
	if m.overlay, err = m.chooseRootfs(); err != nil {
		return fail(err)
	}
	if m.cache, err = newCache(cfg.CacheDir, &fetcher{command: cfg.FetchCommand, timeout: cfg.FetchTimeout, max: cfg.MaxArchiveBytes}, cfg.MinFreeBytes, log); err != nil {
		return fail(err)
	}
	m.cache.unpack = unpackLimits{bytes: cfg.MaxUnpackedBytes, entries: maxEntries}
	recs, err := st.load()
	if err != nil {
		return fail(err)
	}
	for n, s := range recs {
		m.slivers[n] = &entry{s: *s}
	}
	rep, err := m.reconcile(ctx)
	if err != nil {
		return fail(err)
	}
	return m, rep, nil
}

// openReadOnly is Open for Config.ReadOnly.
func openReadOnly(ctx context.Context, cfg Config, log *slog.Logger) (*Manager, Report, error) {
	st, err := openStoreShared(ctx, cfg.StateDir)
	if err != nil {
		return nil, Report{}, fmt.Errorf("slivers: %w", err)
	}
	m := &Manager{cfg: cfg, store: st, log: log, driver: cfg.Driver, slivers: map[string]*entry{}}
	if m.driver == nil {
		d, err := NewLXC(LXCOptions{Path: filepath.Join(cfg.StateDir, "lxc"), Logger: log})
		if err != nil {
			st.close()
			return nil, Report{}, fmt.Errorf("slivers: %w", err)
		}
		m.driver = d
	}
	recs, err := st.load()
	if err != nil {
		st.close()
		return nil, Report{}, fmt.Errorf("slivers: %w", err)
	}
	for n, s := range recs {
		m.slivers[n] = &entry{s: *s}
	}
	rep, err := m.reconcile(ctx)
	if err != nil {
		st.close()
		return nil, Report{}, fmt.Errorf("slivers: %w", err)
	}
	return m, rep, nil
}

// writable fails on a Manager opened read-only.
func (m *Manager) writable(what string) error {
	if m.cfg.ReadOnly {
		return fmt.Errorf("%s: %w", what, ErrReadOnly)
	}
	return nil
}

func (m *Manager) chooseRootfs() (bool, error) {
	switch m.cfg.Rootfs {
	case "overlay":
		return true, nil
	case "copy":
		return false, nil
	case "":
		if err := overlayWorks(m.layersDir()); err != nil {
			m.log.Info("slivers get a copy of their template: no overlayfs here", "err", err)
			return false, nil
		}
		return true, nil
	}
	return false, fmt.Errorf("rootfs mode %q: want overlay, copy or empty", m.cfg.Rootfs)
}

// Close releases the state directory. Containers keep running.
func (m *Manager) Close() error { return m.store.close() }

// Driver is the container driver the Manager uses.
func (m *Manager) Driver() Driver { return m.driver }

func (m *Manager) layersDir() string { return filepath.Join(m.cfg.StateDir, "layers") }

func (m *Manager) lookup(name string) (*entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.slivers[name]
	if e == nil {
		return nil, fmt.Errorf("sliver %q: %w", name, ErrNotFound)
	}
	return e, nil
}

// Get returns a sliver's record.
func (m *Manager) Get(name string) (Sliver, error) {
	e, err := m.lookup(name)
	if err != nil {
		return Sliver{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return cloneSliver(e.s), nil
}

// Slivers returns every record, sorted by name.
func (m *Manager) Slivers() []Sliver {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Sliver, 0, len(m.slivers))
	for _, e := range m.slivers {
		out = append(out, cloneSliver(e.s))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func cloneSliver(s Sliver) Sliver {
	s.Interfaces = append([]Interface(nil), s.Interfaces...)
	if s.Data != nil {
		d := *s.Data
		s.Data = &d
	}
	return s
}

// Create registers a new sliver and moves it towards spec.Request. The
// returned error is that of a failed step; the sliver then stays in a
// fail_* state (and is returned) until asked again.
func (m *Manager) Create(ctx context.Context, spec Spec) (Sliver, error) {
	if err := m.writable("create"); err != nil {
		return Sliver{}, err
	}
	if err := spec.validate(); err != nil {
		return Sliver{}, err
	}
	m.mu.Lock()
	if _, dup := m.slivers[spec.Name]; dup {
		m.mu.Unlock()
		return Sliver{}, fmt.Errorf("sliver %s: %w", spec.Name, ErrExists)
	}
	used := map[int]string{}
	for n, e := range m.slivers {
		used[e.s.ID] = n
	}
	if spec.ID == 0 {
		for id := 1; id <= netcfg.MaxSliverID && spec.ID == 0; id++ {
			if _, ok := used[id]; !ok {
				spec.ID = id
			}
		}
		if spec.ID == 0 {
			m.mu.Unlock()
			return Sliver{}, fmt.Errorf("sliver %s: all %d sliver numbers are in use", spec.Name, netcfg.MaxSliverID)
		}
	} else if other, ok := used[spec.ID]; ok {
		m.mu.Unlock()
		return Sliver{}, fmt.Errorf("sliver %s: id %d is %s's: %w", spec.Name, spec.ID, other, ErrExists)
	}
	e := &entry{s: Sliver{Spec: spec, State: Registered, Updated: time.Now().UTC()}}
	e.op.Lock()
	defer e.op.Unlock()
	m.slivers[spec.Name] = e
	m.mu.Unlock()
	if err := m.store.save(&e.s); err != nil {
		m.mu.Lock()
		delete(m.slivers, spec.Name)
		m.mu.Unlock()
		return Sliver{}, err
	}
	m.log.Info("sliver registered", "sliver", spec.Name, "slice", spec.Slice, "id", spec.ID)
	return m.converge(ctx, e, false)
}

// Apply creates the sliver or replaces its spec (its id stays), then
// converges it. A higher InstanceSN redeploys it from scratch; a new
// InstanceSN or a changed request also retries a failed step. Other
// changes reach a deployed sliver at its next deployment.
func (m *Manager) Apply(ctx context.Context, spec Spec) (Sliver, error) {
	if err := m.writable("apply"); err != nil {
		return Sliver{}, err
	}
	e, err := m.lookup(spec.Name)
	if errors.Is(err, ErrNotFound) {
		return m.Create(ctx, spec)
	}
	if err := spec.validate(); err != nil {
		return Sliver{}, err
	}
	e.op.Lock()
	defer e.op.Unlock()
	m.mu.Lock()
	old := e.s
	spec.ID = old.ID
	if spec.InstanceSN < old.InstanceSN {
		m.mu.Unlock()
		return cloneSliver(old), fmt.Errorf("sliver %s: instance_sn %d is below the current %d", spec.Name, spec.InstanceSN, old.InstanceSN)
	}
	e.s.Spec = spec
	s := e.s
	m.mu.Unlock()
	if err := m.save(e, &s); err != nil {
		return s, err
	}
	return m.converge(ctx, e, spec.InstanceSN > old.InstanceSN || spec.Request != old.Request)
}

// SetRequest asks a sliver for a state (register, deploy or start) and
// moves it there one step at a time. Asking again retries a failed step.
func (m *Manager) SetRequest(ctx context.Context, name string, req Request) (Sliver, error) {
	if err := m.writable("set request"); err != nil {
		return Sliver{}, err
	}
	if _, err := ParseRequest(string(req)); err != nil {
		return Sliver{}, err
	}
	e, err := m.lookup(name)
	if err != nil {
		return Sliver{}, err
	}
	e.op.Lock()
	defer e.op.Unlock()
	// The new request is saved with the record of the first step (one
	// fsync'ed write less before lxc-start), or below if no step ran:
	// it is on disk before SetRequest returns either way.
	m.mu.Lock()
	changed := e.s.Request != req
	m.mu.Unlock()
	if changed {
		m.note(e, func(s *Sliver) { s.Request = req })
	}
	s, err := m.converge(ctx, e, true)
	if serr := m.saveNoted(e); serr != nil {
		return s, serr
	}
	return s, err
}

// Converge moves one sliver towards its requested state without retrying
// a failure.
func (m *Manager) Converge(ctx context.Context, name string) (Sliver, error) {
	if err := m.writable("converge"); err != nil {
		return Sliver{}, err
	}
	e, err := m.lookup(name)
	if err != nil {
		return Sliver{}, err
	}
	e.op.Lock()
	defer e.op.Unlock()
	return m.converge(ctx, e, false)
}

// ConvergeAll converges every sliver, several at a time, and joins the errors.
func (m *Manager) ConvergeAll(ctx context.Context) error {
	if err := m.writable("converge"); err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 4)
	)
	for _, s := range m.Slivers() {
		wg.Add(1)
		sem <- struct{}{}
		go func(name string) {
			defer func() { <-sem; wg.Done() }()
			if _, err := m.Converge(ctx, name); err != nil && !errors.Is(err, ErrNotFound) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(s.Name)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Remove takes a sliver all the way down (stop, undeploy, release) and
// forgets it, leaving nothing of it behind.
func (m *Manager) Remove(ctx context.Context, name string) error {
	if err := m.writable("remove"); err != nil {
		return err
	}
	e, err := m.lookup(name)
	if err != nil {
		return err
	}
	e.op.Lock()
	defer e.op.Unlock()
	if err := m.publish(e, func(s *Sliver) { s.Request = Register }); err != nil {
		return err
	}
	s, err := m.converge(ctx, e, false)
	if err != nil {
		return fmt.Errorf("sliver %s: remove: %w", name, err)
	}
	if s.State != Registered {
		return fmt.Errorf("sliver %s: remove: stuck in %s: %s", name, s.State, s.Error)
	}
	if err := m.teardown(ctx, name); err != nil {
		return fmt.Errorf("sliver %s: remove: %w", name, err)
	}
	if err := m.store.delete(name); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.slivers, name)
	m.mu.Unlock()
	m.log.Info("sliver removed", "sliver", name)
	return nil
}

// List reports every sliver with what telemetry needs: its container's
// init PID (while it runs), host-side interfaces and memory limit.
func (m *Manager) List(ctx context.Context) ([]Status, error) {
	var out []Status
	for _, s := range m.Slivers() {
		st := Status{
			Name: s.Name, Slice: s.Slice, ID: s.ID, State: s.State, Request: s.Request,
			Error: s.Error, Container: ContainerName(s.Name), MemoryLimitBytes: s.Resources.MemoryBytes,
		}
		for _, ifc := range s.Interfaces {
			if h, ok := m.hostVeth(&s, ifc); ok {
				st.HostInterfaces = append(st.HostInterfaces, h)
			}
		}
		if s.State.level() >= 2 {
			in, err := m.driver.Info(ctx, st.Container)
			if err != nil && !errors.Is(err, ErrNoContainer) {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				m.log.Warn("sliver info", "sliver", s.Name, "err", err)
			}
			st.PID = in.PID
		}
		out = append(out, st)
	}
	return out, nil
}

// hostVeth is the host-side name of a veth interface.
func (m *Manager) hostVeth(s *Sliver, ifc Interface) (string, bool) {
	if ifc.Kind == netcfg.Isolated {
		return "", false
	}
	num, _, err := netcfg.IfaceNumber(ifc.Kind, 0)
	if err != nil {
		return "", false
	}
	h, err := netcfg.SliverVethName(m.cfg.Node, s.ID, num)
	return h, err == nil
}

// Attach runs argv inside a started sliver and returns its exit status.
func (m *Manager) Attach(ctx context.Context, name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if err := m.writable("attach"); err != nil {
		return 0, err
	}
	if _, err := m.lookup(name); err != nil {
		return 0, err
	}
	code, err := m.driver.Attach(ctx, ContainerName(name), argv, stdin, stdout, stderr)
	if err != nil {
		return 0, fmt.Errorf("sliver %s: %w", name, err)
	}
	return code, nil
}

// Limits reads the limits in force from a running sliver's cgroups, and
// the size of its disk image.
func (m *Manager) Limits(ctx context.Context, name string) (Resources, error) {
	if _, err := m.lookup(name); err != nil {
		return Resources{}, err
	}
	r, err := m.driver.Limits(ctx, ContainerName(name))
	if err != nil {
		return r, fmt.Errorf("sliver %s: %w", name, err)
	}
	if fi, err := os.Stat(m.layout(name).image); err == nil {
		r.DiskBytes = fi.Size()
	}
	return r, nil
}

// PruneTemplates removes templates and data archives no sliver uses while
// the cache's disk is low on space, and returns their hashes.
func (m *Manager) PruneTemplates() ([]string, error) {
	if err := m.writable("prune templates"); err != nil {
		return nil, err
	}
	return m.cache.prune(m.inUse())
}

// inUse are the hashes a sliver has, or is about to have, a use for.
func (m *Manager) inUse() map[string]bool {
	used := map[string]bool{}
	for _, s := range m.Slivers() {
		if s.State.level() == 0 && s.Request == Register {
			continue
		}
		used[s.Template.SHA256] = true
		if s.Data != nil {
			used[s.Data.SHA256] = true
		}
	}
	return used
}

// publish changes a sliver's record and saves it. The caller holds e.op.
func (m *Manager) publish(e *entry, change func(*Sliver)) error {
	if m.cfg.ReadOnly { // reconcile's findings: in memory only
		m.note(e, change)
		return nil
	}
	m.mu.Lock()
	change(&e.s)
	e.s.Updated = time.Now().UTC()
	s := cloneSliver(e.s)
	e.unsaved = false
	m.mu.Unlock()
	if err := m.save(e, &s); err != nil {
		m.mu.Lock()
		e.unsaved = true
		m.mu.Unlock()
		return err
	}
	return nil
}

// save writes s as e's record, after the files e waits for (e.pending).
// The caller holds e.op.
func (m *Manager) save(e *entry, s *Sliver) error {
	if err := m.store.save(s, e.pending...); err != nil {
		return err
	}
	e.pending = nil
	return nil
}

// later notes files written by writeFileLater for sliver name: its next
// record waits for them. The caller holds the sliver's op.
func (m *Manager) later(name string, paths ...string) {
	m.mu.Lock()
	e := m.slivers[name]
	m.mu.Unlock()
	if e != nil {
		e.pending = append(e.pending, paths...)
	}
}

// note changes a sliver's record in memory only: the next publish saves
// it, or saveNoted. The caller holds e.op.
func (m *Manager) note(e *entry, change func(*Sliver)) {
	m.mu.Lock()
	change(&e.s)
	e.s.Updated = time.Now().UTC()
	e.unsaved = true
	m.mu.Unlock()
}

// saveNoted saves the record if a note is not on disk yet. The caller
// holds e.op.
func (m *Manager) saveNoted(e *entry) error {
	m.mu.Lock()
	if !e.unsaved {
		m.mu.Unlock()
		return nil
	}
	s := cloneSliver(e.s)
	e.unsaved = false
	m.mu.Unlock()
	if err := m.save(e, &s); err != nil {
		m.mu.Lock()
		e.unsaved = true
		m.mu.Unlock()
		return err
	}
	return nil
}
