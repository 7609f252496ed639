package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCopyTreeStops: the copy of a template (without overlayfs) ends with
// its context, like every fetch and copy (issue 11, finding 8's class).
func TestCopyTreeStops(t *testing.T) {
	src := t.TempDir()
	for _, f := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(src, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dst := filepath.Join(t.TempDir(), "rootfs")
	if err := copyTree(ctx, src, dst); !errors.Is(err, context.Canceled) {
		t.Errorf("copy with an ended context: %v, want context.Canceled", err)
	}
	dst2 := filepath.Join(t.TempDir(), "rootfs")
	if err := copyTree(context.Background(), src, dst2); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst2, "c")); err != nil || string(b) != "c" {
		t.Errorf("copied file: %q %v", b, err)
	}
}
