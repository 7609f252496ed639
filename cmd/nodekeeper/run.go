package main

import (
	"context"
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

const runUsage = `usage: nodekeeper run [--config-dir DIR]
Runs the agent in the foreground until SIGTERM; SIGHUP reloads. It reads
DIR/nodekeeper (UCI, default /etc/config/nodekeeper) and what that names:
the policy directory (policy.dir), the trusted keys (remote.trusted_key),
the broker's password, CA, certificate and key files, the override file
(telemetry.override), the agent's state and run directories, the slivers'
state directory and the network's sections (docs/config.md).`

func runAgent(args []string, _ io.Reader, _, stderr io.Writer) int {
	fs := flagSet("run", runUsage, stderr)
	confDir := fs.String("config-dir", agent.DefaultConfDir, "UCI config directory holding the nodekeeper package")
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
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
