package container

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// TestFailures: each way a sliver can fail ends in its fail_* state with
// an error that says what went wrong, and the node goes on working: a good
// sliver starts beside them, a fixed cause is retried, and removing the
// failed slivers leaves nothing behind.
func TestFailures(t *testing.T) {
	l := newLab(t)
	m, _ := l.open("")
	ctx := ctxT(t)
	good := l.busybox()
	noInit := l.serve("noinit.tar.gz", busyboxRootfs(t, false))
	garbage := l.serve("garbage.tar.gz", []byte("\x1f\x8bthis is not a gzip stream"))
	private := []Interface{{Kind: netcfg.Private}}

	tests := []struct {
		name   string
		spec   Spec
		state  State
		errHas []string
	}{
		{"bad checksum", Spec{Template: Archive{URL: good.URL, SHA256: sha([]byte("other"))}},
			FailAllocate, []string{"sha256 mismatch", good.URL, sha([]byte("other"))}},
		{"missing template over http", Spec{Template: Archive{URL: l.srv.URL + "/nonexistent.tar.gz", SHA256: good.SHA256}},
			FailAllocate, []string{"404", "nonexistent.tar.gz"}},
		{"missing template file", Spec{Template: Archive{URL: "/nonexistent/rootfs.tar.gz", SHA256: good.SHA256}},
			FailAllocate, []string{"no such file", "/nonexistent/rootfs.tar.gz"}},
		{"memory beyond the node", Spec{Template: good, Resources: Resources{MemoryBytes: 1 << 50}},
			FailAllocate, []string{"memory limit 1 PiB exceeds the node's"}},
		{"memory too small to boot", Spec{Template: good, Resources: Resources{MemoryBytes: 1024}},
			FailAllocate, []string{"memory limit 1 KiB is below"}},
		{"cpu beyond the node", Spec{Template: good, Resources: Resources{CPUMillicores: 1 << 20}},
			FailAllocate, []string{"cpu limit", "exceeds"}},
		{"disk beyond the node", Spec{Template: good, Resources: Resources{DiskBytes: 1 << 60}},
			FailAllocate, []string{"disk limit 1 EiB exceeds"}},
		{"interface without a bridge", Spec{Template: good, Interfaces: []Interface{{Kind: netcfg.Debug}}},
			FailAllocate, []string{"no bridge for debug"}},
		{"data archive that is not a tarball", Spec{Template: good, Data: &garbage},
			FailDeploy, []string{"data archive", "gzip"}},
		{"start onto a missing bridge", Spec{Template: good, Interfaces: []Interface{{Kind: netcfg.Private, Bridge: "nkbr-missing"}}},
			FailStart, []string{"nkbr-missing", "bridge"}},
		{"template without init", Spec{Template: noInit, Interfaces: private},
			FailStart, []string{"init"}},
	}
	var failed []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Name = "f" + randHex(6)
			tt.spec.Request = Start
			s, err := m.Create(ctx, tt.spec)
			if err == nil {
				t.Fatalf("created and started: %+v", s)
			}
			failed = append(failed, tt.spec.Name)
			s = wantState(t, m, tt.spec.Name, tt.state)
			for _, want := range tt.errHas {
				if !strings.Contains(err.Error(), want) || !strings.Contains(s.Error, want) {
					t.Errorf("error %q (kept: %q) lacks %q", err, s.Error, want)
				}
			}
			// On disk too; a start's record, written while lxc-start
			// ran (store.prepare), is gone with its temp file.
			if recs, err := m.store.load(); err != nil || recs[tt.spec.Name] == nil || recs[tt.spec.Name].State != tt.state {
				t.Errorf("record on disk: %+v, %v, want %s", recs[tt.spec.Name], err, tt.state)
			}
			if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(m.store.path(tt.spec.Name)), ".*")); len(tmp) != 0 {
				t.Errorf("temp files left: %v", tmp)
			}
			if tt.name == "bad checksum" && !errors.Is(err, ErrChecksum) {
				t.Errorf("bad checksum error %v is not ErrChecksum", err)
			}
			// A failure stays put when converged again without a new request.
			if s, err := m.Converge(ctx, tt.spec.Name); err != nil || s.State != tt.state {
				t.Errorf("converge of a failed sliver: %s %v, want it to stay %s quietly", s.State, err, tt.state)
			}
		})
	}

	t.Run("node keeps working", func(t *testing.T) {
		name := "ok" + randHex(6)
		if _, err := m.Create(ctx, Spec{Name: name, Template: good, Interfaces: private, Request: Start}); err != nil {
			t.Fatal(err)
		}
		if out, code := attach(t, m, name, "echo", "alive"); code != 0 || !strings.Contains(out, "alive") {
			t.Fatalf("attach: %d %q", code, out)
		}
		if err := m.Remove(ctx, name); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("retry once the cause is fixed", func(t *testing.T) {
		name := "rt" + randHex(6)
		spec := Spec{Name: name, Template: good, Request: Start, Interfaces: []Interface{{Kind: netcfg.Private, Bridge: "nkbr1"}}}
		if _, err := m.Create(ctx, spec); err == nil {
			t.Fatal("started onto a missing bridge")
		}
		wantState(t, m, name, FailStart)
		l.ip("link", "add", "nkbr1", "type", "bridge")
		l.ip("link", "set", "nkbr1", "up")
		if _, err := m.SetRequest(ctx, name, Start); err != nil {
			t.Fatal(err)
		}
		wantState(t, m, name, Started)
		veths := statusOf(t, m, name).HostInterfaces
		if err := m.Remove(ctx, name); err != nil {
			t.Fatal(err)
		}
		nothingLeft(t, l, m, name, veths)
	})

	for _, name := range failed {
		veths := statusOf(t, m, name).HostInterfaces
		if err := m.Remove(ctx, name); err != nil {
			t.Errorf("remove failed sliver %s: %v", name, err)
		}
		nothingLeft(t, l, m, name, veths)
	}
}
