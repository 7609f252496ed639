package agent

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/internal/safefile"
	"github.com/nodekeeper/nodekeeper/netcfg"
	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/telemetry"
	"github.com/nodekeeper/nodekeeper/uci"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Package is the UCI package the agent reads: /etc/config/nodekeeper.
const Package = "nodekeeper"

// Defaults of the paths the agent writes (docs/config.md).
const (
	DefaultConfDir  = uci.DefaultConfDir
	DefaultRunDir   = "/var/run/nodekeeper"
	DefaultStateDir = "/etc/nodekeeper/state"
	DefaultPolicies = "/etc/nodekeeper/policies"
)

// NodeState is the node's state, as in CONFINE.
type NodeState string

// The node states. Production runs slivers as requested; safe brings every
// sliver down to deployed but keeps telemetry and remote management; debug
// sends slivers back to registered; failure is entered on repeated internal
// errors: slivers down to deployed, policies stop acting, remote management
// and telemetry go on so that an admin can repair the node.
const (
	Production NodeState = "production"
	Safe       NodeState = "safe"
	Debug      NodeState = "debug"
	Failure    NodeState = "failure"
)

// Config is the agent's whole configuration, read from the committed UCI
// package (staged changes in /tmp/.uci are not applied, as with every
// OpenWrt service). Every option and its default is in docs/config.md.
type Config struct {
	// File is the config file read, for messages.
	File string

	Agent     AgentConfig
	Telemetry TelemetryConfig
	Policy    PolicyConfig
	Slivers   SliversConfig
	Remote    RemoteConfig
	Network   NetworkConfig
}

// AgentConfig is `config agent 'agent'`.
type AgentConfig struct {
	NodeID    string
	NodeState NodeState // production, safe or debug (failure is the agent's own)
	LogLevel  string    // debug, info, warn, error
	LogTarget string    // auto, syslog, stderr
	// StateDir keeps what must survive a reboot: the applied desired
	// document, its seq, the undo log of an apply in progress.
	StateDir string
	// RunDir keeps what may vanish at reboot (a tmpfs): the control
	// socket, netcfg's confirm state, the telemetry sequence file.
	RunDir        string
	ControlSocket string
	// FailureThreshold internal errors within FailureWindow put the node
	// in the failure state.
	FailureThreshold int
	FailureWindow    time.Duration
	// MemoryLimit is the Go runtime's soft memory limit (0: none).
	MemoryLimit int64
	// Labels, Tags and Location are what the node says about itself on
	// its info topic (`list label`, `option latitude`, `option
	// longitude`; labels.go, info.go).
	Labels   map[string]string
	Tags     []string
	Location *wire.Location
}

// TelemetryConfig is `config telemetry 'telemetry'`: the publisher's
// settings and what the agent adds.
type TelemetryConfig struct {
	telemetry.Config
	// PublishDocument publishes each whole sample on <prefix>/<node>/document
	// for peers that aggregate (their policies' peers()).
	PublishDocument bool
	// Override is a JSON file merged into every document policies see:
	// for tests and demos (fake a load), never set on a real node.
	Override string
}

// PolicyConfig is `config policy 'policy'`.
type PolicyConfig struct {
	Dir      string
	Budget   policy.Budget
	DryRun   bool
	UCIAllow []string
}

// SliversConfig is `config slivers 'slivers'`.
type SliversConfig struct {
	Enabled     bool
	StateDir    string
	LXCPath     string
	Netns       string
	Rootfs      string
	MinFree     int64
	StopTimeout time.Duration
	Bridges     map[netcfg.IfaceKind]string
	// MaxTemplate bounds a template or data archive as fetched,
	// MaxUnpacked what one unpacks to (container.Config).
	MaxTemplate int64
	MaxUnpacked int64
	// RemoteLocalArchives lets documents' slivers name templates and
	// data archives by a local path or file URL (default: http(s) only).
	RemoteLocalArchives bool
}

