package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
)

func init() {
	register(command{name: "forget", summary: "clear what the broker retains of retired nodes (status, state, info, desired)", run: runForget})
}

const forgetUsage = `usage: nodekeeper-fleet forget NODE... --broker URL [--force]
Clears the retained status, state, info and desired topics of each NODE,
so that status, the web view and plans no longer list it. A node whose
retained status says online is refused without --force: its agent would
publish them again at once (stop it first). Remove the node from the
fleet directory too, or plan and apply will ask for it again.`

func runForget(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("forget", flag.ContinueOnError)
	var bf brokerFlags
	bf.register(fs)
	force := fs.Bool("force", false, "clear nodes that say they are online too")
	pos, st, done := parseFlags(fs, forgetUsage, args, stderr)
	if done {
		return st
	}
	if len(pos) == 0 || bf.url == "" {
		fmt.Fprintln(stderr, forgetUsage)
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "nodekeeper-fleet forget: "+format+"\n", a...)
		return 1
	}
	for _, id := range pos {
		if !dir.ValidNodeID(id) {
			return fail("node id %q: want 1-64 of letters, digits, '-', '_', '.'", id)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), bf.timeout)
	defer cancel()
	c, err := bf.dial(ctx)
	if err != nil {
		return fail("%v", err)
	}
	defer c.Close()
	// What the broker retains, read as is: clearing needs no verification.
	filters := make([]string, 0, len(pos)*len(inventory.Leaves))
	for _, id := range pos {
		for _, leaf := range inventory.Leaves {
			filters = append(filters, c.NodeTopic(id, leaf))
		}
	}
	msgs, err := c.Retained(ctx, filters, bf.quiet)
	if err != nil {
		return fail("%v", err)
	}
	status := 0
	for _, id := range pos {
		var held []string
		for _, leaf := range inventory.Leaves {
			if _, ok := msgs[c.NodeTopic(id, leaf)]; ok {
				held = append(held, leaf)
			}
		}
		switch {
		case len(held) == 0:
			fmt.Fprintf(stdout, "%s: nothing retained\n", id)
			continue
		case string(msgs[c.NodeTopic(id, "status")]) == "online" && !*force:
			fmt.Fprintf(stderr, "nodekeeper-fleet forget: %s says it is online: stop its agent first, or --force\n", id)
			status = 1
			continue
		}
		for _, leaf := range held {
			if err := c.Publish(ctx, c.NodeTopic(id, leaf), nil, true); err != nil {
				return fail("%s: clear %s: %v", id, leaf, err)
			}
		}
		fmt.Fprintf(stdout, "%s: cleared %d retained topics %v\n", id, len(held), held)
	}
	return status
}
