package openwrtpackage

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shells the scripts must parse and run under: OpenWrt's /bin/sh is
// busybox ash; dash stands for a strict POSIX sh.
var shells = [][]string{{"sh"}, {"busybox", "sh"}}

// TestScriptsParse runs `sh -n` on the shell scripts the package installs.
func TestScriptsParse(t *testing.T) {
	scripts := []string{
		"nodekeeper/files/nodekeeper.init",
		"nodekeeper/files/nodekeeper.uci-defaults",
		"nodekeeper/files/nodekeeper.rpcd",
		"package-files.sh",
		"testdata/rc.common",
	}
	for _, sh := range shells {
		requireCommand(t, sh[0])
		for _, s := range scripts {
			t.Run(sh[0]+"/"+filepath.Base(s), func(t *testing.T) {
				cmd := exec.Command(sh[0], append(sh[1:], "-n", s)...)
				if b, err := cmd.CombinedOutput(); err != nil || len(b) > 0 {
					t.Errorf("%s -n %s: %v\n%s", strings.Join(sh, " "), s, err, b)
				}
			})
		}
	}
	first, _, _ := strings.Cut(string(readFile(t, "nodekeeper/files/nodekeeper.init")), "\n")
	if first != "#!/bin/sh /etc/rc.common" {
		t.Errorf("init script starts with %q, want #!/bin/sh /etc/rc.common", first)
	}
}

// startCalls is what `start` asks of procd: one instance of
// `nodekeeper run`, respawned, logging to logd, restarted when its config
// or binary changes, SIGHUP on reload; a reload on `uci commit nodekeeper`
// (config.change) and on any interface coming up.
var startCalls = []string{
	"procd_open_service 'nodekeeper' '{INITSCRIPT}'",
	"procd_open_instance",
	"procd_set_param 'command' '/usr/bin/nodekeeper' 'run'",
	"procd_set_param 'respawn' '3600' '5' '5'",
	"procd_set_param 'stdout' '1'",
	"procd_set_param 'stderr' '1'",
	"procd_set_param 'file' '/etc/config/nodekeeper' '/usr/bin/nodekeeper'",
	"procd_set_param 'reload_signal' 'HUP'",
	"procd_set_param 'term_timeout' '10'",
	"procd_close_instance",
	"procd_add_reload_trigger 'nodekeeper'",
	"procd_add_raw_trigger 'interface.*.up' '2000' '/etc/init.d/nodekeeper' 'reload'",
	"procd_close_service 'set'",
}

var stopCalls = []string{"procd_kill 'nodekeeper' ''"}

// TestInitScriptProcd runs the init script's actions against the stubbed
// rc.common and procd functions in testdata/rc.common and compares the procd
// calls they make.
func TestInitScriptProcd(t *testing.T) {
	tests := []struct {
		action string
		calls  []string
		links  []string // /etc/rc.d after the action
	}{
		{"start", startCalls, nil},
		{"boot", startCalls, nil},
		{"reload", []string{"procd_send_signal 'nodekeeper' '*' 'HUP'"}, nil},
		{"stop", stopCalls, nil},
		{"restart", append(append([]string{}, stopCalls...), startCalls...), nil},
		{"enable", nil, []string{"K10nodekeeper", "S99nodekeeper"}},
		{"disable", nil, []string{}},
	}
	stub, err := filepath.Abs("testdata/rc.common")
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range shells {
		requireCommand(t, sh[0])
		for _, tt := range tests {
			t.Run(sh[0]+"/"+tt.action, func(t *testing.T) {
				root := t.TempDir()
				initscript := filepath.Join(root, "etc/init.d/nodekeeper")
				for _, d := range []string{"etc/init.d", "etc/rc.d"} {
					if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				writeFile(t, initscript, readFile(t, "nodekeeper/files/nodekeeper.init"))
				if tt.action == "disable" {
					if err := os.Symlink("../init.d/nodekeeper", filepath.Join(root, "etc/rc.d/S99nodekeeper")); err != nil {
						t.Fatal(err)
					}
				}
				log := filepath.Join(root, "procd.log")
				cmd := exec.Command(sh[0], append(sh[1:], stub, initscript, tt.action)...)
				cmd.Env = append(os.Environ(), "PROCD_LOG="+log, "IPKG_INSTROOT="+root)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Run(); err != nil || stderr.Len() > 0 {
					t.Fatalf("%s %s: %v\n%s", initscript, tt.action, err, stderr.String())
				}
				got, err := os.ReadFile(log)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				want := ""
				for _, c := range tt.calls {
					want += strings.ReplaceAll(c, "{INITSCRIPT}", initscript) + "\n"
				}
				if string(got) != want {
					t.Errorf("procd calls of %s:\n%s\nwant:\n%s", tt.action, got, want)
				}
				if tt.action == "start" {
					t.Logf("instance parameters:\n%s", got)
				}
				if tt.links != nil {
					var links []string
					ents, err := os.ReadDir(filepath.Join(root, "etc/rc.d"))
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range ents {
						target, err := os.Readlink(filepath.Join(root, "etc/rc.d", e.Name()))
						if err != nil || target != "../init.d/nodekeeper" {
							t.Errorf("rc.d/%s -> %q (%v), want ../init.d/nodekeeper", e.Name(), target, err)
						}
						links = append(links, e.Name())
					}
					if strings.Join(links, " ") != strings.Join(tt.links, " ") {
						t.Errorf("rc.d after %s: %v, want %v", tt.action, links, tt.links)
					}
				}
			})
		}
	}
}

// TestProcdStubRejects checks that the stub catches the mistakes the real
// procd.sh would let pass silently, so TestInitScriptProcd can fail: the stub
// exits non-zero, or (an undefined function) the shell complains on stderr,
// which TestInitScriptProcd also counts as a failure.
func TestProcdStubRejects(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown parameter", "procd_open_instance; procd_set_param respwn 1; procd_close_instance", "unknown parameter type respwn"},
		{"unknown signal", "procd_open_instance; procd_set_param reload_signal HANGUP; procd_close_instance", "unknown signal HANGUP"},
		{"param outside instance", "procd_set_param command /bin/true", "outside an instance"},
		{"instance left open", "procd_open_instance", "left open"},
		{"undefined helper", "config_load nodekeeper", "config_load"},
	}
	stub, err := filepath.Abs("testdata/rc.common")
	if err != nil {
		t.Fatal(err)
	}
	requireCommand(t, "busybox")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			initscript := filepath.Join(dir, "svc")
			writeFile(t, initscript, []byte("START=50\nUSE_PROCD=1\nstart_service() {\n\t"+tt.body+"\n}\n"))
			cmd := exec.Command("busybox", "sh", stub, initscript, "start")
			cmd.Env = append(os.Environ(), "PROCD_LOG="+filepath.Join(dir, "log"))
			out, err := cmd.CombinedOutput()
			if err == nil && tt.name != "undefined helper" {
				t.Fatalf("start succeeded, want failure:\n%s", out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}
