package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nodekeeper/nodekeeper/agent"
)

func init() {
	register(command{name: "run", summary: "run the agent (what procd starts): telemetry, policies, slivers, remote management", run: runAgent})
}

func runAgent(args []string, _ io.Reader, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("nodekeeper run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	confDir := fs.String("config-dir", agent.DefaultConfDir, "UCI config directory holding the nodekeeper package")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "nodekeeper run: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	daemonRuntime(50)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := agent.Run(ctx, agent.Options{ConfDir: *confDir, Stderr: stderr}); err != nil {
		fmt.Fprintf(stderr, "nodekeeper run: %v\n", err)
		return 1
	}
	return 0
}
