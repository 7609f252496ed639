// Package simtest holds what the fleet's tests share to run against a real
// mosquitto: a broker started on a free loopback port for one test, and
// the project's rule for a missing environment (fail under CI=true, skip
// otherwise, saying so).
package simtest

import (
	"errors"
	"os"
	"testing"

	"github.com/nodekeeper/nodekeeper/fleet/sim"
)

// NeedEnv fails the test under CI=true, where every part must be present,
// and skips it otherwise; nothing when err is nil.
func NeedEnv(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("needs %s (required under CI=true): %v", what, err)
	}
	t.Skipf("needs %s (skipped outside CI only; with CI=true this test fails instead): %v", what, err)
}

// Broker starts a mosquitto for the test on a free loopback port, stopped
// when the test ends.
func Broker(t testing.TB) *sim.Broker {
	t.Helper()
	b, err := sim.StartBroker(t.TempDir(), "")
	if errors.Is(err, sim.ErrNoMosquitto) {
		NeedEnv(t, "mosquitto", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b
}
