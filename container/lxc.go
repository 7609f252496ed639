package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// LXCOptions configure the LXC driver.
type LXCOptions struct {
	// Path is the LXC path (lxc-* -P) holding one directory per container.
	Path string
	// Netns, when set, runs the LXC tools in that network namespace: a name
	// under /run/netns or a path such as /proc/PID/ns/net. The host ends of
	// the slivers' veths and the bridges they join are then in that
	// namespace (the demo lab gives every node one). Needs nsenter and
	// unshare (util-linux).
	Netns string
	// Logger receives debug lines for every command; nil discards them.
	Logger *slog.Logger
}

// LXC drives LXC through its command-line tools (lxc-start, lxc-stop,
// lxc-info, lxc-attach, lxc-cgroup, lxc-destroy, lxc-ls). It writes each
// container's config file itself.
type LXC struct {
	path  string
	netns string
	log   *slog.Logger

	layoutOnce sync.Once
	layout     cgroupLayout

	// pids remembers the init PID of running containers, so that Info (which
	// telemetry asks for every sample) need not run lxc-info while the PID
	// is still alive in the container's cgroup.
	pidMu sync.Mutex
	pids  map[string]int
}

// NewLXC checks that the LXC tools are installed and returns a driver.
func NewLXC(o LXCOptions) (*LXC, error) {
	if o.Path == "" {
		return nil, errors.New("lxc: no LXC path")
	}
	// LXC names a container's command socket after the path as given, so
	// every tool must see the same, absolute, spelling.
	p, err := filepath.Abs(o.Path)
	if err != nil {
		return nil, fmt.Errorf("lxc: path %s: %w", o.Path, err)
	}
	if o.Netns != "" {
		if err := netcfg.CheckNetns(o.Netns); err != nil {
			return nil, fmt.Errorf("lxc: %w", err)
		}
	}
	tools := []string{"lxc-start", "lxc-stop", "lxc-info", "lxc-attach", "lxc-cgroup", "lxc-destroy", "lxc-ls"}
	if o.Netns != "" {
		tools = append(tools, "nsenter", "unshare")
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			return nil, fmt.Errorf("lxc: %s not installed: %w", t, err)
		}
	}
	ns := o.Netns
	if ns != "" && !strings.Contains(ns, "/") {
		ns = "/run/netns/" + ns
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LXC{path: p, netns: ns, log: log, pids: map[string]int{}}, nil
}

// Path is the driver's absolute LXC path.
func (d *LXC) Path() string { return d.path }

// netnsSysfs gives the tools a /sys whose network part is that of the
// namespace they run in: LXC looks for /sys/class/net/BRIDGE/bridge before
// plugging a veth into BRIDGE. `ip netns exec` remounts all of /sys, which
// hides the cgroup mounts below it and makes lxc-start fail, so only the
// two network directories are replaced, in a private mount namespace.
const netnsSysfs = `mount -t sysfs sysfs /sys/devices/virtual/net && ` +
	`mount --bind /sys/devices/virtual/net/class/net /sys/class/net && ` +
	`mount --bind /sys/devices/virtual/net/devices/virtual/net /sys/devices/virtual/net && ` +
	`exec "$@"`

// argv is the command line running tool with args, entering the driver's
// network namespace first when it has one. sysfs also gives the tool a
// matching /sys (lxc-start needs it to find bridges).
func (d *LXC) argv(sysfs bool, tool string, args ...string) []string {
	var a []string
	if d.netns != "" {
		a = append(a, "nsenter", "--net="+d.netns)
		if sysfs {
			a = append(a, "unshare", "--mount", "--propagation", "private", "sh", "-c", netnsSysfs, "sh")
		}
	}
	a = append(a, tool, "-P", d.path)
	return append(a, args...)
}

// run runs an LXC tool and returns its standard output; a failure carries
// the command and what it printed on standard error.
func (d *LXC) run(ctx context.Context, sysfs bool, tool string, args ...string) ([]byte, error) {
	argv := d.argv(sysfs, tool, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// lxc-start leaves a daemon behind; never wait on pipes it might hold.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	d.log.Debug("lxc", "cmd", strings.Join(argv, " "), "duration", time.Since(start), "err", err)
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.Bytes(), fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, truncate(msg, 500))
	}
	return stdout.Bytes(), nil
}

func (d *LXC) dir(name string) string { return filepath.Join(d.path, name) }

func (d *LXC) defined(name string) bool {
	_, err := os.Stat(filepath.Join(d.dir(name), "config"))
	return err == nil
}

