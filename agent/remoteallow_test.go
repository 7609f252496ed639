package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/uci"
	"github.com/nodekeeper/nodekeeper/wire"
)

// prepareSettings runs a document with these settings through prepare on
// an agent whose config is text, and returns the options the plan would
// change and the settings left out, with why.
func prepareSettings(t *testing.T, text string, settings map[string]wire.Setting) (changed []string, refused map[string]string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Package), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(cursorFor(dir))
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{cfg: cfg, cursor: cursorFor(dir), log: slog.New(slog.DiscardHandler)}
	key, _ := wire.GenerateKey()
	plan, _, refusals, err := a.prepare(context.Background(), &desiredDoc{Desired: &wire.Desired{Node: cfg.Agent.NodeID, Seq: 1, Settings: settings}}, key.Public())
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	for _, ch := range plan.settings {
		changed = append(changed, ch.section+"."+ch.option)
	}
	refused = map[string]string{}
	for _, r := range refusals {
		refused[strings.TrimPrefix(r.member, "setting ")] = r.msg
	}
	return changed, refused
}

// TestRemoteAllow: a signed document changes only the settings the owner
// lets it: the defaults (which name no file, socket, directory, broker,
// credential or key) and what list remote_allow adds. The rest is left out
// and reported; the rest of the document still applies.
func TestRemoteAllow(t *testing.T) {
	set := func(v string) wire.Setting { return wire.Setting{Values: []string{v}} }
	base := "config agent 'agent'\n\toption node_id 'n1'\n\toption run_dir '/var/run/nk-test'\n" +
		"config telemetry 'telemetry'\n\toption broker 'tcp://127.0.0.1:1883'\n" +
		"config policy 'policy'\n\tlist uci_allow 'wireless'\n" +
		"config bridge 'nklan'\n\toption mtu '1400'\n"
	tests := []struct {
		name     string
		allow    []string
		settings map[string]wire.Setting
		changed  []string
		refused  []string
	}{
		{"finding 2: a local file to any broker", nil, map[string]wire.Setting{
			"telemetry.broker":        set("tcp://192.0.2.1:1883"),
			"telemetry.username":      set("x"),
			"telemetry.password_file": set("/etc/shadow"),
			"telemetry.interval":      set("10"),
		}, []string{"telemetry.interval"}, []string{"telemetry.broker", "telemetry.username", "telemetry.password_file"}},
		{"other files, keys and certificates", nil, map[string]wire.Setting{
			"telemetry.override":  set("/etc/shadow"),
			"telemetry.ca_file":   set("/etc/shadow"),
			"telemetry.cert_file": set("/etc/shadow"),
			"telemetry.key_file":  set("/etc/shadow"),
			"telemetry.seq_path":  set("/etc/passwd"),
		}, nil, []string{"telemetry.override", "telemetry.ca_file", "telemetry.cert_file", "telemetry.key_file", "telemetry.seq_path"}},
		{"finding 3: sockets and directories", nil, map[string]wire.Setting{
			"agent.control_socket":        set("/tmp/x.sock"),
			"agent.run_dir":               set("/tmp"),
			"agent.state_dir":             set("/tmp"),
			"policy.dir":                  set("/tmp"),
			"telemetry.prometheus_listen": set("0.0.0.0:9100"),
			"slivers.lxc_path":            set("/tmp"),
		}, nil, []string{"agent.control_socket", "agent.run_dir", "agent.state_dir", "policy.dir", "telemetry.prometheus_listen", "slivers.lxc_path"}},
		{"a wider uci_allow for the policies a document installs", nil, map[string]wire.Setting{
			"policy.uci_allow": {Values: []string{"wireless", "network", "system"}, List: true},
		}, nil, []string{"policy.uci_allow"}},
		{"deleting is changing", nil, map[string]wire.Setting{
			"telemetry.broker": {Delete: true},
		}, nil, []string{"telemetry.broker"}},
		{"network sections", nil, map[string]wire.Setting{
			"nklan.mtu": set("1500"),
		}, nil, []string{"nklan.mtu"}},
		{"the defaults", nil, map[string]wire.Setting{
			"agent.node_state":       set("safe"),
			"agent.log_level":        set("debug"),
			"telemetry.collectors":   {Values: []string{"-wifi"}, List: true},
			"policy.dry_run":         set("1"),
			"policy.cpu_budget":      set("50ms"),
			"remote.peer":            {Values: []string{"n2"}, List: true},
			"telemetry.drain_rate":   set("5"),
			"telemetry.ha_discovery": set("1"),
		}, []string{"agent.log_level", "agent.node_state", "policy.cpu_budget", "policy.dry_run", "remote.peer", "telemetry.collectors", "telemetry.drain_rate", "telemetry.ha_discovery"}, nil},
		{"the owner opts in per setting", []string{"telemetry.broker", "nklan"}, map[string]wire.Setting{
			"telemetry.broker":        set("tcp://127.0.0.1:1884"),
			"telemetry.password_file": set("/etc/shadow"),
			"nklan.mtu":               set("1280"),
		}, []string{"nklan.mtu", "telemetry.broker"}, []string{"telemetry.password_file"}},
		{"the owner's trust settings, whatever remote_allow says", []string{"remote"}, map[string]wire.Setting{
			"remote.trusted_key":    {Values: []string{"k"}, List: true},
			"remote.remote_allow":   {Values: []string{"telemetry"}, List: true},
			"remote.confirm_window": set("1h"),
		}, []string{"remote.confirm_window"}, []string{"remote.trusted_key", "remote.remote_allow"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := base + "config remote 'remote'\n"
			for _, e := range tt.allow {
				text += "\tlist remote_allow '" + e + "'\n"
			}
			changed, refused := prepareSettings(t, text, tt.settings)
			slices.Sort(changed)
			if !slices.Equal(changed, tt.changed) {
				t.Errorf("changed %v, want %v", changed, tt.changed)
			}
			for _, k := range tt.refused {
				if refused[k] == "" {
					t.Errorf("%s not refused (refusals %v)", k, refused)
				}
			}
			if len(refused) != len(tt.refused) {
				t.Errorf("refused %v, want %v", refused, tt.refused)
			}
			for k, why := range refused {
				if strings.HasPrefix(k, "remote.") {
					continue
				}
				if want := "list remote_allow '" + k + "'"; !strings.Contains(why, want) {
					t.Errorf("refusal of %s says %q, not how to allow it (%q)", k, why, want)
				}
			}
		})
	}
}

