package uci

import (
	"bytes"
	"fmt"
	"testing"
)

// dump lists a package's sections and options, names and values, in
// order. Without anonNames anonymous sections go by position, as their
// names are made up anew at every read of a text that does not name them.
func dump(p *Package, anonNames bool) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "package %q\n", p.Name())
	for i, s := range p.Sections() {
		name := s.Name()
		if s.Anonymous() && !anonNames {
			name = fmt.Sprintf("@%d", i)
		}
		fmt.Fprintf(&b, "section %q type %q\n", name, s.Type())
		for _, o := range s.Options() {
			fmt.Fprintf(&b, "\toption %q list %v %q\n", o.Name(), o.IsList(), o.Values())
		}
	}
	return b.String()
}

// FuzzUCIWriter builds a package through the API from arbitrary names and
// values, writes it as export and commit do, and reads it back: what is
// read has exactly the package, sections and options the API accepted,
// with their values. Names outside the grammar are refused by the API;
// values are quoted. No input makes a package, section or option it did
// not name.
func FuzzUCIWriter(f *testing.F) {
	f.Add("net", "interface", "lan", "ipaddr", "10.0.0.1", "wan", uint8(0))
	f.Add("net", "t", "s", "o", "a'b\nconfig evil 'x'\n\toption y 'z", "n", uint8(1))
	f.Add("net\npackage other", "t\nconfig x", "s\n", "o x", "v", "o\n\toption evil", uint8(2))
	f.Add("p", "t#;'\"\\", "s", "o", "\\'\"\r\n\t", "r", uint8(7))
	f.Fuzz(func(t *testing.T, pkg, typ, sec, opt, val, newName string, mode uint8) {
		p, err := Parse(pkg, nil)
		if err != nil || p == nil {
			return
		}
		p.Set(sec, "", typ)
		if mode&1 != 0 {
			p.AddList(sec, opt, val)
			p.AddList(sec, opt, newName)
		} else {
			p.Set(sec, opt, val)
		}
		if a, err := p.AddSection(typ); err == nil {
			p.Set(a.Name(), opt, val)
		}
		switch mode >> 1 & 3 {
		case 1:
			p.Rename(sec, "", newName)
		case 2:
			p.Rename(sec, opt, newName)
		case 3:
			p.Set(sec, newName, val)
		}
		for _, header := range []bool{true, false} { // export; commit
			for _, nameAnon := range []bool{false, true} {
				var b bytes.Buffer
				exportPackage(&b, p, header, nameAnon)
				q, err := Parse(pkg, b.Bytes())
				if err != nil {
					t.Fatalf("the writer's text does not read back: %v\n%s", err, b.Bytes())
				}
				if got, want := dump(q, nameAnon), dump(p, nameAnon); got != want {
					t.Fatalf("read back:\n%s\nwant:\n%s\ntext:\n%s", got, want, b.Bytes())
				}
			}
		}
	})
}
