package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/agent"
	"github.com/nodekeeper/nodekeeper/container"
)

func init() {
	register(command{name: "status", summary: "show the running agent: node state, broker, applied document, slivers, errors", run: runStatus})
}

func runStatus(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flagSet("status", "usage: nodekeeper status [--json] [--config-dir DIR | --socket PATH]", stderr)
	var af agentFlags
	af.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "nodekeeper status: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	c := af.client("status", stderr)
	if c == nil {
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.Status(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper status: %v\n", err)
		return 1
	}
	if *asJSON {
		return printJSON(stdout, stderr, s)
	}
	tw := newColumns(stdout)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s:\t%v\n", k, v) }
	row("node", s.Node)
	row("state", s.NodeState)
	rss := "not sampled yet"
	if s.RSSBytes > 0 {
		rss = fmt.Sprintf("%d KiB resident", s.RSSBytes>>10)
	}
	row("agent", fmt.Sprintf("pid %d, up %s, %s", s.PID, time.Since(s.Started).Round(time.Second), rss))
	row("config", s.Config)
	conn := "connected"
	if !s.Connected {
		conn = "not connected"
		if s.BrokerError != "" {
			conn += ": " + s.BrokerError
		}
	}
	row("broker", s.Broker+" ("+conn+")")
	remote := "off"
	if s.Remote {
		remote = fmt.Sprintf("on, %d trusted keys", s.TrustedKeys)
		if s.Threshold > 1 {
			remote += fmt.Sprintf(", %d signatures needed", s.Threshold)
		}
	} else if s.TrustedKeys == 0 {
		remote = "off (no remote.trusted_key)"
	}
	row("remote", remote)
	row("desired", fmt.Sprintf("applied seq %d, last seen %d", s.AppliedSeq, s.SeenSeq))
	if s.NodeKey != "" {
		row("node key", s.NodeKey+" (signs its state reports; pin it in admin tools)")
	}
	row("policies", fmt.Sprintf("%d loaded, %d quarantined", s.Policies.Loaded, s.Policies.Quarantined))
	if o := s.Override; o != nil && o.Active {
		row("override", o.File+" in force: policies see faked values")
	} else if o != nil {
		row("override", "refused: "+o.Error)
	}
	tw.Flush()
	if len(s.Slivers) > 0 {
		fmt.Fprintln(stdout, "\nslivers:")
		tw = newColumns(stdout)
		fmt.Fprintln(tw, "  NAME\tSLICE\tID\tSTATE\tREQUEST\tHELD\tLIMITS\tERROR")
		for _, x := range s.Slivers {
			limits := "-"
			if x.Limits != nil {
				limits = resourcesText(container.Resources(*x.Limits))
			}
			held := string(x.Held)
			if held == "" {
				held = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", x.Name, x.Slice, x.ID, x.State, x.SetState, held, limits, agent.TerminalSafe(firstLine(x.Error), 512))
		}
		tw.Flush()
	}
	if len(s.Errors) > 0 {
		fmt.Fprintln(stdout, "\nerrors:")
		for _, e := range s.Errors {
			seq := ""
			if e.Seq > 0 {
				seq = fmt.Sprintf(" (seq %d)", e.Seq)
			}
			// Messages quote what policies, slivers and the broker said:
			// no escape sequence reaches the terminal.
			fmt.Fprintf(stdout, "  %s %s%s: %s\n", e.Time.Local().Format(time.DateTime), agent.TerminalSafe(e.Member, 128), seq,
				agent.TerminalSafe(strings.ReplaceAll(e.Message, "\n", "; "), 1024))
		}
	}
	return 0
}
