package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/nodekeeper/nodekeeper/agent"
	"github.com/nodekeeper/nodekeeper/wire"
)

func init() {
	register(command{name: "sign", summary: "sign a desired document: the envelope nodes accept, or a usign .sig", run: runSign})
}

const signUsage = `usage: nodekeeper sign -k KEY.sec [-o OUT] FILE     write the signed envelope (default FILE.env)
       nodekeeper sign -k KEY.sec --usign [-o OUT] FILE   write a usign signature (default FILE.sig)`

func runSign(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nodekeeper sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("k", "", "usign secret key file")
	out := fs.String("o", "", "output file (- for standard output)")
	usign := fs.Bool("usign", false, "write a usign/signify signature of FILE instead of an envelope")
	pos, _, err := splitArgs(fs, args)
	if err != nil {
		return 2
	}
	if *key == "" || len(pos) != 1 {
		fmt.Fprintln(stderr, signUsage)
		return 2
	}
	k, err := wire.ReadSecretKeyFile(*key)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper sign: %v\n", err)
		return 1
	}
	doc, err := os.ReadFile(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper sign: %v\n", err)
		return 1
	}
	var b []byte
	dest := *out
	if *usign {
		b = wire.Sign(k, doc)
		if dest == "" {
			dest = pos[0] + ".sig"
		}
	} else {
		if b, err = agent.SealDocument(k, doc); err != nil {
			fmt.Fprintf(stderr, "nodekeeper sign: %s: %v\n", pos[0], err)
			return 1
		}
		b = append(b, '\n')
		if dest == "" {
			dest = pos[0] + ".env"
		}
	}
	if dest == "-" {
		stdout.Write(b)
		return 0
	}
	if err := os.WriteFile(dest, b, 0o644); err != nil {
		fmt.Fprintf(stderr, "nodekeeper sign: %v\n", err)
		return 1
	}
	return 0
}
