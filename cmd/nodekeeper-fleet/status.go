package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
	"github.com/nodekeeper/nodekeeper/fleet/status"
)

func init() {
	register(command{name: "status", summary: "the fleet per node and per slice, as a table or JSON", run: runStatus})
}

const statusUsage = `usage: nodekeeper-fleet status [DIR] --broker URL [--json] [--documents DURATION] [--share GROUP]
With DIR, each node's drift from the plan is shown. --documents listens that
long for the nodes' telemetry documents (agents with
telemetry.publish_document) to sum each slice's CPU, memory and traffic;
with --share GROUP, the processes of the group split the documents between
them (each sums its share).`

func runStatus(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var bf brokerFlags
	bf.register(fs)
	bf.registerShare(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	listen := fs.Duration("documents", 0, "listen this long for telemetry documents")
	pos, st, done := parseFlags(fs, statusUsage, args, stderr)
	if done {
		return st
	}
	if len(pos) > 1 || bf.url == "" {
		fmt.Fprintln(stderr, statusUsage)
		return 2
	}
	if bf.share != "" && !broker.ValidShareGroup(bf.share) {
		fmt.Fprintf(stderr, "nodekeeper-fleet status: --share %q: want 1-64 letters, digits, '-', '_', '.'\n", bf.share)
		return 2
	}
	trusted, err := bf.trusted()
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet status: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), bf.timeout+*listen)
	defer cancel()
	c, err := bf.dial(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet status: %v\n", err)
		return 1
	}
	defer c.Close()
	docs, err := listenDocuments(ctx, c, *listen)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet status: %v\n", err)
		return 1
	}
	pinned, rec, recErr, err := bf.pins(ctx, c, trusted)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet status: %v\n", err)
		return 1
	}
	inv, err := inventory.Read(ctx, c, verifier(trusted, pinned), bf.quiet)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet status: %v\n", err)
		return 1
	}
	var p *plan.Plan
	if len(pos) == 1 {
		f, err := loadDir(pos[0], stderr)
		if err != nil {
			return 1
		}
		var exclude map[string]map[string]string
		if rec != nil {
			if recErr == nil {
				exclude = rec.Refusals
			}
		}
		p = plan.Render(f, inv, plan.Options{Exclude: exclude})
	}
	r := status.Build(inv, p, docs.get())
	if *asJSON {
		out := struct {
			*status.Report
			Rollout *rollout.Record `json:"rollout,omitempty"`
		}{r, rec}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return 0
	}
	if rec != nil {
		fmt.Fprintf(stdout, "rollout %s: %s, by %s, started %s, %d waves%s\n", rec.ID, rec.State, rec.Who,
			rec.Started.Format(time.RFC3339), len(rec.Waves), reason(rec.Note))
		if recErr != nil {
			fmt.Fprintf(stdout, "  NOT VERIFIED (%v): its pins and refusals are not used (--pub ADMIN.pub trusts another admin)\n", recErr)
		}
		fmt.Fprintln(stdout)
	}
	t := table{header: []string{"NODE", "STATUS", "STATE", "APPLIED", "SEEN", "DOCUMENT", "SLIVERS", "ERRORS", "DRIFT"}}
	for _, n := range r.Nodes {
		drift := "-"
		if p != nil {
			drift = "none"
			if len(n.Drift) > 0 {
				drift = strings.Join(n.Drift, ", ")
			}
		}
		errs := fmt.Sprint(n.Errors)
		if n.LastError != "" {
			errs += " (last: " + n.LastError + ")"
		}
		if n.StateError != "" {
			errs = "state report not believed: " + n.StateError
		}
		t.add(n.Node, n.Status, dash(n.NodeState), fmt.Sprint(n.AppliedSeq), fmt.Sprint(n.SeenSeq), n.Standing, fmt.Sprint(n.Slivers), errs, drift)
	}
	t.write(stdout)
	if len(r.Slices) > 0 {
		fmt.Fprintln(stdout)
		t := table{header: []string{"SLICE", "OWNER", "PLANNED", "SLIVERS", "REPORTING", "CPU%", "MEMORY", "RX", "TX"}}
		for _, s := range r.Slices {
			var states []string
			for _, k := range sortedKeys(s.States) {
				states = append(states, fmt.Sprintf("%d %s", s.States[k], k))
			}
			planned := "-"
			if p != nil {
				planned = fmt.Sprint(s.Planned)
			}
			t.add(s.Slice, dash(s.Owner), planned, dash(strings.Join(states, ", ")), fmt.Sprint(s.Reporting), fmt.Sprintf("%.1f", s.CPUPercent),
				fmt.Sprintf("%.1f MiB", float64(s.MemoryBytes)/(1<<20)), fmt.Sprintf("%.0f B/s", s.RxBps), fmt.Sprintf("%.0f B/s", s.TxBps))
		}
		t.write(stdout)
		for _, s := range r.Slices {
			for _, f := range s.Failures {
				fmt.Fprintf(stdout, "  %s failed on %s\n", s.Slice, f)
			}
		}
	}
	return 0
}

// documents are the latest telemetry documents by node.
// documents are the telemetry documents of a listening window, by node.
// The subscription outlives the window (until the connection closes):
// once the window ends it adds nothing, so that what get returns is not
// written while the caller reads it.
type documents struct {
	mu     sync.Mutex
	m      map[string]*inventory.Telemetry
	closed bool
}

func (d *documents) get() map[string]*inventory.Telemetry {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m
}

// add keeps t as node id's document while the window is open.
func (d *documents) add(id string, t *inventory.Telemetry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.m[id] = t
	}
}

// close ends the window.
func (d *documents) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
}

// listenDocuments collects the nodes' telemetry documents for d (with a
// share group, the group's share of them: broker.Conn.SubscribeStream).
func listenDocuments(ctx context.Context, c *broker.Conn, d time.Duration) (*documents, error) {
	docs := &documents{m: map[string]*inventory.Telemetry{}}
	if d <= 0 {
		return docs, nil
	}
	prefix := c.Prefix() + "/"
	err := c.SubscribeStream(ctx, prefix+"+/document", func(topic string, payload []byte) {
		id, _, _ := strings.Cut(strings.TrimPrefix(topic, prefix), "/")
		t, err := inventory.ParseTelemetry(payload)
		if err != nil || (t.Node != "" && t.Node != id) {
			return
		}
		docs.add(id, t)
	})
	if err != nil {
		return nil, err
	}
	defer docs.close()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return docs, nil
}
