package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/policy"
)

func init() {
	register(command{
		name:    "policy",
		summary: "check, evaluate and test Lua policies; list the agent's (policy check|eval|test|list)",
		run:     runPolicy,
	})
	register(command{
		name:    "policy-worker",
		summary: "internal: the process that evaluates policies for the agent",
		hidden:  true,
		run: func(_ []string, _ io.Reader, _, _ io.Writer) int {
			// After the agent's own page-out (10 s after it starts), so
			// that the startup pages both touched are the worker's alone.
			pageOutAfter(15 * time.Second)
			return policy.ServeWorker()
		},
	})
}

const policyUsage = `usage: nodekeeper policy check FILE...
       nodekeeper policy eval --state STATE.json [--now TIME] FILE...
       nodekeeper policy test [DIR|FILE...]
       nodekeeper policy list [--json] [--config-dir DIR | --socket PATH]   (the running agent's)`

func runPolicy(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprintln(stderr, policyUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "list" {
		return policyList(args[1:], stdout, stderr)
	}
	fs := flagSet("policy "+args[0], policyUsage, stderr)
	cpu := fs.Duration("cpu", policy.DefaultCPU, "CPU budget of one load or evaluation")
	mem := fs.Int64("memory", policy.DefaultMemory, "memory budget of one load or evaluation, in bytes")
	uciAllow := fs.String("uci-allow", "", "comma-separated UCI packages policies may use")
	var state, now string
	if args[0] == "eval" {
		fs.StringVar(&state, "state", "", "node document (JSON) the policies see")
		fs.StringVar(&now, "now", "", "evaluation time (RFC 3339 or Unix seconds; default: now)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return parseStatus(err)
	}
	tools := policy.Tools{Budget: policy.Budget{CPU: *cpu, Memory: *mem}}
	if *uciAllow != "" {
		tools.UCIAllow = strings.Split(*uciAllow, ",")
	}
	files := fs.Args()
	switch args[0] {
	case "check":
		if len(files) == 0 {
			fmt.Fprintln(stderr, policyUsage)
			return 2
		}
		if tools.Check(files, stdout) > 0 {
			return 1
		}
		return 0
	case "eval":
		if state == "" || len(files) == 0 {
			fmt.Fprintln(stderr, policyUsage)
			return 2
		}
		doc, err := os.ReadFile(state)
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper policy eval: %v\n", err)
			return 2
		}
		t, err := parseNow(now)
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper policy eval: --now: %v\n", err)
			return 2
		}
		if tools.Eval(doc, t, files, stdout) > 0 {
			return 1
		}
		return 0
	case "test":
		if len(files) == 0 {
			files = []string{"."}
		}
		if _, failed := tools.Test(files, stdout); failed > 0 {
			return 1
		}
		return 0
	}
	fmt.Fprintln(stderr, policyUsage)
	return 2
}

// parseNow reads --now: RFC 3339 or Unix seconds; empty is the current time.
func parseNow(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	// strconv, not fmt.Sscanf: fmt's scanner is 30 KB on mips, and it took
	// "12abc" for 12.
	if sec, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Unix(0, int64(sec*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
}

// policyList prints the policies the running agent has loaded.
func policyList(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("policy list", policyUsage, stderr)
	var af agentFlags
	af.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	c := af.client("policy list", stderr)
	if c == nil {
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps, err := c.Policies(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper policy list: %v\n", err)
		return 1
	}
	if *asJSON {
		return printJSON(stdout, stderr, ps)
	}
	tw := newColumns(stdout)
	fmt.Fprintln(tw, "NAME\tTRIGGER\tPRIORITY\tFAILURES\tSTATE\tSOURCE")
	for _, p := range ps {
		trigger := "on " + p.On
		if p.Every > 0 {
			trigger = "every " + p.Every.String()
		}
		state := "ok"
		switch {
		case p.QuarantinedUntil.After(time.Now()):
			state = "quarantined until " + p.QuarantinedUntil.Local().Format(time.TimeOnly)
		case p.DryRun:
			state = "dry-run"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", p.Name, trigger, p.Priority, p.Failures, state, p.Source)
	}
	tw.Flush()
	return 0
}
