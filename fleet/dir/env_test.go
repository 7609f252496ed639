package dir

import (
	"os"
	"testing"

	"github.com/nodekeeper/nodekeeper/policy"
)

// The test binary serves as the policy worker when re-executed with
// policy.WorkerEnv set, as the policy package's own tests do.
func TestMain(m *testing.M) {
	if os.Getenv(policy.WorkerEnv) == "1" {
		os.Exit(policy.ServeWorker())
	}
	os.Exit(m.Run())
}

// policyChecker checks files as `nodekeeper policy check` does, with this
// test binary as the worker.
func policyChecker(t *testing.T) func([]string) []string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tools := policy.Tools{Worker: policy.WorkerSpec{Argv: []string{exe, "-test.run=^$"}, Env: []string{policy.WorkerEnv + "=1"}}}
	return CheckPoliciesWith(tools)
}
