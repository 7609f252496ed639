package apkadb

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The vectors were made by the real apk-tools 3.0.6 (testdata/vectors/README.md).
const vectors = "testdata/vectors"

const vectorEpoch = 1700000000

func readVector(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectors, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseVector(t *testing.T, name string) *File {
	t.Helper()
	f, err := Parse(readVector(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

// dumpInfo is a package info as `apk adbdump --format json` prints it.
type dumpInfo struct {
	Name          string   `json:"name"`
	Version       string   `json:"version"`
	Hashes        string   `json:"hashes"`
	Description   string   `json:"description"`
	Arch          string   `json:"arch"`
	License       string   `json:"license"`
	Origin        string   `json:"origin"`
	Maintainer    string   `json:"maintainer"`
	URL           string   `json:"url"`
	InstalledSize uint64   `json:"installed-size"`
	FileSize      uint64   `json:"file-size"`
	Depends       []string `json:"depends"`
}

type dumpACL struct {
	Mode  uint32 `json:"mode"`
	User  string `json:"user"`
	Group string `json:"group"`
}

type dumpPackage struct {
	Info  dumpInfo `json:"info"`
	Paths []struct {
		Name  string  `json:"name"`
		ACL   dumpACL `json:"acl"`
		Files []struct {
			Name  string  `json:"name"`
			ACL   dumpACL `json:"acl"`
			Size  uint64  `json:"size"`
			Mtime uint64  `json:"mtime"`
			Hash  string  `json:"hash"`
		} `json:"files"`
	} `json:"paths"`
	Scripts map[string]string `json:"scripts"`
}

func checkInfo(t *testing.T, what string, got Info, want dumpInfo) {
	t.Helper()
	g := dumpInfo{Name: got.Name, Version: got.Version, Hashes: hex.EncodeToString(got.Hashes), Description: got.Description,
		Arch: got.Arch, License: got.License, Origin: got.Origin, Maintainer: got.Maintainer, URL: got.URL,
		InstalledSize: got.InstalledSize, FileSize: got.FileSize, Depends: got.Depends}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("%s: info\n got %+v\nwant %+v", what, g, want)
	}
}

// TestReadVectors decodes the real tool's files field by field and compares
// with its own adbdump of them: the reader reads what apk writes.
func TestReadVectors(t *testing.T) {
	var want dumpPackage
	if err := json.Unmarshal(readVector(t, "hello-1.0-r1.adbdump.json"), &want); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hello-1.0-r1.apk", "hello-1.0-r1.signed.apk"} {
		f := parseVector(t, name)
		if !f.Compressed || f.Schema != SchemaPackage {
			t.Errorf("%s: compressed %v schema %#x", name, f.Compressed, f.Schema)
		}
		p, err := f.DecodePackage()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkInfo(t, name, p.Info, want.Info)
		if len(p.Paths) != len(want.Paths) {
			t.Fatalf("%s: %d paths, want %d", name, len(p.Paths), len(want.Paths))
		}
		for i, d := range p.Paths {
			w := want.Paths[i]
			if d.Name != w.Name || d.ACL != (ACL(w.ACL)) || len(d.Files) != len(w.Files) {
				t.Errorf("%s: path %d = %q %+v %d files, want %q %+v %d files", name, i, d.Name, d.ACL, len(d.Files), w.Name, w.ACL, len(w.Files))
				continue
			}
			for j, e := range d.Files {
				wf := w.Files[j]
				if e.Name != wf.Name || e.ACL != ACL(wf.ACL) || e.Size != wf.Size || e.Mtime != wf.Mtime || hex.EncodeToString(e.Hash) != wf.Hash {
					t.Errorf("%s: %s/%s = %+v, want %+v", name, d.Name, e.Name, e, wf)
				}
			}
		}
		if !reflect.DeepEqual(p.Scripts, want.Scripts) {
			t.Errorf("%s: scripts\n got %q\nwant %q", name, p.Scripts, want.Scripts)
		}
		// Every data block holds the content its file's hash names.
		if len(f.Data) != 5 {
			t.Errorf("%s: %d data blocks, want 5 (adbdump)", name, len(f.Data))
		}
		for _, db := range f.Data {
			e := p.Paths[db.Path-1].Files[db.File-1]
			if sum := sha256Hex(db.Content); sum != hex.EncodeToString(e.Hash) || uint64(len(db.Content)) != e.Size {
				t.Errorf("%s: data block %d/%d: sha256 %s size %d, want %x %d", name, db.Path, db.File, sum, len(db.Content), e.Hash, e.Size)
			}
		}
	}

	var wantIdx struct {
		Packages []dumpInfo `json:"packages"`
	}
	if err := json.Unmarshal(readVector(t, "packages.adb.adbdump.json"), &wantIdx); err != nil {
		t.Fatal(err)
	}
	x, err := parseVector(t, "packages.adb").DecodeIndex()
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Packages) != len(wantIdx.Packages) {
		t.Fatalf("index: %d packages, want %d", len(x.Packages), len(wantIdx.Packages))
	}
	for i := range x.Packages {
		checkInfo(t, "index", x.Packages[i], wantIdx.Packages[i])
	}
}

// TestVectorSignatures checks the real tool's signatures with the vectors'
// public key, and that a changed ADB block or another key fails.
func TestVectorSignatures(t *testing.T) {
	pub, err := ParsePublicKey(readVector(t, "packages.adb.public-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	other := testKey(t, "ec").Public()
	for _, name := range []string{"packages.adb", "hello-1.0-r1.signed.apk"} {
		f := parseVector(t, name)
		if err := f.Verify(pub); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := f.Verify(other); err == nil {
			t.Errorf("%s: verified with an unrelated key", name)
		}
		f.ADB = append([]byte(nil), f.ADB...)
		f.ADB[len(f.ADB)-1] ^= 1
		if err := f.Verify(pub); err == nil {
			t.Errorf("%s: verified with a changed ADB block", name)
		}
	}
	if err := parseVector(t, "hello-1.0-r1.apk").Verify(pub); err == nil {
		t.Error("unsigned package verified")
	}
}

// stageVector writes the tree a vector package was made from: its
// directories and files with their modes, contents from its data blocks.
func stageVector(t *testing.T, f *File, p *Package) string {
	t.Helper()
	root := t.TempDir()
	content := map[[2]uint32][]byte{}
	for _, d := range f.Data {
		content[[2]uint32{d.Path, d.File}] = d.Content
	}
	for i, d := range p.Paths {
		dir := filepath.Join(root, d.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for j, e := range d.Files {
			fp := filepath.Join(dir, e.Name)
			if err := os.WriteFile(fp, content[[2]uint32{uint32(i + 1), uint32(j + 1)}], 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(fp, os.FileMode(e.ACL.Mode)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := len(p.Paths) - 1; i >= 0; i-- {
		if err := os.Chmod(filepath.Join(root, p.Paths[i].Name), os.FileMode(p.Paths[i].ACL.Mode)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// specOf is the mkpkg command line a decoded package was made with.
func specOf(p *Package, files string) *PackageSpec {
	s := &PackageSpec{Name: p.Info.Name, Version: p.Info.Version, Description: p.Info.Description, Arch: p.Info.Arch,
		License: p.Info.License, Origin: p.Info.Origin, Maintainer: p.Info.Maintainer, URL: p.Info.URL,
		Depends: strings.Join(p.Info.Depends, " "), Files: files, Mtime: vectorEpoch, Scripts: map[string][]byte{}}
	for k, v := range p.Scripts {
		s.Scripts[k] = []byte(v)
	}
	return s
}

// TestPackageMatchesVector rebuilds each vector package from its inputs and
// compares: the ADB block byte for byte (values, their order and sharing,
// the unique id), the data blocks, and the whole uncompressed file.
func TestPackageMatchesVector(t *testing.T) {
	for _, name := range []string{"hello-1.0-r1.apk", "hello-1.1-r1.apk"} {
		t.Run(name, func(t *testing.T) {
			vf := parseVector(t, name)
			vp, err := vf.DecodePackage()
			if err != nil {
				t.Fatal(err)
			}
			out, err := BuildPackage(specOf(vp, stageVector(t, vf, vp)))
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.ADB, vf.ADB) {
				t.Errorf("ADB block differs from apk mkpkg's at byte %d (%d vs %d bytes)", firstDiff(f.ADB, vf.ADB), len(f.ADB), len(vf.ADB))
			}
			if !reflect.DeepEqual(f.Data, vf.Data) {
				t.Errorf("data blocks differ")
			}
			if !bytes.Equal(f.Stream, vf.Stream) {
				t.Errorf("uncompressed file differs at byte %d", firstDiff(f.Stream, vf.Stream))
			}
		})
	}
}

// TestIndexMatchesVector indexes the two vector packages and compares the
// ADB block with apk mkndx's byte for byte; the signature (ECDSA, random)
// differs, so it is verified instead.
func TestIndexMatchesVector(t *testing.T) {
	var pkgs []IndexEntry
	for _, n := range []string{"hello-1.0-r1.apk", "hello-1.1-r1.apk"} {
		pkgs = append(pkgs, IndexEntry{Name: n, Data: readVector(t, n)})
	}
	for _, kind := range []string{"ec", "rsa"} {
		key := testKey(t, kind)
		out, err := BuildIndex("", pkgs, []*Key{key})
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		vf := parseVector(t, "packages.adb")
		if !bytes.Equal(f.ADB, vf.ADB) {
			t.Errorf("%s: ADB block differs from apk mkndx's at byte %d", kind, firstDiff(f.ADB, vf.ADB))
		}
		if err := f.Verify(key.Public()); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
		if len(f.Sigs) != 1 || len(f.Data) != 0 {
			t.Errorf("%s: %d signatures, %d data blocks; want 1, 0", kind, len(f.Sigs), len(f.Data))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
