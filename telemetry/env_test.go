package telemetry

import (
	"os"
	"os/exec"
	"testing"
)

// needEnv fails the test under CI=true (where every part must be present)
// and skips it otherwise, saying so with the word CI.
func needEnv(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("needs %s (required under CI=true): %v", what, err)
	}
	t.Skipf("needs %s (fails under CI=true): %v", what, err)
}

// needRoot requires root.
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		needEnv(t, "root", os.ErrPermission)
	}
}

// needCmd requires a program on PATH and returns its path.
func needCmd(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	needEnv(t, name, err)
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