// TestRemoteAllowConfig: list remote_allow takes SECTION or SECTION.OPTION,
// never the owner's trust settings.
func TestRemoteAllowConfig(t *testing.T) {
	for _, tt := range []struct {
		entry, want string
	}{
		{"telemetry.broker", ""},
		{"lan", ""},
		{"remote.trusted_key", "not remote.trusted_key, remote.unmanaged"},
		{"remote.remote_allow", "remote.remote_allow"},
		{"telemetry.", "want SECTION or SECTION.OPTION"},
		{"a b", "want SECTION or SECTION.OPTION"},
	} {
		_, err := LoadConfig(writeConf(t, "config remote 'remote'\n\tlist remote_allow '"+tt.entry+"'\n"))
		if (tt.want == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), "option remote_allow: \""+tt.entry+"\": ") || !strings.Contains(err.Error(), tt.want))) {
			t.Errorf("remote_allow %q: error %v, want %q", tt.entry, err, tt.want)
		}
	}
}

func writeConf(t *testing.T, text string) *uci.Cursor {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Package), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return cursorFor(dir)
}

// TestRemoteDefaultsDocumented: docs/remote.md gives every setting of the
// default list (with its reason), so the list the owner reads is the one
// the agent applies.
func TestRemoteDefaultsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/remote.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range strings.Fields(remoteDefaults) {
		if !strings.Contains(string(doc), "| `"+k+"`") && !strings.Contains(string(doc), ", `"+k+"`") {
			t.Errorf("docs/remote.md does not list %s in the default settings", k)
		}
	}
}
