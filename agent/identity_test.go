package agent

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nodekeeper/nodekeeper/wire"
)

// The node's identity is made once, kept as it is, and never replaced by
// the agent: not when it is corrupt, not when it is no regular file.
func TestLoadIdentity(t *testing.T) {
	dir := t.TempDir()
	k, made, err := loadIdentity(dir)
	if err != nil || !made {
		t.Fatalf("first start: made %v, %v", made, err)
	}
	path := filepath.Join(dir, identityFile)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v, %v; want mode 0600", fi, err)
	}
	again, made, err := loadIdentity(dir)
	if err != nil || made || again.Public().String() != k.Public().String() {
		t.Fatalf("second start: made %v, key %s, %v; want the same key %s", made, again.Public().ID(), err, k.Public().ID())
	}
	for _, tc := range []struct {
		name string
		make func(path string) error
		want string
	}{
		{"corrupt", func(p string) error { return os.WriteFile(p, []byte("untrusted comment: x\nnot base64!\n"), 0o600) }, "move it away"},
		{"a FIFO", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "not a regular file"},
		{"a symlink", func(p string) error { return os.Symlink("/dev/zero", p) }, "node identity"},
		{"too big", func(p string) error { return os.WriteFile(p, make([]byte, maxIdentityBytes+1), 0o600) }, "over 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			p := filepath.Join(d, identityFile)
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Lstat(p)
			if _, _, err := loadIdentity(d); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to say %q", err, tc.want)
			}
			if after, err := os.Lstat(p); err != nil || after.Mode() != before.Mode() || after.Size() != before.Size() {
				t.Errorf("the identity was replaced: %v, %v", after, err)
			}
		})
	}
}

// remote.threshold: how many distinct trusted keys must sign; more than
// there are keys could never be met and is refused.
func TestConfigThreshold(t *testing.T) {
	k1, _ := wire.GenerateKey()
	k2, _ := wire.GenerateKey()
	keys := "\tlist trusted_key '" + k1.Public().String() + "'\n\tlist trusted_key '" + k2.Public().String() + "'\n"
	for _, tc := range []struct {
		name, text string
		want       int
		wantErr    string
	}{
		{"default", "config remote 'remote'\n" + keys, 1, ""},
		{"two of two", "config remote 'remote'\n" + keys + "\toption threshold '2'\n", 2, ""},
		{"three of two", "config remote 'remote'\n" + keys + "\toption threshold '3'\n", 0, "option threshold: 3, but only 2 trusted keys"},
		{"zero", "config remote 'remote'\n" + keys + "\toption threshold '0'\n", 0, "option threshold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadText(t, tc.text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want it to say %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || cfg.Remote.Threshold != tc.want {
				t.Fatalf("threshold %v, %v; want %d", cfg, err, tc.want)
			}
		})
	}
}
