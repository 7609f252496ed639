package uci

import (
	"fmt"
	"strconv"
	"strings"
)

// A Package is one config file (/etc/config/<name>) with its sections in file
// order, usually with the staged changes of the save directory applied.
// A Package is not safe for concurrent use.
type Package struct {
	name     string
	sections []*Section
	nSection int // libuci's n_section: sections created so far, for cfgXXYYYY names

	path     string // file it was read from; "" for imported packages
	hasDelta bool   // changes are staged in change files (not for packages read by path)
	pending  []Change
	saved    []Change
	cur      *Cursor

	// byName indexes the sections by name for lookupSection (a linear
	// search made reading n sections cost n²): the *Section of that name,
	// or nil when several have it (only a rename makes that). It is a
	// map[string]any, a type the binary has anyway: a map type of its own
	// costs about 1 KB of the router's flash.
	byName map[string]any
	// probes counts the sections and options lookups compared, for the
	// tests that keep lookups from growing with their number.
	probes int
}

// A Section is a typed group of options, named or anonymous. Anonymous
// sections carry libuci's generated name cfgXXYYYY.
type Section struct {
	name      string
	typ       string
	anonymous bool
	options   []*Option
	pkg       *Package
	// byName indexes the options once there are optionIndexMin of them,
	// as Package.byName does the sections.
	byName map[string]any
}

// optionIndexMin is the number of options from which a section indexes
// them: below it a search is as quick.
const optionIndexMin = 16

// An Option is a single value ("option") or a list of values ("list").
type Option struct {
	name   string
	isList bool
	value  string
	values []string
}

func newPackage(name string) *Package { return &Package{name: name} }

// Name returns the package name.
func (p *Package) Name() string { return p.name }

// Path returns the file the package was read from, or "".
func (p *Package) Path() string { return p.path }

// Sections returns all sections in order.
func (p *Package) Sections() []*Section { return append(p.sections[:0:0], p.sections...) }

// SectionsOfType returns the sections of the given type in order.
func (p *Package) SectionsOfType(typ string) []*Section {
	var out []*Section
	for _, s := range p.sections {
		if s.typ == typ {
			out = append(out, s)
		}
	}
	return out
}

// Section returns the section with the given name, or nil. The name may also
// use uci's extended syntax: "@type[i]" or "@[i]", with negative indexes
// counting from the end.
func (p *Package) Section(name string) *Section {
	if ValidName(name) {
		return p.lookupSection(name)
	}
	s, _ := p.extSection(name)
	return s
}

// lookupSection finds the first section in file order with the given
// name, as libuci's uci_lookup_list does.
func (p *Package) lookupSection(name string) *Section {
	v, ok := p.byName[name]
	p.probes++
	if s, _ := v.(*Section); s != nil || !ok {
		return s
	}
	for _, s := range p.sections {
		p.probes++
		if s.name == name {
			return s
		}
	}
	return nil
}

// indexName adds v (a *Section or *Option) to an index under name; a name
// several have maps to nil, and a lookup of it searches in order.
func indexName(m map[string]any, name string, v any) {
	if _, taken := m[name]; taken {
		m[name] = nil
	} else {
		m[name] = v
	}
}

// unindexName removes v from an index before it is renamed or deleted. A
// name several had stays nil: its lookups search, which a rename alone
// makes happen.
func unindexName(m map[string]any, name string, v any) {
	if m[name] == v {
		delete(m, name)
	}
}

func (p *Package) sectionIndex(s *Section) int {
	for i, x := range p.sections {
		if x == s {
			return i
		}
	}
	return -1
}

// extSection resolves "@type[idx]" like libuci's uci_lookup_ext_section. It
// returns ErrInvalid for malformed references and (nil, nil) when the index
// is out of range.
func (p *Package) extSection(ref string) (*Section, error) {
	if !strings.HasPrefix(ref, "@") {
		return nil, fmt.Errorf("section %q: %w", ref, ErrInvalid)
	}
	name, idxs, ok := strings.Cut(ref[1:], "[")
	if !ok || !strings.HasSuffix(idxs, "]") || strings.IndexByte(idxs, ']') != len(idxs)-1 {
		return nil, fmt.Errorf("section %q: %w", ref, ErrInvalid)
	}
	idx, rest := cStrtol(idxs[:len(idxs)-1])
	if rest != "" {
		return nil, fmt.Errorf("section %q: %w", ref, ErrInvalid)
	}
	if name != "" && !ValidType(name) {
		return nil, fmt.Errorf("section %q: %w", ref, ErrInvalid)
	}
	i := int(int32(idx)) // libuci stores strtol's result in an int
	match := func(s *Section) bool { return name == "" || s.typ == name }
	if i < 0 {
		for _, s := range p.sections {
			if match(s) {
				i++
			}
		}
	}
	for _, s := range p.sections {
		if !match(s) {
			continue
		}
		if i == 0 {
			return s, nil
		}
		i--
	}
	return nil, nil
}

// Name returns the section name (cfgXXYYYY for anonymous sections).
func (s *Section) Name() string { return s.name }

