package uci

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dirs makes a config dir and save dirs under a test directory.
func dirs(t *testing.T, names ...string) []string {
	t.Helper()
	root := t.TempDir()
	var out []string
	for _, n := range names {
		d := filepath.Join(root, n)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// Two processes commit the same package at once, each from its own save
// directory, while a third process reads it: every change must be kept and
// every read must see a whole file. (libuci's own commit loses changes
// here: it can lock a file that a concurrent commit has just replaced.)
func TestConcurrentCommitsKeepEveryChange(t *testing.T) {
	bin := needBinary(t)
	d := dirs(t, "config", "save1", "save2")
	conf := d[0]
	write(t, filepath.Join(conf, "net"), "config iface 'main'\n\toption seed '1'\n")
	stop := filepath.Join(filepath.Dir(conf), "stop")

	const n = 60
	reader := helperCmd("reader", conf, "net", stop, "main")
	var readOut, readErr bytes.Buffer
	reader.Stdout, reader.Stderr = &readOut, &readErr
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Process.Kill(); reader.Wait() })

	var committers []*exec.Cmd
	var outs []*bytes.Buffer
	for k, prefix := range []string{"a", "b"} {
		var script strings.Builder
		for i := range n {
			fmt.Fprintf(&script, "set net.main.%s_%d=%d\ncommit net\n", prefix, i, i)
		}
		cmd := exec.Command(bin, "uci", "-c", conf, "-C", "-", "-t", d[k+1], "batch")
		cmd.Stdin = strings.NewReader(script.String())
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		committers = append(committers, cmd)
		outs = append(outs, out)
	}
	for _, cmd := range committers {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	for i, cmd := range committers {
		if err := cmd.Wait(); err != nil || outs[i].Len() > 0 {
			t.Errorf("committer %d: %v\n%s", i, err, outs[i])
		}
	}
	write(t, stop, "")
	if err := reader.Wait(); err != nil {
		t.Fatalf("reader: %v\n%s", err, readErr.String())
	}
	t.Logf("reader: %s", strings.TrimSpace(readOut.String()))

	p, err := (&Cursor{ConfDir: conf, OverrideDir: "-", SaveDir: d[1]}).LoadCommitted("net")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Section("main")
	for _, prefix := range []string{"a", "b"} {
		for i := range n {
			name := fmt.Sprintf("%s_%d", prefix, i)
			if v, ok := s.Get(name); !ok || v != fmt.Sprint(i) {
				t.Errorf("%s lost (got %q, %v)", name, v, ok)
			}
		}
	}
	for _, save := range d[1:] {
		if got := read(t, filepath.Join(save, "net")); got != "" {
			t.Errorf("%s still stages %q", save, got)
		}
	}
	assertNoTempFiles(t, conf)
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*.uci-*"))
	if len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// A commit killed halfway through writing the new file leaves the config
// file whole and unchanged and the staged changes staged.
func TestKillMidCommit(t *testing.T) {
	d := dirs(t, "config", "save")
	conf, save := d[0], d[1]
	cfg := filepath.Join(conf, "net")
	before := "config iface 'main'\n\toption proto 'static'\n\t" + strings.Repeat("list pad 'x'\n\t", 2000) + "\n"
	write(t, cfg, before)
	uci := mustUCI(t, "-c", conf, "-t", save, "-C", "-")
	uci("set", "net.main.proto=dhcp")

	helper := helperCmd("commit-stall", conf, save, "net")
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	helper.Stderr = &errb
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { helper.Process.Kill(); helper.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		if s != "stalled\n" {
			t.Fatalf("helper: %q %s", s, errb.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("helper never reached the middle of its commit")
	}
	tmps, _ := filepath.Glob(filepath.Join(conf, ".net.uci-??????"))
	if len(tmps) != 1 {
		t.Fatalf("want one half-written temporary file next to the config, got %v", tmps)
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	helper.Wait()

	if got := read(t, cfg); got != before {
		t.Fatalf("config changed by a killed commit:\n%q", got)
	}
	if got, want := uci("changes", "net"), "net.main.proto='dhcp'\nnet.main.stalled='yes'\n"; got != want {
		t.Errorf("staged changes after the kill: %q, want %q", got, want)
	}
	if got := uci("show"); !strings.HasPrefix(got, "net.main=iface\n") {
		t.Errorf("show after the kill: %q", got)
	}
	uci("commit", "net")
	if got := uci("get", "net.main.proto") + uci("get", "net.main.stalled"); got != "dhcp\nyes\n" {
		t.Errorf("after a new commit: %q", got)
	}
}

// A commit keeps the file's mode and writes through a symlink to its
// target, leaving the symlink in place.
func TestCommitKeepsModeAndSymlink(t *testing.T) {
	d := dirs(t, "config", "real", "save")
	conf, real, save := d[0], d[1], d[2]
	target := filepath.Join(real, "net")
	write(t, target, "config iface 'main'\n")
	if err := os.Chmod(target, 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(conf, "net")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	uci := mustUCI(t, "-c", conf, "-t", save, "-C", "-")
	uci("set", "net.main.mtu=1400")
	uci("commit", "net")
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("symlink replaced: %v %v", fi.Mode(), err)
	}
	if got := read(t, target); got != "\nconfig iface 'main'\n\toption mtu '1400'\n\n" {
		t.Errorf("target: %q", got)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 (%v)", fi.Mode(), err)
	}
	assertNoTempFiles(t, conf)
	assertNoTempFiles(t, real)
}

// A file in the override directory (-C) is read and committed instead of
// the one in the config directory.
func TestOverrideDir(t *testing.T) {
	d := dirs(t, "config", "override", "save")
	conf, over, save := d[0], d[1], d[2]
	write(t, filepath.Join(conf, "net"), "config iface 'main'\n\toption from 'config'\n")
	write(t, filepath.Join(over, "net"), "config iface 'main'\n\toption from 'override'\n")
	uci := mustUCI(t, "-c", conf, "-C", over, "-t", save)
	if got := uci("get", "net.main.from"); got != "override\n" {
		t.Errorf("read %q, want the override", got)
	}
	uci("set", "net.main.mtu=1400")
	uci("commit", "net")
	if got := read(t, filepath.Join(over, "net")); got != "\nconfig iface 'main'\n\toption from 'override'\n\toption mtu '1400'\n\n" {
		t.Errorf("override file: %q", got)
	}
	if got := read(t, filepath.Join(conf, "net")); got != "config iface 'main'\n\toption from 'config'\n" {
		t.Errorf("config file changed: %q", got)
	}
	p, err := (&Cursor{ConfDir: conf, OverrideDir: over, SaveDir: save}).Load("net")
	if err != nil || p.Path() != filepath.Join(over, "net") {
		t.Errorf("Go API read %v (%v), want the override", p.Path(), err)
	}
}
