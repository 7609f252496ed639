package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/agent"
	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/netcfg"
)

func init() {
	register(command{name: "sliver", summary: "list, create, deploy, start, stop, remove slivers; attach to them", run: runSliver})
}

const sliverUsage = `usage: nodekeeper sliver COMMAND [flags] [NAME] [-- CMD...]

commands:
  list                   every sliver: a table, or JSON with --json
  show NAME              one sliver's record and status
  create NAME [flags]    register a sliver (with --request deploy|start, go on)
  deploy NAME            request deploy: fetch the template, build the container
  start NAME             request start
  stop NAME              request deploy: stop a started sliver
  undeploy NAME          request register: remove the container, keep the record
  remove NAME            take the sliver down and forget it
  attach NAME -- CMD...  run CMD inside a started sliver; exits with its status

While an agent runs they go through it (its control socket, see --config-dir
and --socket); without one they work directly on the state directory its
config (--config-dir) names, or with --state-dir, --lxcpath or --netns given,
on that one.
Run "nodekeeper sliver COMMAND -h" for the flags.
`

// sliverAPI is what the sliver commands need of the slivers: a
// *container.Manager on the state directory, or the agent that holds it.
type sliverAPI interface {
	List(ctx context.Context) ([]container.Status, error)
	Get(name string) (container.Sliver, error)
	Create(ctx context.Context, spec container.Spec) (container.Sliver, error)
	SetRequest(ctx context.Context, name string, req container.Request) (container.Sliver, error)
	Remove(ctx context.Context, name string) error
	Attach(ctx context.Context, name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
	Close() error
}

// nodeFlags say where the slivers are and how the node is set up.
type nodeFlags struct {
	stateDir, lxcPath, netns, node, rootfs string
	bridges                                []string
	json                                   bool
	timeout                                time.Duration
	agent                                  agentFlags
	fs                                     *flag.FlagSet
	readOnly                               bool      // list, show: create nothing
	stderr                                 io.Writer // says which config is used
}

func (n *nodeFlags) register(fs *flag.FlagSet) {
	n.fs = fs
	n.agent.register(fs)
	fs.StringVar(&n.stateDir, "state-dir", container.DefaultStateDir, "state directory: sliver records, layers, template cache")
	fs.StringVar(&n.lxcPath, "lxcpath", "", "LXC path (default STATE-DIR/lxc)")
	fs.Func("netns", "run the LXC tools in this network namespace (name or path)", func(v string) error {
		n.netns = v
		return netcfg.CheckNetns(v)
	})
	fs.StringVar(&n.node, "node", "", "node id, naming veths and MACs (default: the config's, else as the agent's, docs/config.md)")
	fs.StringVar(&n.rootfs, "rootfs", "", "overlay or copy (default: overlay where it works)")
	fs.Func("bridge", "KIND=BRIDGE: the host bridge of an interface kind (repeatable)", func(s string) error {
		if _, b, _ := strings.Cut(s, "="); b != "" {
			if err := netcfg.CheckLinkName(b); err != nil {
				return err
			}
		}
		n.bridges = append(n.bridges, s)
		return nil
	})
	fs.BoolVar(&n.json, "json", false, "print JSON")
	fs.DurationVar(&n.timeout, "timeout", 10*time.Minute, "give up after this long")
}

// openSlivers opens the slivers the commands act on: through the running
// agent, which holds the state directory, unless the flags name one.
var openSlivers = func(ctx context.Context, n *nodeFlags) (sliverAPI, error) {
	local := false
	given := map[string]bool{}
	if n.fs != nil {
		n.fs.Visit(func(f *flag.Flag) {
			given[f.Name] = true
			switch f.Name {
			case "state-dir", "lxcpath", "netns":
				local = true
			}
		})
	}
	cfg := container.Config{StateDir: n.stateDir, Node: n.node, Rootfs: n.rootfs, Bridges: map[netcfg.IfaceKind]string{}, ReadOnly: n.readOnly}
	lxcPath, netns := n.lxcPath, n.netns
	if !local {
		if c, err := n.agent.dial(); err != nil {
			return nil, err
		} else if c != nil {
			return c, nil
		}
		// No agent: work where its config keeps the slivers.
		sc, node, ok, err := agent.LocalSlivers(n.agent.confDir)
		if err != nil {
			return nil, err
		}
		conf := filepath.Join(n.agent.confDir, agent.Package)
		if !ok {
			return nil, fmt.Errorf("no agent is running (control socket %s) and there is no %s: give --config-dir DIR or --state-dir DIR", n.agent.path(), conf)
		}
		fmt.Fprintf(n.stderr, "nodekeeper: no agent is running: using the slivers of %s\n", conf)
		if ok {
			cfg.StateDir, lxcPath, netns = sc.StateDir, sc.LXCPath, sc.Netns
			cfg.MaxArchiveBytes, cfg.MaxUnpackedBytes = sc.MaxTemplate, sc.MaxUnpacked
			maps.Copy(cfg.Bridges, sc.Bridges)
			if !given["node"] {
				cfg.Node = node
			}
			if !given["rootfs"] {
				cfg.Rootfs = sc.Rootfs
			}
		}
	}
	if cfg.Node == "" {
		cfg.Node = agent.DefaultNodeID()
	}
	for _, b := range n.bridges {
		k, v, ok := strings.Cut(b, "=")
		if _, _, err := netcfg.IfaceNumber(netcfg.IfaceKind(k), 0); !ok || v == "" || err != nil {
			return nil, fmt.Errorf("--bridge %q: want KIND=BRIDGE with a sliver interface kind", b)
		}
		cfg.Bridges[netcfg.IfaceKind(k)] = v
	}
	if _, err := os.Stat(cfg.StateDir); n.readOnly && err != nil {
		return nil, fmt.Errorf("no slivers: %w", err)
	}
	if lxcPath == "" {
		lxcPath = filepath.Join(cfg.StateDir, "lxc")
	}
	d, err := container.NewLXC(container.LXCOptions{Path: lxcPath, Netns: netns})
	if err != nil {
		return nil, err
	}
	cfg.Driver = d
	// Another CLI command may hold the directory for a while; the agent
	// holds it for good.
	lockCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, rep, err := container.Open(lockCtx, cfg)
	if err != nil {
		return nil, err
	}
	for _, o := range rep.Orphans {
		fmt.Fprintf(os.Stderr, "nodekeeper: orphan container %s (no sliver record; left alone)\n", o)
	}
	return m, nil
}

// specFlags are create's flags.
type specFlags struct {
	spec                  container.Spec
	memory, disk, request string
	dataURL, dataSHA256   string
	ifaces                []container.Interface
}

func (s *specFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.spec.Slice, "slice", "", "slice the sliver belongs to (default its name)")
	fs.IntVar(&s.spec.ID, "id", 0, "sliver number on this node (default the lowest free)")
	fs.StringVar(&s.spec.Template.URL, "template", "", "rootfs template: http(s) or file URL, or absolute path")
	fs.StringVar(&s.spec.Template.SHA256, "sha256", "", "the template's SHA-256")
	fs.StringVar(&s.spec.Template.Type, "template-type", "", "the template's distribution (debian, openwrt, ...)")
	fs.StringVar(&s.dataURL, "data", "", "data archive unpacked into the sliver's own layer")
	fs.StringVar(&s.dataSHA256, "data-sha256", "", "the data archive's SHA-256")
	fs.StringVar(&s.memory, "memory", "", "memory limit (e.g. 64M)")
	fs.StringVar(&s.disk, "disk", "", "disk limit: a size-capped image (e.g. 256M)")
	fs.IntVar(&s.spec.Resources.CPUShares, "cpu-shares", 0, "relative CPU weight (2-262144)")
	fs.IntVar(&s.spec.Resources.CPUMillicores, "cpu", 0, "CPU cap in millicores (1000 = one core)")
	fs.IntVar(&s.spec.Resources.Pids, "pids", 0, "process limit")
	fs.Uint64Var(&s.spec.InstanceSN, "instance-sn", 0, "instance sequence number")
	fs.StringVar(&s.request, "request", "register", "state to reach: register, deploy or start")
	fs.Func("iface", "KIND[,bridge=B][,ipv4=A/N][,gw4=A][,ipv6=A/N][,gw6=A][,parent=DEV,vlan=N] (repeatable)", func(v string) error {
		ifc, err := container.ParseInterface(v)
		if err != nil {
			return err
		}
		s.ifaces = append(s.ifaces, ifc)
		return nil
	})
}

