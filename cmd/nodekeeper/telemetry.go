package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nodekeeper/nodekeeper/agent"
	"github.com/nodekeeper/nodekeeper/telemetry"
)

func init() {
	register(command{
		name:    "telemetry",
		summary: "print one telemetry sample, or publish samples over MQTT in the foreground",
		run:     runTelemetry,
	})
}

const telemetryUsage = `usage: nodekeeper telemetry sample [--rates D] [--collectors LIST] [--config-dir DIR | --socket PATH]
       nodekeeper telemetry publish [--broker URL] [--node ID] [--prefix P] [--interval D] [flags]
       nodekeeper telemetry publish -h   (lists every flag)`

func runTelemetry(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprintln(stderr, telemetryUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "sample":
		return telemetrySample(args[1:], stdout, stderr)
	case "publish":
		return telemetryPublish(args[1:], stderr)
	}
	fmt.Fprintf(stderr, "nodekeeper telemetry: unknown subcommand %q\n%s\n", args[0], telemetryUsage)
	return 2
}

// collectorsFlag parses "system,interfaces,-wifi": names switch collectors
// on, a leading "-" switches one off.
func collectorsFlag(s string) map[string]bool {
	if s == "" {
		return nil
	}
	m := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if strings.HasPrefix(n, "-") {
			m[n[1:]] = false
		} else {
			m[n] = true
		}
	}
	return m
}

func telemetrySample(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("telemetry sample", telemetryUsage, stderr)
	node := fs.String("node", agent.DefaultNodeID(), "node id")
	rates := fs.Duration("rates", 0, "take two samples this far apart and print the second, so rates are in it")
	cols := fs.String("collectors", "", "comma-separated collectors to switch on (or off with a leading -)")
	var af agentFlags
	af.register(fs)
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	// The running agent's latest sample, unless the flags ask for another.
	own := false
	fs.Visit(func(f *flag.Flag) { own = own || f.Name == "node" || f.Name == "rates" || f.Name == "collectors" })
	if !own {
		c, err := af.dial()
		if err != nil {
			fmt.Fprintln(stderr, "nodekeeper telemetry sample:", err)
			return 1
		}
		if c != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			doc, err := c.Sample(ctx)
			if err != nil {
				fmt.Fprintln(stderr, "nodekeeper telemetry sample:", err)
				return 1
			}
			var out bytes.Buffer
			json.Indent(&out, doc, "", "  ")
			out.WriteByte('\n')
			stdout.Write(out.Bytes())
			return 0
		}
	}
	s, err := telemetry.NewSampler(*node, collectorsFlag(*cols), telemetry.Sources{})
	if err != nil {
		fmt.Fprintln(stderr, "nodekeeper telemetry sample:", err)
		return 2
	}
	defer s.Close()
	ctx := context.Background()
	doc := s.Sample(ctx, time.Now(), 1, nil)
	if *rates > 0 {
		time.Sleep(*rates)
		doc = s.Sample(ctx, time.Now(), 2, nil)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		fmt.Fprintln(stderr, "nodekeeper telemetry sample:", err)
		return 1
	}
	return 0
}

func telemetryPublish(args []string, stderr io.Writer) int {
	c := telemetry.DefaultConfig()
	c.NodeID = agent.DefaultNodeID()
	fs := flagSet("telemetry publish", telemetryUsage, stderr)
	fs.StringVar(&c.Broker, "broker", c.Broker, "broker URL (tcp://, ssl://)")
	fs.StringVar(&c.NodeID, "node", c.NodeID, "node id (topic level and client id)")
	fs.StringVar(&c.Prefix, "prefix", c.Prefix, "first topic level")
	fs.IntVar(&c.QoS, "qos", c.QoS, "QoS of telemetry: 0 or 1")
	fs.StringVar(&c.CAFile, "ca", "", "CA certificate file (PEM) to verify the broker")
	fs.StringVar(&c.CertFile, "cert", "", "client certificate file (PEM)")
	fs.StringVar(&c.KeyFile, "key", "", "client key file (PEM)")
	fs.StringVar(&c.Username, "username", "", "MQTT username")
	password := fs.String("password-file", "", "file holding the MQTT password")
	fs.DurationVar(&c.KeepAlive, "keepalive", c.KeepAlive, "MQTT keepalive")
	fs.BoolVar(&c.CleanSession, "clean-session", c.CleanSession, "ask for a clean session")
	fs.DurationVar(&c.Interval, "interval", c.Interval, "sampling interval of every group (at least 100ms)")
	intervals := fs.String("intervals", "", "per-group intervals, e.g. wifi=10s,slivers=1m")
	cols := fs.String("collectors", "", "comma-separated collectors to switch on (or off with a leading -)")
	fs.DurationVar(&c.StartDelay, "start-delay", c.StartDelay, "longest random delay before the first sample (0: the interval, negative: none)")
	fs.StringVar(&c.Spool, "spool", c.Spool, "spool kind: ram or file")
	fs.StringVar(&c.SpoolPath, "spool-path", "", "spool file (with --spool file)")
	fs.Int64Var(&c.SpoolMaxBytes, "spool-max-bytes", c.SpoolMaxBytes, "spool cap; the oldest messages go first")
	fs.DurationVar(&c.SpoolFlush, "spool-flush", c.SpoolFlush, "how often at most the spool file is written")
	fs.StringVar(&c.SeqPath, "seq-path", "", "file keeping the sample number across restarts")
	fs.StringVar(&c.Format, "format", c.Format, "payload format: json or influx")
	fs.BoolVar(&c.HADiscovery, "ha-discovery", false, "publish Home Assistant discovery configs")
	fs.StringVar(&c.HAPrefix, "ha-prefix", c.HAPrefix, "Home Assistant discovery prefix")
	fs.StringVar(&c.PrometheusListen, "prometheus", "", "serve Prometheus text on this address (e.g. 127.0.0.1:9100)")
	fs.Float64Var(&c.DrainRate, "drain-rate", c.DrainRate, "messages per second at most while a backlog drains")
	fs.DurationVar(&c.ReconnectMax, "reconnect-max", c.ReconnectMax, "longest wait between reconnection attempts")
	verbose := fs.Bool("v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "nodekeeper telemetry publish: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *password != "" {
		b, err := os.ReadFile(*password)
		if err != nil {
			fmt.Fprintln(stderr, "nodekeeper telemetry publish:", err)
			return 2
		}
		c.Password = strings.TrimRight(string(b), "\r\n")
	}
	if *intervals != "" {
		c.Intervals = map[string]time.Duration{}
		for _, kv := range strings.Split(*intervals, ",") {
			k, v, ok := strings.Cut(kv, "=")
			d, err := time.ParseDuration(v)
			if !ok || err != nil {
				fmt.Fprintf(stderr, "nodekeeper telemetry publish: --intervals %q: want group=duration\n", kv)
				return 2
			}
			c.Intervals[strings.TrimSpace(k)] = d
		}
	}
	c.Collectors = collectorsFlag(*cols)
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	c.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	p, err := telemetry.NewPublisher(c)
	if err != nil {
		fmt.Fprintln(stderr, "nodekeeper telemetry publish:", err)
		return 2
	}
	daemonRuntime(25)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := p.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "nodekeeper telemetry publish:", err)
		return 1
	}
	return 0
}
