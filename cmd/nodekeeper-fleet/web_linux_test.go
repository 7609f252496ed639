package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nodekeeper/nodekeeper/wire"
)

// labAlert is a node policy that raises an alert the events page shows.
const labAlert = `
policy "lab-alert" {
  every = "2s",
  cooldown = "10m",
  act = function(node) alert("warning", "lab alert: the roof is windy") end,
}
`

// waitHealthy waits until a view answers 200 on its health URL: it
// serves HTTP only once it follows the nodes' topics.
func waitHealthy(t *testing.T, what, healthURL string) {
	t.Helper()
	waitFor(t, what, func() bool {
		resp, err := http.Get(healthURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// forward serves on a loopback port of the test's namespace and passes
// each connection to addr inside ns (the browser runs outside the lab).
func forward(t *testing.T, ns, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := dialInNetns(ns, addr)
				if err != nil {
					return
				}
				defer u.Close()
				go io.Copy(u, c)
				io.Copy(c, u)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// pidOf returns the pid of the agent run with that config directory.
func pidOf(t *testing.T, configDir string) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) >= 2 && args[len(args)-1] == configDir && args[1] == "run" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	t.Fatalf("no agent running with %s", configDir)
	return 0
}

// browser starts a headless Chromium (--no-sandbox: tests run as root).
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := "/usr/bin/chromium"
	if _, err := os.Stat(exe); err != nil {
		p, lerr := exec.LookPath("chromium")
		needEnv(t, "chromium", lerr)
		exe = p
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()),
		// Chromium keeps its singleton socket in TMPDIR: in the test's own.
		chromedp.Env("TMPDIR="+t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(bctx); err != nil {
		needEnv(t, "chromium starting", err)
	}
	return bctx
}

// shot writes a full-page screenshot into the test's directory, and into
// $NK_SCREENSHOTS when set (make screenshots: docs/img).
func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	dirs := []string{dir}
	if d := os.Getenv("NK_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}

// waitJSFor is how long waitJS waits.
const waitJSFor = 3 * time.Minute

// waitJS polls a JavaScript predicate in the page, generously; a page
// that navigates meanwhile is polled again.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(waitJSFor)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("location.href + '\\n' + document.body.innerText"))
			t.Fatalf("waiting for %s: %v\npage:\n%.4000s", what, err, html)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestWebView: the web view against the three-node lab (real agents,
// real mosquitto) in a real headless Chromium.
func TestWebView(t *testing.T) {
	ns := newNetns(t)
	agentBin, fleetBin := bins(t)
	ctx := browser(t)
	shots := t.TempDir()
	tmp := t.TempDir()
	os.Chmod(tmp, 0o755)
	pub, err := wire.WriteKeyPair(filepath.Join(tmp, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"roof-" + randHex(2) + "-1", "roof-" + randHex(2) + "-2", "roof-" + randHex(2) + "-3"}
	// The view first: it answers HTTP only once it follows the nodes'
	// topics, and the agents' first events (the lab alert fires as its
	// agent starts) are not retained.
	d := writeTree(t, map[string]string{
		"groups.yaml":     fmt.Sprintf("groups:\n  lab:\n    nodes: [%s]\n", strings.Join(ids, ", ")),
		"slices/exp.yaml": "template: {url: /nonexistent/rootfs.tar.gz, sha256: " + sha + "}\nset_state: register\nplacement: {group: lab}\n",
	})
	start(t, ns, fleetBin, "serve", d, "--listen", "127.0.0.1:8080", "--broker", "tcp://127.0.0.1:1883",
		"--pub", filepath.Join(tmp, "admin.pub"), "--history-step", "2s", "--plan-every", "1s")
	url := forward(t, ns, "127.0.0.1:8080")
	waitHealthy(t, "the view", url+"/healthz")
	for i, id := range ids {
		dir := filepath.Join(tmp, id)
		os.MkdirAll(filepath.Join(dir, "config"), 0o755)
		os.MkdirAll(filepath.Join(dir, "policies"), 0o755)
		conf := agentConfig(id, dir, ns, pub.String())
		// A short keepalive: a killed agent's last will comes in seconds.
		conf = strings.Replace(conf, "\toption interval '1'\n", "\toption interval '1'\n\toption keepalive '2s'\n", 1)
		conf = strings.Replace(conf, "\toption run_dir", fmt.Sprintf("\toption latitude '41.%04d'\n\toption longitude '2.%04d'\n\tlist label 'owner=lab'\n\toption run_dir", 3870+i*7, 1680+i*11), 1)
		os.WriteFile(filepath.Join(dir, "config", "nodekeeper"), []byte(conf), 0o644)
		if i == 0 {
			os.WriteFile(filepath.Join(dir, "policies", "alert.lua"), []byte(labAlert), 0o644)
		}
		start(t, ns, agentBin, "run", "--config-dir", filepath.Join(dir, "config"))
	}
	online := func() int {
		resp, err := http.Get(url + "/api/nodes?status=online")
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		var rows []struct{ Node string }
		json.NewDecoder(resp.Body).Decode(&rows)
		return len(rows)
	}
	waitFor(t, "three agents online in the view", func() bool { return online() == 3 })
	cmd := inNetns(ns, fleetBin, "apply", d, "-k", filepath.Join(tmp, "admin.sec"), "--soak", "0", "--wave-timeout", "2m",
		"--broker", "tcp://127.0.0.1:1883", "--quiet", "300ms")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}

	// The nodes table shows three nodes.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "three rows, online", `document.querySelectorAll('#nodes tbody tr[data-status="online"]').length === 3`)
	waitJS(t, ctx, "the live stream", `document.getElementById('live').classList.contains('on')`)
	shot(t, ctx, shots, "nodes.png")
	// By keyboard: the first Tab reaches the skip link, Enter takes it to
	// the content; Tabs then reach the nodes' links.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	if f, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent`)); f != "Skip to content" {
		t.Errorf("the first Tab focuses %q, want the skip link", f)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	reached := false
	for range 40 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		if href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute('href') || ''`)); strings.Contains(href, "/node/") {
			reached = true
			break
		}
	}
	if !reached {
		t.Error("Tab never reached a node's link")
	}

	// A node page shows a chart with data.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/node/"+ids[0])); err != nil {
		t.Fatal(err)
	}
	// For the docs' screenshots (make screenshots), some history first.
	points := 2
	if os.Getenv("NK_SCREENSHOTS") != "" {
		points = 12
	}
	waitJS(t, ctx, "a chart with data", fmt.Sprintf(`Array.from(document.querySelectorAll('figure.chart svg[data-points]')).some(s => +s.dataset.points >= %d)`, points))
	shot(t, ctx, shots, "node.png")

	// The slice page lists its slivers.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/slice/exp")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the slice's three slivers", `document.querySelectorAll('table.slivers tbody tr.sliver').length === 3`)
	shot(t, ctx, shots, "slice.png")

	// An alert appears in the events view.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/events")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the lab alert", `Array.from(document.querySelectorAll('#event-rows tr[data-kind="alert"]')).some(r => r.textContent.includes('the roof is windy'))`)
	shot(t, ctx, shots, "events.png")

	// The rollout apply left, and the map.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/rollouts")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the rollout record", `document.body.innerText.includes('Wave 1')`)
	shot(t, ctx, shots, "rollouts.png")
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/map")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "three nodes on the map", `document.querySelectorAll('svg.map a.node').length === 3`)
	shot(t, ctx, shots, "map.png")

	// Killing one agent turns its row offline without a reload.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the nodes table, live", `document.querySelectorAll('#nodes tbody tr').length === 3 && document.getElementById('live').classList.contains('on')`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	// kill -9: no clean stop, the broker publishes its last will.
	victim := ids[2]
	pid := pidOf(t, filepath.Join(tmp, victim, "config"))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, victim+"'s row offline", fmt.Sprintf(`(function(){ var r = document.getElementById(%q); return r && r.dataset.status === 'offline' && r.textContent.includes('OFFLINE'); })()`, "n-"+victim))
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__notReloaded === true`)); err != nil || !ok {
		t.Errorf("the page reloaded (%v)", err)
	}
	shot(t, ctx, shots, "nodes-offline.png")

	// Readable on a phone: 360 px wide.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740), chromedp.Navigate(url+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the nodes table at 360 px", `document.querySelectorAll('#nodes tbody tr').length === 3`)
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 360 {
		t.Errorf("the page is %d px wide at 360 px (%v): it should scroll its table, not the page", w, err)
	}
	shot(t, ctx, shots, "nodes-360.png")
	// With --admin, behind a path prefix: an admin logs in and puts a
	// node into safe state from its page; the node applies it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(tmp, "users")
	pw := inNetns(ns, fleetBin, "passwd", users, "alice")
	pw.Stdin = strings.NewReader("correct horse battery\n")
	if out, err := pw.CombinedOutput(); err != nil {
		t.Fatalf("passwd: %v\n%s", err, out)
	}
	start(t, ns, fleetBin, "serve", d, "--listen", "127.0.0.1:8081", "--broker", "tcp://127.0.0.1:1883", "--base-path", "/fleet",
		"--admin", "--users", users, "-k", filepath.Join(tmp, "admin.sec"), "--history-step", "2s")
	adminURL := forward(t, ns, "127.0.0.1:8081")
	waitHealthy(t, "the admin view", adminURL+"/fleet/healthz")
	target := ids[1]
	if err := chromedp.Do(ctx, chromedp.Navigate(adminURL+"/fleet/node/"+target)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the way to log in", `Array.from(document.querySelectorAll('a')).some(a => a.textContent === 'Log in')`)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`main a[href*="/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#user`)),
		chromedp.SendKeys(chromedp.CSS(`#user`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the node page with its actions, logged in", `location.pathname.endsWith('/node/`+target+`') && !!document.querySelector('form[action$="/state"]')`)
	shot(t, ctx, shots, "node-admin.png")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`form[action$="/state"] select`), "safe"),
		chromedp.Click(chromedp.CSS(`form[action$="/state"] button`)),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the push's result", `document.body.innerText.includes('Pushed to `+target+` as seq')`)
	if err := chromedp.Do(ctx, chromedp.Navigate(adminURL+"/fleet/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, target+" in safe state", fmt.Sprintf(`(function(){ var r = document.getElementById(%q); return r && r.dataset.state === 'safe'; })()`, "n-"+target))

	t.Logf("screenshots in %s", shots)
	if names, _ := filepath.Glob(filepath.Join(shots, "*.png")); len(names) != 9 {
		t.Errorf("screenshots: %v", names)
	}
}
