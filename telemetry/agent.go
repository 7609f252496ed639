package telemetry

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func init() {
	registerCollector("agent", true, func(s Sources) Collector {
		return &agentCollector{statm: newProcFile(s.Root + "/proc/self/statm"), policies: s.Policies, pub: s.pub}
	})
}

// PolicyCounter reports how many policies the agent runs; the agent's policy
// engine satisfies it.
type PolicyCounter interface {
	PolicyCounts() (loaded, quarantined int)
}

// publisherStats is what the publisher tells the agent collector.
type publisherStats interface {
	stats() pubStats
}

// pubStats are the publisher's counters.
type pubStats struct {
	spoolDepth int
	spoolBytes int64
	published  uint64
	dropped    uint64
	connected  bool
}

// agentCollector reports the process's own health.
type agentCollector struct {
	statm    *procFile
	policies PolicyCounter
	pub      publisherStats
}

// Collect implements Collector.
func (c *agentCollector) Collect(_ context.Context, _ time.Time, doc *Document) error {
	a := &Agent{Goroutines: runtime.NumGoroutine()}
	if c.pub != nil {
		s := c.pub.stats()
		a.SpoolDepth, a.SpoolBytes, a.PublishedTotal, a.DroppedTotal = s.spoolDepth, s.spoolBytes, s.published, s.dropped
		if s.connected {
			a.Connected = 1
		}
	}
	if c.policies != nil {
		a.PoliciesLoaded, a.PoliciesQuarantined = c.policies.PolicyCounts()
	}
	doc.Agent = a
	b, err := c.statm.read()
	if err != nil {
		return fmt.Errorf("rss: %w", err)
	}
	pages, err := parseStatmRSS(b)
	if err != nil {
		return fmt.Errorf("/proc/self/statm: %w", err)
	}
	a.RSSBytes = pages * int64(os.Getpagesize())
	return nil
}

func (c *agentCollector) close() { c.statm.close() }

// parseStatmRSS returns the resident pages (second field) of /proc/PID/statm.
func parseStatmRSS(b []byte) (int64, error) {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, fmt.Errorf("%d fields, want at least 2", len(f))
	}
	return strconv.ParseInt(string(f[1]), 10, 64)
}
