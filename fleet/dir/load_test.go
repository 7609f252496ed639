package dir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// copyDir copies testdata/good into a temporary directory and applies
// changes: path -> content ("" removes the file).
func fleetDir(t *testing.T, changes map[string]string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", "good")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel, text := range changes {
		p := filepath.Join(dst, rel)
		if text == "" {
			os.Remove(p)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestLoadGood(t *testing.T) {
	f, err := Load(fleetDir(t, nil), Options{CheckPolicies: policyChecker(t)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if g := f.Groups["core"]; g == nil || len(g.Nodes) != 3 {
		t.Errorf("group core: %+v", g)
	}
	if g := f.Groups["rooftop"]; g == nil || g.Match == nil || g.Match.Labels["site"] != "roof*" {
		t.Errorf("group rooftop: %+v", g)
	}
	s := f.Slices["exp-mesh"]
	if s == nil {
		t.Fatal("slice exp-mesh missing")
	}
	if s.Spec.Resources.MemoryBytes != 64<<20 || s.Spec.Request != "start" || len(s.Spec.Interfaces) != 1 || s.Placement.Group != "core" || s.Placement.Count != 2 {
		t.Errorf("slice exp-mesh: %+v", s)
	}
	if p := f.Policies["cpu-guard.lua"]; p == nil || p.Groups[0] != "core" || !strings.Contains(p.Source, "cpu-guard") {
		t.Errorf("policy: %+v", p)
	}
	if len(f.Settings) != 2 || f.Settings[0].Group != "all" || f.Settings[0].Settings["telemetry.interval"].Values[0] != "10" {
		t.Errorf("settings: %+v", f.Settings)
	}
	core := f.Settings[1]
	if core.NodeState != "production" || !core.Settings["agent.log_level"].Delete || !core.Settings["policy.uci_allow"].List {
		t.Errorf("core settings: %+v", core)
	}
}

// TestLoadRefused: each wrong directory is refused with the file and line
// of the mistake.
func TestLoadRefused(t *testing.T) {
	goodSlice := "template:\n  url: http://repo/x.tar.gz\n  sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
	tests := []struct {
		name    string
		changes map[string]string
		want    string // a line of the error
	}{
		{"unknown field in a slice", map[string]string{"slices/bad.yaml": goodSlice + "placement: {nodes: [node-1]}\nmemroy: 64M\n"},
			`slices/bad.yaml:5: unknown field "memroy"`},
		{"unknown field in groups", map[string]string{"groups.yaml": "groups:\n  core:\n    nodes: [a]\n    labels: {x: y}\n"},
			`groups.yaml:4: unknown field "labels"`},
		{"slice placed on a group that does not exist", map[string]string{"slices/bad.yaml": goodSlice + "placement:\n  group: cores\n  count: 2\n"},
			`slices/bad.yaml:5: slice bad: placed on group "cores", which groups.yaml does not define (did you mean "core"?)`},
		{"template without sha256", map[string]string{"slices/bad.yaml": "placement: {nodes: [n1]}\ntemplate:\n  url: http://repo/x.tar.gz\n"},
			`slices/bad.yaml:2: slice bad: template without sha256`},
		{"template with a bad sha256", map[string]string{"slices/bad.yaml": "placement: {nodes: [n1]}\ntemplate:\n  url: http://repo/x.tar.gz\n  sha256: abc\n"},
			`slices/bad.yaml:1: slice bad: sliver bad: template: http://repo/x.tar.gz: sha256 "abc" is not 64 hex digits`},
		{"slice without placement", map[string]string{"slices/bad.yaml": goodSlice},
			`slices/bad.yaml:1: slice bad: no placement`},
		{"bad interface", map[string]string{"slices/bad.yaml": goodSlice + "placement: {nodes: [n1]}\ninterfaces:\n  - private\n  - wormhole\n"},
			`slices/bad.yaml:7: slice bad: interface "wormhole"`},
		{"bad memory", map[string]string{"slices/bad.yaml": goodSlice + "placement: {nodes: [n1]}\nresources:\n  memory: lots\n"},
			`slices/bad.yaml:6: slice bad: resources.memory: size "lots"`},
		{"bad node id", map[string]string{"slices/bad.yaml": goodSlice + "placement:\n  nodes: [n1, 'a/b']\n"},
			`slices/bad.yaml:5: slice bad: node id "a/b"`},
		{"policy for a group that does not exist", map[string]string{"policies.yaml": "cpu-guard.lua:\n  groups: [core, edge]\n"},
			`policies.yaml:2: policy cpu-guard.lua: group "edge", which groups.yaml does not define`},
		{"policy file in no group", map[string]string{"policies/other.lua": "policy \"o\" { every = \"1m\", act = function() end }\n"},
			`policies/other.lua:1: policy file other.lua goes to no group`},
		{"policy listed without a file", map[string]string{"policies.yaml": "cpu-guard.lua: {groups: [core]}\nmissing.lua: {groups: [core]}\n"},
			`policies.yaml:2: policy missing.lua: no file policies/missing.lua`},
		{"policy that does not check", map[string]string{"policies/cpu-guard.lua": "policy \"x\" {\n  every = \"30s\",\n  act = function( end,\n}\n"},
			`policies/cpu-guard.lua:3: policy check:`},
		{"settings of a group that does not exist", map[string]string{"settings.yaml": "all: {}\nedge:\n  node_state: safe\n"},
			`settings.yaml:2: settings for group "edge", which groups.yaml does not define`},
		{"bad node state", map[string]string{"settings.yaml": "core:\n  node_state: sleepy\n"},
			`settings.yaml:2: group core: node_state "sleepy"`},
		{"bad setting name", map[string]string{"settings.yaml": "core:\n  settings:\n    interval: 10\n"},
			`settings.yaml:3: group core: setting "interval": want SECTION.OPTION`},
		{"remote settings are the owner's", map[string]string{"settings.yaml": "core:\n  settings:\n    remote.trusted_key: x\n"},
			`settings.yaml:3: group core: remote.trusted_key is never changed by a document`},
		{"the threshold is the owner's", map[string]string{"settings.yaml": "core:\n  settings:\n    remote.threshold: 2\n"},
			`settings.yaml:3: group core: remote.threshold is never changed by a document`},
		{"yaml syntax", map[string]string{"groups.yaml": "groups:\n  core: [\n"},
			"groups.yaml:2: did not find expected node content\n"},
		{"the built-in group", map[string]string{"groups.yaml": "groups:\n  all:\n    nodes: [a]\n"},
			`groups.yaml:2: group "all" is built in`},
		{"an empty group", map[string]string{"groups.yaml": "groups:\n  core:\n    nodes: []\n"},
			`groups.yaml:2: group core: neither nodes nor match`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(fleetDir(t, tc.changes), Options{CheckPolicies: policyChecker(t)})
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load: %v, want Problems", err)
			}
			if !strings.Contains(err.Error()+"\n", tc.want) {
				t.Errorf("error:\n%v\nwant a line with %q", err, tc.want)
			}
		})
	}
}

// TestLoadFIFO: a FIFO where a file should be is refused, not waited on.
func TestLoadFIFO(t *testing.T) {
	d := fleetDir(t, map[string]string{"groups.yaml": ""})
	if err := syscall.Mkfifo(filepath.Join(d, "groups.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(d, Options{})
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Load: %v, want not a regular file", err)
	}
}
