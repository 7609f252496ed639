package main

import (
	"os"
	"testing"

	"github.com/nodekeeper/nodekeeper/policy"
)

// The commands start policy workers as "<this executable> policy-worker":
// the test binary serves them as the real binary would.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "policy-worker" {
		os.Exit(policy.ServeWorker())
	}
	os.Exit(m.Run())
}
