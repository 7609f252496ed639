package telemetry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"
)

func init() {
	registerCollector("system", true, func(s Sources) Collector {
		fs := s.Filesystems
		if fs == nil {
			fs = []string{"/overlay", "/tmp"}
		}
		c := &systemCollector{root: s.Root, mounts: fs}
		for _, p := range []string{"/proc/uptime", "/proc/loadavg", "/proc/stat", "/proc/meminfo", "/proc/sys/kernel/random/entropy_avail"} {
			c.files = append(c.files, newProcFile(s.Root+p))
		}
		return c
	})
}

// userHZ is the unit of the CPU counters in /proc/stat (USER_HZ, 100 on
// every architecture OpenWrt runs on).
const userHZ = 100

// systemCollector reads /proc/{uptime,loadavg,stat,meminfo}, the entropy
// pool, thermal zones and the filesystems of interest.
type systemCollector struct {
	root   string
	mounts []string
	files  []*procFile // uptime, loadavg, stat, meminfo, entropy_avail
	prev   cpuTimes
	zones  []thermalZone // found on the first call
	zoned  bool
}

// thermalZone is one /sys/class/thermal/thermal_zone*.
type thermalZone struct {
	name string
	temp *procFile
}

func (c *systemCollector) path(p string) string { return c.root + p }

// Collect implements Collector.
func (c *systemCollector) Collect(_ context.Context, _ time.Time, doc *Document) error {
	s := &System{}
	var errs []error
	fail := func(what string, err error) { errs = append(errs, fmt.Errorf("%s: %w", what, err)) }

	uptime, loadavg, stat, meminfo, entropy := c.files[0], c.files[1], c.files[2], c.files[3], c.files[4]
	if b, err := uptime.read(); err != nil {
		fail("uptime", err)
	} else if s.UptimeSeconds, err = parseUptime(b); err != nil {
		fail("/proc/uptime", err)
	}
	if b, err := loadavg.read(); err != nil {
		fail("loadavg", err)
	} else if s.Load, s.Processes, err = parseLoadavg(b); err != nil {
		fail("/proc/loadavg", err)
	}
	if b, err := stat.read(); err != nil {
		fail("stat", err)
	} else if t, n, err := parseStat(b); err != nil {
		fail("/proc/stat", err)
	} else {
		s.CPU = t.cpu(n)
		// The first sample's shares are since boot (prev is zero): Home
		// Assistant's CPU sensor and dashboards get a value at once.
		s.CPU.CPUPercent = cpuPercent(c.prev, t)
		c.prev = t
	}
	if b, err := meminfo.read(); err != nil {
		fail("meminfo", err)
	} else if s.Memory, err = parseMeminfo(b); err != nil {
		fail("/proc/meminfo", err)
	}
	if b, err := entropy.read(); err == nil {
		s.EntropyBits, _ = strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	}
	s.Temperatures = c.temperatures()
	for _, m := range c.mounts {
		fs, err := statFilesystem(c.path(m), m)
		if err == nil {
			s.Filesystems = append(s.Filesystems, fs)
		}
	}
	doc.System = s
	return errors.Join(errs...)
}

func (c *systemCollector) close() {
	for _, f := range c.files {
		f.close()
	}
	for _, z := range c.zones {
		z.temp.close()
	}
}

// temperatures reads /sys/class/thermal/thermal_zone*/{type,temp}; the list
// of zones and their names are read once.
func (c *systemCollector) temperatures() []Temperature {
	if !c.zoned {
		c.zoned = true
		m, _ := filepath.Glob(c.path("/sys/class/thermal/thermal_zone*"))
		sort.Strings(m)
		for _, z := range m {
			name := filepath.Base(z)
			if tb, err := os.ReadFile(z + "/type"); err == nil {
				name = string(bytes.TrimSpace(tb))
			}
			c.zones = append(c.zones, thermalZone{name: name, temp: newProcFile(z + "/temp")})
		}
	}
	var ts []Temperature
	for _, z := range c.zones {
		b, err := z.temp.read()
		if err != nil {
			continue // a zone whose sensor is off reads EINVAL or ENODATA
		}
		milli, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
		if err != nil {
			continue
		}
		ts = append(ts, Temperature{Name: z.name, Celsius: float64(milli) / 1000})
	}
	return ts
}

// readInto reads the whole file at path into buf (grown as needed) and
// returns the filled slice. Files in /proc report size 0, so it reads until
// EOF.
func readInto(buf []byte, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf[:0], err
	}
	defer f.Close()
	if cap(buf) < 4096 {
		buf = make([]byte, 0, 4096)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// parseUptime parses /proc/uptime ("12345.67 23456.78").
func parseUptime(b []byte) (float64, error) {
	f := bytes.Fields(b)
	if len(f) < 1 {
		return 0, errors.New("empty")
	}
	v, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return 0, fmt.Errorf("uptime %q: %w", f[0], err)
	}
	return v, nil
}

