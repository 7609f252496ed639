package uci

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestLookupsPerSection (issue 11, finding 9): finding a section by name
// costs the same whatever the number of sections. Parsing n named
// sections, replaying a change to each and looking each up compares a
// bounded number of sections (and options) per section, counted, never
// timed (on main it compared n²/2: `uci get` took 57 s at 100k sections).
func TestLookupsPerSection(t *testing.T) {
	for _, n := range []int{1000, 10000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var conf, changes bytes.Buffer
			for i := 0; i < n; i++ {
				fmt.Fprintf(&conf, "config host 'h%d'\n\toption ip '10.0.%d.%d'\n", i, i/256, i%256)
				fmt.Fprintf(&changes, "idx.h%d.ip='10.1.%d.%d'\n", i, i/256, i%256)
			}
			p, err := Parse("idx", conf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			parsed := p.probes
			p.hasDelta = true
			if got := p.replay(changes.Bytes()); got != n {
				t.Fatalf("replayed %d changes, want %d", got, n)
			}
			for i := 0; i < n; i++ {
				s := p.Section(fmt.Sprintf("h%d", i))
				if s == nil || s.String("ip", "") != fmt.Sprintf("10.1.%d.%d", i/256, i%256) {
					t.Fatalf("section h%d: %v", i, s)
				}
			}
			if perSection := float64(p.probes) / float64(n); perSection > 8 {
				t.Errorf("%d sections: %d sections and options compared (%.0f per section; parse alone %d), want at most 8 per section",
					n, p.probes, perSection, parsed)
			}
		})
	}
}

// TestLookupAfterRename: the index follows renames, deletes and reorders,
// and with two sections of one name (a rename can make them) the first in
// file order is found, as libuci finds it.
func TestLookupAfterRename(t *testing.T) {
	p, err := Parse("r", []byte("config t 'a'\nconfig t 'b'\nconfig t 'c'\nconfig u\n"))
	if err != nil {
		t.Fatal(err)
	}
	p.hasDelta = true
	steps := []struct {
		do   func() error
		name string
		want string // the found section's type and position, "" for none
	}{
		{func() error { return p.Rename("a", "", "x") }, "a", ""},
		{nil, "x", "t@0"},
		{func() error { return p.Rename("c", "", "x") }, "x", "t@0"},
		{func() error { return p.Reorder("c", 0) }, "x", "t@0"}, // no section c any more
		{func() error { return p.Reorder("x", 5) }, "x", "t@1"}, // the first x moved to the end: the other one is first now
		{func() error { return p.Delete("x", "") }, "x", "t@2"},
		{func() error { return p.Delete("x", "") }, "x", ""},
		{func() error { return p.Set("b", "", "v") }, "b", "v@0"},
	}
	for i, st := range steps {
		if st.do != nil {
			st.do() // some fail on purpose (a section that is gone)
		}
		s := p.Section(st.name)
		got := ""
		if s != nil {
			got = fmt.Sprintf("%s@%d", s.Type(), p.sectionIndex(s))
		}
		if got != st.want {
			var b bytes.Buffer
			exportPackage(&b, p, true, true)
			t.Fatalf("step %d: section %q is %q, want %q; package:\n%s", i, st.name, got, st.want, strings.TrimSpace(b.String()))
		}
	}
}

// TestLookupsPerOption: the same for the options of one section: reading
// and looking up n options compares a bounded number per option.
func TestLookupsPerOption(t *testing.T) {
	for _, n := range []int{1000, 10000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var conf bytes.Buffer
			conf.WriteString("config host 'h'\n")
			for i := 0; i < n; i++ {
				fmt.Fprintf(&conf, "\toption o%d '%d'\n\tlist l%d 'a'\n\tlist l%d 'b'\n", i, i, i, i)
			}
			p, err := Parse("idx", conf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			s := p.Section("h")
			for i := 0; i < n; i++ {
				if v, _ := s.Get(fmt.Sprintf("o%d", i)); v != fmt.Sprint(i) {
					t.Fatalf("option o%d = %q", i, v)
				}
				if l := s.List(fmt.Sprintf("l%d", i)); len(l) != 2 {
					t.Fatalf("list l%d = %q", i, l)
				}
			}
			if per := float64(p.probes) / float64(n); per > 12 {
				t.Errorf("%d options: %d compared (%.0f per option), want at most 12 per option", n, p.probes, per)
			}
		})
	}
}

// TestOptionLookupAfterRename: the option index follows renames and
// deletes; with two options of one name the first is found.
func TestOptionLookupAfterRename(t *testing.T) {
	var conf bytes.Buffer
	conf.WriteString("config t 's'\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&conf, "\toption o%d '%d'\n", i, i)
	}
	p, err := Parse("r", conf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	p.hasDelta = true
	check := func(step, name, want string) {
		t.Helper()
		got := ""
		if o := p.Section("s").Option(name); o != nil {
			got = o.Value()
		}
		if got != want {
			t.Fatalf("%s: option %s = %q, want %q", step, name, got, want)
		}
	}
	check("parsed", "o39", "39")
	p.Rename("s", "o3", "x")
	check("renamed away", "o3", "")
	check("renamed", "x", "3")
	p.Rename("s", "o30", "x")
	check("two named x", "x", "3")
	p.Delete("s", "x")
	check("first x deleted", "x", "30")
	p.Delete("s", "x")
	check("both deleted", "x", "")
	p.Set("s", "x", "new")
	check("set anew", "x", "new")
	p.AddList("s", "y", "a")
	check("list added", "y", "a")
}
