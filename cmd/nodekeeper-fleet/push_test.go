package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/fleet/sim"
	"github.com/nodekeeper/nodekeeper/wire"
)

const sliverJSON = `{"name": "s1", "template": {"url": "http://repo/x.tar.gz", "sha256": "` + sha + `"}, "set_state": "start"}`

func TestDoc(t *testing.T) {
	good := map[string]string{
		"policies/cpu-guard.lua": "policy \"cpu-guard\" {\n  every = \"30s\",\n  act = function(node) alert(\"warning\", \"x\") end,\n}\n",
		"slivers/s1.json":        sliverJSON,
		"settings.json":          `{"telemetry.interval": "10", "policy.uci_allow": ["wireless"], "agent.log_level": null}`,
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		files  map[string]string
		args   []string
		status int
		want   []string
	}{
		{"a good directory", good, nil, 0, []string{`"node": "n1"`, `"cpu-guard.lua": "policy \"cpu-guard\"`, `"name": "s1"`, `"policy.uci_allow": [`, `"agent.log_level": null`}},
		{"with a seq", good, []string{"--seq", "5"}, 0, []string{`"seq": 5`}},
		{"a sliver with an unknown field", with("slivers/s1.json", "{\"name\": \"s1\",\n \"memroy\": 1}"), nil, 1, []string{`slivers/s1.json: json: unknown field "memroy"`}},
		{"a sliver spec the node refuses", with("slivers/s1.json", `{"name": "S 1", "template": {"url": "http://x/y", "sha256": "`+sha+`"}}`), nil, 1, []string{`slivers/s1.json: sliver name "S 1"`}},
		{"a JSON syntax error", with("settings.json", "{\n\"a.b\": \"1\",\n}"), nil, 1, []string{"settings.json: line 3:"}},
		{"a bad setting name", with("settings.json", `{"interval": "1"}`), nil, 1, []string{`setting "interval": want SECTION.OPTION`}},
		{"a policy that does not check", with("policies/cpu-guard.lua", "policy \"x\" {\n  act = function( end,\n}\n"), nil, 1, []string{"policies/cpu-guard.lua:2:"}},
		{"a bad node state", with("node_state", "sleepy\n"), nil, 1, []string{`node_state "sleepy"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := writeTree(t, tc.files)
			st, out := run(append([]string{"doc", d, "--node", "n1"}, tc.args...)...)
			if st != tc.status {
				t.Errorf("status %d, want %d\n%s", st, tc.status, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestPushWait: push --seq auto --wait says what the node made of the
// document, with an exit status to match; the same document again is
// not pushed.
func TestPushWait(t *testing.T) {
	refuse := func(container.Spec) string { return "no slivers here" }
	l := newSimLab(t, []string{"n1", "n2", "n3", "n4"}, map[string]sim.NodeOptions{
		"n2": {Admit: refuse},
		"n3": {FailStart: map[string]bool{"s1": true}},
	})
	l.nodes["n4"].Stop()
	d := writeTree(t, map[string]string{"slivers/s1.json": sliverJSON, "settings.json": `{"telemetry.interval": "10"}`})
	docFile := filepath.Join(t.TempDir(), "doc.json")
	docFor := func(node string) string {
		if st, out := run("doc", d, "--node", node, "-o", docFile); st != 0 {
			t.Fatalf("doc: %s", out)
		}
		return docFile
	}
	br := []string{"--broker", l.b.URL(), "--quiet", "200ms", "-k", l.key}
	tests := []struct {
		node   string
		args   []string
		status int
		want   string
	}{
		{"n1", []string{"--seq", "auto", "--wait"}, 0, "applied seq 1: + first document, + sliver s1, + setting telemetry.interval"},
		{"n1", []string{"--seq", "auto", "--wait"}, 0, "node n1 already has this document (seq 1, applied): not pushed"},
		{"n2", []string{"--seq", "auto", "--wait=30s"}, 3, "refused by the node's owner: sliver s1: refused by policy owner-admission: no slivers here"},
		{"n3", []string{"--seq", "auto", "--wait"}, 1, "refused seq 1: document seq 1 rolled back: sliver s1: did not start"},
		{"n4", []string{"--seq", "auto", "--wait=1s"}, 4, "pending: offline"},
		{"n1", []string{"--seq", "1", "--wait"}, 0, "already has this very document"},
		{"n1", []string{}, 1, "seq missing or 0"},
	}
	for _, tc := range tests {
		t.Run(tc.node+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			st, out := run(append(append([]string{"push", tc.node, docFor(tc.node)}, tc.args...), br...)...)
			if st != tc.status || !strings.Contains(out, tc.want) {
				t.Errorf("status %d, want %d with %q:\n%s", st, tc.status, tc.want, out)
			}
		})
	}
	if recv, refused, _ := l.nodes["n1"].Counts(); recv != 1 || refused != 0 {
		t.Errorf("n1 received %d documents, refused %d: want 1, 0", recv, refused)
	}
	os.Remove(docFile)
}

// TestPushThreshold: a node that needs two signers applies a document
// pushed with two keys and refuses one pushed with one.
func TestPushThreshold(t *testing.T) {
	second := filepath.Join(t.TempDir(), "second")
	pub2, err := wire.WriteKeyPair(second)
	if err != nil {
		t.Fatal(err)
	}
	l := newSimLab(t, nil, nil)
	n := sim.New("t1", sim.Options{Broker: l.b.URL(), Trusted: []wire.PublicKey{l.pub, pub2}}, sim.NodeOptions{Threshold: 2})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	d := writeTree(t, map[string]string{"slivers/s1.json": sliverJSON})
	docFile := filepath.Join(t.TempDir(), "doc.json")
	if st, out := run("doc", d, "--node", "t1", "-o", docFile); st != 0 {
		t.Fatalf("doc: %s", out)
	}
	br := []string{"--broker", l.b.URL(), "--quiet", "200ms"}
	waitFor(t, "t1's state", func() bool {
		return n.Report().Node == "t1" && strings.Contains(func() string { _, o := run(append([]string{"status"}, br...)...); return o }(), "t1")
	})
	st, out := run(append([]string{"push", "t1", docFile, "-k", l.key, "--seq", "1", "--wait"}, br...)...)
	if st != 1 || !strings.Contains(out, "refused seq 1: refused: desired envelope") {
		t.Errorf("one signer: %d\n%s", st, out)
	}
	st, out = run(append([]string{"push", "t1", docFile, "-k", l.key, "-k", second + ".sec", "--seq", "2", "--wait"}, br...)...)
	if st != 0 || !strings.Contains(out, "applied seq 2") {
		t.Errorf("two signers: %d\n%s", st, out)
	}
}
