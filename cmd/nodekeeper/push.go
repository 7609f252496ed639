package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/agent"
)

func init() {
	register(command{name: "push", summary: "publish a signed desired document to a node (retained, over MQTT)", run: runPush})
}

const pushUsage = `usage: nodekeeper push --broker URL [--prefix P] [-k KEY.sec | --sig FILE.sig] NODE FILE
FILE is a desired document, signed here with -k, or with its usign signature
(usign -S) given by --sig; or an envelope made by "nodekeeper sign".`

func runPush(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nodekeeper push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o agent.PushOptions
	fs.StringVar(&o.Broker, "broker", "", "broker URL (tcp://host:1883, ssl://host:8883)")
	fs.StringVar(&o.Prefix, "prefix", "nodekeeper", "topic prefix of the nodes")
	key := fs.String("k", "", "sign FILE with this usign secret key first")
	sig := fs.String("sig", "", "FILE's usign signature (as usign -S writes it)")
	fs.StringVar(&o.CAFile, "ca", "", "CA certificate (PEM) to verify the broker")
	fs.StringVar(&o.CertFile, "cert", "", "client certificate (PEM)")
	fs.StringVar(&o.KeyFile, "cert-key", "", "client certificate's key (PEM)")
	fs.StringVar(&o.Username, "username", "", "MQTT username")
	password := fs.String("password-file", "", "file holding the MQTT password")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	pos, _, err := splitArgs(fs, args)
	if err != nil {
		return 2
	}
	if o.Broker == "" || len(pos) != 2 {
		fmt.Fprintln(stderr, pushUsage)
		return 2
	}
	node, file := pos[0], pos[1]
	if *password != "" {
		b, err := os.ReadFile(*password)
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
			return 1
		}
		o.Password = strings.TrimRight(string(b), "\r\n")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
		return 1
	}
	if *key != "" && *sig != "" {
		fmt.Fprintln(stderr, "nodekeeper push: -k and --sig exclude each other")
		return 2
	}
	if *sig != "" {
		sb, err := os.ReadFile(*sig)
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
			return 1
		}
		if b, err = json.Marshal(agent.Envelope{Document: b, Signature: string(sb)}); err != nil {
			fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
			return 1
		}
	}
	if *key != "" {
		k, err := agent.ReadSecretKeyFile(*key)
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
			return 1
		}
		if b, err = agent.SealDocument(k, b); err != nil {
			fmt.Fprintf(stderr, "nodekeeper push: %s: %v\n", file, err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := agent.Push(ctx, o, node, b); err != nil {
		fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "published to %s/%s/desired (retained)\n", o.Prefix, node)
	return 0
}
