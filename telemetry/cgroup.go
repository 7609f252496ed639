package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// cgroupMounts maps cgroup v1 controllers (and "" for the v2 unified
// hierarchy) to where their hierarchy is mounted.
type cgroupMounts map[string]cgroupMount

type cgroupMount struct {
	root  string // the hierarchy's path that is mounted (mountinfo field 4)
	point string // the mount point
}

// parseMountinfo finds the cgroup hierarchies in /proc/self/mountinfo.
func parseMountinfo(b []byte) (cgroupMounts, error) {
	m := cgroupMounts{}
	for n := 1; len(b) > 0; n++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		if len(line) == 0 {
			continue
		}
		pre, post, ok := bytes.Cut(line, []byte(" - "))
		if !ok {
			return nil, fmt.Errorf("mountinfo line %d: no separator", n)
		}
		f := bytes.Fields(pre)
		g := bytes.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			return nil, fmt.Errorf("mountinfo line %d: too few fields", n)
		}
		mnt := cgroupMount{root: unescapeMount(string(f[3])), point: unescapeMount(string(f[4]))}
		switch string(g[0]) {
		case "cgroup2":
			if _, ok := m[""]; !ok {
				m[""] = mnt
			}
		case "cgroup":
			for _, opt := range strings.Split(string(g[2]), ",") {
				switch opt {
				case "cpuacct", "memory", "pids", "cpu":
					if _, ok := m[opt]; !ok {
						m[opt] = mnt
					}
				}
			}
		}
	}
	return m, nil
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				sb.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// procCgroups maps controllers ("" for v2) to a process's cgroup path.
type procCgroups map[string]string

// parseProcCgroup parses /proc/PID/cgroup ("4:memory:/lxc.payload.s3",
// "0::/lxc.payload.s3" for v2).
func parseProcCgroup(b []byte) (procCgroups, error) {
	p := procCgroups{}
	for n := 1; len(b) > 0; n++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		if len(line) == 0 {
			continue
		}
		parts := bytes.SplitN(line, []byte(":"), 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("cgroup line %d %q: want id:controllers:path", n, line)
		}
		cg := string(parts[2])
		if len(parts[1]) == 0 {
			p[""] = cg
			continue
		}
		for _, c := range bytes.Split(parts[1], []byte(",")) {
			p[string(c)] = cg
		}
	}
	if len(p) == 0 {
		return nil, errors.New("no cgroups")
	}
	return p, nil
}

// dir returns the directory of a process's cgroup for a controller, and
// whether it is a v2 (unified) one.
func (m cgroupMounts) dir(p procCgroups, controller string) (string, bool, bool) {
	if cg, ok := p[controller]; ok {
		if mnt, ok := m[controller]; ok {
			return mnt.join(cg), false, true
		}
	}
	if cg, ok := p[""]; ok {
		if mnt, ok := m[""]; ok {
			return mnt.join(cg), true, true
		}
	}
	return "", false, false
}

func (mnt cgroupMount) join(cg string) string {
	if mnt.root != "/" && strings.HasPrefix(cg, mnt.root) {
		cg = strings.TrimPrefix(cg, mnt.root)
	}
	return path.Join(mnt.point, cg)
}

// parseCPUStatUsage returns usage_usec of a v2 cpu.stat in seconds.
func parseCPUStatUsage(b []byte) (float64, error) {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		if v, ok := bytes.CutPrefix(line, []byte("usage_usec ")); ok {
			us, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("usage_usec: %w", err)
			}
			return float64(us) / 1e6, nil
		}
	}
	return 0, errors.New("no usage_usec")
}

// parseCgroupInt parses a one-number cgroup file; "max" (v2) and the v1
// near-2^63 "unlimited" values give -1.
func parseCgroupInt(b []byte) (int64, error) {
	s := string(bytes.TrimSpace(b))
	if s == "max" {
		return -1, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if v >= 1<<62 {
		return -1, nil
	}
	return int64(v), nil
}
