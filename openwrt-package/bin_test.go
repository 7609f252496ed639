package openwrtpackage

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binDir holds the binaries the tests build, once per test run.
var (
	binDir  string
	binMu   sync.Mutex
	binDone = map[string]error{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nodekeeper-openwrt-package-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testBinary returns nodekeeper built for goarch by scripts/cross.sh, as
// `make cross` builds it; the first call builds it.
func testBinary(t *testing.T, goarch string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	out := filepath.Join(binDir, "nodekeeper-linux-"+goarch)
	err, done := binDone[goarch]
	if !done {
		cmd := exec.Command("scripts/cross.sh", goarch, out, "-s -w -X main.version=test")
		cmd.Dir = repoRoot(t)
		if b, e := cmd.CombinedOutput(); e != nil {
			err = fmt.Errorf("cross.sh %s: %v\n%s", goarch, e, b)
		}
		binDone[goarch] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// distWith makes a dist directory holding the named test binaries.
func distWith(t *testing.T, goarchs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, a := range goarchs {
		writeFile(t, filepath.Join(dir, "nodekeeper-linux-"+a), readFile(t, testBinary(t, a)))
	}
	return dir
}
