package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

func init() {
	registerCollector("slivers", true, func(s Sources) Collector {
		return &sliversCollector{root: s.Root, lister: s.Slivers, prev: map[string]sliverSample{}}
	})
}

// Sliver is what the collector needs to know of one sliver; the agent maps
// its containers to it.
type Sliver struct {
	Name, Slice, State string
	ID                 int
	// PID is the container's init process as seen from the host, 0 when
	// the container is not running.
	PID int
	// HostIfaces are the host-side ends of the sliver's interfaces.
	HostIfaces []string
	// MemoryLimitBytes is the configured limit, reported when the cgroup
	// itself has none (or cannot be read); 0 for none.
	MemoryLimitBytes int64
}

// SliverLister lists the node's slivers.
type SliverLister interface {
	Slivers(ctx context.Context) ([]Sliver, error)
}

// sliversCollector reads each running sliver's cgroups (found from its init
// process, so any cgroup version and LXC layout works) and the counters of
// its host-side interfaces.
type sliversCollector struct {
	root   string
	lister SliverLister
	mounts cgroupMounts
	buf    []byte
	links  linkDumper
	prev   map[string]sliverSample
}

type sliverSample struct {
	at       time.Time
	cpu      float64
	rx, tx   uint64
	hasNet   bool
	hasCPU   bool
	instance int // PID: a restarted container starts its counters anew
}

// Collect implements Collector.
func (c *sliversCollector) Collect(ctx context.Context, now time.Time, doc *Document) error {
	if c.lister == nil {
		return nil
	}
	ss, err := c.lister.Slivers(ctx)
	if err != nil {
		doc.Slivers = nil // absent rather than stale
		return fmt.Errorf("list slivers: %w", err)
	}
	links := map[string]link{}
	var linkErr error
	for _, s := range ss {
		if len(s.HostIfaces) > 0 {
			linkErr = c.links.dump(func(l *link) { links[l.name] = *l })
			break
		}
	}
	out := make([]SliverStats, 0, len(ss))
	rates := make([]SliverRates, len(ss))
	seen := map[string]bool{}
	for i, s := range ss {
		st := SliverStats{Name: s.Name, Slice: s.Slice, ID: s.ID, State: s.State, MemoryLimitBytes: s.MemoryLimitBytes}
		cur := sliverSample{at: now, instance: s.PID}
		var errs []error
		if s.PID > 0 {
			if err := c.cgroupStats(s.PID, &st); err != nil {
				errs = append(errs, err)
			} else {
				cur.cpu, cur.hasCPU = st.CPUSecondsTotal, true
			}
		}
		if len(s.HostIfaces) > 0 {
			if linkErr != nil {
				errs = append(errs, linkErr)
			} else {
				cur.hasNet = true
				for _, n := range s.HostIfaces {
					l, ok := links[n]
					if !ok {
						errs = append(errs, fmt.Errorf("host interface %s not found", n))
						cur.hasNet = false
						continue
					}
					// The host side's transmit is the sliver's receive.
					st.RxBytesTotal += l.txBytes
					st.TxBytesTotal += l.rxBytes
				}
				cur.rx, cur.tx = st.RxBytesTotal, st.TxBytesTotal
			}
		}
		if err := errors.Join(errs...); err != nil {
			st.Error = err.Error()
		}
		if p, ok := c.prev[s.Name]; ok && p.instance == cur.instance {
			if dt := now.Sub(p.at).Seconds(); dt > 0 && (cur.hasCPU || cur.hasNet) {
				r := &rates[i]
				if cur.hasCPU && p.hasCPU {
					r.CPUPercent = round3(100 * max(cur.cpu-p.cpu, 0) / dt)
				}
				if cur.hasNet && p.hasNet {
					r.RxBps = round3(8 * counterDelta(p.rx, cur.rx) / dt)
					r.TxBps = round3(8 * counterDelta(p.tx, cur.tx) / dt)
				}
				st.SliverRates = r
			}
		}
		c.prev[s.Name] = cur
		seen[s.Name] = true
		out = append(out, st)
	}
	for n := range c.prev {
		if !seen[n] {
			delete(c.prev, n)
		}
	}
	doc.Slivers = out
	return nil
}

func (c *sliversCollector) close() { c.links.close() }

// cgroupStats fills CPU, memory, limit and pids from the cgroups of pid.
func (c *sliversCollector) cgroupStats(pid int, st *SliverStats) error {
	var err error
	c.buf, err = readInto(c.buf, c.root+"/proc/"+strconv.Itoa(pid)+"/cgroup")
	if err != nil {
		return fmt.Errorf("cgroups of pid %d: %w", pid, err)
	}
	pc, err := parseProcCgroup(c.buf)
	if err != nil {
		return fmt.Errorf("/proc/%d/cgroup: %w", pid, err)
	}
	if c.mounts == nil {
		c.buf, err = readInto(c.buf, c.root+"/proc/self/mountinfo")
		if err != nil {
			return fmt.Errorf("mountinfo: %w", err)
		}
		if c.mounts, err = parseMountinfo(c.buf); err != nil {
			return fmt.Errorf("/proc/self/mountinfo: %w", err)
		}
	}
	var errs []error
	read := func(dir, file string) ([]byte, bool) {
		var err error
		c.buf, err = readInto(c.buf, c.root+dir+"/"+file)
		if err != nil {
			errs = append(errs, err)
			return nil, false
		}
		return c.buf, true
	}
	readInt := func(dir, file string) (int64, bool) {
		b, ok := read(dir, file)
		if !ok {
			return 0, false
		}
		v, err := parseCgroupInt(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", dir, file, err))
			return 0, false
		}
		return v, true
	}
	if dir, v2, ok := c.mounts.dir(pc, "cpuacct"); !ok {
		errs = append(errs, errors.New("no cpu accounting cgroup"))
	} else if v2 {
		if b, ok := read(dir, "cpu.stat"); ok {
			if v, err := parseCPUStatUsage(b); err != nil {
				errs = append(errs, fmt.Errorf("%s/cpu.stat: %w", dir, err))
			} else {
				st.CPUSecondsTotal = v
			}
		}
	} else if ns, ok := readInt(dir, "cpuacct.usage"); ok {
		st.CPUSecondsTotal = float64(ns) / 1e9
	}
	if dir, v2, ok := c.mounts.dir(pc, "memory"); !ok {
		errs = append(errs, errors.New("no memory cgroup"))
	} else {
		cur, limit := "memory.usage_in_bytes", "memory.limit_in_bytes"
		if v2 {
			cur, limit = "memory.current", "memory.max"
		}
		if v, ok := readInt(dir, cur); ok {
			st.MemoryBytes = v
		}
		if v, ok := readInt(dir, limit); ok && v > 0 {
			st.MemoryLimitBytes = v
		}
	}
	if dir, _, ok := c.mounts.dir(pc, "pids"); !ok {
		errs = append(errs, errors.New("no pids cgroup"))
	} else if v, ok := readInt(dir, "pids.current"); ok {
		st.Pids = v
	}
	return errors.Join(errs...)
}