// RemoteConfig is `config remote 'remote'`: signed desired state, and
// aggregation of peers' documents.
type RemoteConfig struct {
	Enabled     bool
	TrustedKeys []wire.PublicKey
	// Threshold is how many distinct trusted keys must sign a document
	// (default 1), so that one leaked key cannot steer the node.
	Threshold     int
	ConfirmWindow time.Duration
	// Unmanaged lists what remote documents may not change: "SECTION",
	// "SECTION.OPTION", "slice:NAME", "policies" or "policy:FILE".
	Unmanaged []string
	// RemoteAllow lists the settings beyond the default ones that
	// documents may change: "SECTION.OPTION" or "SECTION" (remoteallow.go).
	RemoteAllow []string
	Peers       []string
	PeersAll    bool
	MaxPeers    int
}

// NetworkConfig is `config network 'network'` and the netcfg sections.
type NetworkConfig struct {
	Enabled  bool
	Netns    string
	StateDir string
	// Sections are the netcfg sections (bridge, veth, overlay, route,
	// nat, isolate, sliver_net, sliver_iface, ...), for netcfg.FromSections.
	Sections []netcfg.Section
}

// The agent's own section types and their options.
var agentSections = map[string][]string{
	"agent": {"node_id", "node_state", "log_level", "log_target", "state_dir", "run_dir", "control_socket",
		"failure_threshold", "failure_window", "memory_limit", "label", "latitude", "longitude"},
	"telemetry": {"broker", "prefix", "interval", "intervals", "qos", "ca_file", "cert_file", "key_file", "username",
		"password_file", "keepalive", "clean_session", "collectors", "filesystems", "start_delay", "spool", "spool_path",
		"spool_max_bytes", "spool_flush", "seq_path", "format", "ha_discovery", "ha_prefix", "prometheus_listen",
		"drain_rate", "reconnect_max", "publish_document", "override"},
	"policy": {"dir", "cpu_budget", "memory_budget", "dry_run", "uci_allow"},
	"slivers": {"enabled", "state_dir", "lxc_path", "netns", "rootfs", "min_free", "stop_timeout", "bridge",
		"max_template_size", "max_unpacked_size", "remote_local_archives"},
	"remote":  {"enabled", "trusted_key", "threshold", "confirm_window", "unmanaged", "remote_allow", "peer", "peers_all", "max_peers"},
	"network": {"enabled", "netns", "state_dir"},
}

// netSectionTypes are the section types netcfg reads (docs/network.md).
var netSectionTypes = []string{"bridge", "veth", "overlay", "vxlan", "vlan", "macvlan", "tap", "dummy", "gre",
	"external", "route", "shaping", "nat", "isolate", "sliver_net", "sliver_iface"}

// LoadConfig reads the committed nodekeeper package through c and checks
// every option. The error names the file, section and option at fault.
func LoadConfig(c *uci.Cursor) (*Config, error) {
	p, err := c.LoadCommitted(Package)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	file := p.Path()
	if file == "" {
		file = filepath.Join(c.ConfDir, Package)
	}
	return parseConfig(file, p)
}

// LocalSlivers says where the agent configured in confDir keeps its
// slivers, and its node id, so that the CLI can work on them while no
// agent runs. ok is false when confDir holds no nodekeeper config; an
// invalid one is an error.
func LocalSlivers(confDir string) (sc SliversConfig, node string, ok bool, err error) {
	if confDir == "" {
		confDir = DefaultConfDir
	}
	if _, err := os.Stat(filepath.Join(confDir, Package)); err != nil {
		return SliversConfig{}, "", false, nil
	}
	cfg, err := LoadConfig(cursorFor(confDir))
	if err != nil {
		return SliversConfig{}, "", false, err
	}
	return cfg.Slivers, cfg.Agent.NodeID, true, nil
}

