package uci

import (
	"bytes"
	"errors"
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
// values, writes it as export and commit do (and its changes as Save
// does), and reads it back: what is read has exactly the package,
// sections and options the API accepted, with their values. Names outside the grammar are refused by the API;
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
		p.hasDelta = true // record the changes, as Save writes them
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
		// The change file Save writes replays to the same package. (Not for
		// a package name starting with '-', which libuci's change format
		// cannot tell from a delete; libuci's grammar allows it, the
		// conformance vectors keep it, and only the owner names packages.)
		var changes bytes.Buffer
		for _, c := range p.Changes() {
			changes.WriteString(c.Line(pkg) + "\n")
		}
		r, _ := Parse(pkg, nil)
		r.hasDelta = true
		r.replay(changes.Bytes())
		if got, want := dump(r, true), dump(p, true); got != want && pkg[0] != '-' {
			t.Fatalf("change file replays to:\n%s\nwant:\n%s\nchanges:\n%s", got, want, changes.Bytes())
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

// TestSetUnresolvedExtendedRef: Set with an extended reference that finds
// no section creates nothing (libuci would create a section named
// "@t[9]", which the writers then write and no reader takes back).
func TestSetUnresolvedExtendedRef(t *testing.T) {
	p, err := Parse("p", []byte("config t 'a'\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"@t[9]", "@u[0]", "@t[-5]"} {
		if err := p.Set(ref, "", "t"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Set(%q) = %v, want ErrNotFound", ref, err)
		}
	}
	empty, _ := Parse("p", nil)
	if err := empty.Set("@[]", "", "t"); !errors.Is(err, ErrNotFound) || len(empty.Sections()) != 0 {
		t.Errorf("Set(@[]) on an empty package = %v, %d sections; want ErrNotFound and none", err, len(empty.Sections()))
	}
	if err := p.Set("@t[0]", "", "u"); err != nil || p.Section("a").Type() != "u" {
		t.Errorf("Set(@t[0]) of an existing section: %v", err)
	}
	if n := len(p.Sections()); n != 1 {
		t.Errorf("%d sections, want 1", n)
	}
}
