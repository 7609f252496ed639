package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nodekeeper/nodekeeper/agent"
	"github.com/nodekeeper/nodekeeper/wire"
)

func init() {
	register(command{name: "sign", summary: "sign a desired document (the envelope nodes accept), add a signature to an envelope, or write a usign .sig", run: runSign})
}

const signUsage = `usage: nodekeeper sign -k KEY.sec [-o OUT] FILE     write the signed envelope (default FILE.env)
       nodekeeper sign -k KEY.sec [-o OUT] ENVELOPE add KEY's signature to an envelope (default: in place)
       nodekeeper sign -k KEY.sec --usign [-o OUT] FILE   write a usign signature (default FILE.sig)
An envelope signed by several keys is what a node with remote.threshold N
needs: each admin adds a signature with their own key.`

func runSign(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flagSet("sign", signUsage, stderr)
	key := fs.String("k", "", "usign secret key file")
	out := fs.String("o", "", "output file (- for standard output)")
	usign := fs.Bool("usign", false, "write a usign/signify signature of FILE instead of an envelope")
	pos, _, err := splitArgs(fs, args)
	if err != nil {
		return parseStatus(err)
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
	in, err := os.ReadFile(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper sign: %v\n", err)
		return 1
	}
	var b []byte
	dest := *out
	_, envErr := wire.ParseEnvelope(in)
	switch {
	case *usign:
		b = wire.Sign(k, in)
		if dest == "" {
			dest = pos[0] + ".sig"
		}
	case envErr == nil:
		if b, err = wire.AddSignature(k, in); err != nil {
			fmt.Fprintf(stderr, "nodekeeper sign: %s: %v\n", pos[0], err)
			return 1
		}
		b = append(b, '\n')
		if dest == "" {
			dest = pos[0]
		}
	default:
		if b, err = agent.SealDocument([]wire.SecretKey{k}, in); err != nil {
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
	// Written beside and renamed: adding a signature in place never leaves
	// half an envelope.
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".nodekeeper-sign-*")
	if err == nil {
		_, err = tmp.Write(b)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), dest)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper sign: %v\n", err)
		return 1
	}
	return 0
}
