package agent

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// fakeNIC is one interface of a fake /sys/class/net.
type fakeNIC struct {
	name, index, typ, mac, assign string
	device                        bool
}

func TestDefaultNodeIDFromSys(t *testing.T) {
	lo := fakeNIC{"lo", "1", "772", "00:00:00:00:00:00", "0", false}
	host := func() (string, error) { return "router1", nil }
	tests := []struct {
		name string
		nics []fakeNIC
		host func() (string, error)
		want string
	}{
		{"first physical by ifindex", []fakeNIC{lo,
			{"eth1", "3", "1", "00:11:22:33:44:56", "0", true},
			{"eth0", "2", "1", "00:11:22:33:44:55", "0", true},
			{"br-lan", "4", "1", "00:11:22:33:44:54", "3", false}}, host, "nk-001122334455"},
		{"veths and bridges never, even first", []fakeNIC{lo,
			{"veth0", "2", "1", "6e:6b:00:00:00:01", "1", false},
			{"nkbr", "3", "1", "6e:6b:00:00:00:02", "3", false},
			{"vxlan0", "4", "1", "6e:6b:00:00:00:03", "1", false},
			{"eth0", "9", "1", "02:fc:00:00:00:01", "0", true}}, host, "nk-02fc00000001"},
		{"permanent before configured", []fakeNIC{lo,
			{"eth0", "2", "1", "00:11:22:33:44:55", "3", true},
			{"eth1", "3", "1", "00:11:22:33:44:66", "0", true}}, host, "nk-001122334466"},
		{"a random address names no node", []fakeNIC{lo,
			{"eth0", "2", "1", "8a:11:22:33:44:55", "1", true}}, host, "nk-router1"},
		{"only virtual links (a namespace): the hostname", []fakeNIC{lo,
			{"veth0", "5", "1", "6e:6b:00:00:00:01", "1", false}}, host, "nk-router1"},
		{"not Ethernet (a tun with a device)", []fakeNIC{lo,
			{"wwan0", "2", "65534", "", "0", true}}, host, "nk-router1"},
		{"no hostname", []fakeNIC{lo}, func() (string, error) { return "", errors.New("none") }, "nk-node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, n := range tt.nics {
				dir := filepath.Join(root, n.name)
				writeFile(t, filepath.Join(dir, "ifindex"), n.index+"\n")
				writeFile(t, filepath.Join(dir, "type"), n.typ+"\n")
				writeFile(t, filepath.Join(dir, "address"), n.mac+"\n")
				writeFile(t, filepath.Join(dir, "addr_assign_type"), n.assign+"\n")
				if n.device {
					os.Mkdir(filepath.Join(dir, "device"), 0o755)
				}
			}
			if got := defaultNodeID(root, tt.host); got != tt.want {
				t.Errorf("defaultNodeID = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDefaultNodeIDInNetns: in a network namespace whose only links are
// veths (new addresses each time they are made), every command's default
// node id is the same and stays when the veth is recreated.
func TestDefaultNodeIDInNetns(t *testing.T) {
	requireRoot(t, "ip")
	ns := newNetns(t)
	h, _ := os.Hostname()
	nodeOf := func() string {
		t.Helper()
		out, err := exec.Command("ip", "netns", "exec", ns, nkBin, "telemetry", "sample", "--collectors", "agent").Output()
		var doc struct{ Node string }
		if err != nil || json.Unmarshal(out, &doc) != nil {
			t.Fatalf("telemetry sample in %s: %v\n%s", ns, err, out)
		}
		return doc.Node
	}
	var ids []string
	for range 2 {
		if out, err := exec.Command("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1").CombinedOutput(); err != nil {
			t.Fatalf("veth: %v: %s", err, out)
		}
		ids = append(ids, nodeOf())
		exec.Command("ip", "-n", ns, "link", "del", "v0").Run()
	}
	if ids[0] != "nk-"+h || ids[1] != ids[0] {
		t.Errorf("default node ids %q with a veth made twice; want nk-%s both times", ids, h)
	}
}