// Type returns the section type.
func (s *Section) Type() string { return s.typ }

// Anonymous reports whether the section has no name in the file.
func (s *Section) Anonymous() bool { return s.anonymous }

// Options returns the options in order.
func (s *Section) Options() []*Option { return append(s.options[:0:0], s.options...) }

// Option returns the named option, or nil.
func (s *Section) Option(name string) *Option {
	if s.byName != nil {
		v, ok := s.byName[name]
		s.pkg.probes++
		if o, _ := v.(*Option); o != nil || !ok {
			return o
		}
	}
	for _, o := range s.options {
		s.pkg.probes++
		if o.name == name {
			return o
		}
	}
	return nil
}

// addOption appends o, indexing the options once there are enough.
func (s *Section) addOption(o *Option) {
	s.options = append(s.options, o)
	switch {
	case s.byName != nil:
		indexName(s.byName, o.name, o)
	case len(s.options) >= optionIndexMin:
		s.byName = map[string]any{}
		for _, o := range s.options {
			indexName(s.byName, o.name, o)
		}
	}
}

// Get returns an option's value; a list's values are joined by spaces, as
// the shell's config_get does. ok is false if the option is not set.
func (s *Section) Get(name string) (value string, ok bool) {
	o := s.Option(name)
	if o == nil {
		return "", false
	}
	return o.Value(), true
}

// String returns an option's value, or def if it is not set.
func (s *Section) String(name, def string) string {
	if v, ok := s.Get(name); ok {
		return v
	}
	return def
}

// Bool returns an option as a boolean in OpenWrt's words (see ParseBool), or
// def if it is not set. An unknown word yields def and an error naming it.
func (s *Section) Bool(name string, def bool) (bool, error) {
	v, ok := s.Get(name)
	if !ok {
		return def, nil
	}
	b, err := ParseBool(v)
	if err != nil {
		return def, fmt.Errorf("%s.%s.%s: %w", s.pkgName(), s.name, name, err)
	}
	return b, nil
}

// Int returns an option as a decimal integer, or def if it is not set.
func (s *Section) Int(name string, def int) (int, error) {
	v, ok := s.Get(name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return def, fmt.Errorf("%s.%s.%s: not an integer: %q", s.pkgName(), s.name, name, v)
	}
	return n, nil
}

// List returns a list option's values; a single option yields a one-element
// list and a missing option nil.
func (s *Section) List(name string) []string {
	if o := s.Option(name); o != nil {
		return o.Values()
	}
	return nil
}

func (s *Section) pkgName() string {
	if s.pkg == nil {
		return ""
	}
	return s.pkg.name
}

// Name returns the option name.
func (o *Option) Name() string { return o.name }

// IsList reports whether the option is a list.
func (o *Option) IsList() bool { return o.isList }

// Value returns the value; a list's values are joined by spaces.
func (o *Option) Value() string {
	if o.isList {
		return strings.Join(o.values, " ")
	}
	return o.value
}

// Values returns a list's values, or the single value as a one-element list.
func (o *Option) Values() []string {
	if o.isList {
		return append(o.values[:0:0], o.values...)
	}
	return []string{o.value}
}

// ParseBool parses OpenWrt's boolean words as config_get_bool and netifd do:
// 1, yes, on, true, enabled and 0, no, off, false, disabled.
func ParseBool(s string) (bool, error) {
	switch s {
	case "1", "yes", "on", "true", "enabled":
		return true, nil
	case "0", "no", "off", "false", "disabled":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

// cStrtol parses like C's strtol(s, &end, 10) on a 64-bit machine: leading
// white space, an optional sign, digits, saturating on overflow. rest is the
// unparsed remainder (all of s when there are no digits).
func cStrtol(s string) (n int64, rest string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var u uint64
	overflow := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if u > (1<<64-1-d)/10 {
			overflow = true
		} else {
			u = u*10 + d
		}
		i++
	}
	if i == start {
		return 0, s
	}
	switch {
	case !neg && (overflow || u > 1<<63-1):
		return 1<<63 - 1, s[i:]
	case neg && (overflow || u > 1<<63):
		return -1 << 63, s[i:]
	case neg:
		return -int64(u), s[i:]
	}
	return int64(u), s[i:]
}

// cStrtoul is C's strtoul(s, NULL, 10) on a 64-bit machine: a minus sign
// negates in unsigned arithmetic and overflow gives the maximum.
func cStrtoul(s string) uint64 {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var u uint64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if u > (1<<64-1-d)/10 {
			return 1<<64 - 1
		}
		u = u*10 + d
	}
	if neg {
		u = -u
	}
	return u
}

// cScanInt is sscanf(s, "%d", &n): matched is 1 on success, 0 when the first
// non-space character is not a number and -1 (EOF) when s is only spaces.
func cScanInt(s string) (n int, matched int) {
	t := s
	for t != "" && isSpace(t[0]) {
		t = t[1:]
	}
	if t == "" {
		return 0, -1
	}
	v, rest := cStrtol(t)
	if rest == t {
		return 0, 0
	}
	return int(int32(v)), 1
}
