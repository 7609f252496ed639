//go:build !linux

package telemetry

// procFile reads a file again and again (elsewhere than Linux: plainly).
type procFile struct {
	path string
	buf  []byte
}

func newProcFile(path string) *procFile { return &procFile{path: path} }

func (f *procFile) read() ([]byte, error) {
	var err error
	f.buf, err = readInto(f.buf, f.path)
	return f.buf, err
}

func (f *procFile) close() {}