func (d *LXC) cgroups() cgroupLayout {
	d.layoutOnce.Do(func() {
		mi, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			d.log.Warn("lxc: cannot read mount table; assuming cgroup v2", "err", err)
			d.layout = cgroupLayout{v1: map[string]bool{}, unified: true}
			return
		}
		d.layout = parseCgroupLayout(mi)
	})
	return d.layout
}

// Define writes the container's config file.
func (d *LXC) Define(_ context.Context, c ContainerConfig) error {
	return d.define(c, writeFileAtomic)
}

// DefineLater writes the container's config file without syncing it and
// returns its path for syncLater.
func (d *LXC) DefineLater(_ context.Context, c ContainerConfig) ([]string, error) {
	if err := d.define(c, writeFileLater); err != nil {
		return nil, err
	}
	return []string{filepath.Join(d.dir(c.Name), "config")}, nil
}

func (d *LXC) define(c ContainerConfig, write func(string, []byte, os.FileMode) error) error {
	text, err := lxcConfig(c, d.cgroups())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.dir(c.Name), 0o750); err != nil {
		return fmt.Errorf("lxc: define %s: %w", c.Name, err)
	}
	if err := write(filepath.Join(d.dir(c.Name), "config"), []byte(text), 0o640); err != nil {
		return fmt.Errorf("lxc: define %s: %w", c.Name, err)
	}
	return nil
}

// Start runs lxc-start in the background and checks the container runs. A
// failure carries LXC's own explanation from the container's log.
func (d *LXC) Start(ctx context.Context, name string) error {
	if !d.defined(name) {
		return fmt.Errorf("lxc: start %s: %w", name, ErrNoContainer)
	}
	logf := filepath.Join(d.dir(name), "start.log")
	if err := os.WriteFile(logf, nil, 0o640); err != nil {
		return fmt.Errorf("lxc: start %s: %w", name, err)
	}
	_, err := d.run(ctx, true, "lxc-start", "-n", name, "-d", "-o", logf, "-l", "ERROR")
	if err == nil {
		// lxc-start -d returns once LXC saw the container running; its
		// init, found in the payload cgroup, confirms it without another
		// tool run (and is remembered for Info). lxc-info only when the
		// cgroup does not show it.
		if pid := d.findInit(name); pid > 0 {
			d.remember(name, pid)
		} else {
			var in Info
			if in, err = d.Info(ctx, name); err == nil && !in.Running {
				err = fmt.Errorf("container %s is %s right after lxc-start", name, in.State)
			}
		}
	}
	if err != nil {
		log, _ := os.ReadFile(logf)
		if msgs := lxcLogErrors(log, 3); len(msgs) > 0 {
			// LXC's log says why; lxc-start's own output only that it failed.
			return fmt.Errorf("lxc: start %s: %s", name, strings.Join(msgs, "; "))
		}
		return fmt.Errorf("lxc: start %s: %w", name, err)
	}
	return nil
}

