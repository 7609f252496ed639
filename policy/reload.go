package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/nodekeeper/nodekeeper/internal/safefile"
)

// Reload brings the engine in line with the policy directory: new and
// changed files are loaded, removed files unloaded, unchanged files left
// alone (their policies keep their state and schedule). A file that fails
// to load keeps its previous version running. The agent calls it on
// SIGHUP; Run calls it when the directory changes. The error joins every
// file's *LoadError.
func (e *Engine) Reload() error {
	if e.cfg.Dir == "" {
		return errors.New("policy: no policy directory configured")
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	files, err := readPolicyDir(e.cfg.Dir)
	if err != nil {
		return err
	}
	// The files are read before the engine is locked: a slow read never
	// holds up the policies that run.
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	var errs []error
	now := time.Now()
	for _, f := range files {
		name, src := f.name, f.src
		seen[name] = true
		if se, ok := f.err.(*safefile.Error); ok {
			// Too big, or not a regular file: the file's load error, as a
			// syntax error is (logged by Reload's caller); its previous
			// version keeps running.
			// It counts as failed (FailedFiles) until a read succeeds,
			// and is reported once while it stays as it is.
			mark := []byte("\x00refused " + f.stat)
			if prev, ok := e.failed[name]; ok && bytes.Equal(prev, mark) {
				continue
			}
			problem := name + ":1: " + se.Reason
			e.failed[name] = mark
			e.emit(Decision{Time: now, Source: name, Trigger: "load", Error: problem})
			errs = append(errs, &LoadError{File: name, Problems: []string{problem}})
			continue
		}
		if f.err != nil {
			errs = append(errs, fmt.Errorf("policy: %w", f.err))
			continue
		}
		if f := e.files[name]; f != nil && bytes.Equal(f.src, src) {
			delete(e.failed, name) // a failed edit reverted: what runs is the file
			continue
		}
		if prev, ok := e.failed[name]; ok && bytes.Equal(prev, src) {
			continue // already reported
		}
		if err := e.load(name, src, now); err != nil {
			errs = append(errs, err)
		}
	}
	for name := range e.files {
		if !seen[name] {
			e.unload(name)
		}
	}
	for name := range e.failed {
		if !seen[name] {
			delete(e.failed, name)
		}
	}
	return errors.Join(errs...)
}

// dirFile is one policy file as read from the directory.
type dirFile struct {
	name string
	src  []byte
	err  error
	stat string // for a file refused unread: its type, size and mtime
}

// readPolicyDir reads the policy files of dir. Anyone who can write the
// directory names what is read: each file is opened without blocking,
// must be a regular file (a FIFO or a link to /dev/zero is refused) and
// is read through the size limit.
func readPolicyDir(dir string) ([]dirFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("policy: reading %s: %w", dir, err)
	}
	var files []dirFile
	for _, ent := range entries {
		name := ent.Name()
		if ent.IsDir() || !strings.HasSuffix(name, ".lua") || strings.HasSuffix(name, "_test.lua") || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		src, err := safefile.ReadFile(path, maxFileSize)
		f := dirFile{name: name, src: src, err: err}
		if fi, serr := os.Lstat(path); err != nil && serr == nil {
			f.stat = fmt.Sprintf("%v %d %d", fi.Mode().Type(), fi.Size(), fi.ModTime().UnixNano())
		}
		files = append(files, f)
	}
	return files, nil
}

// Run loads the policy directory, then evaluates periodic policies on
// their schedule and reloads changed files until ctx is done. Events and
// admissions are fed separately (Event, Admit) and may run concurrently.
func (e *Engine) Run(ctx context.Context) error {
	var changes <-chan fsnotify.Event
	if e.cfg.Dir != "" {
		// The watch starts before the first load, so that a file written
		// in between is not missed until the next change.
		if w, err := fsnotify.NewWatcher(); err != nil {
			e.log.Warn("policy: no file watch, reload on SIGHUP only", "error", err)
		} else {
			defer w.Close()
			if err := w.Add(e.cfg.Dir); err != nil {
				e.log.Warn("policy: no file watch, reload on SIGHUP only", "dir", e.cfg.Dir, "error", err)
			} else {
				changes = w.Events
			}
		}
		if err := e.Reload(); err != nil {
			e.log.Error("policy: initial load", "error", err)
		}
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var settle <-chan time.Time
	for {
		wait := time.Minute
		if next, ok := e.nextDue(); ok {
			wait = min(max(time.Until(next), 0), time.Minute)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.wake:
		case <-changes:
			// Editors write in several steps: reload once they settle.
			settle = time.After(200 * time.Millisecond)
		case <-settle:
			settle = nil
			if err := e.Reload(); err != nil {
				e.log.Error("policy: reload", "error", err)
			}
		case <-timer.C:
			e.Tick(ctx, time.Now())
		}
	}
}
