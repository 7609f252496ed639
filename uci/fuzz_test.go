package uci

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// seedCorpus adds the config files of the conformance vectors.
func seedCorpus(f *testing.F) {
	files, _ := filepath.Glob("testdata/vectors/*.json")
	for _, name := range files[:min(len(files), 80)] {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data) // JSON is not config text, but a fine mutation source
	}
	for _, s := range []string{
		"config a 'x'\n\toption v 1\n\tlist l a\n\tlist l 'b c'\n",
		"c a; o v \"x\\\ny\"\nconfig b\n\toption w 'it'\\''s'\n",
		"package p\nconfig t 'n'\n# comment\n\toption o 'multi\nline'\r\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParseExport checks that parsing never panics and that what export
// writes parses back to the same package.
func FuzzParseExport(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lax := range []bool{false, true} {
			c := &Cursor{Lax: lax}
			p, err := c.parse(data, "fuzz", "fuzz")
			if err != nil {
				continue
			}
			var e1, e2 bytes.Buffer
			exportPackage(&e1, p, true, false)
			q, err := Parse("fuzz", e1.Bytes())
			if err != nil {
				t.Fatalf("export of %q does not parse: %v\nexport:\n%s", data, err, e1.Bytes())
			}
			exportPackage(&e2, q, true, false)
			if !bytes.Equal(e1.Bytes(), e2.Bytes()) {
				t.Fatalf("export of %q is not stable:\nfirst:\n%s\nsecond:\n%s", data, e1.Bytes(), e2.Bytes())
			}
		}
	})
}

// FuzzChanges replays arbitrary change-file text: it must never panic, and
// the result must still export.
func FuzzChanges(f *testing.F) {
	base := "config a 'x'\n\toption v 1\n\tlist l a\nconfig b\n\toption w 2\n"
	for _, s := range []string{
		"fuzz.x.v='2'\n+fuzz.cfg03b606='c'\n-fuzz.x.l\n",
		"|fuzz.x.l='b'\n~fuzz.x.l='a'\n@fuzz.x='y'\n^fuzz.y='1'\n-fuzz.y.l='0'\n",
		"fuzz.x.v='multi\nline'\nfuzz.x.q=\"a\\\"b\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz", []byte(base))
		if err != nil {
			t.Fatal(err)
		}
		p.hasDelta = true
		p.replay(data)
		var b bytes.Buffer
		exportPackage(&b, p, true, true)
		if len(p.saved) > 0 && b.Len() == 0 {
			t.Fatal("empty export")
		}
	})
}
