package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nodekeeper/nodekeeper/agent"
	"github.com/nodekeeper/nodekeeper/wire"
)

func init() {
	register(command{name: "watch", summary: "a live view of the nodes under a prefix: status, telemetry, events, state", run: runWatch})
}

const watchUsage = `usage: nodekeeper watch --broker URL [--prefix P] [--keys FILE] [NODE...]
Prints a line for each node going online or offline, a telemetry summary per
sample, each event (policy decisions, alerts) and each change of a node's
state report, until interrupted. State reports are signed by their node:
one that does not verify is flagged UNVERIFIED and not believed. --keys
names an enrolment list ("NODE KEY" a line, KEY as nodekeeper status prints
it); without it a node's key is pinned on its first report.`

func runWatch(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flagSet("watch", watchUsage, stderr)
	var bf brokerFlags
	bf.register(fs)
	keys := fs.String("keys", "", "enrolment list: the nodes' keys (\"NODE KEY\" a line)")
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
	if *keys != "" {
		b, err := os.ReadFile(*keys)
		if err == nil {
			o.Keys, err = wire.ParseEnrolment(b)
		}
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper watch: %s: %v\n", *keys, err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := agent.Watch(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "nodekeeper watch: %v\n", err)
		return 1
	}
	return 0
}
