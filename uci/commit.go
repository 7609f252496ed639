package uci

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// commitHook, when a test sets it, runs halfway through writing the new
// config file, so that a test can kill the process mid-commit.
var commitHook func()

// commit writes p to its config file (uci_file_commit). Unless overwrite is
// set (import), the file is re-read under an exclusive lock and the staged
// changes are replayed onto it, so that changes committed meanwhile by other
// processes are kept. The new text goes to a temporary file in the same
// directory, which is synced, given the old file's mode and renamed over the
// file (over a symlink's target). The staged changes are dropped only after
// the rename, and the locks are released only then.
func (c *Cursor) commit(p *Package, overwrite bool) error {
	if p.path == "" {
		if !overwrite {
			return fmt.Errorf("package %s: %w: not read from a file", p.name, ErrInvalid)
		}
		if !ValidPackage(p.name) {
			return fmt.Errorf("package name %q: %w", p.name, ErrInvalid)
		}
		p.path = filepath.Join(c.confDir(), p.name)
	}
	f, err := openLocked(p.path, true)
	if err != nil {
		return err
	}
	defer closeLocked(f)

	var staged *os.File
	if p.hasDelta {
		if !overwrite {
			if err := c.save(p); err != nil {
				return err
			}
			data, err := io.ReadAll(f)
			if err != nil {
				return ioError("read", p.path, err)
			}
			np, err := c.parse(data, p.path, p.name)
			if err != nil {
				return err
			}
			np.path, np.hasDelta = p.path, true
			*p = *np
		}
		n, sf, err := c.replayForCommit(p)
		if sf != nil {
			defer closeLocked(sf)
		}
		if err != nil || n == 0 {
			return err
		}
		staged = sf
	}

	var text bytes.Buffer
	exportPackage(&text, p, false, c.nameAnonymous)
	if err := replaceFile(p.path, p.name, text.Bytes()); err != nil {
		return err
	}
	if staged != nil {
		if err := staged.Truncate(0); err != nil {
			return ioError("truncate", staged.Name(), err)
		}
	}
	p.saved = nil
	return nil
}

// replayForCommit replays the change files onto p. The save directory's
// file stays open and exclusively locked, so that no change staged
// meanwhile is truncated unseen; the caller closes it.
func (c *Cursor) replayForCommit(p *Package) (int, *os.File, error) {
	files := c.deltaFiles(p.name)
	n := 0
	for _, name := range files[:len(files)-1] {
		data, err := readShared(name)
		if err != nil {
			return 0, nil, err
		}
		n += p.replay(data)
	}
	name := files[len(files)-1]
	sf, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return n, nil, nil // nothing staged in the save directory
	}
	if err := lockFile(sf, true); err != nil {
		sf.Close()
		return 0, nil, ioError("lock", name, err)
	}
	data, err := io.ReadAll(sf)
	if err != nil {
		return 0, sf, ioError("read", name, err)
	}
	return n + p.replay(data), sf, nil
}

// replaceFile atomically replaces the file at path (following symlinks)
// with data: a temporary file .<pkg>.uci-XXXXXX in the same directory is
// written, synced, given the old mode and renamed over it.
func replaceFile(path, pkg string, data []byte) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return ioError("resolve", path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return ioError("stat", real, err)
	}
	dir := filepath.Dir(real)
	tmp, err := createTemp(dir, "."+pkg+".uci-")
	if err != nil {
		return err
	}
	name := tmp.Name()
	err = writeSynced(tmp, data)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = ioError("close", name, cerr)
	}
	if err == nil {
		mode := fi.Mode().Perm() | fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)
		if cerr := os.Chmod(name, mode); cerr != nil {
			err = ioError("chmod", name, cerr)
		}
	}
	if err == nil {
		if rerr := os.Rename(name, real); rerr != nil {
			err = ioError("rename", real, rerr)
		}
	}
	if err != nil {
		os.Remove(name)
		return err
	}
	syncDir(dir)
	return nil
}

func writeSynced(f *os.File, data []byte) error {
	half := len(data) / 2
	if _, err := f.Write(data[:half]); err != nil {
		return ioError("write", f.Name(), err)
	}
	if commitHook != nil {
		commitHook()
	}
	if _, err := f.Write(data[half:]); err != nil {
		return ioError("write", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return ioError("sync", f.Name(), err)
	}
	return nil
}

// createTemp creates prefix+XXXXXX in dir like mkstemp, mode 0600.
func createTemp(dir, prefix string) (*os.File, error) {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for range 100 {
		var b [6]byte
		for i := range b {
			b[i] = chars[rand.IntN(len(chars))]
		}
		name := filepath.Join(dir, prefix+string(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, ioError("create", name, err)
		}
	}
	return nil, ioError("create", filepath.Join(dir, prefix+"XXXXXX"), os.ErrExist)
}

// syncDir makes a rename in dir durable; errors are ignored as not every
// file system supports it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
