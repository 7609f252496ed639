package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/deliver"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
)

func init() {
	register(command{name: "push", summary: "sign and push one node's document; --wait for what the node made of it", run: runPush})
}

const pushUsage = `usage: nodekeeper-fleet push NODE FILE --broker URL -k ADMIN.sec [-k ...] [--seq auto|N] [--wait[=TIMEOUT]]
FILE is a desired document (docs/remote.md; nodekeeper-fleet doc builds one).
--seq auto takes the seq the node reports it has seen, plus one.
--wait waits (default 60s) for the node's state report about this seq.
Exit status: 0 applied; 3 applied, but the node's owner refused parts;
1 refused or rolled back by the node, or an error; 4 no report in time
(an offline node gets the retained document when it comes back).`

// waitFlag is --wait or --wait=TIMEOUT.
type waitFlag struct {
	on bool
	d  time.Duration
}

func (w *waitFlag) String() string {
	if !w.on {
		return ""
	}
	return w.d.String()
}

func (w *waitFlag) IsBoolFlag() bool { return true }

func (w *waitFlag) Set(s string) error {
	switch s {
	case "true":
		w.on, w.d = true, 60*time.Second
	case "false":
		w.on = false
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return fmt.Errorf("want --wait or --wait=DURATION (e.g. 2m)")
		}
		w.on, w.d = true, d
	}
	return nil
}

func runPush(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	var bf brokerFlags
	bf.register(fs)
	var keyFiles listFlag
	fs.Var(&keyFiles, "k", "an admin's usign secret key (repeatable: nodes with remote.threshold N need N)")
	seqFlag := fs.String("seq", "", "the document's seq: a number, or auto (the node's seen seq + 1)")
	var wait waitFlag
	fs.Var(&wait, "wait", "wait for the node's report (--wait=TIMEOUT; default 60s)")
	pos, st, done := parseFlags(fs, pushUsage, args, stderr)
	if done {
		return st
	}
	if len(pos) != 2 || bf.url == "" || len(keyFiles) == 0 {
		fmt.Fprintln(stderr, pushUsage)
		return 2
	}
	node, file := pos[0], pos[1]
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "nodekeeper-fleet push: "+format+"\n", a...)
		return 1
	}
	if !dir.ValidNodeID(node) {
		return fail("node id %q: want 1-64 of letters, digits, '-', '_', '.'", node)
	}
	doc, err := dir.ReadFile(file)
	if err != nil {
		return fail("%v", err)
	}
	keys, err := readKeys(keyFiles)
	if err != nil {
		return fail("%v", err)
	}
	key := keys[0]
	trusted, err := bf.trusted()
	if err != nil {
		return fail("%v", err)
	}
	timeout := wait.d
	ctx, cancel := context.WithTimeout(context.Background(), bf.timeout+timeout)
	defer cancel()
	c, err := bf.dial(ctx)
	if err != nil {
		return fail("%v", err)
	}
	defer c.Close()
	pinned, _, _, err := bf.pins(ctx, c, append(trusted, key.Public()))
	if err != nil {
		return fail("%v", err)
	}
	v := verifier(append(trusted, key.Public()), pinned)
	var seq uint64 // 0: the document's own (no --seq) or auto
	if *seqFlag != "" && *seqFlag != "auto" {
		if seq, err = strconv.ParseUint(*seqFlag, 10, 64); err != nil || seq == 0 {
			return fail("--seq %q: want a number above 0 or auto", *seqFlag)
		}
	}
	// The node as the broker retains it, then followed live.
	p, err := deliver.Prepare(ctx, c, v, bf.quiet, node, doc, *seqFlag == "auto", seq)
	if err != nil {
		return fail("%s: %v", file, err)
	}
	if p.FirstSightKey != "" {
		fmt.Fprintf(stderr, "warning: seq from node %s's state report, signed by a key seen for the first time (%s): pin it with --keys\n", node, p.FirstSightKey)
	}
	if p.NoReport {
		fmt.Fprintf(stderr, "warning: node %s has no state report on the broker: seq 1\n", node)
	}
	if p.Skip != "" {
		fmt.Fprintln(stdout, p.Skip)
		return 0
	}
	if p.SameBody {
		fmt.Fprintf(stdout, "note: the same document as the retained seq %d, under seq %d\n", p.PrevSeq, p.Seq)
	}
	inv, prev, doc := p.Inventory, p.Prev, p.Doc
	var w *deliver.Watcher
	if wait.on {
		if w, err = deliver.Watch(ctx, c, inv, v, node); err != nil {
			return fail("%v", err)
		}
	}
	var before map[string]bool
	if w != nil {
		w.View(func(inv *inventory.Inventory) { before = deliver.SeqlessRefusals(inv.Node(node)) })
	}
	if err := deliver.Push(ctx, c, keys, node, doc); err != nil {
		return fail("%v", err)
	}
	changes, _ := plan.Changes(prev, doc)
	fmt.Fprintf(stdout, "published seq %d to %s (retained)\n", p.Seq, c.NodeTopic(node, "desired"))
	if !wait.on {
		return 0
	}
	out := w.Await(ctx, node, p.Seq, timeout, before)
	switch out.Result {
	case deliver.Applied:
		what := "no change"
		if len(changes) > 0 {
			what = strings.Join(changes, ", ")
		}
		fmt.Fprintf(stdout, "applied seq %d: %s\n", p.Seq, what)
		if len(out.Refusals) > 0 {
			for _, e := range out.Refusals {
				fmt.Fprintf(stdout, "  refused by the node's owner: %s: %s\n", e.Member, e.Message)
			}
			return 3
		}
		return 0
	case deliver.Pending, deliver.Timeout:
		fmt.Fprintf(stdout, "%s: %s\n", out.Result, out.Reason)
		return 4
	case deliver.Superseded:
		fmt.Fprintf(stdout, "superseded: the node applied a later document\n")
		return 1
	}
	fmt.Fprintf(stdout, "refused seq %d: %s\n", p.Seq, out.Reason)
	return 1
}
