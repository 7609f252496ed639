package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nodekeeper/nodekeeper/internal/safefile"
)

// ErrLocked is returned by Open when another process (the agent, or another
// CLI command) manages the state directory.
var ErrLocked = errors.New("state directory is in use by another nodekeeper process")

// store keeps one JSON record per sliver in dir/slivers, each written
// atomically, and holds an exclusive lock on dir for as long as it is open.
type store struct {
	dir   string
	ro    bool // openStoreShared: save and delete refuse
	lock  *os.File
	saves atomic.Uint64 // records written (each an fsync'ed write)
}

func openStore(ctx context.Context, dir string) (*store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "slivers"), 0o750); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	lockPath := filepath.Join(dir, "lock")
	for {
		f, err := lockExclusive(lockPath)
		if err == nil {
			return &store{dir: dir, lock: f}, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("state dir %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("state dir %s: %w (%v)", dir, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// openStoreShared opens dir to read only: nothing is created; a shared
// lock is taken on its lock file if there is one (a writer holding it
// exclusively is waited for until ctx ends).
func openStoreShared(ctx context.Context, dir string) (*store, error) {
	st := &store{dir: dir, ro: true}
	lockPath := filepath.Join(dir, "lock")
	for {
		f, err := lockShared(lockPath)
		if errors.Is(err, os.ErrNotExist) {
			return st, nil
		}
		if err == nil {
			st.lock = f
			return st, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("state dir %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("state dir %s: %w (%v)", dir, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *store) close() error {
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close()
	s.lock = nil
	return err
}

func (s *store) path(name string) string {
	return filepath.Join(s.dir, "slivers", name+".json")
}

// load reads every record. A record that does not parse is an error naming
// its file: a sliver is never silently forgotten.
func (s *store) load() (map[string]*Sliver, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, "slivers"))
	if s.ro && errors.Is(err, os.ErrNotExist) {
		return map[string]*Sliver{}, nil // nothing made yet: no slivers
	}
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	out := map[string]*Sliver{}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			// A temp file of a write that a crash interrupted (a start's
			// record is prepared while lxc-start runs): nothing waits
			// for it once the store is locked for writing.
			if !s.ro && !e.IsDir() && strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".json.tmp") {
				os.Remove(filepath.Join(s.dir, "slivers", e.Name()))
			}
			continue
		}
		b, err := safefile.ReadFile(s.path(name), maxRecord)
		if err != nil {
			return nil, fmt.Errorf("sliver record: %w", err)
		}
		var sl Sliver
		if err := json.Unmarshal(b, &sl); err != nil {
			return nil, fmt.Errorf("sliver record %s: %w", s.path(name), err)
		}
		if sl.Name != name {
			return nil, fmt.Errorf("sliver record %s: names sliver %q", s.path(name), sl.Name)
		}
		if sl.State.level() < 0 {
			return nil, fmt.Errorf("sliver record %s: unknown state %q", s.path(name), sl.State)
		}
		out[name] = &sl
	}
	return out, nil
}

// maxRecord bounds a sliver record file (a spec is at most some KiB).
const maxRecord = 1 << 20

// save writes sl's record atomically. The files in pending (written by
// writeFileLater) are synced beside the record's own fsync, and the record
// replaces the old one only once they are on disk: what it says never gets
// ahead of them.
func (s *store) save(sl *Sliver, pending ...string) error {
	b, err := s.encode(sl)
	if err != nil {
		return err
	}
	if err := writeFileAfter(s.path(sl.Name), b, 0o640, pending, nil); err != nil {
		return fmt.Errorf("sliver %s: save: %w", sl.Name, err)
	}
	s.saves.Add(1)
	return nil
}

// encode is sl's record as the store writes it; a store opened read-only
// refuses.
func (s *store) encode(sl *Sliver) ([]byte, error) {
	if s.ro {
		return nil, fmt.Errorf("sliver %s: save: %w", sl.Name, ErrReadOnly)
	}
	b, err := json.MarshalIndent(sl, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sliver %s: %w", sl.Name, err)
	}
	return append(b, '\n'), nil
}

// prepared is a record written ahead of the step it records (a start:
// lxc-start runs meanwhile). The caller then calls commit or abort once.
type prepared struct {
	s       *store
	name    string
	decide  chan bool
	done    chan error
	updated time.Time // the record's Updated
}

// prepare starts saving sl's record in the background: its temp file
// written and synced, beside the files in pending, as save does, but
// renamed into place only when commit says so.
func (s *store) prepare(sl *Sliver, pending []string) (*prepared, error) {
	b, err := s.encode(sl)
	if err != nil {
		return nil, err
	}
	p := &prepared{s: s, name: sl.Name, decide: make(chan bool, 1), done: make(chan error, 1)}
	path := s.path(sl.Name)
	go func() { p.done <- writeFileAfter(path, b, 0o640, pending, p.decide) }()
	return p, nil
}

// commit renames the prepared record into place once it and the pending
// files are synced, and syncs the directory: save's guarantees.
func (p *prepared) commit() error {
	p.decide <- true
	if err := <-p.done; err != nil {
		return fmt.Errorf("sliver %s: save: %w", p.name, err)
	}
	p.s.saves.Add(1)
	return nil
}

// abort removes the prepared record; the record on disk stays as it was.
func (p *prepared) abort() {
	p.decide <- false
	<-p.done
}

func (s *store) delete(name string) error {
	if s.ro {
		return fmt.Errorf("sliver %s: delete record: %w", name, ErrReadOnly)
	}
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sliver %s: delete record: %w", name, err)
	}
	return syncDir(filepath.Dir(s.path(name)))
}

// writeFileAtomic replaces path with data: a temp file in the same
// directory, synced, renamed over path, and the directory synced.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeFileAfter(path, data, perm, nil, nil)
}

// errNotCommitted is what a prepared write that was aborted returns.
var errNotCommitted = errors.New("not committed")

// writeFileAfter is writeFileAtomic that also syncs the files in pending
// (syncLater), beside the temp file's fsync, and renames the temp file
// over path only when both are done and, if decide is not nil, it says
// true (false removes the temp file instead).
func writeFileAfter(path string, data []byte, perm os.FileMode, pending []string, decide <-chan bool) error {
	synced := make(chan error, 1)
	if len(pending) > 0 {
		go func() { synced <- syncLater(pending) }()
	} else {
		synced <- nil
	}
	err := writeTemp(path, data, perm, true, func(tmp string) error {
		if err := <-synced; err != nil {
			return err
		}
		if decide != nil && !<-decide {
			return errNotCommitted
		}
		return os.Rename(tmp, path)
	})
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes data to a temp file beside path, synced if sync is
// set, and hands its name to commit; the temp file is removed unless
// commit renamed it.
func writeTemp(path string, data []byte, perm os.FileMode, sync bool, commit func(tmp string) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return commit(tmp)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
