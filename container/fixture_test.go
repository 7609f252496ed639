package container

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// tarEntry is one entry of a test tarball.
type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

// makeTar builds a gzip-compressed tarball of entries.
func makeTar(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, ModTime: time.Unix(1700000000, 0)}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if e.typ == tar.TypeChar {
			h.Devmajor, h.Devminor = 1, 3
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// busyboxApplets are linked in the test rootfs.
var busyboxApplets = []string{"sh", "ls", "cat", "echo", "sleep", "ip", "mount", "ps", "dd", "df", "head",
	"tail", "true", "id", "hostname", "ping", "grep", "wc", "sync", "rm", "touch"}

// busyboxRootfs is a rootfs tarball made from the host's static busybox:
// busybox init with an inittab, applet symlinks, a hard link and a device
// node (which extraction skips).
func busyboxRootfs(t testing.TB, withInit bool) []byte {
	t.Helper()
	return makeTar(t, busyboxEntries(t, withInit))
}

func busyboxEntries(t testing.TB, withInit bool) []tarEntry {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	need(t, "needs busybox-static", err)
	es := []tarEntry{}
	for _, d := range []string{"bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var"} {
		es = append(es, tarEntry{name: d + "/", typ: tar.TypeDir, mode: 0o755})
	}
	es = append(es, tarEntry{name: "bin/busybox", typ: tar.TypeReg, mode: 0o755, body: string(bb)})
	for _, a := range busyboxApplets {
		es = append(es, tarEntry{name: "bin/" + a, typ: tar.TypeSymlink, link: "busybox"})
	}
	es = append(es,
		tarEntry{name: "bin/bb-hardlink", typ: tar.TypeLink, link: "bin/busybox"},
		tarEntry{name: "dev/null", typ: tar.TypeChar, mode: 0o666},
		tarEntry{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, body: "root:x:0:0:root:/root:/bin/sh\n"},
		tarEntry{name: "etc/inittab", typ: tar.TypeReg, mode: 0o644, body: "::sysinit:/bin/touch /run/booted\n"},
	)
	if withInit {
		es = append(es, tarEntry{name: "sbin/init", typ: tar.TypeSymlink, link: "../bin/busybox"})
	}
	return es
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// lab is a network namespace with a bridge, an LXC path, a state dir and
// an HTTP server of archives, all removed when the test ends.
type lab struct {
	t        testing.TB
	netns    string
	bridge   string
	subnet   string // 10.X.Y: the bridge has .1
	lxcPath  string
	stateDir string
	node     string
	files    string // served over HTTP
	srv      *httptest.Server
}

func newLab(t testing.TB) *lab {
	t.Helper()
	needRoot(t)
	l := &lab{
		t:        t,
		netns:    "nkct-" + randHex(8),
		bridge:   "nkbr0",
		subnet:   "10.211.0", // the namespace is the lab's own
		lxcPath:  filepath.Join(t.TempDir(), "lxc"),
		stateDir: filepath.Join(t.TempDir(), "state"),
		node:     "node-" + randHex(6),
		files:    t.TempDir(),
	}
	if out, err := exec.Command("ip", "netns", "add", l.netns).CombinedOutput(); err != nil {
		need(t, "needs network namespaces", &cmdError{err, out})
	}
	ns := l.netns
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("remove network namespace %s: %v", ns, &cmdError{err, out})
		}
	})
	l.ip("link", "add", l.bridge, "type", "bridge")
	l.ip("addr", "add", l.subnet+".1/24", "dev", l.bridge)
	l.ip("link", "set", l.bridge, "up")
	l.ip("link", "set", "lo", "up")
	l.srv = httptest.NewServer(http.FileServer(http.Dir(l.files)))
	t.Cleanup(l.srv.Close)
	// Runs before the temp dirs go: whatever a failed test left running.
	t.Cleanup(l.sweep)
	return l
}

type cmdError struct {
	err error
	out []byte
}

func (e *cmdError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(string(e.out)) }

// ip runs ip(8) inside the lab's namespace.
func (l *lab) ip(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", l.netns}, args...)...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %v: %v: %s", args, err, out)
	}
	return string(out)
}

// serve publishes b over the lab's HTTP server and returns its archive.
func (l *lab) serve(name string, b []byte) Archive {
	l.t.Helper()
	if err := os.WriteFile(filepath.Join(l.files, name), b, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return Archive{URL: l.srv.URL + "/" + name, SHA256: sha(b), Type: "busybox"}
}

func (l *lab) driver() *LXC {
	l.t.Helper()
	d, err := NewLXC(LXCOptions{Path: l.lxcPath, Netns: l.netns})
	if err != nil {
		l.t.Fatal(err)
	}
	return d
}

func (l *lab) config(rootfs string) Config {
	return Config{
		StateDir:    l.stateDir,
		Node:        l.node,
		Bridges:     map[netcfg.IfaceKind]string{netcfg.Private: l.bridge},
		Driver:      l.driver(),
		Rootfs:      rootfs,
		StopTimeout: 5 * time.Second,
		Logger:      slog.New(slog.NewTextHandler(testWriter{l.t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// open opens a Manager on the lab, closed when the test ends.
func (l *lab) open(rootfs string) (*Manager, Report) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, rep, err := Open(ctx, l.config(rootfs))
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { m.Close() })
	return m, rep
}

// sweep removes every container in the lab's LXC path and unmounts disk
// images under its state dir.
func (l *lab) sweep() {
	d, err := NewLXC(LXCOptions{Path: l.lxcPath, Netns: l.netns})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	names, _ := d.List(ctx)
	for _, n := range names {
		d.run(ctx, false, "lxc-stop", "-n", n, "-k")
		d.Destroy(ctx, n)
	}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], l.stateDir+"/") {
			unmount(f[1])
		}
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// eventually polls cond until it holds or a generous timeout passes.
func eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// busybox serves the busybox rootfs and returns it as a template.
func (l *lab) busybox() Archive {
	l.t.Helper()
	return l.serve("busybox.tar.gz", busyboxRootfs(l.t, true))
}
