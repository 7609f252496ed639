package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/aggregate"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
)

// policyMode is --policies: off, dry-run (default: decisions shown, the
// plan unchanged) or on (decisions change the plan).
type policyMode string

func (m *policyMode) String() string { return string(*m) }

func (m *policyMode) Set(s string) error {
	switch s {
	case "off", "dry-run", "on":
		*m = policyMode(s)
		return nil
	}
	return fmt.Errorf("want off, dry-run or on")
}

// aggregation evaluates the directory's aggregation policies (DIR/aggregate/*.lua)
// over the fleet, prints every decision, and returns the plan options
// their effects make when mode is on.
func aggregation(root string, mode policyMode, f *dir.Fleet, inv *inventory.Inventory, docs map[string]*inventory.Telemetry,
	refusals map[string]map[string]string, out io.Writer) (plan.Options, []string, error) {
	o := plan.Options{Exclude: refusals}
	if mode == "off" {
		return o, nil, nil
	}
	set, err := aggregate.Load(filepath.Join(root, "aggregate"))
	if err != nil {
		return o, nil, err
	}
	defer set.Close()
	if len(set.Policies) == 0 {
		return o, nil, nil
	}
	if len(docs) == 0 {
		fmt.Fprintln(out, "note: no telemetry documents (--documents DURATION listens for them): policies see no load, memory or flash")
	}
	p := plan.Render(f, inv, o)
	v := aggregate.BuildView(f, inv, p, docs)
	ds, eff, errs := set.Evaluate(context.Background(), v, time.Now().UTC())
	tag := "dry run: not applied (--policies on applies it)"
	if mode == "on" {
		tag = "applied to the plan"
	}
	var logged []string
	for _, d := range ds {
		line := d.String()
		logged = append(logged, line)
		fmt.Fprintf(out, "%s [%s]\n", line, tag)
	}
	for _, e := range errs {
		fmt.Fprintf(out, "aggregation %v\n", e)
	}
	if mode != "on" {
		return o, logged, nil
	}
	o.NodeState, o.SliceCount, o.SliceStop = eff.NodeState, eff.SliceCount, eff.SliceStop
	o.Exclude = map[string]map[string]string{}
	for _, m := range []map[string]map[string]string{refusals, eff.Avoid} {
		for s, nodes := range m {
			if o.Exclude[s] == nil {
				o.Exclude[s] = map[string]string{}
			}
			for n, why := range nodes {
				o.Exclude[s][n] = why
			}
		}
	}
	return o, logged, nil
}
