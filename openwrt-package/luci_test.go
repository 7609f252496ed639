package openwrtpackage

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const (
	rpcdPlugin = "nodekeeper/files/nodekeeper.rpcd"
	luciDir    = "luci-app-nodekeeper"
	menuFile   = luciDir + "/root/usr/share/luci/menu.d/luci-app-nodekeeper.json"
	aclFile    = luciDir + "/root/usr/share/rpcd/acl.d/luci-app-nodekeeper.json"
	viewDir    = luciDir + "/htdocs/luci-static/resources/view"
)

// fakeCLI is a stand-in for /usr/bin/nodekeeper: it records its arguments
// and prints what FAKE_<subcommand> holds, or fails like the CLI does when
// no agent runs.
const fakeCLI = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
if [ -n "$FAKE_FAIL" ]; then
	printf '%s\n' "$FAKE_FAIL" >&2
	exit 1
fi
case "$1" in
status) printf '%s\n' "$FAKE_STATUS" ;;
sliver) printf '%s\n' "$FAKE_SLIVERS" ;;
policy) printf '%s\n' "$FAKE_POLICIES" ;;
telemetry) printf '%s\n' "$FAKE_SAMPLE" ;;
*) exit 2 ;;
esac
`

// pluginMethods are the methods the rpcd plugin answers.
var pluginMethods = []string{"policy_list", "sliver_list", "status", "telemetry_sample"}

// TestRPCDPlugin checks the exec plugin's contract with rpcd under dash and
// busybox ash: `list` prints the methods and their (empty) argument
// signatures, `call` prints one JSON object per method (lists wrapped, the
// CLI's failure as {"error": message}), an unknown method fails.
func TestRPCDPlugin(t *testing.T) {
	shells := []string{requireCommand(t, "dash"), requireCommand(t, "busybox") + " sh"}
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "nodekeeper"), []byte(fakeCLI))
	if err := os.Chmod(filepath.Join(bin, "nodekeeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	status := `{"node":"n1","node_state":"production","broker":"tcp://127.0.0.1:1883","connected":true,"slivers":[],"policies":{"loaded":2,"quarantined":0}}`
	slivers := `[{"name":"web","slice":"s1","id":1,"state":"started","set_state":"started"}]`
	policies := `[{"name":"cpu-guard","source":"/etc/nodekeeper/policies/cpu-guard.lua","every":30000000000,"priority":0,"failures":0}]`
	sample := `{"node":"n1","seq":3,"cpu":{"busy_percent":2.5}}`
	failure := "no agent is running (control socket /var/run/nodekeeper/\"control\".sock)\n\tsecond line \\ end"
	for _, shell := range shells {
		sh := strings.Fields(shell)
		runner := func(t *testing.T, fail string, args ...string) (string, string, []string, error) {
			log := filepath.Join(t.TempDir(), "log")
			env := []string{"PATH=" + bin + ":/usr/bin:/bin", "FAKE_LOG=" + log, "FAKE_FAIL=" + fail,
				"FAKE_STATUS=" + status, "FAKE_SLIVERS=" + slivers, "FAKE_POLICIES=" + policies, "FAKE_SAMPLE=" + sample}
			// As rpcd runs it: PLUGIN list, PLUGIN call METHOD, the
			// arguments on stdin.
			cmd := exec.Command(sh[0], append(append(sh[1:], rpcdPlugin), args...)...)
			cmd.Env = env
			cmd.Stdin = strings.NewReader("{}")
			var ob, eb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &ob, &eb
			err := cmd.Run()
			o, e := ob.String(), eb.String()
			calls, _ := os.ReadFile(log)
			return o, e, strings.Split(strings.TrimSpace(string(calls)), "\n"), err
		}
		t.Run(filepath.Base(sh[len(sh)-1])+"/list", func(t *testing.T) {
			o, e, _, err := runner(t, "", "list")
			if err != nil {
				t.Fatalf("list: %v\n%s", err, e)
			}
			var m map[string]map[string]any
			if err := json.Unmarshal([]byte(o), &m); err != nil {
				t.Fatalf("list printed %q: not an object of argument signatures: %v", o, err)
			}
			var names []string
			for k, sig := range m {
				names = append(names, k)
				if len(sig) != 0 {
					t.Errorf("method %s takes arguments %v; the plugin reads none", k, sig)
				}
			}
			sort.Strings(names)
			if !reflect.DeepEqual(names, pluginMethods) {
				t.Errorf("list: methods %v, want %v", names, pluginMethods)
			}
		})
		for _, c := range []struct {
			method, fail string
			wantCall     string
			want         string // JSON
		}{
			{"status", "", "status --json", status},
			{"sliver_list", "", "sliver list --json", `{"slivers":` + slivers + `}`},
			{"policy_list", "", "policy list --json", `{"policies":` + policies + `}`},
			{"telemetry_sample", "", "telemetry sample", sample},
			{"status", failure, "status --json", mustJSON(t, map[string]string{"error": failure})},
			{"sliver_list", failure, "sliver list --json", mustJSON(t, map[string]string{"error": failure})},
		} {
			t.Run(filepath.Base(sh[len(sh)-1])+"/call-"+c.method+map[bool]string{true: "-failing"}[c.fail != ""], func(t *testing.T) {
				o, e, calls, err := runner(t, c.fail, "call", c.method)
				if err != nil {
					t.Fatalf("call %s: %v\n%s", c.method, err, e)
				}
				if len(calls) != 1 || calls[0] != c.wantCall {
					t.Errorf("call %s ran nodekeeper %q, want %q", c.method, calls, c.wantCall)
				}
				var got, want any
				if err := json.Unmarshal([]byte(o), &got); err != nil {
					t.Fatalf("call %s printed %q: %v", c.method, o, err)
				}
				if _, ok := got.(map[string]any); !ok {
					t.Errorf("call %s printed %s: rpcd wants an object", c.method, o)
				}
				if err := json.Unmarshal([]byte(c.want), &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("call %s = %s, want %s", c.method, o, c.want)
				}
			})
		}
		t.Run(filepath.Base(sh[len(sh)-1])+"/unknown", func(t *testing.T) {
			for _, args := range [][]string{{"call", "reboot"}, {"call"}, {}, {"lst"}} {
				o, _, calls, err := runner(t, "", args...)
				if err == nil {
					t.Errorf("%q: exit 0, want a failure", args)
				}
				if o != "" || (len(calls) > 0 && calls[0] != "") {
					t.Errorf("%q: printed %q and ran %q", args, o, calls)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readJSON decodes a JSON file strictly: one value, no trailing data.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readFile(t, path)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if dec.More() {
		t.Fatalf("%s: data after the JSON value", path)
	}
}

// menuEntry is a node of LuCI's menu.d JSON (luci-base's dispatcher reads
// title, order, action {type, path, ...}, depends {acl, uci, fs}, auth).
type menuEntry struct {
	Title  string `json:"title"`
	Order  int    `json:"order"`
	Action struct {
		Type      string `json:"type"`
		Path      string `json:"path"`
		Preferred string `json:"preferred"`
	} `json:"action"`
	Depends *struct {
		ACL []string                   `json:"acl"`
		UCI map[string]json.RawMessage `json:"uci"`
		FS  map[string]string          `json:"fs"`
	} `json:"depends"`
}

// aclGroup is an rpcd ACL group (rpcd's session.c reads read/write with
// ubus: {object: [methods]}, uci: [configs], file, cgi-io).
type aclGroup struct {
	Description string `json:"description"`
	Read        aclSet `json:"read"`
	Write       aclSet `json:"write"`
}

type aclSet struct {
	Ubus map[string][]string `json:"ubus"`
	UCI  []string            `json:"uci"`
}

// TestLuciMenuACL checks the menu and ACL JSON against the structure LuCI's
// dispatcher and rpcd read: the entry sits under admin/services, every view
// it names exists, it depends on the ACL group and the nodekeeper config,
// and the ACL grants exactly the plugin's methods and the config.
func TestLuciMenuACL(t *testing.T) {
	var menu map[string]menuEntry
	readJSON(t, menuFile, &menu)
	var acl map[string]aclGroup
	readJSON(t, aclFile, &acl)
	if len(acl) != 1 {
		t.Fatalf("acl.d: %d groups, want one, luci-app-nodekeeper", len(acl))
	}
	g, ok := acl["luci-app-nodekeeper"]
	if !ok || g.Description == "" {
		t.Fatalf("acl.d: no described group luci-app-nodekeeper: %v", acl)
	}
	methods := append([]string(nil), g.Read.Ubus["nodekeeper"]...)
	sort.Strings(methods)
	if len(g.Read.Ubus) != 1 || !reflect.DeepEqual(methods, pluginMethods) {
		t.Errorf("acl.d read.ubus = %v, want nodekeeper: %v (the plugin's methods)", g.Read.Ubus, pluginMethods)
	}
	if len(g.Write.Ubus) != 0 {
		t.Errorf("acl.d write.ubus = %v: the plugin's methods only read", g.Write.Ubus)
	}
	if !reflect.DeepEqual(g.Read.UCI, []string{"nodekeeper"}) || !reflect.DeepEqual(g.Write.UCI, []string{"nodekeeper"}) {
		t.Errorf("acl.d uci read %v write %v, want [nodekeeper] both (the form edits it)", g.Read.UCI, g.Write.UCI)
	}

	root := "admin/services/nodekeeper"
	top, ok := menu[root]
	if !ok {
		t.Fatalf("menu.d has no %s: Services -> nodekeeper", root)
	}
	if top.Depends == nil || !reflect.DeepEqual(top.Depends.ACL, []string{"luci-app-nodekeeper"}) {
		t.Errorf("%s: depends.acl %v, want [luci-app-nodekeeper]", root, top.Depends)
	} else if v, ok := top.Depends.UCI["nodekeeper"]; !ok || string(v) != "true" {
		t.Errorf("%s: depends.uci %v, want {nodekeeper: true}", root, top.Depends.UCI)
	}
	views := 0
	for path, e := range menu {
		if path != root && !strings.HasPrefix(path, root+"/") {
			t.Errorf("menu.d entry %s is outside %s", path, root)
		}
		if e.Title == "" {
			t.Errorf("%s: no title", path)
		}
		switch e.Action.Type {
		case "view":
			views++
			if !regexp.MustCompile(`^nodekeeper/[a-z_]+$`).MatchString(e.Action.Path) {
				t.Errorf("%s: view path %q", path, e.Action.Path)
			} else if _, err := os.Stat(filepath.Join(viewDir, e.Action.Path+".js")); err != nil {
				t.Errorf("%s: view %s: %v", path, e.Action.Path, err)
			}
		case "firstchild":
			if path != root {
				t.Errorf("%s: firstchild below the top entry", path)
			}
		default:
			t.Errorf("%s: action type %q (want view, or firstchild at the top)", path, e.Action.Type)
		}
	}
	if views < 2 {
		t.Errorf("menu.d has %d views, want status and config", views)
	}
}

// viewRPC finds the rpc.declare calls of a view: object and method.
var viewRPC = regexp.MustCompile(`rpc\.declare\(\{\s*object:\s*'([^']+)',\s*method:\s*'([^']+)'`)

// viewOption finds the form options of a view: s.option(form.X, 'name'.
var viewOption = regexp.MustCompile(`option\(form\.[A-Za-z]+,\s*'([a-z_]+)'`)

// viewSection finds form.NamedSection, 'name', 'type'.
var viewSection = regexp.MustCompile(`form\.NamedSection,\s*'([a-z_]+)',\s*'([a-z_]+)'`)

// TestLuciViews: every view parses as JavaScript (a LuCI view ends with a
// top-level return, so it is wrapped in a function for node --check), is a
// LuCI view, calls only what the ACL grants, and edits only options the
// nodekeeper config has.
func TestLuciViews(t *testing.T) {
	node := requireCommand(t, "node")
	var acl map[string]aclGroup
	readJSON(t, aclFile, &acl)
	granted := map[string]bool{}
	for _, m := range acl["luci-app-nodekeeper"].Read.Ubus["nodekeeper"] {
		granted["nodekeeper."+m] = true
	}
	config := string(readFile(t, "nodekeeper/files/nodekeeper.config"))
	views, err := filepath.Glob(filepath.Join(viewDir, "nodekeeper", "*.js"))
	if err != nil || len(views) < 2 {
		t.Fatalf("views %v: %v", views, err)
	}
	called, options := 0, 0
	for _, v := range views {
		src := string(readFile(t, v))
		if !strings.HasPrefix(src, "'use strict';\n'require view';") || !strings.Contains(src, "return view.extend({") {
			t.Errorf("%s: not a LuCI view ('use strict', 'require view', return view.extend)", v)
		}
		wrapped := filepath.Join(t.TempDir(), filepath.Base(v))
		writeFile(t, wrapped, []byte("(function() {\n"+src+"\n});\n"))
		if out, err := exec.Command(node, "--check", wrapped).CombinedOutput(); err != nil {
			t.Errorf("%s does not parse: %v\n%s", v, err, out)
		}
		// The check catches a syntax error: a broken copy must fail.
		writeFile(t, wrapped, []byte("(function() {\n"+strings.Replace(src, "});", "}));", 1)+"\n});\n"))
		if exec.Command(node, "--check", wrapped).Run() == nil {
			t.Errorf("%s: node --check accepted a broken copy", v)
		}
		for _, m := range viewRPC.FindAllStringSubmatch(src, -1) {
			called++
			if !granted[m[1]+"."+m[2]] {
				t.Errorf("%s calls %s.%s, which the ACL does not grant", v, m[1], m[2])
			}
		}
		sections := viewSection.FindAllStringSubmatch(src, -1)
		for _, s := range sections {
			if !strings.Contains(config, "config "+s[2]+" '"+s[1]+"'") {
				t.Errorf("%s: section %s '%s' is not in the default config", v, s[2], s[1])
			}
		}
		for _, m := range viewOption.FindAllStringSubmatch(src, -1) {
			options++
			if !regexp.MustCompile(`(?m)^\s*#?\s*(option|list) ` + m[1] + ` `).MatchString(config) {
				t.Errorf("%s edits option %s, which the nodekeeper config does not have", v, m[1])
			}
		}
	}
	if called < len(pluginMethods) {
		t.Errorf("the views call %d methods, want all %d of the plugin's", called, len(pluginMethods))
	}
	// broker, interval, node state, trusted keys, unmanaged.
	if options < 5 {
		t.Errorf("the config view edits %d options, want at least broker, interval, node_state, trusted_key, unmanaged", options)
	}
}
