package container

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// cgroupLayout says where each controller lives: in a cgroup v1 hierarchy
// of its own, or in the unified (v2) hierarchy. Hybrid systems (v1
// controllers plus a v2 mount without them) are common, so LXC's keys are
// chosen per controller: lxc.cgroup.* for v1, lxc.cgroup2.* for v2.
type cgroupLayout struct {
	v1      map[string]bool // controllers mounted in a v1 hierarchy
	unified bool            // a cgroup2 filesystem is mounted
	mounts  []string        // mount points of every cgroup hierarchy
}

// parseCgroupLayout reads /proc/self/mountinfo.
func parseCgroupLayout(mountinfo []byte) cgroupLayout {
	l := cgroupLayout{v1: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	for sc.Scan() {
		// id parent maj:min root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok || len(strings.Fields(pre)) < 5 {
			continue
		}
		f := strings.Fields(post)
		if len(f) < 1 {
			continue
		}
		mp := strings.Fields(pre)[4]
		switch f[0] {
		case "cgroup2":
			l.unified = true
			l.mounts = append(l.mounts, mp)
		case "cgroup":
			if len(f) < 3 {
				continue
			}
			l.mounts = append(l.mounts, mp)
			for _, o := range strings.Split(f[2], ",") {
				l.v1[o] = true
			}
		}
	}
	return l
}

// key is the LXC config key that sets file of controller, or an error when
// the kernel has no such controller mounted.
func (l cgroupLayout) key(controller, v1file, v2file string) (string, error) {
	if l.v1[controller] {
		return "lxc.cgroup." + v1file, nil
	}
	if l.unified {
		return "lxc.cgroup2." + v2file, nil
	}
	return "", fmt.Errorf("kernel lacks the %s cgroup controller (neither a v1 hierarchy nor cgroup2 is mounted)", controller)
}

// v2 reports whether controller is handled through the unified hierarchy.
func (l cgroupLayout) v2(controller string) bool { return !l.v1[controller] && l.unified }

// cfsPeriod is the CPU bandwidth period nodekeeper sets, in microseconds.
const cfsPeriod = 100000

// sharesToWeight maps cgroup v1 cpu.shares (2..262144) onto v2 cpu.weight
// (1..10000) the way the kernel documentation and runc do.
func sharesToWeight(shares int) int { return 1 + ((shares-2)*9999)/262142 }

func weightToShares(w int) int { return 2 + ((w-1)*262142)/9999 }

// limitLines are the LXC config lines that apply r, and the cgroup files
// (as lxc-cgroup names them) that read it back.
func (l cgroupLayout) limitLines(r Resources) ([][2]string, error) {
	var out [][2]string
	add := func(controller, v1file, v2file, v1val, v2val string) error {
		k, err := l.key(controller, v1file, v2file)
		if err != nil {
			return err
		}
		if l.v2(controller) {
			out = append(out, [2]string{k, v2val})
		} else {
			out = append(out, [2]string{k, v1val})
		}
		return nil
	}
	if r.MemoryBytes > 0 {
		v := strconv.FormatInt(r.MemoryBytes, 10)
		if err := add("memory", "memory.limit_in_bytes", "memory.max", v, v); err != nil {
			return nil, err
		}
	}
	if r.CPUShares > 0 {
		if err := add("cpu", "cpu.shares", "cpu.weight", strconv.Itoa(r.CPUShares), strconv.Itoa(sharesToWeight(r.CPUShares))); err != nil {
			return nil, err
		}
	}
	if r.CPUMillicores > 0 {
		quota := int64(r.CPUMillicores) * cfsPeriod / 1000
		if l.v2("cpu") {
			if err := add("cpu", "", "cpu.max", "", fmt.Sprintf("%d %d", quota, cfsPeriod)); err != nil {
				return nil, err
			}
		} else {
			if err := add("cpu", "cpu.cfs_period_us", "", strconv.Itoa(cfsPeriod), ""); err != nil {
				return nil, err
			}
			if err := add("cpu", "cpu.cfs_quota_us", "", strconv.FormatInt(quota, 10), ""); err != nil {
				return nil, err
			}
		}
	}
	if r.Pids > 0 {
		v := strconv.Itoa(r.Pids)
		if err := add("pids", "pids.max", "pids.max", v, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readbackFiles are the cgroup files Limits reads, by controller version.
func (l cgroupLayout) readbackFiles() []string {
	var files []string
	if l.v2("memory") {
		files = append(files, "memory.max")
	} else {
		files = append(files, "memory.limit_in_bytes")
	}
	if l.v2("cpu") {
		files = append(files, "cpu.weight", "cpu.max")
	} else {
		files = append(files, "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us")
	}
	return append(files, "pids.max")
}

// unlimitedV1 is the smallest value cgroup v1 memory reports for "no limit"
// (PAGE_COUNTER_MAX pages, rounded; it varies with the page size).
const unlimitedV1 = 1 << 62

// parseLimits turns the values of readbackFiles into Resources; "max" and
// v1's huge numbers mean no limit (0).
func parseLimits(vals map[string]string) (Resources, error) {
	var r Resources
	num := func(file string) (int64, bool, error) {
		s, ok := vals[file]
		if !ok {
			return 0, false, nil
		}
		s = strings.TrimSpace(s)
		if s == "max" || s == "" {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("cgroup %s: %q is not a number", file, s)
		}
		return n, true, nil
	}
	if n, ok, err := num("memory.limit_in_bytes"); err != nil {
		return r, err
	} else if ok && n < unlimitedV1 {
		r.MemoryBytes = n
	}
	if n, ok, err := num("memory.max"); err != nil {
		return r, err
	} else if ok {
		r.MemoryBytes = n
	}
	if n, ok, err := num("cpu.shares"); err != nil {
		return r, err
	} else if ok {
		r.CPUShares = int(n)
	}
	if n, ok, err := num("cpu.weight"); err != nil {
		return r, err
	} else if ok {
		r.CPUShares = weightToShares(int(n))
	}
	quota, okq, err := num("cpu.cfs_quota_us")
	if err != nil {
		return r, err
	}
	period, okp, err := num("cpu.cfs_period_us")
	if err != nil {
		return r, err
	}
	if s, ok := vals["cpu.max"]; ok {
		f := strings.Fields(s)
		if len(f) == 2 && f[0] != "max" {
			q, err1 := strconv.ParseInt(f[0], 10, 64)
			p, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 != nil || err2 != nil {
				return r, fmt.Errorf("cgroup cpu.max: %q is not \"QUOTA PERIOD\"", s)
			}
			quota, period, okq, okp = q, p, true, true
		}
	}
	if okq && okp && quota > 0 && period > 0 {
		r.CPUMillicores = int(quota * 1000 / period)
	}
	if n, ok, err := num("pids.max"); err != nil {
		return r, err
	} else if ok {
		r.Pids = int(n)
	}
	return r, nil
}
