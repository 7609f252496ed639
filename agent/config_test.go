package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/netcfg"
	"github.com/nodekeeper/nodekeeper/uci"
	"github.com/nodekeeper/nodekeeper/wire"
)

// loadText writes text as the nodekeeper package and loads it.
func loadText(t *testing.T, text string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Package), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return LoadConfig(&uci.Cursor{ConfDir: dir, OverrideDir: "-", SaveDir: t.TempDir()})
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadText(t, "config agent 'agent'\n\toption node_id 'n1'\n")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"node id", c.Agent.NodeID, "n1"},
		{"node state", c.Agent.NodeState, Production},
		{"log level", c.Agent.LogLevel, "info"},
		{"state dir", c.Agent.StateDir, DefaultStateDir},
		{"control socket", c.Agent.ControlSocket, "/var/run/nodekeeper/control.sock"},
		{"broker", c.Telemetry.Broker, "tcp://127.0.0.1:1883"},
		{"telemetry node", c.Telemetry.NodeID, "n1"},
		{"interval", c.Telemetry.Interval, 30 * time.Second},
		{"seq path", c.Telemetry.SeqPath, "/var/run/nodekeeper/telemetry.seq"},
		{"publish document", c.Telemetry.PublishDocument, true},
		{"policy dir", c.Policy.Dir, DefaultPolicies},
		{"slivers", c.Slivers.Enabled, true},
		{"lxc path", c.Slivers.LXCPath, "/srv/nodekeeper/lxc"},
		{"confirm window", c.Remote.ConfirmWindow, time.Minute},
		{"network state", c.Network.StateDir, "/var/run/nodekeeper/netcfg"},
		{"failure threshold", c.Agent.FailureThreshold, 5},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestConfigValues(t *testing.T) {
	k, _ := wire.GenerateKey()
	c, err := loadText(t, `
config agent 'agent'
	option node_id 'n2'
	option node_state 'safe'
	option run_dir '/run/nk2'
config telemetry 'telemetry'
	option interval '1m30s'
	list intervals 'wifi=10s'
	list collectors '-wifi'
	option spool_max_bytes '2M'
config policy 'policy'
	option cpu_budget '20ms'
	option memory_budget '4M'
	list uci_allow 'wireless'
config slivers 'slivers'
	list bridge 'public4=br-lan'
config remote 'remote'
	list trusted_key '`+k.Public().String()+`'
	list unmanaged 'telemetry'
	list unmanaged 'slice:mine'
	list peer 'n3'
config bridge 'nkmesh'
	option mtu '1450'
config sliver_net 'net'
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Agent.NodeState != Safe || c.Agent.ControlSocket != "/run/nk2/control.sock" || c.Telemetry.Interval != 90*time.Second ||
		c.Telemetry.Intervals["wifi"] != 10*time.Second || c.Telemetry.Collectors["wifi"] || c.Telemetry.SpoolMaxBytes != 2<<20 ||
		c.Policy.Budget.CPU != 20*time.Millisecond || c.Policy.Budget.Memory != 4<<20 || c.Policy.UCIAllow[0] != "wireless" ||
		c.Slivers.Bridges[netcfg.Public4] != "br-lan" || len(c.Remote.TrustedKeys) != 1 || c.Remote.TrustedKeys[0].ID() != k.Public().ID() ||
		len(c.Remote.Unmanaged) != 2 || c.Remote.Peers[0] != "n3" || len(c.Network.Sections) != 2 {
		t.Errorf("config: %+v", c)
	}
	// The sliver_net section takes the node id when it names none.
	if got := c.Network.Sections[1].Options["node"]; len(got) != 1 || got[0] != "n2" {
		t.Errorf("sliver_net node: %v", got)
	}
}

// An invalid config is refused with the file, the section, the option and
// why.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"bad duration", "config telemetry 'telemetry'\n\toption interval 'soon'\n",
			`config telemetry 'telemetry' option interval: "soon": want a duration`},
		{"interval too short", "config telemetry 'telemetry'\n\toption interval '10ms'\n", "option interval"},
		{"misspelt option", "config telemetry 'telemetry'\n\toption intervall '30'\n",
			"option intervall: unknown option (did you mean interval?)"},
		{"unknown section", "config telemetri 'x'\n", "config telemetri 'x': unknown section type (did you mean telemetry?)"},
		{"bad node state", "config agent 'agent'\n\toption node_state 'broken'\n",
			`option node_state: "broken": want one of production, safe, debug`},
		{"failure is not for UCI", "config agent 'agent'\n\toption node_state 'failure'\n", "option node_state"},
		{"bad boolean", "config policy 'policy'\n\toption dry_run 'maybe'\n", `option dry_run: "maybe"`},
		{"relative path", "config agent 'agent'\n\toption state_dir 'state'\n", `option state_dir: "state": want an absolute path`},
		{"bad size", "config agent 'agent'\n\toption memory_limit 'lots'\n", "option memory_limit"},
		{"path with ..", "config agent 'agent'\n\toption control_socket '/var/run/../../tmp/x.sock'\n", `option control_socket: "/var/run/../../tmp/x.sock": want an absolute path`},
		{"path with a trailing /", "config policy 'policy'\n\toption dir '/etc/nodekeeper/policies/'\n", "option dir"},
		{"path with a newline", "config telemetry 'telemetry'\n\toption ca_file '/etc/ca.pem\nx'\n", "option ca_file"},
		{"policies on the agent's config", "config policy 'policy'\n\tlist uci_allow 'nodekeeper'\n", `option uci_allow: "nodekeeper": want a UCI package other than nodekeeper`},
		{"bad key", "config remote 'remote'\n\tlist trusted_key 'not-a-key'\n", "option trusted_key"},
		{"bad unmanaged", "config remote 'remote'\n\tlist unmanaged 'slice:'\n", "option unmanaged"},
		{"bad bridge", "config slivers 'slivers'\n\tlist bridge 'isolated=eth1'\n", "option bridge"},
		{"second section", "config agent 'agent'\nconfig agent 'other'\n", "config agent 'other': a second agent section"},
		{"list for an option", "config agent 'agent'\n\tlist log_level 'info'\n", "option log_level: is a list"},
		{"bad qos", "config telemetry 'telemetry'\n\toption qos '2'\n", "option qos"},
		{"unknown collector", "config telemetry 'telemetry'\n\tlist collectors 'gpu'\n", `option collectors: "gpu": unknown collector`},
		{"bad node id", "config agent 'agent'\n\toption node_id 'a/b'\n", "option node_id"},
		{"network section", "config bridge 'br0'\n", `"br0"`},
		{"network option", "config bridge 'nkbr'\n\toption mtu 'big'\n", "config bridge 'nkbr' option mtu"},
		{"syntax", "config agent 'agent'\n\toption 'unterminated\n", "nodekeeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadText(t, tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to say %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "/"+Package) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// Services read committed config: changes staged with `uci set` wait for
// `uci commit`.
func TestConfigIgnoresStagedChanges(t *testing.T) {
	dir, save := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, Package), []byte("config agent 'agent'\n\toption log_level 'info'\n"), 0o600)
	c := &uci.Cursor{ConfDir: dir, OverrideDir: "-", SaveDir: save}
	p, err := c.Load(Package)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Set("agent", "log_level", "debug"); err != nil {
		t.Fatal(err)
	}
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Agent.LogLevel != "info" {
		t.Errorf("log level %q: a staged change was applied", cfg.Agent.LogLevel)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if cfg, _ = LoadConfig(c); cfg.Agent.LogLevel != "debug" {
		t.Errorf("log level %q after commit", cfg.Agent.LogLevel)
	}
}

// The shipped default config loads, and names every option docs/config.md
// documents.
func TestShippedConfig(t *testing.T) {
	b, err := os.ReadFile("../openwrt-package/nodekeeper/files/nodekeeper.config")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadText(t, string(b)); err != nil {
		t.Fatalf("the shipped config does not load: %v", err)
	}
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for sec, opts := range agentSections {
		if !strings.Contains(string(b), "config "+sec+" '"+sec+"'") {
			t.Errorf("the shipped config lacks section %s", sec)
		}
		for _, o := range opts {
			if !strings.Contains(string(b), "option "+o+" ") && !strings.Contains(string(b), "list "+o+" ") {
				t.Errorf("the shipped config does not show %s.%s", sec, o)
			}
			if !strings.Contains(string(doc), "`"+o+"`") {
				t.Errorf("docs/config.md does not document %s.%s", sec, o)
			}
		}
	}
}
