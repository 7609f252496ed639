package container

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// findInit returns the host PID of a running container's init, read from
// its payload cgroup (lxc.payload.NAME in any hierarchy): the process there
// whose innermost PID is 1. It returns 0 when no hierarchy shows one (the
// container stopped, or LXC put it elsewhere); the caller then asks
// lxc-info.
func (d *LXC) findInit(name string) int {
	for _, mp := range d.cgroups().mounts {
		b, err := os.ReadFile(filepath.Join(mp, "lxc.payload."+name, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil || pid <= 0 {
				continue
			}
			st, err := os.ReadFile("/proc/" + f + "/status")
			if err == nil && isNamespaceInit(string(st)) && inPayloadCgroup(pid, name) {
				return pid
			}
		}
	}
	return 0
}

// isNamespaceInit reports whether the text of /proc/PID/status is that of
// a process that is PID 1 in its innermost PID namespace (but not in the
// host's: NSpid lists more than one PID).
func isNamespaceInit(status string) bool {
	for _, line := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(line, "NSpid:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		return len(f) > 1 && f[len(f)-1] == "1"
	}
	return false
}
