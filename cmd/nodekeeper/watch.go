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
	register(command{name: "watch", summary: "a live view of the nodes under a prefix: status, telemetry, events, state", run: runWatch})
}

const watchUsage = `usage: nodekeeper watch --broker URL [--prefix P] [NODE...]
Prints a line for each node going online or offline, a telemetry summary per
sample, each event (policy decisions, alerts) and each change of a node's
state report, until interrupted.`

func runWatch(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flagSet("watch", watchUsage, stderr)
	var bf brokerFlags
	bf.register(fs)
	pos, _, err := splitArgs(fs, args)
	if err != nil {
		return parseStatus(err)
	}
	if bf.broker == "" {
		fmt.Fprintln(stderr, watchUsage)
		return 2
	}
	if err := bf.readPassword(); err != nil {
		fmt.Fprintf(stderr, "nodekeeper watch: %v\n", err)
		return 1
	}
	o := agent.WatchOptions{Broker: bf.broker, Prefix: bf.prefix, CAFile: bf.caFile, CertFile: bf.certFile, KeyFile: bf.keyFile,
		Username: bf.username, Password: bf.password, Nodes: pos}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := agent.Watch(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "nodekeeper watch: %v\n", err)
		return 1
	}
	return 0
}
