package main

import (
	"flag"
	"os"
	"strings"
)

// brokerFlags are how the admin's commands (push, watch) reach the broker:
// the URL, the topic prefix, TLS and credentials, as the agent's telemetry
// section says them.
type brokerFlags struct {
	broker, prefix               string
	caFile, certFile, keyFile    string
	username, password, passFile string
}

func (b *brokerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.broker, "broker", "", "broker URL (tcp://host:1883, ssl://host:8883)")
	fs.StringVar(&b.prefix, "prefix", "nodekeeper", "topic prefix of the nodes")
	fs.StringVar(&b.caFile, "ca", "", "CA certificate (PEM) to verify the broker")
	fs.StringVar(&b.certFile, "cert", "", "client certificate (PEM)")
	fs.StringVar(&b.keyFile, "cert-key", "", "client certificate's key (PEM)")
	fs.StringVar(&b.username, "username", "", "MQTT username")
	fs.StringVar(&b.passFile, "password-file", "", "file holding the MQTT password")
}

// readPassword reads --password-file, if given, into b.password.
func (b *brokerFlags) readPassword() error {
	if b.passFile == "" {
		return nil
	}
	p, err := os.ReadFile(b.passFile)
	if err != nil {
		return err
	}
	b.password = strings.TrimRight(string(p), "\r\n")
	return nil
}