// parseLoadavg parses /proc/loadavg ("0.42 0.36 0.30 1/63 12345").
func parseLoadavg(b []byte) (load [3]float64, p Processes, err error) {
	f := bytes.Fields(b)
	if len(f) < 4 {
		return load, p, fmt.Errorf("%d fields, want at least 4", len(f))
	}
	run, tot, ok := bytes.Cut(f[3], []byte("/"))
	if !ok {
		return load, p, fmt.Errorf("field 4 %q is not running/total", f[3])
	}
	what := "running"
	p.Running, err = strconv.ParseInt(string(run), 10, 64)
	if err == nil {
		what = "total"
		p.Total, err = strconv.ParseInt(string(tot), 10, 64)
	}
	for i := 0; i < 3 && err == nil; i++ {
		what = "load field " + strconv.Itoa(i+1)
		load[i], err = strconv.ParseFloat(string(f[i]), 64)
	}
	if err != nil {
		return load, p, fmt.Errorf("%s: %w", what, err)
	}
	return load, p, nil
}

// cpuTimes are the aggregate CPU counters of /proc/stat in USER_HZ ticks.
type cpuTimes struct {
	user, nice, system, idle, iowait, irq, softirq, steal uint64
}

func (t cpuTimes) cpu(count int) CPU {
	s := func(v uint64) float64 { return float64(v) / userHZ }
	return CPU{
		Count:              count,
		UserSecondsTotal:   s(t.user),
		NiceSecondsTotal:   s(t.nice),
		SystemSecondsTotal: s(t.system),
		IdleSecondsTotal:   s(t.idle),
		IowaitSecondsTotal: s(t.iowait),
		IRQSecondsTotal:    s(t.irq),
		SoftIRQSeconds:     s(t.softirq),
		StealSecondsTotal:  s(t.steal),
	}
}

// cpuPercent is the share of each mode between two readings. Counters that
// went backwards (a CPU went offline) count as zero.
func cpuPercent(a, b cpuTimes) *CPUPercent {
	d := func(x, y uint64) float64 {
		if y < x {
			return 0
		}
		return float64(y - x)
	}
	user := d(a.user, b.user) + d(a.nice, b.nice)
	sys := d(a.system, b.system) + d(a.irq, b.irq) + d(a.softirq, b.softirq)
	idle := d(a.idle, b.idle)
	iow := d(a.iowait, b.iowait)
	steal := d(a.steal, b.steal)
	tot := user + sys + idle + iow + steal
	if tot == 0 {
		return &CPUPercent{IdlePercent: 100}
	}
	p := func(v float64) float64 { return round3(100 * v / tot) }
	return &CPUPercent{
		UserPercent:   p(user),
		SystemPercent: p(sys),
		IdlePercent:   p(idle),
		IowaitPercent: p(iow),
		StealPercent:  p(steal),
		BusyPercent:   p(user + sys + steal),
	}
}

// parseStat parses the "cpu" line of /proc/stat and counts the "cpuN" lines.
func parseStat(b []byte) (t cpuTimes, count int, err error) {
	seen := false
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		if !bytes.HasPrefix(line, []byte("cpu")) {
			if seen {
				break // the cpu lines come first
			}
			continue
		}
		if len(line) > 3 && line[3] != ' ' {
			count++
			continue
		}
		seen = true
		f := bytes.Fields(line[3:])
		if len(f) < 4 {
			return t, 0, fmt.Errorf("cpu line has %d fields, want at least 4", len(f))
		}
		dst := []*uint64{&t.user, &t.nice, &t.system, &t.idle, &t.iowait, &t.irq, &t.softirq, &t.steal}
		for i := 0; i < len(dst) && i < len(f); i++ {
			if *dst[i], err = strconv.ParseUint(string(f[i]), 10, 64); err != nil {
				return t, 0, fmt.Errorf("cpu field %d: %w", i+1, err)
			}
		}
	}
	if !seen {
		return t, 0, errors.New("no cpu line")
	}
	return t, count, nil
}

// meminfoKeys are the /proc/meminfo fields the document carries, in the
// order of parseMeminfo's destinations.
var meminfoKeys = []string{"MemTotal", "MemFree", "MemAvailable", "Cached", "Buffers"}

var errNoValue = errors.New("no value")

// parseMeminfo parses the fields of /proc/meminfo the document carries.
func parseMeminfo(b []byte) (Memory, error) {
	var m Memory
	dst := [...]*int64{&m.TotalBytes, &m.FreeBytes, &m.AvailableBytes, &m.CachedBytes, &m.BuffersBytes}
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		key, rest, _ := bytes.Cut(line, []byte(":"))
		i := slices.Index(meminfoKeys, string(key))
		if i < 0 {
			continue
		}
		f := bytes.Fields(rest)
		err := errNoValue
		var v int64
		if len(f) > 0 {
			v, err = strconv.ParseInt(string(f[0]), 10, 64)
		}
		if err != nil {
			return m, fmt.Errorf("%s: %w", key, err)
		}
		if len(f) > 1 && string(f[1]) == "kB" {
			v *= 1024
		}
		*dst[i] = v
	}
	if m.TotalBytes == 0 {
		return m, errors.New("no MemTotal")
	}
	if m.AvailableBytes == 0 {
		// Kernels before 3.14 lack MemAvailable: estimate it.
		m.AvailableBytes = m.FreeBytes + m.CachedBytes + m.BuffersBytes
	}
	m.UsedPercent = round3(100 * float64(m.TotalBytes-m.AvailableBytes) / float64(m.TotalBytes))
	return m, nil
}

// round3 rounds to three decimals so documents stay short.
func round3(v float64) float64 {
	if v < 0 {
		return -round3(-v)
	}
	return float64(int64(v*1000+0.5)) / 1000
}
