package wire

import (
	"os"
	"testing"
)

// requireEnv fails the test under CI=true (where everything must run) and
// skips it elsewhere when the environment lacks what it needs.
func requireEnv(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("environment lacks %s (CI=true: failing instead of skipping)", what)
	}
	t.Skipf("environment lacks %s (fails under CI=true)", what)
}
