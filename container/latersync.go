package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Deferred durability. A deploy that a start follows at once writes the
// layer's marker and the container's config without waiting for the disk
// (writeFileLater): lxc-start reads them from the page cache. Their fsyncs
// run after lxc-start, beside the fsync of the record that says started,
// and that record is renamed into place only once they are done
// (store.save with pending files). Until then the record on disk still
// names a state below deployed, so a power loss in between leaves what
// the next converge rebuilds anyway: a marker that does not parse (the
// layer is built again) and an empty or torn config (lxc-destroy removes
// it; TestPowerLossBeforeStarted). A crash of the agent alone loses
// nothing: the page cache holds the files.

// writeFileLater replaces path with data like writeFileAtomic (a temp
// file in the same directory renamed over path) but does not sync: the
// caller hands path to syncLater before it counts on the file after a
// power loss.
func writeFileLater(path string, data []byte, perm os.FileMode) error {
	return writeTemp(path, data, perm, false, func(tmp string) error { return os.Rename(tmp, path) })
}

// syncLater makes files written by writeFileLater durable: each file's
// contents and the directory entry naming it, all at once (one journal
// commit can carry them together). The caller counts on none of them
// until all are done; a name that reaches the disk before its file's
// contents leaves what a power loss before the sync leaves anyway (an
// empty or zero-filled file). A file or directory that is gone (a failed
// deploy tore it down) has nothing left to sync.
func syncLater(paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	all := append([]string(nil), paths...)
	seen := map[string]bool{}
	for _, p := range paths {
		if d := filepath.Dir(p); !seen[d] {
			seen[d] = true
			all = append(all, d)
		}
	}
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, p := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = syncPath(p)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// syncPath fsyncs one file or directory; one that does not exist is not
// an error. It is opened without following a symlink and without blocking
// (a FIFO in its place fails the fsync instead of hanging).
func syncPath(p string) error {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", p, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", p, err)
	}
	return nil
}
