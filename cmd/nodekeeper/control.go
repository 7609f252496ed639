package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nodekeeper/nodekeeper/agent"
)

// agentFlags find a running agent's control socket, for the commands that
// go through the agent when one runs (status, sliver, policy list, net
// show, telemetry sample).
type agentFlags struct{ confDir, socket string }

func (f *agentFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.confDir, "config-dir", agent.DefaultConfDir, "the agent's UCI config directory (names its control socket)")
	fs.StringVar(&f.socket, "socket", "", "the agent's control socket (default: as its config says)")
}

func (f *agentFlags) path() string {
	if f.socket != "" {
		return f.socket
	}
	return agent.ControlSocketPath(f.confDir)
}

// from says where the socket's path came from, for messages.
func (f *agentFlags) from() string {
	if f.socket != "" {
		return ""
	}
	conf := filepath.Join(f.confDir, agent.Package)
	if _, err := os.Stat(conf); err != nil {
		return ", the default: there is no " + conf
	}
	return ", as " + conf + " says"
}

// dial returns a client of the running agent, or nil when none runs.
func (f *agentFlags) dial() (*agent.Client, error) {
	c, err := agent.DialControl(f.path())
	if errors.Is(err, agent.ErrNoAgent) {
		return nil, nil
	}
	return c, err
}

// client is dial for the commands that need an agent: it prints why there
// is none to stderr (prefixed with the command) and returns nil then.
func (f *agentFlags) client(cmd string, stderr io.Writer) *agent.Client {
	c, err := f.dial()
	if err == nil && c == nil {
		err = fmt.Errorf("no agent is running (control socket %s%s)", f.path(), f.from())
	}
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper %s: %v\n", cmd, err)
		return nil
	}
	return c
}
