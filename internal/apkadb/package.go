package apkadb

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// MaxPackageFile bounds a file read into a package.
const MaxPackageFile = 128 << 20

// PackageSpec is what `apk mkpkg` takes: --info values, --script files and
// --files DIR.
type PackageSpec struct {
	Name, Version    string
	Description      string
	Arch             string
	License          string
	Origin           string
	Maintainer       string
	URL              string
	ProviderPriority uint64
	// Depends and Provides are space-separated dependency lists.
	Depends, Provides string
	// Scripts by type: post-install, pre-deinstall, post-upgrade, ...
	Scripts map[string][]byte
	// Files is the directory whose tree the package installs; "" for none.
	Files string
	// Mtime is every file's mtime (SOURCE_DATE_EPOCH): packages do not
	// depend on when they were staged.
	Mtime uint64
	// Keys sign the package (apk adbsign); none leaves it unsigned.
	Keys []*Key
}

// stagedFile is a regular file of the tree with its content.
type stagedFile struct {
	name    string
	mode    uint32
	content []byte
}

// stagedDir is a directory of the tree: its mode and regular files.
type stagedDir struct {
	name  string
	mode  uint32
	files []stagedFile
}

// readTree reads root as mkpkg scans it: every directory, sorted by path
// (the root first), with its regular files sorted by name. Owners are
// recorded as root:root (as under OpenWrt's fakeroot); symlinks, devices and
// hard links are refused.
func readTree(root string) ([]stagedDir, error) {
	var dirs []stagedDir
	var walk func(rel string) error
	walk = func(rel string) error {
		full := filepath.Join(root, rel)
		st, err := os.Lstat(full)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			return fmt.Errorf("%s: not a directory", full)
		}
		ents, err := os.ReadDir(full)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		d := stagedDir{name: filepath.ToSlash(rel), mode: uint32(st.Mode().Perm()) | modeBits(st.Mode())}
		if rel == "." {
			d.name = ""
		}
		var subdirs []string
		for _, n := range names {
			p := filepath.Join(full, n)
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			switch {
			case fi.IsDir():
				subdirs = append(subdirs, filepath.Join(rel, n))
			case fi.Mode().IsRegular():
				b, mode, err := readStaged(p)
				if err != nil {
					return err
				}
				d.files = append(d.files, stagedFile{name: n, mode: mode, content: b})
			default:
				return fmt.Errorf("%s: %s is not supported (regular files and directories only)", p, fi.Mode().Type())
			}
		}
		dirs = append(dirs, d)
		for _, s := range subdirs {
			if err := walk(s); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("."); err != nil {
		return nil, err
	}
	// mkpkg: the root, then every directory path in strcmp order.
	sort.SliceStable(dirs[1:], func(i, j int) bool { return dirs[1+i].name < dirs[1+j].name })
	return dirs, nil
}

// modeBits are the setuid, setgid and sticky bits of m as st_mode has them.
func modeBits(m os.FileMode) uint32 {
	var b uint32
	if m&os.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// readStaged reads a regular file without following a link or blocking on
// a FIFO swapped in, through the size limit.
func readStaged(p string) ([]byte, uint32, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s: not a regular file", p)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Nlink > 1 {
		return nil, 0, fmt.Errorf("%s: a hard link (%d names): stage a copy", p, sys.Nlink)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPackageFile+1))
	if err != nil {
		return nil, 0, err
	}
	if len(b) > MaxPackageFile {
		return nil, 0, fmt.Errorf("%s: larger than %d bytes", p, MaxPackageFile)
	}
	return b, uint32(st.Mode().Perm()) | modeBits(st.Mode()), nil
}

