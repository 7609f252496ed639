package telemetry

import (
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// rawStatfsPaths holds the paths whose statfs goes through rawStatfs
// (rawsys_linux.go): their filesystem, or for a path that does not exist
// the nearest existing directory's, answers statfs from memory. A raw statfs
// that finds another kind of filesystem there (a network filesystem mounted
// since) takes the path off the list.
var rawStatfsPaths sync.Map // string -> struct{}

// statFilesystem reports the size and use of the filesystem mounted at path
// (shown as mount in the document).
func statFilesystem(path, mount string) (Filesystem, error) {
	var st unix.Statfs_t
	if _, ok := rawStatfsPaths.Load(path); ok {
		err := rawStatfs(path, &st)
		if err == nil && !localFS(int64(st.Type)) {
			rawStatfsPaths.Delete(path)
		}
		if err != nil {
			return Filesystem{}, err
		}
	} else {
		err := unix.Statfs(path, &st)
		if localStatfs(path, &st, err) {
			rawStatfsPaths.Store(path, struct{}{})
		}
		if err != nil {
			return Filesystem{}, err
		}
	}
	bs := int64(st.Bsize)
	fs := Filesystem{
		Mount:     mount,
		SizeBytes: int64(st.Blocks) * bs,
		FreeBytes: int64(st.Bavail) * bs,
		UsedBytes: int64(st.Blocks-st.Bfree) * bs,
	}
	if avail := fs.UsedBytes + fs.FreeBytes; avail > 0 {
		fs.UsedPercent = round3(100 * float64(fs.UsedBytes) / float64(avail))
	}
	return fs, nil
}

// localStatfs tells from a statfs of path (st, err) whether statfs of path
// answers from memory: its filesystem is local, or it does not exist and
// its nearest existing parent is on a local filesystem.
func localStatfs(path string, st *unix.Statfs_t, err error) bool {
	for range 64 {
		if err == nil {
			return localFS(int64(st.Type))
		}
		if err != unix.ENOENT && err != unix.ENOTDIR {
			return false
		}
		parent := filepath.Dir(path)
		if parent == path {
			return false
		}
		path = parent
		var pst unix.Statfs_t
		err = unix.Statfs(path, &pst)
		st = &pst
	}
	return false
}
