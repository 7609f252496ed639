package agent

import (
	"os"
	"os/exec"
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

// requireRoot needs root and the tools the agent's lab uses.
func requireRoot(t *testing.T, tools ...string) {
	t.Helper()
	requireEnv(t, os.Geteuid() == 0, "root")
	for _, tool := range append([]string{"ip", "nsenter", "mosquitto"}, tools...) {
		_, err := exec.LookPath(tool)
		requireEnv(t, err == nil, tool)
	}
}
