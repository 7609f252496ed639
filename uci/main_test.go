package uci

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The nodekeeper binary is built once, on first use, for the tests that run
// the command line as a user would (fuzz workers and -list never build it).
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, os.Args[1:]))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// needBinary returns the built binary or fails the test.
func needBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "nodekeeper-uci-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "nodekeeper")
		// go test puts its own GOROOT/bin first in PATH.
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/nodekeeper/nodekeeper/cmd/nodekeeper")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// runUCI runs "nodekeeper uci args..." and returns stdout, stderr and the
// exit status.
func runUCI(t testing.TB, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(needBinary(t), append([]string{"uci"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run uci %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// mustUCI returns a runner of "nodekeeper uci" with the given leading
// options (the directories) that fails the test unless the command exits 0.
func mustUCI(t *testing.T, opts ...string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		out, errs, code := runUCI(t, "", slices.Concat(opts, args)...)
		if code != 0 {
			t.Fatalf("uci %q: exit %d: %s", args, code, errs)
		}
		return out
	}
}

// runMain runs the command line in this process.
func runMain(stdin string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}
