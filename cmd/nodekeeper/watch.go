package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
	fs := flag.NewFlagSet("nodekeeper watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o agent.WatchOptions
	fs.StringVar(&o.Broker, "broker", "", "broker URL (tcp://host:1883, ssl://host:8883)")
	fs.StringVar(&o.Prefix, "prefix", "nodekeeper", "topic prefix of the nodes")
	fs.StringVar(&o.CAFile, "ca", "", "CA certificate (PEM) to verify the broker")
	fs.StringVar(&o.CertFile, "cert", "", "client certificate (PEM)")
	fs.StringVar(&o.KeyFile, "cert-key", "", "client certificate's key (PEM)")
	fs.StringVar(&o.Username, "username", "", "MQTT username")
	password := fs.String("password-file", "", "file holding the MQTT password")
	pos, _, err := splitArgs(fs, args)
	if err != nil {
		return 2
	}
	if o.Broker == "" {
		fmt.Fprintln(stderr, watchUsage)
		return 2
	}
	o.Nodes = pos
	if *password != "" {
		b, err := os.ReadFile(*password)
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper watch: %v\n", err)
			return 1
		}
		o.Password = strings.TrimRight(string(b), "\r\n")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := agent.Watch(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "nodekeeper watch: %v\n", err)
		return 1
	}
	return 0
}
