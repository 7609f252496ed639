package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nodekeeper/nodekeeper/agent"
	"github.com/nodekeeper/nodekeeper/wire"
)

func init() {
	register(command{name: "push", summary: "publish a signed desired document to a node (retained, over MQTT)", run: runPush})
}

const pushUsage = `usage: nodekeeper push --broker URL [--prefix P] [-k KEY.sec ... | --sig FILE.sig] NODE FILE
FILE is a desired document, signed here with -k (repeat -k for a node with
remote.threshold N: one signature per key), or with its usign signature
(usign -S) given by --sig; or an envelope made by "nodekeeper sign".`

// keyFiles is a flag that may be given several times.
type keyFiles []string

func (k *keyFiles) String() string     { return fmt.Sprint(*k) }
func (k *keyFiles) Set(v string) error { *k = append(*k, v); return nil }

func runPush(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flagSet("push", pushUsage, stderr)
	var bf brokerFlags
	bf.register(fs)
	var keys keyFiles
	fs.Var(&keys, "k", "sign FILE with this usign secret key first (repeatable)")
	sig := fs.String("sig", "", "FILE's usign signature (as usign -S writes it)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	pos, _, err := splitArgs(fs, args)
	if err != nil {
		return parseStatus(err)
	}
	if bf.broker == "" || len(pos) != 2 {
		fmt.Fprintln(stderr, pushUsage)
		return 2
	}
	node, file := pos[0], pos[1]
	if err := bf.readPassword(); err != nil {
		fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
		return 1
	}
	o := agent.PushOptions{Broker: bf.broker, Prefix: bf.prefix, CAFile: bf.caFile, CertFile: bf.certFile, KeyFile: bf.keyFile,
		Username: bf.username, Password: bf.password}
	b, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
		return 1
	}
	if len(keys) > 0 && *sig != "" {
		fmt.Fprintln(stderr, "nodekeeper push: -k and --sig exclude each other")
		return 2
	}
	if *sig != "" {
		sb, err := os.ReadFile(*sig)
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
			return 1
		}
		if b, err = json.Marshal(wire.Envelope{Document: b, Signature: string(sb)}); err != nil {
			fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
			return 1
		}
	}
	if len(keys) > 0 {
		var ks []wire.SecretKey
		for _, f := range keys {
			k, err := wire.ReadSecretKeyFile(f)
			if err != nil {
				fmt.Fprintf(stderr, "nodekeeper push: %v\n", err)
				return 1
			}
			ks = append(ks, k)
		}
		if b, err = agent.SealDocument(ks, b); err != nil {
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
