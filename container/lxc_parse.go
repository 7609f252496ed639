package container

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// parseLXCInfo reads the output of `lxc-info -H -s -p`: "Key: value" lines
// in any order, with any spacing; unknown keys are ignored. A State line is
// required; PID is present only while the container runs.
func parseLXCInfo(out []byte) (Info, error) {
	var in Info
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "state":
			if v == "" || strings.ContainsAny(v, " \t") {
				return Info{}, fmt.Errorf("lxc-info: bad state %q", v)
			}
			in.State = v
		case "pid":
			pid, err := strconv.Atoi(v)
			if err != nil || pid <= 0 {
				return Info{}, fmt.Errorf("lxc-info: bad PID %q", v)
			}
			in.PID = pid
		}
	}
	if in.State == "" {
		return Info{}, fmt.Errorf("lxc-info: no state in %q", truncate(string(out), 200))
	}
	in.Running = in.State == "RUNNING"
	if !in.Running {
		in.PID = 0
	}
	return in, nil
}

// lxcNoise are lxc-start's generic error lines, which say nothing about why.
var lxcNoise = []string{
	"The container failed to start",
	"To get more details",
	"Additional information can be obtained",
	"Failed to spawn container",
	"Received container state",
	"Failed to send SIGKILL",
}

// lxcLogErrors picks the specific ERROR messages out of an LXC log file,
// in order, at most max of them, without their source locations:
//
//	lxc-start c1 20261125191349.535 ERROR    network - ../src/lxc/network.c:f:711 - No such file - Failed to attach
//
// becomes "No such file - Failed to attach".
func lxcLogErrors(log []byte, max int) []string {
	var msgs []string
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	seen := map[string]bool{}
lines:
	for sc.Scan() && len(msgs) < max {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != "ERROR" {
			continue
		}
		_, msg, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		// Drop "../src/lxc/network.c:func:711 - ".
		if loc, rest, ok := strings.Cut(msg, " - "); ok && strings.Contains(loc, ".c:") {
			msg = rest
		}
		msg = strings.TrimSpace(msg)
		for _, n := range lxcNoise {
			if strings.Contains(msg, n) {
				continue lines
			}
		}
		if msg != "" && !seen[msg] {
			seen[msg] = true
			msgs = append(msgs, msg)
		}
	}
	return msgs
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
