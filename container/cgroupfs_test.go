package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// This file reads a container's cgroup files the way telemetry's sliver
// collector does: from the init PID that List reports, without LXC.

// cgroupFile is the path of a controller file for pid: the v1 hierarchy of
// the controller when it has one, else the unified hierarchy.
func cgroupFile(pid int, controller, v1file, v2file string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	var unified string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[1] == "" {
			unified = f[2]
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == controller {
				return filepath.Join("/sys/fs/cgroup", f[1], f[2], v1file), nil
			}
		}
	}
	for _, root := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		p := filepath.Join(root, unified, v2file)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("pid %d: no %s cgroup", pid, controller)
}

func readCgroupInt(pid int, controller, v1file, v2file, v2key string) (int64, error) {
	p, err := cgroupFile(pid, controller, v1file, v2file)
	if err != nil {
		return 0, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if strings.HasSuffix(p, v2file) && v2key != "" {
		for _, line := range strings.Split(s, "\n") {
			if k, v, ok := strings.Cut(line, " "); ok && k == v2key {
				s = v
			}
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	return n, nil
}

// usage is a sliver's CPU time (ns) and memory in use (bytes).
func usage(pid int) (cpuNanos, memBytes int64, err error) {
	p, err := cgroupFile(pid, "cpuacct", "cpuacct.usage", "cpu.stat")
	if err != nil {
		return 0, 0, err
	}
	if cpuNanos, err = readCgroupInt(pid, "cpuacct", "cpuacct.usage", "cpu.stat", "usage_usec"); err != nil {
		return 0, 0, err
	}
	if strings.HasSuffix(p, "cpu.stat") {
		cpuNanos *= 1000
	}
	memBytes, err = readCgroupInt(pid, "memory", "memory.usage_in_bytes", "memory.current", "")
	return cpuNanos, memBytes, err
}

// cgroupLeftovers lists the cgroup directories LXC made for container ct
// that still exist.
func cgroupLeftovers(ct string) []string {
	var left []string
	for _, pat := range []string{"/sys/fs/cgroup/*/lxc.*." + ct, "/sys/fs/cgroup/lxc.*." + ct} {
		m, _ := filepath.Glob(pat)
		left = append(left, m...)
	}
	return left
}
