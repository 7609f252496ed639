package openwrtpackage

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// requireCommand returns the path of a command the test needs. Under CI=true
// a missing command fails the test; elsewhere the test is skipped.
func requireCommand(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (scripts/deps.sh installs it): %v", name, err)
		}
		t.Skipf("%s not found (fails under CI=true): %v", name, err)
	}
	return p
}

// repoRoot is the top of the checkout: the tests run in openwrt-package/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
