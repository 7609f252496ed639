// Command nodekeeper is the agent of a community-network node: it enforces
// Lua policies, manages slivers as LXC containers, configures sliver and mesh
// interfaces and publishes telemetry over MQTT.
//
// The command only parses flags and calls the packages that do the work; each
// subcommand lives in a file of its own and registers itself in init.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// A command is one subcommand of nodekeeper.
type command struct {
	name    string
	summary string
	// hidden commands are left out of the usage (internal ones).
	hidden bool
	// run receives the arguments after the subcommand's name and returns
	// the process's exit status.
	run func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

// register adds a subcommand; it is called from the init function of the
// file that implements it.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("nodekeeper: command registered twice: " + c.name)
	}
	commands[c.name] = c
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
		fmt.Fprintf(stderr, "nodekeeper: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdin, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: nodekeeper COMMAND [ARGS...]")
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
