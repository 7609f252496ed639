package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/nodekeeper/nodekeeper/wire"
)

// The node's own identity: an ed25519 key (usign format) made at the
// first start in STATE_DIR/identity.sec, kept across sysupgrade
// (/lib/upgrade/keep.d/nodekeeper) and never replaced by the agent. Its
// public half is in every state report (node_key) and `nodekeeper status`,
// and the agent signs its state reports with it (wire.SignedState), so an
// admin tool that pinned it believes only what this node published.

// identityFile is the name of the identity in the state dir.
const identityFile = "identity.sec"

// maxIdentityBytes bounds the identity file read (a usign secret key file
// is about 250 bytes).
const maxIdentityBytes = 4 << 10

// loadIdentity reads the node's identity from dir, or makes one when there
// is none. A file that exists but cannot be read or parsed is an error:
// the agent never replaces an identity admins may have pinned.
func loadIdentity(dir string) (wire.SecretKey, bool, error) {
	path := filepath.Join(dir, identityFile)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		k, err := wire.GenerateKey()
		if err != nil {
			return wire.SecretKey{}, false, fmt.Errorf("node identity: %w", err)
		}
		if err := writeFileAtomic(path, wire.MarshalSecretKey(k), 0o600); err != nil {
			return wire.SecretKey{}, false, fmt.Errorf("node identity: %w", err)
		}
		return k, true, nil
	}
	if err != nil {
		return wire.SecretKey{}, false, fmt.Errorf("node identity: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return wire.SecretKey{}, false, fmt.Errorf("node identity %s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxIdentityBytes+1))
	if err != nil {
		return wire.SecretKey{}, false, fmt.Errorf("node identity: %w", err)
	}
	if len(b) > maxIdentityBytes {
		return wire.SecretKey{}, false, fmt.Errorf("node identity %s: over %d bytes", path, maxIdentityBytes)
	}
	k, err := wire.ParseSecretKey(b)
	if err != nil {
		return wire.SecretKey{}, false, fmt.Errorf("node identity %s: %w (move it away to make a new one; admins that pinned the old key must pin the new one)", path, err)
	}
	return k, false, nil
}