// check validates the spec's strings against apk's grammar before they
// reach the file.
func (s *PackageSpec) check() error {
	if !validName(s.Name) {
		return fmt.Errorf("name %q: want a letter or digit, then letters, digits and +-._", s.Name)
	}
	if !ValidVersion(s.Version) {
		return fmt.Errorf("version %q: not an apk version (like 0.1.0-r1)", s.Version)
	}
	if !validArch(s.Arch) {
		return fmt.Errorf("arch %q: want letters, digits, _ and -", s.Arch)
	}
	for _, t := range []struct{ k, v string }{{"description", s.Description}, {"license", s.License},
		{"origin", s.Origin}, {"maintainer", s.Maintainer}, {"url", s.URL}} {
		if err := validText(t.v); err != nil {
			return fmt.Errorf("%s: %w", t.k, err)
		}
	}
	for k := range s.Scripts {
		if scriptIndex(k) == 0 {
			return fmt.Errorf("script type %q: want one of %s", k, strings.Join(ScriptNames, ", "))
		}
	}
	return nil
}

func scriptIndex(name string) int {
	for i, n := range ScriptNames {
		if n == name {
			return i + 1
		}
	}
	return 0
}

// writeDeps is dependencies_fromstring and the array's pre-commit sort.
func writeDeps(d *adb, list string) (uint32, error) {
	deps, err := parseDeps(list)
	if err != nil {
		return 0, err
	}
	arr := d.newObj(32)
	dobj := d.newObj(depMax)
	for _, x := range deps {
		dobj.set(depName, d.blob([]byte(x.name)))
		if x.match != verAny {
			dobj.set(depVersion, d.blob([]byte(x.version)))
			if x.match != verEqual {
				dobj.set(depMatch, d.integer(x.match))
			}
		}
		arr.add(dobj.write(typeObject))
	}
	arr.sortBy(func(a, b []uint32) bool { return compareDep(d, a, b) < 0 })
	arr.uniq()
	return arr.write(typeObject), nil
}

// compareDep orders dependencies by name, version, match.
func compareDep(d *adb, a, b []uint32) int {
	if c := bytes.Compare(d.blobOf(slot(a, depName)), d.blobOf(slot(b, depName))); c != 0 {
		return c
	}
	if c := bytes.Compare(d.blobOf(slot(a, depVersion)), d.blobOf(slot(b, depVersion))); c != 0 {
		return c
	}
	return int(slot(a, depMatch)) - int(slot(b, depMatch))
}

// BuildPackage makes a .apk as `apk mkpkg` (then `apk adbsign` when keys
// are given) makes it: compressed, with the ADB block written value by
// value in mkpkg's order.
func BuildPackage(spec *PackageSpec) ([]byte, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	var dirs []stagedDir
	if spec.Files != "" {
		var err error
		if dirs, err = readTree(spec.Files); err != nil {
			return nil, err
		}
	}
	block, data, err := packageADB(spec, dirs)
	if err != nil {
		return nil, err
	}
	stream, err := container(SchemaPackage, block, spec.Keys, data)
	if err != nil {
		return nil, err
	}
	return compress(stream)
}

