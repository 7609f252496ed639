package apkadb

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: whatever the bytes, Parse, the decoders and indexing a package
// return an error or a value, never panic or loop.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"hello-1.0-r1.apk", "hello-1.0-r1.signed.apk", "packages.adb"} {
		b, err := os.ReadFile(filepath.Join(vectors, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		// The same, uncompressed: the fuzzer then mutates the ADB block.
		if p, err := Parse(b); err == nil {
			f.Add(p.Stream)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		p.DecodePackage()
		p.DecodeIndex()
		BuildIndex("", []IndexEntry{{Name: "fuzz", Data: b}}, nil)
	})
}