// Stop asks the container's init to halt and kills it after timeout.
func (d *LXC) Stop(ctx context.Context, name string, timeout time.Duration) error {
	in, err := d.Info(ctx, name)
	if errors.Is(err, ErrNoContainer) || (err == nil && in.State == "STOPPED") {
		return nil
	}
	if err != nil {
		return err
	}
	secs := int(timeout.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	d.remember(name, 0)
	if _, err := d.run(ctx, false, "lxc-stop", "-n", name, "-t", strconv.Itoa(secs)); err != nil {
		if in, ierr := d.Info(ctx, name); ierr == nil && in.State == "STOPPED" {
			return nil
		}
		return fmt.Errorf("lxc: stop %s: %w", name, err)
	}
	return nil
}

// Destroy runs lxc-destroy, which removes the container's directory and its
// rootfs layer.
func (d *LXC) Destroy(ctx context.Context, name string) error {
	if !d.defined(name) {
		// A directory without config is what a crash during Define leaves.
		if err := os.RemoveAll(d.dir(name)); err != nil {
			return fmt.Errorf("lxc: destroy %s: %w", name, err)
		}
		return nil
	}
	if _, err := d.run(ctx, false, "lxc-destroy", "-n", name); err != nil {
		return fmt.Errorf("lxc: destroy %s: %w", name, err)
	}
	return d.removeCgroups(name)
}

// removeCgroups removes the cgroups LXC made for a container and left
// behind: when init cannot be executed, LXC 5 leaves lxc.monitor.NAME in
// every v1 hierarchy. A cgroup that still has processes belongs to another
// container of the same name (under another LXC path); the kernel refuses
// to remove it and it is left alone.
func (d *LXC) removeCgroups(name string) error {
	var errs []error
	for _, mp := range d.cgroups().mounts {
		for _, p := range []string{"lxc.monitor.", "lxc.payload."} {
			dir := filepath.Join(mp, p+name)
			if _, err := os.Stat(dir); err != nil {
				continue
			}
			if err := removeCgroupTree(dir); errors.Is(err, syscall.EBUSY) {
				d.log.Warn("lxc: cgroup in use, left alone", "cgroup", dir)
			} else if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lxc: destroy %s: %w", name, err)
	}
	return nil
}

// removeCgroupTree removes a cgroup and its descendants, deepest first.
// Cgroup directories are removed with rmdir alone: their files go with them.
func removeCgroupTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := syscallRmdir(dir); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	return nil
}

// Info runs lxc-info, unless the init PID it last reported is still alive
// in the container's cgroup.
func (d *LXC) Info(ctx context.Context, name string) (Info, error) {
	d.pidMu.Lock()
	pid := d.pids[name]
	d.pidMu.Unlock()
	if !d.defined(name) {
		d.remember(name, 0)
		return Info{}, fmt.Errorf("lxc: %s: %w", name, ErrNoContainer)
	}
	if pid > 0 && inPayloadCgroup(pid, name) {
		return Info{Running: true, PID: pid, State: "RUNNING"}, nil
	}
	out, err := d.run(ctx, false, "lxc-info", "-n", name, "-H", "-s", "-p")
	if err != nil {
		return Info{}, fmt.Errorf("lxc: info %s: %w", name, err)
	}
	in, err := parseLXCInfo(out)
	if err != nil {
		return Info{}, fmt.Errorf("lxc: info %s: %w", name, err)
	}
	d.remember(name, in.PID)
	return in, nil
}

func (d *LXC) remember(name string, pid int) {
	d.pidMu.Lock()
	defer d.pidMu.Unlock()
	if pid > 0 {
		d.pids[name] = pid
	} else {
		delete(d.pids, name)
	}
}

// inPayloadCgroup reports whether pid is in the cgroup LXC made for
// container name (lxc.payload.NAME, or NAME-N when the name was taken), or
// below it.
func inPayloadCgroup(pid int, name string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return false
	}
	return payloadCgroupIn(string(b), name)
}

// payloadCgroupIn looks for container name's payload cgroup in the text of
// /proc/PID/cgroup.
func payloadCgroupIn(procCgroup, name string) bool {
	want := "lxc.payload." + name
	for _, line := range strings.Split(procCgroup, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, seg := range strings.Split(f[2], "/") {
			rest, ok := strings.CutPrefix(seg, want)
			if ok && (rest == "" || (len(rest) > 1 && rest[0] == '-' && strings.Trim(rest[1:], "0123456789") == "")) {
				return true
			}
		}
	}
	return false
}

// List runs lxc-ls.
func (d *LXC) List(ctx context.Context) ([]string, error) {
	out, err := d.run(ctx, false, "lxc-ls", "-1")
	if err != nil {
		return nil, fmt.Errorf("lxc: list: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// attachPath is the PATH commands run with inside a sliver.
const attachPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Attach runs lxc-attach with a clean environment.
func (d *LXC) Attach(ctx context.Context, name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("lxc: attach: no command")
	}
	in, err := d.Info(ctx, name)
	if err != nil {
		return 0, err
	}
	if !in.Running {
		return 0, fmt.Errorf("lxc: attach %s: container is %s", name, in.State)
	}
	args := append([]string{"-n", name, "--clear-env", "--set-var", attachPath, "--"}, argv...)
	a := d.argv(false, "lxc-attach", args...)
	cmd := exec.CommandContext(ctx, a[0], a[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("lxc: attach %s: %w", name, err)
	}
	return 0, nil
}

// Limits reads the memory, CPU and pids limits back with lxc-cgroup.
func (d *LXC) Limits(ctx context.Context, name string) (Resources, error) {
	vals := map[string]string{}
	for _, f := range d.cgroups().readbackFiles() {
		out, err := d.run(ctx, false, "lxc-cgroup", "-n", name, f)
		if err != nil {
			return Resources{}, fmt.Errorf("lxc: limits of %s: %w", name, err)
		}
		vals[f] = strings.TrimSpace(string(out))
	}
	return parseLimits(vals)
}
