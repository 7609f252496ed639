package policy

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the policy worker: the engine
// under test re-executes it with WorkerEnv set.
func TestMain(m *testing.M) {
	if os.Getenv(WorkerEnv) == "1" {
		os.Exit(ServeWorker())
	}
	os.Exit(m.Run())
}

// testWorker is the WorkerSpec of tests: this test binary.
func testWorker(t testing.TB) WorkerSpec {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return WorkerSpec{Argv: []string{exe, "-test.run=^$"}, Env: []string{WorkerEnv + "=1"}}
}

// inCI says whether a missing environment must fail the test (CI=true)
// rather than skip it.
func inCI() bool { return os.Getenv("CI") == "true" }
