package telemetry

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// randName returns prefix plus a random suffix, short enough for an
// interface name.
func randName(prefix string) string {
	b := make([]byte, 3)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// run runs a command, fails the test with its output on error, and returns
// its standard output. Standard error stays out of what callers parse: ip
// writes there about namespaces other tests are adding or deleting that
// moment ("Error: Peer netns reference is invalid.").
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// newNetns creates a network namespace that is removed when the test ends.
func newNetns(t testing.TB) string {
	t.Helper()
	needRoot(t)
	needCmd(t, "ip")
	name := randName("nktel")
	out, err := exec.Command("ip", "netns", "add", name).CombinedOutput()
	needEnv(t, "network namespaces", errorFrom(err, out))
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

func errorFrom(err error, out []byte) error {
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// inNetns runs fn on a thread switched into the namespace ns.
func inNetns(t testing.TB, ns string, fn func()) {
	t.Helper()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	done := make(chan struct{})
	var ferr error
	go func() {
		defer close(done)
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			ferr = err
			runtime.UnlockOSThread()
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ferr = fmt.Errorf("setns: %w", err)
			runtime.UnlockOSThread()
			return
		}
		fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			return // leave the thread locked: it dies with the goroutine
		}
		runtime.UnlockOSThread()
	}()
	<-done
	if ferr != nil {
		t.Fatal(ferr)
	}
}
