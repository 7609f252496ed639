package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/wire"
)

// brokerFlags are how the fleet's commands reach the broker, as the
// agent's telemetry section says it.
type brokerFlags struct {
	url, prefix               string
	caFile, certFile, keyFile string
	username, passFile        string
	quiet, timeout            time.Duration
	pubFiles                  listFlag
	keysFile                  string
	share                     string
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func (b *brokerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.url, "broker", "", "broker URL (tcp://host:1883, ssl://host:8883)")
	fs.StringVar(&b.prefix, "prefix", "nodekeeper", "topic prefix of the nodes")
	fs.StringVar(&b.caFile, "ca", "", "CA certificate (PEM) to verify the broker")
	fs.StringVar(&b.certFile, "cert", "", "client certificate (PEM)")
	fs.StringVar(&b.keyFile, "cert-key", "", "client certificate's key (PEM)")
	fs.StringVar(&b.username, "username", "", "MQTT username")
	fs.StringVar(&b.passFile, "password-file", "", "file holding the MQTT password")
	fs.DurationVar(&b.timeout, "timeout", 2*time.Minute, "give up on the broker after this long (besides --wait and --documents)")
	fs.DurationVar(&b.quiet, "quiet", 500*time.Millisecond, "the broker has sent every retained message once it was quiet this long")
	fs.StringVar(&b.keysFile, "keys", "", "the nodes' identity keys (an enrolment list: NODE KEY a line); default: as the rollout record pinned them")
	fs.Var(&b.pubFiles, "pub", "an admin's public key (usign .pub) whose documents and rollout records are trusted (repeatable)")
}

// registerShare adds --share, for the commands that stream the nodes'
// telemetry documents to a part of the fleet's processes (status, serve):
// not for plan and apply, whose aggregation policies must see every node.
func (b *brokerFlags) registerShare(fs *flag.FlagSet) {
	fs.StringVar(&b.share, "share", "", "shared-subscription group (1-64 letters, digits, '-', '_', '.'): the processes of the group split the telemetry documents between them ($share/GROUP/...); retained topics are still read whole")
}

// dial connects to the broker.
func (b *brokerFlags) dial(ctx context.Context) (*broker.Conn, error) {
	if b.url == "" {
		return nil, fmt.Errorf("--broker URL is required")
	}
	o := broker.Options{URL: b.url, Prefix: b.prefix, CAFile: b.caFile, CertFile: b.certFile, KeyFile: b.keyFile, Username: b.username, Share: b.share}
	if b.passFile != "" {
		p, err := dir.ReadFile(b.passFile)
		if err != nil {
			return nil, err
		}
		o.Password = strings.TrimRight(string(p), "\r\n")
	}
	return broker.Dial(ctx, o)
}

// trusted reads the --pub keys.
func (b *brokerFlags) trusted() ([]wire.PublicKey, error) {
	var keys []wire.PublicKey
	for _, f := range b.pubFiles {
		t, err := dir.ReadFile(f)
		if err != nil {
			return nil, err
		}
		k, err := wire.ParsePublicKey(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
