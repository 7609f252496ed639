package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

func init() {
	register(command{
		name:    "net",
		summary: "plan, apply or show the sliver and mesh network (net plan|apply|show)",
		run:     runNet,
	})
}

const netUsage = `usage:
  nodekeeper net plan  -f FILE [-netns NS] [-json]
  nodekeeper net apply -f FILE [-netns NS] [-confirm DURATION -check ADDR:PORT] [-state-dir DIR]
  nodekeeper net show  [-netns NS] [-json] [-config-dir DIR | -socket PATH]

FILE is JSON: a netcfg Config object, or an array of UCI sections
({"type","name","options"}) as in docs/network.md.`

func runNet(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprintln(stderr, netUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, args := args[0], args[1:]
	fs := flagSet("net "+sub, netUsage, stderr)
	file := fs.String("f", "", "desired state (JSON)")
	ns := new(string)
	fs.Func("netns", "network namespace (name under /run/netns or a path); default: this process's", func(v string) error {
		*ns = v
		return netcfg.CheckNetns(v)
	})
	asJSON := fs.Bool("json", false, "print JSON")
	confirm := fs.Duration("confirm", 0, "apply: revert unless -check passes within this window")
	check := fs.String("check", "", "apply: health check, a TCP address to reach (ADDR:PORT)")
	stateDir := fs.String("state-dir", netcfg.DefaultStateDir, "apply: where the state to revert to is kept")
	var af agentFlags
	af.register(fs)
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "nodekeeper net %s: unexpected argument %q\n%s\n", sub, fs.Arg(0), netUsage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "nodekeeper net %s: %v\n", sub, err)
		return 1
	}
	readDesired := func() (netcfg.Config, error) {
		if *file == "" {
			return netcfg.Config{}, errors.New("-f FILE is required")
		}
		data, err := os.ReadFile(*file)
		if err != nil {
			return netcfg.Config{}, err
		}
		c, err := netcfg.ParseDesired(data)
		if err != nil {
			return netcfg.Config{}, fmt.Errorf("%s: %w", *file, err)
		}
		return c, nil
	}
	switch sub {
	case "plan", "apply":
		if sub == "plan" && (*confirm != 0 || *check != "") {
			fmt.Fprintln(stderr, "nodekeeper net plan: -confirm and -check are for apply")
			return 2
		}
		if (*confirm != 0) != (*check != "") {
			fmt.Fprintln(stderr, "nodekeeper net apply: -confirm and -check go together")
			return 2
		}
		desired, err := readDesired()
		if err != nil {
			return fail(err)
		}
		m, err := netcfg.Open(netcfg.Options{NetNS: *ns, StateDir: *stateDir})
		if err != nil {
			return fail(err)
		}
		defer m.Close()
		if sub == "apply" {
			if reverted, err := m.Recover(ctx); err != nil {
				return fail(err)
			} else if reverted {
				fmt.Fprintln(stderr, "nodekeeper net apply: an unconfirmed change was left behind: reverted it first")
			}
		}
		p, err := m.Plan(ctx, desired)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			stdout.Write(p.JSON())
		} else {
			fmt.Fprint(stdout, p.String())
		}
		if sub == "plan" || p.Empty() {
			return 0
		}
		if *confirm != 0 {
			err = m.ApplyConfirmed(ctx, p, netcfg.Confirm{Window: *confirm, Check: m.TCPCheck(*check), Interval: time.Second})
		} else {
			err = m.Apply(ctx, p)
		}
		if err != nil {
			return fail(err)
		}
		if !*asJSON {
			fmt.Fprintln(stdout, "applied")
		}
		return 0
	case "show":
		if *file != "" || *confirm != 0 || *check != "" {
			fmt.Fprintln(stderr, "nodekeeper net show: takes only -netns and -json")
			return 2
		}
		var c netcfg.Config
		// The running agent answers, unless another namespace is asked for.
		client, err := af.dial()
		if err != nil {
			return fail(err)
		}
		if client != nil && *ns == "" {
			if c, err = client.Network(ctx); err != nil {
				return fail(err)
			}
		} else {
			m, err := netcfg.Open(netcfg.Options{NetNS: *ns})
			if err != nil {
				return fail(err)
			}
			defer m.Close()
			if c, err = m.Observe(ctx); err != nil {
				return fail(err)
			}
		}
		if *asJSON {
			out, _ := json.MarshalIndent(c, "", "  ")
			fmt.Fprintf(stdout, "%s\n", out)
		} else {
			fmt.Fprint(stdout, c.String())
		}
		return 0
	}
	fmt.Fprintf(stderr, "nodekeeper net: unknown subcommand %q\n%s\n", sub, netUsage)
	return 2
}
