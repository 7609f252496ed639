package container

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLXCInfo(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want Info
		err  bool
	}{
		{"running", "State:          RUNNING\nPID:            12403\n", Info{Running: true, PID: 12403, State: "RUNNING"}, false},
		{"stopped", "State:          STOPPED\n", Info{State: "STOPPED"}, false},
		{"keys in any order, extra keys", "PID: 7\nName: x\nIP: 10.0.0.2\nState: RUNNING\nCPU use: 1\n", Info{Running: true, PID: 7, State: "RUNNING"}, false},
		{"frozen", "state:\tFROZEN\r\npid: 9\r\n", Info{State: "FROZEN"}, false},
		{"no state", "Name: x\n", Info{}, true},
		{"bad pid", "State: RUNNING\nPID: -3\n", Info{}, true},
		{"empty", "", Info{}, true},
	}
	for _, tt := range tests {
		got, err := parseLXCInfo([]byte(tt.out))
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("%s: %+v %v, want %+v (error %v)", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseLXCInfo(f *testing.F) {
	f.Add([]byte("State:          RUNNING\nPID:            12403\n"))
	f.Add([]byte("State: STOPPED\n"))
	f.Add([]byte("PID: 1\nState: RUNNING\nLink: nk\n TX bytes: 3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := parseLXCInfo(b)
		if err != nil {
			return
		}
		if in.State == "" || (in.PID != 0 && !in.Running) || in.PID < 0 || in.Running != (in.State == "RUNNING") {
			t.Fatalf("inconsistent info %+v from %q", in, b)
		}
	})
}

func TestLXCLogErrors(t *testing.T) {
	log := `lxc-start c1 20261125191349.535 ERROR    network - ../src/lxc/network.c:netdev_configure_server_veth:711 - No such file or directory - Failed to attach "nkabcds001i0" to bridge "br0", bridge interface doesn't exist
lxc-start c1 20261125191349.536 WARN     network - ../src/lxc/network.c:x:1 - a warning
lxc-start c1 20261125191349.564 ERROR    network - ../src/lxc/network.c:lxc_create_network_priv:3427 - No such file or directory - Failed to create network device
lxc-start c1 20261125191349.564 ERROR    lxccontainer - ../src/lxc/lxccontainer.c:wait_on_daemonized_start:878 - Received container state "ABORTING" instead of "RUNNING"
lxc-start c1 20261125191349.564 ERROR    lxc_start - ../src/lxc/tools/lxc_start.c:main:306 - The container failed to start
lxc-start c1 20261125191349.564 ERROR    network - ../src/lxc/network.c:lxc_create_network_priv:3427 - No such file or directory - Failed to create network device
garbage line
`
	want := []string{
		`No such file or directory - Failed to attach "nkabcds001i0" to bridge "br0", bridge interface doesn't exist`,
		"No such file or directory - Failed to create network device",
	}
	if got := lxcLogErrors([]byte(log), 3); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := lxcLogErrors([]byte(log), 1); len(got) != 1 {
		t.Errorf("max 1: got %q", got)
	}
}

func FuzzLXCLogErrors(f *testing.F) {
	f.Add([]byte("lxc-start c1 20261125191349.535 ERROR    network - ../src/lxc/network.c:f:711 - msg\n"), 3)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max > 100 {
			max = 100
		}
		got := lxcLogErrors(b, max)
		if len(got) > max && max >= 0 {
			t.Fatalf("%d messages, max %d", len(got), max)
		}
		for _, m := range got {
			if m == "" || strings.Contains(m, "\n") {
				t.Fatalf("bad message %q", m)
			}
		}
	})
}

func TestPayloadCgroupIn(t *testing.T) {
	tests := []struct {
		cg   string
		want bool
	}{
		{"4:memory:/lxc.payload.nk-a\n0::/lxc.payload.nk-a\n", true},
		{"0::/lxc.payload.nk-a-2\n", true},
		{"0::/parent/lxc.payload.nk-a/init.scope\n", true},
		{"0::/lxc.payload.nk-ab\n", false},
		{"0::/lxc.payload.nk-a-x\n", false},
		{"0::/lxc.monitor.nk-a\n", false},
		{"0::/\n", false},
		{"garbage", false},
	}
	for _, tt := range tests {
		if got := payloadCgroupIn(tt.cg, "nk-a"); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.cg, got, tt.want)
		}
	}
}

func TestNamespaceInit(t *testing.T) {
	for _, tt := range []struct {
		status   string
		want     bool
		wantPPid string
	}{
		{"Name:\tinit\nPid:\t4242\nPPid:\t4241\nNSpid:\t4242\t1\n", true, "4241"},
		{"Name:\tsh\nPid:\t4243\nPPid:\t4242\nNSpid:\t4243\t7\n", false, "4242"},
		{"Name:\tsystemd\nPid:\t1\nPPid:\t0\nNSpid:\t1\n", false, "0"}, // the host's init
		{"Name:\tx\nPid:\t9\n", false, ""},                             // no NSpid (old kernel)
		{"NSpid:\t10\t5\t1\n", true, ""},                               // nested namespaces
	} {
		if ppid, got := namespaceInit(tt.status); got != tt.want || ppid != tt.wantPPid {
			t.Errorf("namespaceInit(%q) = %q, %v, want %q, %v", tt.status, ppid, got, tt.wantPPid, tt.want)
		}
	}
}
