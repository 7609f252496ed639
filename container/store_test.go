package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tempStore opens a store, locked for writing, in a new temp directory;
// it is closed when the test ends.
func tempStore(t *testing.T) (*store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := openStore(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.close() })
	return st, dir
}

func TestStoreRoundTrip(t *testing.T) {
	st, dir := tempStore(t)
	s := &Sliver{Spec: Spec{Name: "a", Slice: "x", ID: 3, Template: Archive{URL: "/t", SHA256: "h"}, Request: Start,
		Data: &Archive{URL: "/d", SHA256: "d"}}, State: FailStart, Error: "boom", DeployedSN: 2, Updated: time.Unix(1, 0).UTC()}
	if err := st.save(s); err != nil {
		t.Fatal(err)
	}
	// A temp file an interrupted write left is not a record, and goes.
	tmp := filepath.Join(dir, "slivers", ".b.json.tmp123")
	os.WriteFile(tmp, []byte("{"), 0o600)
	got, err := st.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got["a"], s) {
		t.Fatalf("loaded %+v, want %+v", got["a"], s)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temp file %s left after load: %v", tmp, err)
	}
	if err := st.delete("a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.load(); len(got) != 0 {
		t.Errorf("deleted record still loads: %v", got)
	}
}

func TestStoreBadRecords(t *testing.T) {
	tests := []struct{ name, file, body, errHas string }{
		{"not json", "a.json", "{", "sliver record"},
		{"wrong name", "a.json", `{"name":"b","state":"registered"}`, `names sliver "b"`},
		{"unknown state", "a.json", `{"name":"a","state":"exploded"}`, `unknown state "exploded"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, dir := tempStore(t)
			os.WriteFile(filepath.Join(dir, "slivers", tt.file), []byte(tt.body), 0o600)
			_, err := st.load()
			if err == nil || !strings.Contains(err.Error(), tt.errHas) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %v, want one naming %s with %q", err, tt.file, tt.errHas)
			}
		})
	}
}

// TestStoreLock: a second store on the same directory waits for the first
// and gives up with ErrLocked (naming the holder) when its context ends.
func TestStoreLock(t *testing.T) {
	dir := t.TempDir()
	a, err := openStore(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = openStore(ctx, dir)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("second open: %v, want ErrLocked with the holder's pid", err)
	}
	done := make(chan error, 1)
	go func() {
		b, err := openStore(context.Background(), dir)
		if err == nil {
			b.close()
		}
		done <- err
	}()
	a.close()
	if err := <-done; err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, body := range []string{"one", "two"} {
		if err := writeFileAtomic(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != body {
			t.Errorf("read %q, want %q", b, body)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temp files left: %v", ents)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// TestSaveWaitsForPending: a record saved with pending files (latersync.go)
// replaces the old one only once they are synced; files a failed deploy
// removed have nothing left to sync.
func TestSaveWaitsForPending(t *testing.T) {
	dir := t.TempDir()
	later := filepath.Join(dir, "later")
	if err := os.Mkdir(later, 0o750); err != nil {
		t.Fatal(err)
	}
	written := filepath.Join(later, "config")
	if err := writeFileLater(written, []byte("lxc.uts.name = x\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	// fsync of a FIFO fails (EINVAL): the stand-in for a disk that
	// cannot make a pending file durable.
	fifo := filepath.Join(later, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		pending []string
		wantErr bool
	}{
		{"none", nil, false},
		{"written later", []string{written}, false},
		{"torn down", []string{filepath.Join(later, "gone"), filepath.Join(dir, "no-dir", "marker")}, false},
		{"sync fails", []string{written, fifo}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := filepath.Join(dir, "rec-"+strings.ReplaceAll(tc.name, " ", "-"))
			if err := writeFileAtomic(rec, []byte("old"), 0o640); err != nil {
				t.Fatal(err)
			}
			err := writeFileAfter(rec, []byte("new"), 0o640, tc.pending, nil)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want an error: %v", err, tc.wantErr)
			}
			want := "new"
			if tc.wantErr {
				want = "old"
				if !strings.Contains(err.Error(), fifo) {
					t.Errorf("error %q does not name %s", err, fifo)
				}
			}
			if b, _ := os.ReadFile(rec); string(b) != want {
				t.Errorf("record holds %q, want %q", b, want)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, ".rec-*")); len(m) != 0 {
				t.Errorf("temp files left: %v", m)
			}
		})
	}
}

// TestPrepared: a record written ahead of its step (store.prepare) takes
// the place of the old one only when committed, once it and the pending
// files are synced; aborted, or with a pending file that cannot be
// synced, the old record stays and no temp file is left.
func TestPrepared(t *testing.T) {
	st, dir := tempStore(t)
	fifo := filepath.Join(dir, "fifo") // fsync of a FIFO fails (EINVAL)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	written := filepath.Join(dir, "config")
	if err := writeFileLater(written, []byte("x\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		pending []string
		commit  bool
		want    State
		wantErr bool
	}{
		{"committed", []string{written}, true, Started, false},
		{"aborted", []string{written}, false, Deployed, false},
		{"sync fails", []string{written, fifo}, true, Deployed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-")
			old := &Sliver{Spec: Spec{Name: name}, State: Deployed}
			if err := st.save(old); err != nil {
				t.Fatal(err)
			}
			p, err := st.prepare(&Sliver{Spec: Spec{Name: name}, State: Started}, tc.pending)
			if err != nil {
				t.Fatal(err)
			}
			if tc.commit {
				err = p.commit()
			} else {
				p.abort()
			}
			if (err != nil) != tc.wantErr || (tc.wantErr && !strings.Contains(err.Error(), fifo)) {
				t.Errorf("commit: %v, want an error naming %s: %v", err, fifo, tc.wantErr)
			}
			recs, err := st.load()
			if err != nil || recs[name] == nil || recs[name].State != tc.want {
				t.Errorf("record on disk %+v (%v), want %s", recs[name], err, tc.want)
			}
			if tmp, _ := filepath.Glob(filepath.Join(dir, "slivers", ".*")); len(tmp) != 0 {
				t.Errorf("temp files left: %v", tmp)
			}
		})
	}
}
