package container

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// findInit returns the host PID of a running container's init, read from
// its payload cgroup (lxc.payload.NAME in any hierarchy): the process there
// whose innermost PID is 1 and whose parent is the monitor lxc-start left
// for this LXC path and name ("[lxc monitor] PATH NAME"). A container of
// the same name under another LXC path (another agent's, a test's) has a
// payload cgroup of that name too, and LXC names ours NAME-N. It returns 0
// when no hierarchy shows one (the container stopped, or LXC put it
// elsewhere); the caller then asks lxc-info.
func (d *LXC) findInit(name string) int {
	monitor := "[lxc monitor] " + d.path + " " + name + "\x00"
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
			if err != nil {
				continue
			}
			ppid, ok := namespaceInit(string(st))
			if m, _ := os.ReadFile("/proc/" + ppid + "/cmdline"); ok && string(m) == monitor && inPayloadCgroup(pid, name) {
				return pid
			}
		}
	}
	return 0
}

// namespaceInit reports whether the text of /proc/PID/status is that of
// a process that is PID 1 in its innermost PID namespace (but not in the
// host's: NSpid lists more than one PID), and returns its parent's PID.
func namespaceInit(status string) (ppid string, ok bool) {
	for _, line := range strings.Split(status, "\n") {
		if rest, found := strings.CutPrefix(line, "PPid:"); found {
			ppid = strings.TrimSpace(rest)
		}
		rest, found := strings.CutPrefix(line, "NSpid:")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		return ppid, len(f) > 1 && f[len(f)-1] == "1"
	}
	return ppid, false
}