// packageADB writes the package's ADB block and returns it with the data
// blocks.
func packageADB(spec *PackageSpec, dirs []stagedDir) ([]byte, []DataBlock, error) {
	d := newADB()
	pkg := d.newObj(pkgMax)
	pi := d.newObj(piMax)
	// assign_fields: the --info values in field order.
	for _, f := range []struct {
		i int
		v string
	}{{piName, spec.Name}, {piVersion, spec.Version}, {piDescription, spec.Description}, {piArch, spec.Arch},
		{piLicense, spec.License}, {piOrigin, spec.Origin}, {piMaintainer, spec.Maintainer}, {piURL, spec.URL}} {
		pi.set(f.i, d.blob([]byte(f.v)))
	}
	if spec.ProviderPriority != 0 {
		pi.set(piProviderPriority, d.integer(spec.ProviderPriority))
	}
	for _, f := range []struct {
		i int
		v string
	}{{piDepends, spec.Depends}, {piProvides, spec.Provides}} {
		v, err := writeDeps(d, f.v)
		if err != nil {
			return nil, nil, err
		}
		pi.set(f.i, v)
	}

	// mkpkg_process_directory for the root and every directory.
	paths := d.newObj(128)
	files := d.newObj(128)
	fobj := d.newObj(fiMax)
	dobj := d.newObj(diMax)
	acl := d.newObj(aclMax)
	root := []byte("root")
	var installed uint64
	contents := map[string][]byte{}
	for _, dir := range dirs {
		for _, f := range dir.files {
			sum := sha256.Sum256(f.content)
			fobj.set(fiName, d.blob([]byte(f.name)))
			fobj.set(fiHashes, d.blob(sum[:]))
			fobj.set(fiMtime, d.integer(spec.Mtime))
			fobj.set(fiSize, d.integer(uint64(len(f.content))))
			acl.set(aclMode, d.integer(uint64(f.mode)))
			acl.set(aclUser, d.blob(root))
			acl.set(aclGroup, d.blob(root))
			fobj.set(fiACL, acl.write(typeObject))
			files.add(fobj.write(typeObject))
			installed += uint64(len(f.content))
			contents[Path(dir.name, f.name)] = f.content
		}
		dobj.set(diName, d.blob([]byte(dir.name)))
		acl.set(aclMode, d.integer(uint64(dir.mode)))
		acl.set(aclUser, d.blob(root))
		acl.set(aclGroup, d.blob(root))
		dobj.set(diACL, acl.write(typeObject))
		files.sortBy(func(a, b []uint32) bool {
			return bytes.Compare(d.blobOf(slot(a, fiName)), d.blobOf(slot(b, fiName))) < 0
		})
		dobj.set(diFiles, files.write(typeObject))
		paths.add(dobj.write(typeObject))
	}
	if spec.Files != "" && installed == 0 {
		installed = 1
	}
	if len(spec.Scripts) > 0 && installed == 0 {
		installed = 1
	}
	pi.set(piInstalledSize, d.integer(installed))
	pi.set(piHashes, d.blobRaw(make([]byte, 20)))
	pkg.set(pkgInfo, pi.write(typeObject))
	paths.sortBy(func(a, b []uint32) bool {
		return bytes.Compare(d.blobOf(slot(a, diName)), d.blobOf(slot(b, diName))) < 0
	})
	pkg.set(pkgPaths, paths.write(typeObject))
	if len(spec.Scripts) > 0 {
		sc := d.newObj(scriptMax)
		for i := 1; i < scriptMax; i++ {
			sc.set(i, d.blob(spec.Scripts[ScriptNames[i-1]]))
		}
		pkg.set(pkgScripts, sc.write(typeObject))
	}
	d.setRoot(pkg.write(typeObject))

	// The unique id: the first 20 bytes of the SHA-256 of the block with
	// the id still zero, written into its blob.
	rs := d.slotsOf(binaryRoot(d.buf))
	ps := d.slotsOf(slot(rs, pkgInfo))
	uidVal := slot(ps, piHashes)
	if uidVal&typeMask != typeBlob8 {
		return nil, nil, errors.New("unique id not written")
	}
	sum := sha256.Sum256(d.buf)
	off := int(uidVal&valueMask) + 1
	copy(d.buf[off:off+20], sum[:20])

	// Data blocks: every non-empty regular file, in the order of the
	// paths as written.
	var data []DataBlock
	rs = d.slotsOf(binaryRoot(d.buf))
	pathSlots := d.slotsOf(slot(rs, pkgPaths))
	for i := 1; i < len(pathSlots); i++ {
		ds := d.slotsOf(pathSlots[i])
		dirName := string(d.blobOf(slot(ds, diName)))
		fs := d.slotsOf(slot(ds, diFiles))
		for j := 1; j < len(fs); j++ {
			es := d.slotsOf(fs[j])
			name := string(d.blobOf(slot(es, fiName)))
			c := contents[Path(dirName, name)]
			if len(c) == 0 {
				continue
			}
			data = append(data, DataBlock{Path: uint32(i), File: uint32(j), Content: c})
		}
	}
	return d.buf, data, nil
}

// binaryRoot is the root value in an ADB block's header.
func binaryRoot(b []byte) uint32 {
	return uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24
}
