package webauth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/nodekeeper/nodekeeper/internal/safefile"
)

// SetPassword sets user's password in the users file at path, adding the
// user or replacing their line and keeping every other line as it is. The
// file is written anew (a temporary file in the same directory, mode 0600,
// renamed over it), so a reader sees the old file or the new one. A file
// that does not exist yet is created.
func SetPassword(path, user string, password []byte) error {
	if !ValidUser(user) {
		return fmt.Errorf("user name %q: want 1-32 of letters, digits, '.', '_', '-', starting with a letter or digit", clip(user))
	}
	if len(password) == 0 {
		return errors.New("empty password")
	}
	if len(password) > MaxPasswordBytes {
		return fmt.Errorf("password of %d bytes: bcrypt uses at most %d", len(password), MaxPasswordBytes)
	}
	old, err := safefile.ReadFile(path, MaxUsersFileBytes)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("users file: %w", err)
	}
	if len(old) > 0 {
		// Refuse to rewrite a file LoadUsers would refuse (another user's
		// MD5 line would be kept and the server would not start).
		if _, err := parseUsers(path, old); err != nil {
			return err
		}
	}
	hash, err := bcrypt.GenerateFromPassword(password, NewCost)
	if err != nil {
		return fmt.Errorf("bcrypt: %w", err)
	}
	newLine := user + ":" + string(hash)
	var out []string
	replaced := false
	lines := strings.Split(strings.TrimSuffix(string(old), "\n"), "\n")
	if len(old) == 0 {
		lines = nil
	}
	for _, l := range lines {
		if name, _, ok := strings.Cut(strings.TrimSuffix(l, "\r"), ":"); ok && name == user && !strings.HasPrefix(l, "#") {
			out = append(out, newLine)
			replaced = true
			continue
		}
		out = append(out, l)
	}
	if !replaced {
		out = append(out, newLine)
	}
	return writeAtomic(path, []byte(strings.Join(out, "\n")+"\n"))
}

// writeAtomic writes b to a temporary file beside path (mode 0600),
// syncs it and renames it over path.
func writeAtomic(path string, b []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename: nothing there
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("users file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("users file: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("users file: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	// The rename is durable once the directory is synced.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
