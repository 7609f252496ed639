package telemetry

import "golang.org/x/sys/unix"

// statFilesystem reports the size and use of the filesystem mounted at path
// (shown as mount in the document).
func statFilesystem(path, mount string) (Filesystem, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return Filesystem{}, err
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
