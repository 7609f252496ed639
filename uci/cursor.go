package uci

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// OpenWrt's default directories.
const (
	DefaultConfDir     = "/etc/config"
	DefaultOverrideDir = "/var/run/uci"
	DefaultSaveDir     = "/tmp/.uci"
)

// A Cursor says where config files and staged changes live, like a libuci
// context. The zero value uses OpenWrt's directories.
type Cursor struct {
	ConfDir     string // config files; "" means /etc/config (uci -c)
	OverrideDir string // a file here replaces the one in ConfDir; "" means /var/run/uci, "-" none (uci -C)
	SaveDir     string // staged changes are written here; "" means /tmp/.uci (uci -t, -P)
	DeltaDirs   []string
	// DeltaDirs are further directories of staged changes, replayed before
	// SaveDir's and never written (uci -p).

	// Lax skips lines with syntax errors instead of failing (uci -S).
	Lax bool

	nameAnonymous bool        // commit writes the names of anonymous sections (uci -n)
	warn          func(error) // reports the errors that Lax skips
}

func (c *Cursor) confDir() string     { return or(c.ConfDir, DefaultConfDir) }
func (c *Cursor) overrideDir() string { return or(c.OverrideDir, DefaultOverrideDir) }
func (c *Cursor) saveDir() string     { return or(c.SaveDir, DefaultSaveDir) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Load reads a package with its staged changes applied, as "uci show" sees
// it. name is a package name, or a path starting with "/" or "./" for a file
// outside ConfDir (which then has no staged changes: Save writes it at once).
func (c *Cursor) Load(name string) (*Package, error) { return c.load(name, true) }

// LoadCommitted reads a package as committed, without staged changes, as
// OpenWrt services read their configuration. Changes made to it are still
// staged by Save and applied by Commit.
func (c *Cursor) LoadCommitted(name string) (*Package, error) { return c.load(name, false) }

// path returns the file of package name and whether it is in the override
// directory.
func (c *Cursor) path(name string) (string, bool, error) {
	if !ValidPackage(name) {
		return "", false, fmt.Errorf("package name %q: %w", name, ErrInvalid)
	}
	if c.OverrideDir != "-" {
		p := filepath.Join(c.overrideDir(), name)
		if _, err := os.Stat(p); err == nil {
			return p, true, nil
		}
	}
	return filepath.Join(c.confDir(), name), false, nil
}

func (c *Cursor) load(name string, deltas bool) (*Package, error) {
	var path string
	inConfDir := true
	switch {
	case strings.HasPrefix(name, "/"), strings.HasPrefix(name, "./"):
		path, name, inConfDir = name, filepath.Base(name), false
	case strings.HasPrefix(name, "."):
		return nil, fmt.Errorf("package %q: %w", name, ErrNotFound)
	default:
		var err error
		if path, _, err = c.path(name); err != nil {
			return nil, err
		}
	}
	f, err := openLocked(path, false)
	if err != nil {
		return nil, err
	}
	defer closeLocked(f)
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, ioError("read", path, err)
	}
	p, err := c.parse(data, path, name)
	if err != nil {
		return nil, err
	}
	p.path, p.hasDelta = path, inConfDir
	if deltas {
		if _, err := c.loadDeltas(p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// parse reads config text as package name with the cursor's strictness.
func (c *Cursor) parse(data []byte, file, name string) (*Package, error) {
	_, p, err := importText(newStream(bytes.NewReader(data)), file, name, nil, true, !c.Lax, c.warn)
	if err != nil {
		return nil, err
	}
	p.cur = c
	return p, nil
}

// openLocked opens a config file and locks it, shared for reading or
// exclusive for writing (created if missing). It checks after locking that
// the path still names the locked file, so that a lock never ends up on a
// file that a concurrent commit has just replaced; libuci lacks this check
// and loses changes when two processes commit at once.
func openLocked(path string, write bool) (*os.File, error) {
	for {
		var f *os.File
		var err error
		if write {
			f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, newFileMode(path))
		} else {
			fi, serr := os.Stat(path)
			if serr != nil || !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
			}
			f, err = os.Open(path)
		}
		if err != nil {
			return nil, ioError("open", path, err)
		}
		if err := lockFile(f, write); err != nil {
			f.Close()
			return nil, ioError("lock", path, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return f, nil
		}
		closeLocked(f)
		if err2 != nil && !write {
			return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
		}
	}
}

func closeLocked(f *os.File) {
	unlockFile(f)
	f.Close()
}

// newFileMode is the mode of a new config or change file: that of the file
// of the same name in the same directory's config if any, else 0600.
func newFileMode(path string) os.FileMode {
	if fi, err := os.Stat(path); err == nil {
		return fi.Mode().Perm()
	}
	return 0o600
}

// newFileMode for change files follows the config file of the package.
func (c *Cursor) newFileMode(pkg string) os.FileMode {
	return newFileMode(filepath.Join(c.confDir(), pkg))
}

// Configs lists the packages in ConfDir, sorted, as "uci show" walks them.
func (c *Cursor) Configs() ([]string, error) {
	dir := c.confDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", dir, ErrNotFound, err)
	}
	var names []string
	seen := 0
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		seen++
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.IsDir() {
			continue
		}
		if ValidPackage(name) {
			names = append(names, name)
		}
	}
	if seen == 0 {
		return nil, fmt.Errorf("%s: no config files: %w", dir, ErrNotFound)
	}
	sort.Strings(names)
	return names, nil
}
