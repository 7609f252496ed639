package container

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// attach runs argv in a sliver and returns its output and exit status.
func attach(t *testing.T, m *Manager, name string, argv ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	code, err := m.Attach(ctx, name, argv, nil, &out, &out)
	if err != nil {
		t.Fatalf("attach %s %v: %v", name, argv, err)
	}
	return out.String(), code
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantState fails unless the sliver's record is in state.
func wantState(t *testing.T, m *Manager, name string, state State) Sliver {
	t.Helper()
	s, err := m.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != state {
		t.Fatalf("sliver %s is %s (error %q), want %s", name, s.State, s.Error, state)
	}
	return s
}

// statusOf is the List entry of a sliver.
func statusOf(t *testing.T, m *Manager, name string) Status {
	t.Helper()
	all, err := m.List(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("List lacks %s", name)
	return Status{}
}

// nothingLeft checks that a removed sliver left no container, veth,
// cgroup, disk mount or file.
func nothingLeft(t *testing.T, l *lab, m *Manager, name string, veths []string) {
	t.Helper()
	ct := ContainerName(name)
	names, err := m.Driver().List(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n == ct {
			t.Errorf("container %s still defined", ct)
		}
	}
	links := l.ip("-o", "link")
	for _, v := range veths {
		if strings.Contains(links, v) {
			t.Errorf("veth %s left in the lab namespace:\n%s", v, links)
		}
	}
	for _, p := range []string{filepath.Join(l.lxcPath, ct), filepath.Join(l.stateDir, "layers", name), filepath.Join(l.stateDir, "slivers", name+".json")} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind (%v)", p, err)
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	if strings.Contains(string(mounts), filepath.Join(l.stateDir, "layers", name)) {
		t.Errorf("a mount of %s is left", name)
	}
	eventually(t, "cgroups of "+ct+" removed", func() error {
		if left := cgroupLeftovers(ct); len(left) > 0 {
			return fmt.Errorf("left: %v", left)
		}
		return nil
	})
	if _, err := m.Get(name); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after remove: %v, want ErrNotFound", err)
	}
}

// TestLifecycle walks a sliver with a memory limit, a private interface
// and a data archive up the ladder and down again, in both rootfs modes.
func TestLifecycle(t *testing.T) {
	for _, mode := range []string{"overlay", "copy"} {
		t.Run(mode, func(t *testing.T) {
			l := newLab(t)
			m, _ := l.open(mode)
			ctx := ctxT(t)
			tmpl := l.busybox()
			data := l.serve("data.tar.gz", makeTar(t, []tarEntry{
				{name: "root/", typ: tar.TypeDir, mode: 0o700},
				{name: "root/hello.txt", typ: tar.TypeReg, mode: 0o600, body: "hello from the data archive\n"},
			}))
			name := "lc-" + randHex(6)
			spec := Spec{
				Name: name, Slice: "exp", Template: tmpl, Data: &data,
				Resources:  Resources{MemoryBytes: 64 << 20, CPUShares: 512, CPUMillicores: 500, Pids: 64},
				Interfaces: []Interface{{Kind: netcfg.Private, IPv4: l.subnet + ".2/24", Gateway4: l.subnet + ".1"}},
			}

			s, err := m.Create(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if s.State != Registered || s.ID != 1 {
				t.Fatalf("created: state %s id %d, want registered and id 1", s.State, s.ID)
			}
			if _, err := m.SetRequest(ctx, name, Deploy); err != nil {
				t.Fatal(err)
			}
			wantState(t, m, name, Deployed)
			if in, err := m.Driver().Info(ctx, ContainerName(name)); err != nil || in.Running {
				t.Fatalf("deployed container: %+v %v, want defined and stopped", in, err)
			}

			saves := m.store.saves.Load()
			if _, err := m.SetRequest(ctx, name, Start); err != nil {
				t.Fatal(err)
			}
			wantState(t, m, name, Started)
			// One fsync'ed write: the new request goes with the started
			// state; both are on disk when SetRequest returns.
			if n := m.store.saves.Load() - saves; n != 1 {
				t.Errorf("starting a deployed sliver wrote its record %d times, want 1", n)
			}
			if recs, err := m.store.load(); err != nil || recs[name] == nil || recs[name].Request != Start || recs[name].State != Started {
				t.Errorf("record on disk after the start: %+v, %v", recs[name], err)
			}
			st := statusOf(t, m, name)
			veth, _ := netcfg.SliverVethName(l.node, 1, 0)
			mac, _ := netcfg.SliverMAC(l.node, 1, 0)
			if st.PID <= 0 || len(st.HostInterfaces) != 1 || st.HostInterfaces[0] != veth || st.MemoryLimitBytes != 64<<20 {
				t.Fatalf("status %+v: want a PID, host interface %s, memory limit 64 MiB", st, veth)
			}
			if link := l.ip("-o", "link", "show", veth); !strings.Contains(link, "master "+l.bridge) {
				t.Errorf("veth %s not on bridge %s: %s", veth, l.bridge, link)
			}

			// lxc-start returns once init runs; its sysinit line may not
			// have run yet on a loaded machine.
			eventually(t, "the sliver's init ran its sysinit", func() error {
				if out, code := attach(t, m, name, "sh", "-c", "test -e /run/booted"); code != 0 {
					return fmt.Errorf("no /run/booted: exit %d %s", code, out)
				}
				return nil
			})
			out, code := attach(t, m, name, "sh", "-c",
				"hostname; cat /sys/class/net/priv/address; cat /root/hello.txt; test -e /run/booted && echo booted; ping -c1 -W10 "+l.subnet+".1 >/dev/null && echo pinged")
			for _, want := range []string{name, mac.String(), "hello from the data archive", "booted", "pinged"} {
				if code != 0 || !strings.Contains(out, want) {
					t.Errorf("attach: exit %d, output %q lacks %q", code, out, want)
				}
			}
			if _, code := attach(t, m, name, "sh", "-c", "exit 3"); code != 3 {
				t.Errorf("attach exit status %d, want 3", code)
			}

			lim, err := m.Limits(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if lim.MemoryBytes != 64<<20 || lim.CPUShares != 512 || lim.CPUMillicores != 500 || lim.Pids != 64 {
				t.Errorf("limits read back %+v, want memory 64 MiB, 512 shares, 500 millicores, 64 pids", lim)
			}
			mem, err := readCgroupInt(st.PID, "memory", "memory.limit_in_bytes", "memory.max", "")
			if err != nil || mem != 64<<20 {
				t.Errorf("memory limit in the cgroup file: %d %v, want %d", mem, err, 64<<20)
			}
			if mode == "overlay" {
				// The template is shared: the sliver's writes land in its own layer.
				attach(t, m, name, "touch", "/bin/written-by-sliver")
				cached := filepath.Join(l.stateDir, "cache", "templates", tmpl.SHA256, "rootfs", "bin", "written-by-sliver")
				if _, err := os.Lstat(cached); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a write inside the sliver reached the shared template: %v", err)
				}
			}

			if _, err := m.SetRequest(ctx, name, Deploy); err != nil {
				t.Fatal(err)
			}
			wantState(t, m, name, Deployed)
			if st := statusOf(t, m, name); st.PID != 0 {
				t.Errorf("stopped sliver has PID %d", st.PID)
			}
			if links := l.ip("-o", "link"); strings.Contains(links, veth) {
				t.Errorf("veth %s outlived its stopped container", veth)
			}
			if _, err := m.SetRequest(ctx, name, Register); err != nil {
				t.Fatal(err)
			}
			wantState(t, m, name, Registered)
			if _, err := os.Stat(filepath.Join(l.lxcPath, ContainerName(name))); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("undeployed sliver's container still defined: %v", err)
			}
			if err := m.Remove(ctx, name); err != nil {
				t.Fatal(err)
			}
			nothingLeft(t, l, m, name, []string{veth})
		})
	}
}
