package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/nodekeeper/nodekeeper/fleet/aggregate"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
)

func init() {
	register(command{name: "plan", summary: "show, node by node, what a fleet directory changes (exit 2: changes)", run: runPlan})
}

const planUsage = `usage: nodekeeper-fleet plan DIR --broker URL [-v] [--policies off|dry-run|on] [--documents DURATION]
Renders every node's desired document and compares it with the one
retained for it. Exit status: 0 no changes, 2 changes, 1 error.`

func runPlan(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var bf brokerFlags
	bf.register(fs)
	verbose := fs.Bool("v", false, "show each change as a diff of the documents")
	mode := policyMode("dry-run")
	fs.Var(&mode, "policies", "aggregation policies (DIR/aggregate/*.lua): off, dry-run (show their decisions) or on (apply them to the plan)")
	listen := fs.Duration("documents", 0, "listen this long for the nodes' telemetry documents (what aggregation policies see)")
	pos, st, done := parseFlags(fs, planUsage, args, stderr)
	if done {
		return st
	}
	if len(pos) != 1 || bf.url == "" {
		fmt.Fprintln(stderr, planUsage)
		return 2
	}
	f, err := loadDir(pos[0], stderr)
	if err != nil {
		return 1
	}
	trusted, err := bf.trusted()
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet plan: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), bf.timeout+*listen)
	defer cancel()
	c, err := bf.dial(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet plan: %v\n", err)
		return 1
	}
	defer c.Close()
	docs, err := listenDocuments(ctx, c, *listen)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet plan: %v\n", err)
		return 1
	}
	pinned, rec, recErr, err := bf.pins(ctx, c, trusted)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet plan: %v\n", err)
		return 1
	}
	inv, err := inventory.Read(ctx, c, verifier(trusted, pinned), bf.quiet)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet plan: %v\n", err)
		return 1
	}
	var exclude map[string]map[string]string
	if rec != nil {
		if recErr == nil {
			exclude = rec.Refusals
		}
		if rec.State == rollout.Running {
			fmt.Fprintf(stdout, "note: rollout %s by %s is running (started %s)\n", rec.ID, rec.Who, rec.Started.Format("2006-01-02 15:04:05Z07:00"))
		}
	}
	// plan evaluates with the memory apply keeps, and leaves it as it is.
	mem := &aggregate.Memory{}
	if mode != "off" {
		if mem, err = readMemory(ctx, c, trusted, bf.quiet, stdout); err != nil {
			fmt.Fprintf(stderr, "nodekeeper-fleet plan: %v\n", err)
			return 1
		}
	}
	po, _, _, err := aggregation(pos[0], mode, f, inv, docs.get(), exclude, mem, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet plan: aggregation policies refused:\n%v\n", err)
		return 1
	}
	p := plan.Render(f, inv, po)
	if len(p.Problems) > 0 {
		fmt.Fprintf(stderr, "nodekeeper-fleet plan: %s refused:\n%s\n", pos[0], strings.Join(p.Problems, "\n"))
		return 1
	}
	changes := plan.Compare(p, inv)
	n := 0
	for _, c := range changes {
		if c.Changed() {
			n++
		}
	}
	fmt.Fprintf(stdout, "plan %.12s: %d nodes, %d to change\n", p.Hash, len(changes), n)
	for _, ch := range changes {
		node := inv.Node(ch.Node)
		status := node.Status
		if status == "" {
			status = "never seen"
		}
		where := string(ch.Where)
		if ch.CurrentSeq > 0 {
			where = fmt.Sprintf("%s seq %d", ch.Where, ch.CurrentSeq)
		}
		what := "no change"
		if ch.Changed() {
			what = strings.Join(ch.Changes, ", ")
		}
		fmt.Fprintf(stdout, "  %-20s %-8s %-18s %s\n", ch.Node, status, where, what)
		if (ch.Where == plan.Failed || ch.Where == plan.Unknown) && ch.Why != "" {
			fmt.Fprintf(stdout, "  %-20s %s\n", "", "why: "+ch.Why)
		}
		if *verbose && ch.Changed() {
			plan.WriteDiff(stdout, ch.Old, ch.New, 3)
		}
	}
	for _, pl := range p.Placed {
		line := fmt.Sprintf("slice %s: %s", pl.Slice, strings.Join(pl.Nodes, " "))
		if pl.Owner != "" {
			line = fmt.Sprintf("slice %s (owner %s): %s", pl.Slice, pl.Owner, strings.Join(pl.Nodes, " "))
		}
		if pl.Short != "" {
			line += " (" + pl.Short + ")"
		}
		fmt.Fprintln(stdout, line)
		for _, id := range sortedKeys(pl.Skipped) {
			fmt.Fprintf(stdout, "  passed over %s: %s\n", id, pl.Skipped[id])
		}
	}
	if n > 0 {
		return 2
	}
	return 0
}
