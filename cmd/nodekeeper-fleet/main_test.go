package main

import (
	"os"
	"testing"

	"github.com/nodekeeper/nodekeeper/policy"
)

// afterAll holds what the package's tests leave for the end (the binaries
// the real-agent lab builds once for all its tests).
var afterAll []func()

// The commands start policy workers as "<this executable> policy-worker":
// the test binary serves them as the real binary would.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "policy-worker" {
		os.Exit(policy.ServeWorker())
	}
	code := m.Run()
	for _, f := range afterAll {
		f()
	}
	os.Exit(code)
}
