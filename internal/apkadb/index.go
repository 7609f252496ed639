package apkadb

import (
	"bytes"
	"crypto/sha256"
	"fmt"
)

// IndexEntry is a package file to index: its bytes as served.
type IndexEntry struct {
	Name string // for error messages
	Data []byte
}

// BuildIndex makes a packages.adb as `apk mkndx --sign-key` makes it from
// the package files, in the order given: each package's info copied value by
// value, its file size, and as its hash the SHA-256 of its ADB block, which
// apk checks a downloaded package against.
func BuildIndex(description string, pkgs []IndexEntry, keys []*Key) ([]byte, error) {
	if err := validText(description); err != nil {
		return nil, fmt.Errorf("description: %w", err)
	}
	block, err := indexADB(description, pkgs)
	if err != nil {
		return nil, err
	}
	stream, err := container(SchemaIndex, block, keys, nil)
	if err != nil {
		return nil, err
	}
	return compress(stream)
}

// indexADB writes the index's ADB block.
func indexADB(description string, pkgs []IndexEntry) ([]byte, error) {
	d := newADB()
	ndx := d.newObj(ndxMax)
	arr := d.newObj(128)
	pi := d.newObj(piMax)
	for _, p := range pkgs {
		f, err := Parse(p.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		if f.Schema != SchemaPackage {
			return nil, fmt.Errorf("%s: not a package (schema %#08x)", p.Name, f.Schema)
		}
		root, err := readSlots(f.ADB, f.Root())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		src, err := readSlots(f.ADB, slot(root, pkgInfo))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		if len(src) > piMax {
			src = src[:piMax]
		}
		// adb_wo_copyobj
		for i := 1; i < len(src); i++ {
			v, err := d.copyVal(f.ADB, src[i])
			if err != nil {
				return nil, fmt.Errorf("%s: info field %d: %w", p.Name, i, err)
			}
			pi.set(i, v)
		}
		sum := sha256.Sum256(f.ADB)
		pi.set(piFileSize, d.integer(uint64(len(p.Data))))
		pi.set(piHashes, d.blob(sum[:]))
		arr.add(pi.write(typeObject))
	}
	ndx.set(ndxDescription, d.blob([]byte(description)))
	arr.sortBy(func(a, b []uint32) bool {
		for _, i := range []int{piName, piVersion, piHashes} {
			if c := bytes.Compare(d.blobOf(slot(a, i)), d.blobOf(slot(b, i))); c != 0 {
				return c < 0
			}
		}
		return false
	})
	ndx.set(ndxPackages, arr.write(typeObject))
	d.setRoot(ndx.write(typeObject))
	return d.buf, nil
}
