package apkadb

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTree makes a staging directory: path -> content ("/" suffix: a
// directory), each with mode.
func writeTree(t *testing.T, files map[string]os.FileMode, content map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, mode := range files {
		fp := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(fp, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fp, []byte(content[p]), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(fp, mode); err != nil {
			t.Fatal(err)
		}
	}
	for p, mode := range files {
		if strings.HasSuffix(p, "/") {
			if err := os.Chmod(filepath.Join(root, p), mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// TestPackageRoundTrip builds a package with every field the build uses and
// reads it back field by field: info, dependencies with versions, provides,
// directories and files with modes, sizes, mtimes and hashes, scripts, data
// blocks, the unique id and the signature.
func TestPackageRoundTrip(t *testing.T) {
	big := strings.Repeat("nodekeeper\n", 20000) // a blob past 64 KiB in a data block
	root := writeTree(t, map[string]os.FileMode{
		"usr/bin/nodekeeper":               0o755,
		"etc/config/nodekeeper":            0o600,
		"etc/nodekeeper/policies/":         0o755,
		"etc/nodekeeper/policies/a.lua":    0o644,
		"usr/libexec/rpcd/nodekeeper":      0o755,
		"lib/apk/packages/nodekeeper.list": 0o644,
		"usr/share/empty":                  0o644,
	}, map[string]string{
		"usr/bin/nodekeeper":               big,
		"etc/config/nodekeeper":            "config agent 'agent'\n",
		"etc/nodekeeper/policies/a.lua":    "return {}\n",
		"usr/libexec/rpcd/nodekeeper":      "#!/bin/sh\n",
		"lib/apk/packages/nodekeeper.list": "/usr/bin/nodekeeper\n",
	})
	key := testKey(t, "rsa")
	spec := &PackageSpec{Name: "nodekeeper-ssl", Version: "0.1.0-r1", Description: "node agent", Arch: "mips_24kc",
		License: "Apache-2.0", Origin: "feeds/nodekeeper/nodekeeper", URL: "https://example.org/nk", Maintainer: "A <a@b>",
		Depends: "libc lxc-start>=5.0 libc", Provides: "nodekeeper=0.1.0-r1", ProviderPriority: 100,
		Scripts: map[string][]byte{"post-install": []byte("#!/bin/sh\necho in\n"), "pre-deinstall": []byte("#!/bin/sh\necho out\n")},
		Files:   root, Mtime: 1234567890, Keys: []*Key{key}}
	out, err := BuildPackage(spec)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(key.Public()); err != nil {
		t.Error(err)
	}
	p, err := f.DecodePackage()
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := Info{Name: "nodekeeper-ssl", Version: "0.1.0-r1", Description: "node agent", Arch: "mips_24kc",
		License: "Apache-2.0", Origin: "feeds/nodekeeper/nodekeeper", Maintainer: "A <a@b>", URL: "https://example.org/nk",
		InstalledSize: uint64(len(big) + 21 + 10 + 10 + 20), ProviderPriority: 100,
		Depends: []string{"libc", "lxc-start>=5.0"}, Provides: []string{"nodekeeper=0.1.0-r1"}}
	gotInfo := p.Info
	gotInfo.Hashes = nil
	if !reflect.DeepEqual(gotInfo, wantInfo) {
		t.Errorf("info\n got %+v\nwant %+v", gotInfo, wantInfo)
	}
	// The unique id is the SHA-256 of the block with the id zeroed.
	blk := append([]byte(nil), f.ADB...)
	i := bytes.Index(blk, p.Info.Hashes)
	copy(blk[i:], make([]byte, 20))
	if sha256Hex(blk)[:40] != hex.EncodeToString(p.Info.Hashes) {
		t.Errorf("unique id %x is not the block's sha256", p.Info.Hashes)
	}
	var dirs []string
	files := map[string]Entry{}
	for _, d := range p.Paths {
		dirs = append(dirs, d.Name+":"+strings.TrimPrefix(modeString(d.ACL.Mode), "0"))
		if d.ACL.User != "root" || d.ACL.Group != "root" {
			t.Errorf("%s: owner %s:%s", d.Name, d.ACL.User, d.ACL.Group)
		}
		for _, e := range d.Files {
			files[Path(d.Name, e.Name)] = e
		}
	}
	wantDirs := []string{":755", "etc:755", "etc/config:755", "etc/nodekeeper:755", "etc/nodekeeper/policies:755",
		"lib:755", "lib/apk:755", "lib/apk/packages:755", "usr:755", "usr/bin:755", "usr/libexec:755",
		"usr/libexec/rpcd:755", "usr/share:755"}
	if !reflect.DeepEqual(dirs, wantDirs) {
		t.Errorf("paths\n got %v\nwant %v", dirs, wantDirs)
	}
	for name, mode := range map[string]uint32{"usr/bin/nodekeeper": 0o755, "etc/config/nodekeeper": 0o600,
		"usr/share/empty": 0o644, "usr/libexec/rpcd/nodekeeper": 0o755} {
		e, ok := files[name]
		if !ok || e.ACL.Mode != mode || e.Mtime != 1234567890 {
			t.Errorf("%s: %+v, want mode %o mtime 1234567890", name, e, mode)
		}
	}
	if e := files["usr/bin/nodekeeper"]; e.Size != uint64(len(big)) || hex.EncodeToString(e.Hash) != sha256Hex([]byte(big)) {
		t.Errorf("usr/bin/nodekeeper: size %d hash %x", e.Size, e.Hash)
	}
	want := map[string]string{"post-install": "#!/bin/sh\necho in\n", "pre-deinstall": "#!/bin/sh\necho out\n"}
	if !reflect.DeepEqual(p.Scripts, want) {
		t.Errorf("scripts %q", p.Scripts)
	}
	// One data block per non-empty file, naming it, with its content.
	if len(f.Data) != 5 {
		t.Errorf("%d data blocks, want 5 (the empty file has none)", len(f.Data))
	}
	for _, d := range f.Data {
		e := p.Paths[d.Path-1].Files[d.File-1]
		if sha256Hex(d.Content) != hex.EncodeToString(e.Hash) {
			t.Errorf("data block %d/%d does not hold %s", d.Path, d.File, e.Name)
		}
	}
}

func modeString(m uint32) string { return "0" + strings.TrimLeft(octal(m), "0") }

func octal(m uint32) string {
	s := ""
	for ; m > 0; m /= 8 {
		s = string(rune('0'+m%8)) + s
	}
	return "0" + s
}

// TestPackageReproducible builds the same tree twice, the second time
// staged in another order with other mtimes, and gets the same bytes.
func TestPackageReproducible(t *testing.T) {
	files := map[string]os.FileMode{"usr/bin/x": 0o755, "etc/config/x": 0o600, "etc/x/": 0o755}
	content := map[string]string{"usr/bin/x": "binary", "etc/config/x": "config x"}
	var outs [][]byte
	for range 2 {
		root := writeTree(t, files, content)
		out, err := BuildPackage(&PackageSpec{Name: "x", Version: "1.0-r1", Arch: "noarch", Files: root, Mtime: 42,
			Scripts: map[string][]byte{"post-install": []byte("#!/bin/sh\n")}})
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two builds of the same tree differ")
	}
}

// TestPackageRejects: bad info values and trees are refused with an error
// naming them, before anything is written.
func TestPackageRejects(t *testing.T) {
	ok := func() *PackageSpec { return &PackageSpec{Name: "nodekeeper", Version: "0.1.0-r1", Arch: "mips_24kc"} }
	link := t.TempDir()
	if err := os.Symlink("/etc/passwd", filepath.Join(link, "passwd")); err != nil {
		t.Fatal(err)
	}
	hard := t.TempDir()
	if err := os.WriteFile(filepath.Join(hard, "a"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(hard, "a"), filepath.Join(hard, "b")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(*PackageSpec)
		want string
	}{
		{"name with slash", func(s *PackageSpec) { s.Name = "../x" }, "name"},
		{"empty name", func(s *PackageSpec) { s.Name = "" }, "name"},
		{"opkg version", func(s *PackageSpec) { s.Version = "0.1.0-1" }, "version"},
		{"version with space", func(s *PackageSpec) { s.Version = "1 .0" }, "version"},
		{"arch with slash", func(s *PackageSpec) { s.Arch = "mips/24kc" }, "arch"},
		{"newline in description", func(s *PackageSpec) { s.Description = "a\nb" }, "description"},
		{"bad dependency", func(s *PackageSpec) { s.Depends = "libc, lxc" }, "dependency"},
		{"conflict", func(s *PackageSpec) { s.Depends = "!nodekeeper" }, "dependency"},
		{"bad dependency version", func(s *PackageSpec) { s.Depends = "libc>=x.y" }, "dependency"},
		{"unknown script", func(s *PackageSpec) { s.Scripts = map[string][]byte{"postinst": nil} }, "script type"},
		{"symlink", func(s *PackageSpec) { s.Files = link }, "not supported"},
		{"hard link", func(s *PackageSpec) { s.Files = hard }, "hard link"},
		{"missing dir", func(s *PackageSpec) { s.Files = filepath.Join(link, "none") }, "no such file"},
	} {
		s := ok()
		c.edit(s)
		_, err := BuildPackage(s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := BuildPackage(ok()); err != nil {
		t.Errorf("the valid spec: %v", err)
	}
}

// TestValidVersion against apk's version grammar.
func TestValidVersion(t *testing.T) {
	for v, want := range map[string]bool{
		"0.1.0-r1": true, "1.0": true, "1.2.3a_rc2-r10": true, "2024.01.01_git20240101-r0": true, "1.0_p1": true,
		"1.0~abc123-r1": true, "": false, "-r1": false, "1.0-1": false, "1.0-r": false, "1..0": false, "1.0_foo": false,
		"v1.0": false, "1.0 ": false,
	} {
		if got := ValidVersion(v); got != want {
			t.Errorf("ValidVersion(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestParseRejects: Parse refuses what apk refuses.
func TestParseRejects(t *testing.T) {
	good := readVector(t, "hello-1.0-r1.signed.apk")
	f, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	s := f.Stream
	sigAt := 8 + (4+len(f.ADB)+7)/8*8
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte("ADB"), "shorter"},
		{"magic", []byte("XYZ.pckgxxxx"), "magic"},
		{"truncated", s[:len(s)-10], "out of range"},
		{"sig after data", append(append([]byte(nil), s[:sigAt]...), mustBlock(blockData, 8, blockSig)...), "out of order"},
		{"no adb", []byte("ADB.pckg"), "no ADB block"},
		{"bad deflate", append([]byte("ADBd"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "inflating"},
	} {
		_, err := Parse(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}

// mustBlock is a data block of n zero bytes, then an empty block of type next.
func mustBlock(typ uint32, n int, next uint32) []byte {
	b := appendBlock(nil, typ, make([]byte, n))
	return appendBlock(b, next, []byte{0, 0})
}
