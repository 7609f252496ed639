package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/nodekeeper/nodekeeper/fleet/aggregate"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/policy"
)

func init() {
	register(command{name: "check", summary: "check a fleet directory (file:line for every problem)", run: runCheck})
}

const checkUsage = "usage: nodekeeper-fleet check DIR"

func runCheck(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	pos, st, done := parseFlags(fs, checkUsage, args, stderr)
	if done {
		return st
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, checkUsage)
		return 2
	}
	f, err := loadDir(pos[0], stderr)
	if err != nil {
		return 1
	}
	set, err := aggregate.Load(filepath.Join(pos[0], "aggregate"))
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet: %s refused:\n%v\n", pos[0], err)
		return 1
	}
	n := len(set.Policies)
	set.Close()
	fmt.Fprintf(stdout, "%s: ok (groups %d, slices %d, policies %d, aggregation policies %d)\n", pos[0], len(f.Groups)-1, len(f.Slices), len(f.Policies), n)
	return 0
}

// loadDir loads a fleet directory with the node's policy checks, and
// prints its problems (one file:line a line) to stderr.
func loadDir(root string, stderr io.Writer) (*dir.Fleet, error) {
	f, err := dir.Load(root, dir.Options{CheckPolicies: dir.CheckPoliciesWith(policy.Tools{})})
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet: %s refused:\n%v\n", root, err)
		return nil, err
	}
	return f, nil
}
