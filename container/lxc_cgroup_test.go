package container

import (
	"reflect"
	"testing"
)

func TestParseCgroupLayout(t *testing.T) {
	h := layoutFrom(t, "mountinfo-hybrid")
	for _, c := range []string{"memory", "cpu", "pids", "devices"} {
		if !h.v1[c] || h.v2(c) {
			t.Errorf("hybrid: %s should be on v1", c)
		}
	}
	if !h.unified || len(h.mounts) != 10 {
		t.Errorf("hybrid: unified %v, %d mounts, want true and 10", h.unified, len(h.mounts))
	}
	v2 := layoutFrom(t, "mountinfo-v2")
	if !v2.v2("memory") || len(v2.v1) != 0 || !reflect.DeepEqual(v2.mounts, []string{"/sys/fs/cgroup"}) {
		t.Errorf("v2-only layout %+v", v2)
	}
}

func TestLimitsRoundTrip(t *testing.T) {
	in := Resources{MemoryBytes: 96 << 20, CPUShares: 300, CPUMillicores: 1500, Pids: 42}
	for _, file := range []string{"mountinfo-hybrid", "mountinfo-v2"} {
		t.Run(file, func(t *testing.T) {
			l := layoutFrom(t, file)
			lines, err := l.limitLines(in)
			if err != nil {
				t.Fatal(err)
			}
			// What the kernel would show in each file read back.
			vals := map[string]string{}
			for _, kv := range lines {
				k := kv[0][len("lxc.cgroup."):]
				if l.unified && !l.v1["memory"] {
					k = kv[0][len("lxc.cgroup2."):]
				}
				vals[k] = kv[1]
			}
			for _, f := range l.readbackFiles() {
				if _, ok := vals[f]; !ok {
					t.Errorf("limit lines %v do not set read-back file %s", lines, f)
				}
			}
			got, err := parseLimits(vals)
			if err != nil {
				t.Fatal(err)
			}
			// cpu.weight is coarser than cpu.shares.
			if l.v2("cpu") && got.CPUShares != in.CPUShares {
				if d := got.CPUShares - in.CPUShares; d < -27 || d > 27 {
					t.Errorf("shares %d came back as %d", in.CPUShares, got.CPUShares)
				}
				got.CPUShares = in.CPUShares
			}
			if got != in {
				t.Errorf("read back %+v, want %+v (lines %v)", got, in, lines)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name string
		vals map[string]string
		want Resources
		err  bool
	}{
		{"v1 unlimited", map[string]string{"memory.limit_in_bytes": "9223372036854771712", "cpu.shares": "1024", "cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000", "pids.max": "max"},
			Resources{CPUShares: 1024}, false},
		{"v2 unlimited", map[string]string{"memory.max": "max", "cpu.weight": "100", "cpu.max": "max 100000", "pids.max": "max"},
			Resources{CPUShares: weightToShares(100)}, false},
		{"v2 limited", map[string]string{"memory.max": "1048576\n", "cpu.max": "25000 100000", "pids.max": "10"},
			Resources{MemoryBytes: 1 << 20, CPUMillicores: 250, Pids: 10}, false},
		{"garbage", map[string]string{"memory.max": "lots"}, Resources{}, true},
		{"bad cpu.max", map[string]string{"cpu.max": "x 100000"}, Resources{}, true},
	}
	for _, tt := range tests {
		got, err := parseLimits(tt.vals)
		if (err != nil) != tt.err || (!tt.err && got != tt.want) {
			t.Errorf("%s: %+v %v, want %+v (error %v)", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func TestSharesWeight(t *testing.T) {
	for _, c := range []struct{ shares, weight int }{{2, 1}, {1024, 39}, {262144, 10000}} {
		if w := sharesToWeight(c.shares); w != c.weight {
			t.Errorf("shares %d -> weight %d, want %d", c.shares, w, c.weight)
		}
	}
}
