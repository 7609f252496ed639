package telemetry

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// A Collector fills its group of the document. Collectors keep state between
// calls (previous counters, for rates) and are called from one goroutine at a
// time. A collector that fails returns an error; the sampler records it in
// Document.Collectors and the other collectors still run.
type Collector interface {
	Collect(ctx context.Context, now time.Time, doc *Document) error
}

// Sources are what collectors read and what the agent supplies.
type Sources struct {
	// Root is prefixed to /proc and /sys paths ("" for the real ones);
	// tests point it at captured files under testdata/.
	Root string
	// Filesystems are the mount points the system collector reports
	// (default /overlay and /tmp).
	Filesystems []string
	// Slivers lists the node's slivers; nil means no slivers group.
	Slivers SliverLister
	// Policies supplies the policy counts of the agent group; nil leaves
	// them zero.
	Policies PolicyCounter

	// pub gives the agent collector the publisher's counters; set by
	// NewPublisher.
	pub publisherStats
}

type collectorFactory struct {
	defaultOn bool
	new       func(Sources) Collector
}

var factories = map[string]collectorFactory{}

// registerCollector is called from init in each collector's file.
func registerCollector(name string, defaultOn bool, f func(Sources) Collector) {
	if _, dup := factories[name]; dup {
		panic("telemetry: collector registered twice: " + name)
	}
	factories[name] = collectorFactory{defaultOn: defaultOn, new: f}
}

// Groups returns the name of every collector and whether it is on by
// default.
func Groups() map[string]bool {
	m := make(map[string]bool, len(factories))
	for n, f := range factories {
		m[n] = f.defaultOn
	}
	return m
}

// groupNames returns the registered collector names in a stable order.
func groupNames() []string {
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// newCollectors builds the collectors named in enabled (all default-on ones
// when enabled is nil). An unknown name is an error.
func newCollectors(enabled map[string]bool, src Sources) (map[string]Collector, error) {
	for n := range enabled {
		if _, ok := factories[n]; !ok {
			return nil, fmt.Errorf("telemetry: unknown collector %q (have %v)", n, groupNames())
		}
	}
	cs := map[string]Collector{}
	for _, n := range groupNames() {
		on := factories[n].defaultOn
		if v, ok := enabled[n]; ok {
			on = v
		}
		if on {
			cs[n] = factories[n].new(src)
		}
	}
	return cs, nil
}

// runCollector runs one collector, timing it and recording its outcome.
// A panic in a collector is turned into its error so the others still run.
func runCollector(ctx context.Context, name string, c Collector, now time.Time, doc *Document) {
	start := time.Now()
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return c.Collect(ctx, now, doc)
	}()
	st := CollectorStatus{DurationSeconds: time.Since(start).Seconds()}
	if err != nil {
		st.Error = err.Error()
	}
	doc.Collectors[name] = st
}
