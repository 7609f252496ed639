package netcfg

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// listenIn starts a TCP server (standing in for the broker) inside ns.
func listenIn(t *testing.T, ns, addr string) string {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		t.Fatal(err)
	}
	l, lerr := net.Listen("tcp", addr)
	if err := netns.Set(orig); err != nil {
		t.Fatalf("return to the test's namespace: %v", err)
	}
	if lerr != nil {
		t.Fatal(lerr)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// brokerSetup makes a node namespace that reaches a broker in another
// namespace, and returns them with the broker's address.
func brokerSetup(t *testing.T) (node, broker, addr string) {
	node, broker = newNS(t), newNS(t)
	wire(t, node, "up0", "10.77.0.1/24", broker, "up0", "10.77.0.2/24")
	return node, broker, listenIn(t, broker, "10.77.0.2:0")
}

// goodConfig leaves the way to the broker alone; badConfig routes the
// broker's address into a bridge with nothing behind it.
func goodConfig() Config {
	return Config{Links: []Link{{Name: "nkbr", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.78.0.1/24")}}}}
}

func badConfig() Config {
	c := goodConfig()
	c.Links = append(c.Links, Link{Name: "nkhole", Kind: Bridge, Addrs: []netip.Prefix{pfx("10.79.0.1/24")}})
	c.Routes = []Route{{Dst: pfx("10.77.0.2/32"), Dev: "nkhole"}}
	return c
}

func TestConfirmWindow(t *testing.T) {
	node, _, broker := brokerSetup(t)
	ctx := context.Background()
	dir := t.TempDir()
	m, err := Open(Options{NetNS: node, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	check := m.TCPCheck(broker)
	if err := check(ctx); err != nil {
		t.Fatalf("broker not reachable before any change: %v", err)
	}
	// The healthy change's window is long: the check returns as soon as
	// it passes, and a loaded machine may take a while to dial. The
	// failing change's window is short: it runs out whatever the load.
	healthy := Confirm{Window: 2 * time.Minute, Check: check, Interval: 200 * time.Millisecond}
	failing := Confirm{Window: 3 * time.Second, Check: check, Interval: 200 * time.Millisecond}

	p, err := m.Plan(ctx, goodConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ApplyConfirmed(ctx, p, healthy); err != nil {
		t.Fatalf("healthy change: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, pendingFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("confirmed, but the previous state is still kept: %v", err)
	}
	kept := dump(t, node)
	if !strings.Contains(kept, "nkbr") {
		t.Fatalf("healthy change not kept:\n%s", kept)
	}

	p, err = m.Plan(ctx, badConfig())
	if err != nil {
		t.Fatal(err)
	}
	err = m.ApplyConfirmed(ctx, p, failing)
	if !errors.Is(err, ErrReverted) {
		t.Fatalf("change that cuts off the broker: %v, want ErrReverted", err)
	}
	if after := dump(t, node); after != kept {
		t.Fatalf("not reverted to the state before the change:\n%s", lineDiff(kept, after))
	}
	if err := check(ctx); err != nil {
		t.Errorf("broker not reachable after the revert: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, pendingFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reverted, but the previous state is still kept: %v", err)
	}
}

// TestCrashInConfirmWindow kills (SIGKILL) a real process while its confirm
// window is open; the next start reverts.
func TestCrashInConfirmWindow(t *testing.T) {
	node, _, broker := brokerSetup(t)
	dir := t.TempDir()
	ctx := context.Background()
	m, err := Open(Options{NetNS: node, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Sync(ctx, goodConfig()); err != nil {
		t.Fatal(err)
	}
	before := dump(t, node)
	desired, err := json.Marshal(badConfig())
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "desired.json")
	if err := os.WriteFile(cfgFile, desired, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "NETCFG_HELPER=confirm", "NETCFG_NS="+node, "NETCFG_STATE="+dir,
		"NETCFG_DESIRED="+cfgFile, "NETCFG_BROKER="+broker)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	inWindow := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "IN WINDOW") {
				inWindow <- true
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-inWindow:
	case <-time.After(60 * time.Second):
		t.Fatal("helper never reached its confirm window")
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if mid := dump(t, node); !strings.Contains(mid, "nkhole") {
		t.Fatalf("the killed process had not applied its change:\n%s", mid)
	}
	if err := m.TCPCheck(broker)(ctx); err == nil {
		t.Fatalf("the broker is reachable with the bad change applied: the test proves nothing")
	}

	// The next start.
	m2, err := Open(Options{NetNS: node, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	reverted, err := m2.Recover(ctx)
	if err != nil || !reverted {
		t.Fatalf("Recover = %v, %v; want a revert", reverted, err)
	}
	if after := dump(t, node); after != before {
		t.Fatalf("not reverted:\n%s", lineDiff(before, after))
	}
	if err := m2.TCPCheck(broker)(ctx); err != nil {
		t.Errorf("broker not reachable after the revert: %v", err)
	}
	if reverted, err := m2.Recover(ctx); err != nil || reverted {
		t.Errorf("second Recover = %v, %v; want nothing to do", reverted, err)
	}
}

// confirmHelper is the process TestCrashInConfirmWindow kills (TestMain
// runs it instead of the tests when NETCFG_HELPER=confirm): it applies a
// plan with a long confirm window, says so, and waits in the window.
func confirmHelper() error {
	data, err := os.ReadFile(os.Getenv("NETCFG_DESIRED"))
	if err != nil {
		return err
	}
	var desired Config
	if err := json.Unmarshal(data, &desired); err != nil {
		return err
	}
	m, err := Open(Options{NetNS: os.Getenv("NETCFG_NS"), StateDir: os.Getenv("NETCFG_STATE")})
	if err != nil {
		return err
	}
	ctx := context.Background()
	p, err := m.Plan(ctx, desired)
	if err != nil {
		return err
	}
	check := m.TCPCheck(os.Getenv("NETCFG_BROKER"))
	once := false
	err = m.ApplyConfirmed(ctx, p, Confirm{Window: 10 * time.Minute, Interval: 100 * time.Millisecond, Check: func(ctx context.Context) error {
		if !once {
			once = true
			fmt.Println("IN WINDOW")
		}
		return check(ctx)
	}})
	return fmt.Errorf("the confirm window ended before the kill: %v", err)
}
