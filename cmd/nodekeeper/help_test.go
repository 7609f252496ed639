package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestHelpEverywhere: -h and --help work on every command and subcommand:
// exit status 0, the usage (with the positional arguments) on stderr,
// nothing done. uci keeps libuci's usage text.
func TestHelpEverywhere(t *testing.T) {
	tests := []struct {
		args []string
		want []string // on stderr
	}{
		{[]string{"run"}, []string{"usage: nodekeeper run [--config-dir DIR]", "policy.dir", "-config-dir"}},
		{[]string{"status"}, []string{"usage: nodekeeper status", "-json"}},
		{[]string{"version"}, []string{"usage: nodekeeper version"}},
		{[]string{"push"}, []string{"usage: nodekeeper push --broker URL [--prefix P] [-k KEY.sec ... | --sig FILE.sig] NODE FILE", "-broker"}},
		{[]string{"sign"}, []string{"usage: nodekeeper sign -k KEY.sec [-o OUT] FILE", "-usign"}},
		{[]string{"keygen"}, []string{"usage: nodekeeper keygen [-o PREFIX]", "-o"}},
		{[]string{"watch"}, []string{"usage: nodekeeper watch --broker URL [--prefix P] [--keys FILE] [NODE...]", "-broker"}},
		{[]string{"uci"}, []string{"Usage: nodekeeper uci [<options>] <command> [<arguments>]"}},
		{[]string{"net"}, []string{"nodekeeper net plan  -f FILE"}},
		{[]string{"net", "plan"}, []string{"nodekeeper net plan  -f FILE", "-netns"}},
		{[]string{"net", "apply"}, []string{"nodekeeper net apply -f FILE", "-confirm"}},
		{[]string{"net", "show"}, []string{"nodekeeper net show", "-socket"}},
		{[]string{"telemetry"}, []string{"nodekeeper telemetry sample"}},
		{[]string{"telemetry", "sample"}, []string{"nodekeeper telemetry sample", "-rates"}},
		{[]string{"telemetry", "publish"}, []string{"nodekeeper telemetry publish", "-broker"}},
		{[]string{"policy"}, []string{"nodekeeper policy check FILE..."}},
		{[]string{"policy", "check"}, []string{"nodekeeper policy check FILE...", "-cpu"}},
		{[]string{"policy", "eval"}, []string{"nodekeeper policy eval --state STATE.json", "-state"}},
		{[]string{"policy", "test"}, []string{"nodekeeper policy test [DIR|FILE...]"}},
		{[]string{"policy", "list"}, []string{"nodekeeper policy list", "-json"}},
		{[]string{"sliver"}, []string{"usage: nodekeeper sliver COMMAND"}},
	}
	for _, sub := range []string{"list", "show", "create", "deploy", "start", "stop", "undeploy", "remove", "attach"} {
		tests = append(tests, struct {
			args []string
			want []string
		}{[]string{"sliver", sub}, []string{"-config-dir"}})
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.args[0]] = true
		for _, h := range []string{"-h", "--help"} {
			args := append(slices.Clone(tt.args), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var out, errb bytes.Buffer
				code := dispatch(args, strings.NewReader(""), &out, &errb)
				if code != 0 {
					t.Errorf("exit %d, want 0; stderr:\n%s", code, errb.String())
				}
				for _, w := range tt.want {
					if !strings.Contains(errb.String(), w) {
						t.Errorf("stderr lacks %q:\n%s", w, errb.String())
					}
				}
				if strings.Contains(errb.String(), "invalid option") || strings.Contains(errb.String(), "unknown") {
					t.Errorf("help taken for a mistake:\n%s", errb.String())
				}
				if out.Len() != 0 {
					t.Errorf("stdout %q, want nothing", out.String())
				}
			})
		}
	}
	for name, c := range commands {
		if !c.hidden && !covered[name] {
			t.Errorf("command %q has no help case", name)
		}
	}
}