func (s *specFlags) build(name string) (container.Spec, error) {
	spec := s.spec
	spec.Name = name
	spec.Interfaces = s.ifaces
	var err error
	if spec.Request, err = container.ParseRequest(s.request); err != nil {
		return spec, fmt.Errorf("--request: %w", err)
	}
	if s.memory != "" {
		if spec.Resources.MemoryBytes, err = container.ParseSize(s.memory); err != nil {
			return spec, fmt.Errorf("--memory: %w", err)
		}
	}
	if s.disk != "" {
		if spec.Resources.DiskBytes, err = container.ParseSize(s.disk); err != nil {
			return spec, fmt.Errorf("--disk: %w", err)
		}
	}
	if s.dataURL != "" {
		spec.Data = &container.Archive{URL: s.dataURL, SHA256: s.dataSHA256}
	}
	return spec, nil
}

// splitArgs parses flags wherever they stand among the positional
// arguments, up to "--"; what follows "--" is returned as is.
func splitArgs(fs *flag.FlagSet, args []string) (pos, rest []string, err error) {
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		if fs.NArg() == 0 {
			return pos, rest, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runSliver(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, sliverUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	requests := map[string]container.Request{"deploy": container.Deploy, "start": container.Start, "stop": container.Deploy, "undeploy": container.Register}
	switch sub {
	case "list", "show", "create", "remove", "attach":
	default:
		if _, ok := requests[sub]; !ok {
			fmt.Fprintf(stderr, "nodekeeper sliver: unknown command %q\n%s", sub, sliverUsage)
			return 2
		}
	}
	fs := flag.NewFlagSet("nodekeeper sliver "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	nf := nodeFlags{readOnly: sub == "list" || sub == "show", stderr: stderr}
	nf.register(fs)
	var sf specFlags
	if sub == "create" {
		sf.register(fs)
	}
	pos, rest, err := splitArgs(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	wantPos := 1
	if sub == "list" {
		wantPos = 0
	}
	if len(pos) != wantPos || (sub == "attach") != (len(rest) > 0) {
		fmt.Fprintf(stderr, "nodekeeper sliver %s: wrong arguments %q\n%s", sub, args[1:], sliverUsage)
		return 2
	}
	var spec container.Spec
	if sub == "create" {
		if spec, err = sf.build(pos[0]); err != nil {
			fmt.Fprintf(stderr, "nodekeeper sliver create: %v\n", err)
			return 2
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), nf.timeout)
	defer cancel()
	api, err := openSlivers(ctx, &nf)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper sliver: %v\n", err)
		return 1
	}
	defer api.Close()

	var name string
	if len(pos) > 0 {
		name = pos[0]
	}
	switch sub {
	case "list":
		st, err := api.List(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper sliver list: %v\n", err)
			return 1
		}
		if nf.json {
			return printJSON(stdout, stderr, st)
		}
		printTable(stdout, st)
		return 0
	case "show":
		return show(ctx, api, name, nf.json, stdout, stderr)
	case "attach":
		code, err := api.Attach(ctx, name, rest, stdin, stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper sliver attach: %v\n", err)
			return 1
		}
		return code
	case "remove":
		if err := api.Remove(ctx, name); err != nil {
			fmt.Fprintf(stderr, "nodekeeper sliver remove: %v\n", err)
			return 1
		}
		return 0
	}
	if sub == "create" {
		_, err = api.Create(ctx, spec)
	} else {
		_, err = api.SetRequest(ctx, name, requests[sub])
	}
	if err != nil {
		// The sliver is recorded in a fail_* state; show says which. A
		// create that allocated nothing leaves no record behind.
		fmt.Fprintf(stderr, "nodekeeper sliver %s: %v\n", sub, err)
		s, gerr := api.Get(name)
		if gerr != nil {
			return 1
		}
		if sub == "create" && s.State == container.FailAllocate {
			if rerr := api.Remove(ctx, name); rerr != nil {
				fmt.Fprintf(stderr, "nodekeeper sliver create: %s stays in fail_allocate: %v; remove it with: nodekeeper sliver remove %s\n", name, rerr, name)
				return 1
			}
			fmt.Fprintf(stderr, "nodekeeper sliver create: %s not created (nothing was allocated)\n", name)
			return 1
		}
		fmt.Fprintf(stderr, "nodekeeper sliver %s: %s is %s; retry with the same request, or: nodekeeper sliver remove %s\n", sub, name, s.State, name)
		show(ctx, api, name, nf.json, stdout, stderr)
		return 1
	}
	return show(ctx, api, name, nf.json, stdout, stderr)
}

// show prints one sliver: its record and live status.
func show(ctx context.Context, api sliverAPI, name string, asJSON bool, stdout, stderr io.Writer) int {
	s, err := api.Get(name)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper sliver show: %v\n", err)
		return 1
	}
	all, err := api.List(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper sliver show: %v\n", err)
		return 1
	}
	var st container.Status
	for _, x := range all {
		if x.Name == name {
			st = x
		}
	}
	if asJSON {
		return printJSON(stdout, stderr, struct {
			Sliver container.Sliver `json:"sliver"`
			Status container.Status `json:"status"`
		}{s, st})
	}
	tw := newColumns(stdout)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s:\t%v\n", k, v) }
	row("name", s.Name)
	row("slice", s.Slice)
	row("id", s.ID)
	row("state", s.State)
	row("requested", s.Request)
	if s.Error != "" {
		row("error", s.Error)
	}
	row("container", st.Container)
	if st.PID > 0 {
		row("pid", st.PID)
	}
	row("template", s.Template.URL+" sha256:"+s.Template.SHA256)
	if s.Data != nil {
		row("data", s.Data.URL+" sha256:"+s.Data.SHA256)
	}
	row("resources", resourcesText(s.Resources))
	for i, ifc := range s.Interfaces {
		row(fmt.Sprintf("interface %d", i), strings.Join(strings.Fields(fmt.Sprintf("%s %s %s %s", ifc.Kind, ifc.Bridge, ifc.IPv4, ifc.IPv6)), " "))
	}
	if len(st.HostInterfaces) > 0 {
		row("host veths", strings.Join(st.HostInterfaces, " "))
	}
	row("instance_sn", fmt.Sprintf("%d (deployed %d)", s.InstanceSN, s.DeployedSN))
	row("updated", s.Updated.Format(time.RFC3339))
	tw.Flush()
	return 0
}

func resourcesText(r container.Resources) string {
	var parts []string
	if r.MemoryBytes > 0 {
		parts = append(parts, fmt.Sprintf("memory %dM", r.MemoryBytes>>20))
	}
	if r.CPUShares > 0 {
		parts = append(parts, fmt.Sprintf("cpu-shares %d", r.CPUShares))
	}
	if r.CPUMillicores > 0 {
		parts = append(parts, fmt.Sprintf("cpu %dm", r.CPUMillicores))
	}
	if r.Pids > 0 {
		parts = append(parts, fmt.Sprintf("pids %d", r.Pids))
	}
	if r.DiskBytes > 0 {
		parts = append(parts, fmt.Sprintf("disk %dM", r.DiskBytes>>20))
	}
	if len(parts) == 0 {
		return "unlimited"
	}
	return strings.Join(parts, ", ")
}

func printTable(w io.Writer, st []container.Status) {
	tw := newColumns(w)
	fmt.Fprintln(tw, "NAME\tSLICE\tID\tSTATE\tREQUEST\tPID\tMEMORY\tINTERFACES\tERROR")
	for _, s := range st {
		pid, mem := "-", "-"
		if s.PID > 0 {
			pid = fmt.Sprint(s.PID)
		}
		if s.MemoryLimitBytes > 0 {
			mem = fmt.Sprintf("%dM", s.MemoryLimitBytes>>20)
		}
		ifs := strings.Join(s.HostInterfaces, ",")
		if ifs == "" {
			ifs = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Slice, s.ID, s.State, s.Request, pid, mem, ifs, firstLine(s.Error))
	}
	tw.Flush()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func printJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "nodekeeper: %v\n", err)
		return 1
	}
	return 0
}
