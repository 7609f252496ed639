package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/docdir"
	"github.com/nodekeeper/nodekeeper/policy"
)

func init() {
	register(command{name: "doc", summary: "build one node's desired document from a directory (policies/*.lua, slivers/*.json, settings.json)", run: runDoc})
}

const docUsage = `usage: nodekeeper-fleet doc DIR --node ID [--seq N] [-o FILE]
DIR holds policies/*.lua, slivers/*.json (one sliver spec each),
settings.json ({"SECTION.OPTION": "v" | ["a","b"] | null}) and optionally
node_state; each is checked as the node checks it. Without --seq the
document has none: push it with --seq auto.`

func runDoc(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doc", flag.ContinueOnError)
	node := fs.String("node", "", "the node's id")
	seq := fs.Uint64("seq", 0, "the document's seq (default: none)")
	out := fs.String("o", "", "write the document to FILE (default: standard output)")
	pos, st, done := parseFlags(fs, docUsage, args, stderr)
	if done {
		return st
	}
	if len(pos) != 1 || *node == "" {
		fmt.Fprintln(stderr, docUsage)
		return 2
	}
	if !dir.ValidNodeID(*node) {
		fmt.Fprintf(stderr, "nodekeeper-fleet doc: node id %q: want 1-64 of letters, digits, '-', '_', '.'\n", *node)
		return 2
	}
	b, err := docdir.Build(pos[0], *node, docdir.Options{Seq: *seq, CheckPolicies: dir.CheckPoliciesWith(policy.Tools{})})
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet doc: %s refused:\n%v\n", pos[0], err)
		return 1
	}
	if *out == "" {
		stdout.Write(b)
		return 0
	}
	// Atomically: a reader never sees half a document.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".doc-*")
	if err == nil {
		_, err = tmp.Write(b)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), *out)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet doc: %v\n", err)
		return 1
	}
	return 0
}