// parseConfig builds the Config from a package.
func parseConfig(file string, p *uci.Package) (*Config, error) {
	cfg := &Config{File: file}
	for _, s := range p.Sections() {
		if _, ok := agentSections[s.Type()]; ok || slices.Contains(netSectionTypes, s.Type()) {
			continue
		}
		known := append(sortedKeys(agentSections), netSectionTypes...)
		return nil, fmt.Errorf("%s: config %s '%s': unknown section type%s (nodekeeper reads %s)",
			file, s.Type(), s.Name(), suggest(s.Type(), known), strings.Join(known, ", "))
	}
	readers := []*optionReader{}
	rd := func(typ string) *optionReader {
		r := newReader(file, p, typ, agentSections[typ])
		readers = append(readers, r)
		return r
	}

	a := rd("agent")
	cfg.Agent = AgentConfig{
		NodeID:           a.str("node_id", ""),
		NodeState:        NodeState(a.oneOf("node_state", string(Production), string(Production), string(Safe), string(Debug))),
		LogLevel:         a.oneOf("log_level", "info", "debug", "info", "warn", "error"),
		LogTarget:        a.oneOf("log_target", "auto", "auto", "syslog", "stderr"),
		StateDir:         a.path("state_dir", DefaultStateDir),
		RunDir:           a.path("run_dir", DefaultRunDir),
		FailureThreshold: a.integer("failure_threshold", 5, 1, 1000),
		FailureWindow:    a.duration("failure_window", 10*time.Minute, time.Second),
		MemoryLimit:      a.size("memory_limit", 8<<20),
	}
	cfg.Agent.ControlSocket = a.path("control_socket", filepath.Join(cfg.Agent.RunDir, "control.sock"))
	cfg.Agent.Labels, cfg.Agent.Tags = readLabels(a)
	cfg.Agent.Location = readLocation(a)
	if cfg.Agent.NodeID == "" {
		cfg.Agent.NodeID = DefaultNodeID()
	}
	if !validTopicLevel(cfg.Agent.NodeID) {
		a.fail("node_id", "%q: want 1 to %d bytes without '/', '+', '#', spaces or control characters", cfg.Agent.NodeID, maxNodeID)
	}

	cfg.Telemetry = readTelemetry(rd("telemetry"), cfg.Agent)

	pol := rd("policy")
	cfg.Policy = PolicyConfig{
		Dir: pol.path("dir", DefaultPolicies),
		Budget: policy.Budget{
			CPU:    pol.duration("cpu_budget", policy.DefaultCPU, time.Millisecond),
			Memory: pol.size("memory_budget", policy.DefaultMemory),
		},
		DryRun:   pol.boolean("dry_run", false),
		UCIAllow: pol.list("uci_allow"),
	}
	for _, pkg := range cfg.Policy.UCIAllow {
		// A policy (one a document installed, too) that rewrote the
		// agent's own config would get round list remote_allow.
		if !uci.ValidPackage(pkg) || pkg == Package {
			pol.fail("uci_allow", "%q: want a UCI package other than nodekeeper", pkg)
		}
	}

	sl := rd("slivers")
	cfg.Slivers = SliversConfig{
		Enabled:     sl.boolean("enabled", true),
		StateDir:    sl.path("state_dir", container.DefaultStateDir),
		Netns:       sl.netns("netns"),
		Rootfs:      sl.oneOf("rootfs", "", "", "overlay", "copy"),
		MinFree:     sl.size("min_free", 64<<20),
		StopTimeout: sl.duration("stop_timeout", 10*time.Second, time.Second),
		Bridges:     map[netcfg.IfaceKind]string{},
		MaxTemplate: sl.size("max_template_size", container.DefaultMaxArchiveBytes),
		MaxUnpacked: sl.size("max_unpacked_size", container.DefaultMaxUnpackedBytes),

		RemoteLocalArchives: sl.boolean("remote_local_archives", false),
	}
	cfg.Slivers.LXCPath = sl.path("lxc_path", filepath.Join(cfg.Slivers.StateDir, "lxc"))
	for _, b := range sl.list("bridge") {
		k, v, ok := strings.Cut(b, "=")
		if _, _, err := netcfg.IfaceNumber(netcfg.IfaceKind(k), 0); !ok || v == "" || err != nil || k == string(netcfg.Isolated) {
			sl.fail("bridge", "%q: want KIND=BRIDGE with a veth kind (private, public4, public6, debug, management)", b)
			continue
		}
		if err := netcfg.CheckLinkName(v); err != nil {
			sl.fail("bridge", "%v", err)
			continue
		}
		cfg.Slivers.Bridges[netcfg.IfaceKind(k)] = v
	}

	rem := rd("remote")
	cfg.Remote = RemoteConfig{
		Enabled:       rem.boolean("enabled", true),
		Threshold:     rem.integer("threshold", 1, 1, wire.MaxSignatures),
		ConfirmWindow: rem.duration("confirm_window", time.Minute, time.Second),
		Unmanaged:     rem.list("unmanaged"),
		RemoteAllow:   rem.list("remote_allow"),
		Peers:         rem.list("peer"),
		PeersAll:      rem.boolean("peers_all", false),
		MaxPeers:      rem.integer("max_peers", 32, 1, 1024),
	}
	for _, k := range rem.list("trusted_key") {
		pk, err := wire.ParsePublicKey([]byte(k))
		if err != nil {
			rem.fail("trusted_key", "%q: %v", k, err)
			continue
		}
		cfg.Remote.TrustedKeys = append(cfg.Remote.TrustedKeys, pk)
	}
	if n := len(cfg.Remote.TrustedKeys); n > 0 && cfg.Remote.Threshold > n {
		rem.fail("threshold", "%d, but only %d trusted keys: no document could ever apply", cfg.Remote.Threshold, n)
	}
	for _, u := range cfg.Remote.Unmanaged {
		if err := checkUnmanaged(u); err != nil {
			rem.fail("unmanaged", "%q: %v", u, err)
		}
	}
	for _, e := range cfg.Remote.RemoteAllow {
		sec, opt, hasOpt := strings.Cut(e, ".")
		if !uci.ValidName(sec) || (hasOpt && !uci.ValidName(opt)) || slices.Contains(ownerOnly, e) {
			rem.fail("remote_allow", "%q: want SECTION or SECTION.OPTION, not %s", e, strings.Join(ownerOnly, ", "))
		}
	}
	for _, peer := range cfg.Remote.Peers {
		if !validTopicLevel(peer) {
			rem.fail("peer", "%q is not a node id", peer)
		}
	}

	nw := rd("network")
	cfg.Network = NetworkConfig{
		Enabled: nw.boolean("enabled", true),
		Netns:   nw.netns("netns"),
	}
	cfg.Network.StateDir = nw.path("state_dir", filepath.Join(cfg.Agent.RunDir, "netcfg"))
	for _, s := range p.Sections() {
		if !slices.Contains(netSectionTypes, s.Type()) {
			continue
		}
		ns := netcfg.Section{Type: s.Type(), Name: s.Name(), Options: map[string][]string{}}
		for _, o := range s.Options() {
			ns.Options[o.Name()] = o.Values()
		}
		if s.Type() == "sliver_net" && len(ns.Options["node"]) == 0 {
			ns.Options["node"] = []string{cfg.Agent.NodeID}
		}
		cfg.Network.Sections = append(cfg.Network.Sections, ns)
	}

	var errs []error
	for _, r := range readers {
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := cfg.Telemetry.Validate(); err != nil {
		return nil, fmt.Errorf("%s: config telemetry '%s': %w", file, readers[1].name, err)
	}
	if _, err := netcfg.FromSections(cfg.Network.Sections); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if _, err := netcfg.SliverNetOf(cfg.Network.Sections); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return cfg, nil
}

func readTelemetry(r *optionReader, a AgentConfig) TelemetryConfig {
	d := telemetry.DefaultConfig()
	t := TelemetryConfig{Config: d}
	c := &t.Config
	c.NodeID = a.NodeID
	c.Broker = r.str("broker", d.Broker)
	c.Prefix = r.str("prefix", d.Prefix)
	c.Interval = r.duration("interval", d.Interval, telemetry.MinInterval)
	for _, kv := range r.list("intervals") {
		g, v, ok := strings.Cut(kv, "=")
		dur, err := parseDuration(v)
		if !ok || err != nil {
			r.fail("intervals", "%q: want GROUP=DURATION, e.g. wifi=10s", kv)
			continue
		}
		if c.Intervals == nil {
			c.Intervals = map[string]time.Duration{}
		}
		c.Intervals[g] = dur
	}
	c.QoS = r.integer("qos", d.QoS, 0, 1)
	c.CAFile = r.path("ca_file", "")
	c.CertFile = r.path("cert_file", "")
	c.KeyFile = r.path("key_file", "")
	c.Username = r.str("username", "")
	if len(c.Username) > 256 || strings.ContainsAny(c.Username, controlChars) {
		r.fail("username", "want at most 256 bytes without control characters")
	}
	if pf := r.path("password_file", ""); pf != "" {
		// The error names the file, never its contents.
		b, err := safefile.ReadFile(pf, maxPasswordFile)
		if err != nil {
			r.fail("password_file", "%v", err)
		}
		c.Password = strings.TrimRight(string(b), "\r\n")
	}
	c.KeepAlive = r.duration("keepalive", d.KeepAlive, time.Second)
	c.CleanSession = r.boolean("clean_session", d.CleanSession)
	for _, n := range r.list("collectors") {
		on := !strings.HasPrefix(n, "-")
		n = strings.TrimPrefix(n, "-")
		if _, ok := telemetry.Groups()[n]; !ok {
			r.fail("collectors", "%q: unknown collector%s", n, suggest(n, sortedKeys(telemetry.Groups())))
			continue
		}
		if c.Collectors == nil {
			c.Collectors = map[string]bool{}
		}
		c.Collectors[n] = on
	}
	c.Sources.Filesystems = r.list("filesystems")
	for _, fs := range c.Sources.Filesystems {
		if !cleanPath(fs) {
			r.fail("filesystems", "%q: want an absolute path in clean form", fs)
		}
	}
	c.StartDelay = r.duration("start_delay", d.StartDelay, -time.Hour)
	c.Spool = r.oneOf("spool", d.Spool, "ram", "file")
	c.SpoolPath = r.path("spool_path", filepath.Join(a.RunDir, "spool"))
	c.SpoolMaxBytes = r.size("spool_max_bytes", d.SpoolMaxBytes)
	c.SpoolFlush = r.duration("spool_flush", d.SpoolFlush, time.Second)
	c.SeqPath = r.path("seq_path", filepath.Join(a.RunDir, "telemetry.seq"))
	c.Format = r.oneOf("format", d.Format, telemetry.FormatJSON, telemetry.FormatInflux)
	c.HADiscovery = r.boolean("ha_discovery", false)
	c.HAPrefix = r.str("ha_prefix", d.HAPrefix)
	c.PrometheusListen = r.str("prometheus_listen", "")
	if l := c.PrometheusListen; l != "" {
		if _, port, err := net.SplitHostPort(l); err != nil || port == "" || strings.ContainsAny(l, controlChars+" ") {
			r.fail("prometheus_listen", "%q: want HOST:PORT, such as 127.0.0.1:9100", l)
		}
	}
	c.DrainRate = r.float("drain_rate", d.DrainRate, 0.01, 1e6)
	c.ReconnectMax = r.duration("reconnect_max", d.ReconnectMax, 100*time.Millisecond)
	t.PublishDocument = r.boolean("publish_document", true)
	t.Override = r.path("override", "")
	return t
}

// maxPasswordFile bounds telemetry.password_file.
const maxPasswordFile = 4 << 10

// validTopicLevel reports whether s can be one MQTT topic level and a node
// id: 1 to maxNodeID bytes, none of them '/', '+', '#', a space or a
// control character (node ids reach topics, logs and terminals).
func validTopicLevel(s string) bool {
	if s == "" || len(s) > maxNodeID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '/' || c == '+' || c == '#' {
			return false
		}
	}
	return true
}

// maxNodeID bounds a node id.
const maxNodeID = 128
