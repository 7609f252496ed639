package main

import (
	"fmt"
	"io"

	"github.com/nodekeeper/nodekeeper/wire"
)

func init() {
	register(command{name: "keygen", summary: "make a key pair for signing desired documents (usign format)", run: runKeygen})
}

const keygenUsage = "usage: nodekeeper keygen [-o PREFIX]"

func runKeygen(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flagSet("keygen", keygenUsage, stderr)
	prefix := fs.String("o", "nodekeeper", "write PREFIX.sec and PREFIX.pub")
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, keygenUsage)
		return 2
	}
	pk, err := wire.WriteKeyPair(*prefix)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s.sec (keep it secret) and %s.pub; key id %s\n", *prefix, *prefix, pk.ID())
	fmt.Fprintf(stdout, "on each node: uci add_list nodekeeper.remote.trusted_key='%s'\n", pk.String())
	return 0
}
