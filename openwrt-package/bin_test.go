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

// variants are the packages and the prefixes of their binaries in dist/:
// nodekeeper is built with -tags nk_notls, nodekeeper-ssl with TLS.
var variants = []struct{ pkg, prefix, cross string }{
	{"nodekeeper", "nodekeeper-linux-", ""},
	{"nodekeeper-ssl", "nodekeeper-ssl-linux-", "ssl"},
}

// testBinary returns nodekeeper built for goarch and variant ("" or "ssl")
// by scripts/cross.sh, as `make cross` builds it; the first call builds it.
func testBinary(t *testing.T, goarch, variant string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	name := "nodekeeper-linux-" + goarch
	if variant != "" {
		name = "nodekeeper-" + variant + "-linux-" + goarch
	}
	out := filepath.Join(binDir, name)
	err, done := binDone[name]
	if !done {
		cmd := exec.Command("scripts/cross.sh", goarch, out, "-s -w -X main.version=test", variant)
		cmd.Dir = repoRoot(t)
		if b, e := cmd.CombinedOutput(); e != nil {
			err = fmt.Errorf("cross.sh %s %s: %v\n%s", goarch, variant, e, b)
		}
		binDone[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// distWith makes a dist directory holding both variants' test binaries
// for the named architectures.
func distWith(t *testing.T, goarchs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, a := range goarchs {
		for _, v := range variants {
			writeFile(t, filepath.Join(dir, v.prefix+a), readFile(t, testBinary(t, a, v.cross)))
		}
	}
	return dir
}
