package container

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"
)

// need fails the test when err says the environment lacks something and CI
// is set; elsewhere it skips.
func need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v", what, err)
	}
	t.Skipf("%s (fails under CI=true): %v", what, err)
}

// needRoot needs root and the LXC tools, nsenter and unshare.
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		need(t, "needs root", os.ErrPermission)
	}
	for _, tool := range []string{"lxc-start", "lxc-attach", "ip", "nsenter", "unshare", "mkfs.ext4", "/bin/busybox"} {
		_, err := exec.LookPath(tool)
		need(t, "needs "+tool, err)
	}
}

// randHex is a random suffix that keeps names of parallel runs apart.
func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
