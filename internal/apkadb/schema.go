package apkadb

import (
	"fmt"
	"strconv"
	"strings"
)

// Info is a package's info object (schema pkginfo), as mkpkg writes it into
// a package and mkndx into an index.
type Info struct {
	Name, Version    string
	Hashes           []byte // package: unique id (20 bytes); index: sha256 of the package's ADB block
	Description      string
	Arch             string
	License          string
	Origin           string
	Maintainer       string
	URL              string
	InstalledSize    uint64
	FileSize         uint64
	ProviderPriority uint64
	Depends          []string
	Provides         []string
}

// ACL is the owner and mode of a path.
type ACL struct {
	Mode        uint32
	User, Group string
}

// Entry is a regular file of a package directory.
type Entry struct {
	Name  string
	ACL   ACL
	Size  uint64
	Mtime uint64
	Hash  []byte // sha256 of the content
}

// Dir is a directory of a package with the files directly in it; the root
// directory has the name "".
type Dir struct {
	Name  string
	ACL   ACL
	Files []Entry
}

// Package is a decoded package ADB block.
type Package struct {
	Info    Info
	Paths   []Dir
	Scripts map[string]string
}

// Index is a decoded index ADB block.
type Index struct {
	Description string
	Packages    []Info
}

// decoder reads typed values of one ADB block, keeping the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) slots(v uint32) []uint32 {
	s, err := readSlots(d.b, v)
	if err != nil && d.err == nil {
		d.err = err
	}
	return s
}

func (d *decoder) str(v uint32) string {
	b, err := readBlob(d.b, v)
	if err != nil && d.err == nil {
		d.err = err
	}
	return string(b)
}

func (d *decoder) bytes(v uint32) []byte {
	b, err := readBlob(d.b, v)
	if err != nil && d.err == nil {
		d.err = err
	}
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func (d *decoder) int(v uint32) uint64 {
	n, err := readInt(d.b, v)
	if err != nil && d.err == nil {
		d.err = err
	}
	return n
}

func (d *decoder) deps(v uint32) []string {
	s := d.slots(v)
	var out []string
	for i := 1; i < len(s); i++ {
		ds := d.slots(s[i])
		name := d.str(slot(ds, depName))
		ver := d.str(slot(ds, depVersion))
		match := d.int(slot(ds, depMatch))
		out = append(out, depString(name, ver, match))
	}
	return out
}

// depString is dependency_tostring.
func depString(name, ver string, match uint64) string {
	if match == 0 {
		match = verEqual
	}
	if ver == "" {
		return name
	}
	op := ""
	switch match &^ 16 {
	case verEqual:
		op = "="
	case verLess:
		op = "<"
	case verGreater:
		op = ">"
	case verLess | verEqual:
		op = "<="
	case verGreater | verEqual:
		op = ">="
	default:
		op = "?" + strconv.FormatUint(match, 10)
	}
	if match&16 != 0 {
		name = "!" + name
	}
	return name + op + ver
}

func (d *decoder) info(v uint32) Info {
	s := d.slots(v)
	return Info{
		Name:             d.str(slot(s, piName)),
		Version:          d.str(slot(s, piVersion)),
		Hashes:           d.bytes(slot(s, piHashes)),
		Description:      d.str(slot(s, piDescription)),
		Arch:             d.str(slot(s, piArch)),
		License:          d.str(slot(s, piLicense)),
		Origin:           d.str(slot(s, piOrigin)),
		Maintainer:       d.str(slot(s, piMaintainer)),
		URL:              d.str(slot(s, piURL)),
		InstalledSize:    d.int(slot(s, piInstalledSize)),
		FileSize:         d.int(slot(s, piFileSize)),
		ProviderPriority: d.int(slot(s, piProviderPriority)),
		Depends:          d.deps(slot(s, piDepends)),
		Provides:         d.deps(slot(s, piProvides)),
	}
}

func (d *decoder) acl(v uint32) ACL {
	s := d.slots(v)
	return ACL{Mode: uint32(d.int(slot(s, aclMode))), User: d.str(slot(s, aclUser)), Group: d.str(slot(s, aclGroup))}
}

// DecodePackage decodes the ADB block of a package file.
func (f *File) DecodePackage() (*Package, error) {
	if f.Schema != SchemaPackage {
		return nil, fmt.Errorf("schema %#08x is not a package's (%#08x)", f.Schema, SchemaPackage)
	}
	d := &decoder{b: f.ADB}
	root := d.slots(f.Root())
	p := &Package{Info: d.info(slot(root, pkgInfo)), Scripts: map[string]string{}}
	paths := d.slots(slot(root, pkgPaths))
	for i := 1; i < len(paths); i++ {
		ds := d.slots(paths[i])
		dir := Dir{Name: d.str(slot(ds, diName)), ACL: d.acl(slot(ds, diACL))}
		files := d.slots(slot(ds, diFiles))
		for j := 1; j < len(files); j++ {
			fs := d.slots(files[j])
			if slot(fs, fiTarget) != 0 {
				d.err = fmt.Errorf("%s: links and special files are not supported", d.str(slot(fs, fiName)))
			}
			dir.Files = append(dir.Files, Entry{
				Name:  d.str(slot(fs, fiName)),
				ACL:   d.acl(slot(fs, fiACL)),
				Size:  d.int(slot(fs, fiSize)),
				Mtime: d.int(slot(fs, fiMtime)),
				Hash:  d.bytes(slot(fs, fiHashes)),
			})
		}
		p.Paths = append(p.Paths, dir)
	}
	scripts := d.slots(slot(root, pkgScripts))
	for i := 1; i < len(scripts) && i <= len(ScriptNames); i++ {
		if scripts[i] != 0 {
			p.Scripts[ScriptNames[i-1]] = d.str(scripts[i])
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("package ADB block: %w", d.err)
	}
	return p, nil
}

// DecodeIndex decodes the ADB block of a repository index.
func (f *File) DecodeIndex() (*Index, error) {
	if f.Schema != SchemaIndex {
		return nil, fmt.Errorf("schema %#08x is not an index's (%#08x)", f.Schema, SchemaIndex)
	}
	d := &decoder{b: f.ADB}
	root := d.slots(f.Root())
	x := &Index{Description: d.str(slot(root, ndxDescription))}
	pkgs := d.slots(slot(root, ndxPackages))
	for i := 1; i < len(pkgs); i++ {
		x.Packages = append(x.Packages, d.info(pkgs[i]))
	}
	if d.err != nil {
		return nil, fmt.Errorf("index ADB block: %w", d.err)
	}
	return x, nil
}

// Path joins a directory and a file name as a package path, without the
// leading slash.
func Path(dir, name string) string {
	if dir == "" {
		return name
	}
	return strings.TrimSuffix(dir, "/") + "/" + name
}
