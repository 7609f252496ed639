package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// isHelp tells an argument that asks for help.
func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" || a == "help" }

// flagSet returns the flags of "nodekeeper NAME": -h, --help or a bad flag
// print usage (the usage lines, with the positional arguments) and then
// every flag, to stderr.
func flagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("nodekeeper "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseStatus is the exit status after fs.Parse failed: 0 when help was
// asked for (the usage is printed), 2 for a bad flag.
func parseStatus(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
