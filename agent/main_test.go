package agent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// nkBin is the nodekeeper binary, built once for the tests that run the
// agent as a real process (and that start policy workers).
var nkBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nodekeeper-agent-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Readable by the unprivileged user the control socket test runs as.
	os.Chmod(dir, 0o755)
	nkBin = filepath.Join(dir, "nodekeeper")
	build := exec.Command("go", "build", "-o", nkBin, "github.com/nodekeeper/nodekeeper/cmd/nodekeeper")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building nodekeeper: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
