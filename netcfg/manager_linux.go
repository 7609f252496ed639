package netcfg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func init() {
	// Have the kernel say why it refused a request (extended ack).
	nl.EnableErrorMessageReporting = true
}

// Manager plans and applies network state in one network namespace.
type Manager struct {
	opts Options
	ns   netns.NsHandle
	h    *netlink.Handle
	rt   *nl.SocketHandle // our own rtnetlink socket for link requests
	log  *slog.Logger

	mu sync.Mutex // one plan being applied at a time

	// failStep, when set (by tests), is called before step i runs; an
	// error fails the step as if the kernel had refused it.
	failStep func(i int, s Step) error
}

// Open returns a Manager for the namespace opts names.
func Open(opts Options) (*Manager, error) {
	var ns netns.NsHandle
	var err error
	if opts.NetNS != "" {
		if err := CheckNetns(opts.NetNS); err != nil {
			return nil, fmt.Errorf("netcfg: %w", err)
		}
	}
	switch {
	case opts.NetNS == "":
		ns, err = netns.Get()
	case strings.Contains(opts.NetNS, "/"):
		ns, err = netns.GetFromPath(opts.NetNS)
	default:
		ns, err = netns.GetFromName(opts.NetNS)
	}
	if err != nil {
		return nil, fmt.Errorf("netcfg: open network namespace %q: %w", opts.NetNS, err)
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netcfg: netlink handle in namespace %q: %w", opts.NetNS, err)
	}
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		h.Close()
		ns.Close()
		return nil, fmt.Errorf("netcfg: netlink socket in namespace %q: %w", opts.NetNS, err)
	}
	if err := s.SetExtAck(true); err != nil {
		s.Close()
		h.Close()
		ns.Close()
		return nil, fmt.Errorf("netcfg: netlink socket: %w", err)
	}
	// Room for the answers to a batch of requests (rtnlBatch); the
	// kernel caps it at net.core.rmem_max; the default holds a chunk.
	_ = s.SetReceiveBufferSize(1<<20, false)
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Manager{opts: opts, ns: ns, h: h, rt: &nl.SocketHandle{Socket: s}, log: log.With("component", "netcfg")}, nil
}

// Close releases the Manager's sockets and namespace handle.
func (m *Manager) Close() error {
	m.rt.Close()
	m.h.Close()
	return m.ns.Close()
}

// Observe returns what netcfg owns in the namespace now, as a Config:
// applying it again changes nothing.
func (m *Manager) Observe(ctx context.Context) (Config, error) {
	s, err := m.snapshot(ctx)
	if err != nil {
		return Config{}, err
	}
	return s.owned(), nil
}

// Plan reads the kernel's state and returns the steps that lead to desired.
func (m *Manager) Plan(ctx context.Context, desired Config) (*Plan, error) {
	if err := desired.Validate(); err != nil {
		return nil, fmt.Errorf("netcfg: desired state: %w", err)
	}
	s, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	p, err := diff(desired, s)
	if err != nil {
		return nil, fmt.Errorf("netcfg: plan: %w", err)
	}
	return p, nil
}

// Sync plans and applies desired in one go and returns the plan it applied.
func (m *Manager) Sync(ctx context.Context, desired Config) (*Plan, error) {
	p, err := m.Plan(ctx, desired)
	if err != nil {
		return nil, err
	}
	return p, m.Apply(ctx, p)
}

// inNetNS runs fn on a thread that is in the Manager's namespace, for the
// few calls that act on the caller's namespace (opening /dev/net/tun,
// dialing a health check).
func (m *Manager) inNetNS(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return fmt.Errorf("current network namespace: %w", err)
	}
	defer orig.Close()
	if orig.Equal(m.ns) {
		return fn()
	}
	if err := netns.Set(m.ns); err != nil {
		return fmt.Errorf("enter network namespace: %w", err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		// The thread is stuck in the wrong namespace: keep it locked
		// so that Go retires it instead of reusing it.
		runtime.LockOSThread()
		return errors.Join(ferr, fmt.Errorf("return to network namespace: %w", err))
	}
	return ferr
}
