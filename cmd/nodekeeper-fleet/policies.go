package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/aggregate"
	"github.com/nodekeeper/nodekeeper/fleet/broker"
	"github.com/nodekeeper/nodekeeper/fleet/dir"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/wire"
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
// over the fleet with what earlier evaluations remembered (mem, updated:
// hold and cooldown), prints every decision, and returns the plan options
// their effects make when mode is on, and whether mem changed (apply
// keeps it on the broker).
func aggregation(root string, mode policyMode, f *dir.Fleet, inv *inventory.Inventory, docs map[string]*inventory.Telemetry,
	refusals map[string]map[string]string, mem *aggregate.Memory, out io.Writer) (plan.Options, []string, bool, error) {
	o := plan.Options{Exclude: refusals}
	if mode == "off" {
		return o, nil, false, nil
	}
	set, err := aggregate.Load(filepath.Join(root, "aggregate"))
	if err != nil {
		return o, nil, false, err
	}
	defer set.Close()
	if len(set.Policies) == 0 {
		// Forget the policies that are gone.
		changed := len(mem.Policies) > 0
		mem.Policies = nil
		return o, nil, changed, nil
	}
	if len(docs) == 0 {
		fmt.Fprintln(out, "note: no telemetry documents (--documents DURATION listens for them): policies see no load, memory or flash")
	}
	p := plan.Render(f, inv, o)
	v := aggregate.BuildView(f, inv, p, docs)
	now := time.Now().UTC()
	ds, eff, errs := set.EvaluateMemory(context.Background(), v, now, mem)
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
	for _, p := range set.Policies {
		if w := mem.Waiting(p, now); w != "" {
			fmt.Fprintf(out, "policy %s: %s\n", p.Name, w)
		}
	}
	for _, e := range errs {
		fmt.Fprintf(out, "aggregation %v\n", e)
	}
	if mode != "on" {
		return o, logged, true, nil
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
	return o, logged, true, nil
}

// readMemory reads the aggregation policies' memory from the broker; one
// that does not verify with a trusted key is not believed (a note says
// so) and the policies evaluate afresh.
func readMemory(ctx context.Context, c *broker.Conn, trusted []wire.PublicKey, quiet time.Duration, out io.Writer) (*aggregate.Memory, error) {
	m, err := aggregate.ReadMemory(ctx, c, trusted, quiet)
	if m == nil {
		return nil, err
	}
	if err != nil {
		fmt.Fprintf(out, "note: %v: hold and cooldown start afresh (--pub ADMIN.pub trusts another admin)\n", err)
	}
	return m, nil
}
