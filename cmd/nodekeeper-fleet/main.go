// Command nodekeeper-fleet is the fleet side of nodekeeper, for a server
// or an admin's laptop: it renders every node's desired document from a
// fleet directory, pushes them in waves, and shows the fleet as a whole
// (docs/fleet.md). It speaks only the MQTT topics the agents speak; the
// broker is its only state. It is never shipped in the router package.
//
// The command only parses flags and calls package fleet/...; each
// subcommand lives in a file of its own and registers itself in init.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/nodekeeper/nodekeeper/policy"
)

var (
	version = "dev"
	commit  = "unknown"
)

// A command is one subcommand of nodekeeper-fleet.
type command struct {
	name    string
	summary string
	hidden  bool
	// run receives the arguments after the subcommand's name and returns
	// the process's exit status.
	run func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("nodekeeper-fleet: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func init() {
	// The policy checks of a fleet directory run each file in a worker
	// process under the node's budgets, as a node does: this binary is
	// that worker too.
	register(command{name: "policy-worker", hidden: true, run: func([]string, io.Reader, io.Writer, io.Writer) int { return policy.ServeWorker() }})
	register(command{name: "version", summary: "print the version", run: func(_ []string, _ io.Reader, stdout, _ io.Writer) int {
		fmt.Fprintf(stdout, "nodekeeper-fleet %s (%s)\n", version, commit)
		return 0
	}})
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "nodekeeper-fleet: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdin, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: nodekeeper-fleet COMMAND [ARGS...]  (COMMAND -h for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n, c := range commands {
		if !c.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}

// parseFlags parses args with fs, flags and positional arguments in any
// order; -h prints the usage and returns done with status 0; a bad flag
// returns done with status 2.
func parseFlags(fs *flag.FlagSet, usageLine string, args []string, stderr io.Writer) (pos []string, status int, done bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usageLine)
		fs.PrintDefaults()
	}
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, 0, true
			}
			return nil, 2, true
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, false
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), 0, false
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
