package uci

import (
	"fmt"
	"strconv"
)

// The edit operations below follow libuci's list.c, including when a change
// is recorded: "internal" edits (reading a file, replaying change files) are
// not, and an edit that changes nothing records nothing.

func (p *Package) record(op ChangeOp, section, option string, hasOption bool, value string, hasValue bool, internal bool) {
	if internal || !p.hasDelta {
		return
	}
	p.pending = append(p.pending, Change{Op: op, Section: section, Option: option, hasOption: hasOption, Value: value, hasValue: hasValue})
}

// allocSection appends a section; name "" makes it anonymous (unnamed until
// fixup names it).
func (p *Package) allocSection(typ, name string) *Section {
	s := &Section{name: name, typ: typ, anonymous: name == "", pkg: p}
	p.nSection++
	p.sections = append(p.sections, s)
	if p.byName == nil {
		p.byName = map[string]any{}
	}
	indexName(p.byName, name, s)
	return s
}

// addSection adds an anonymous section named cfgXXYYYY (uci_add_section).
func (p *Package) addSection(typ string, internal bool) *Section {
	s := p.allocSection(typ, "")
	unindexName(p.byName, "", s)
	s.name = fmt.Sprintf("cfg%02x%04x", p.nSection, djbHash(typ)%(1<<16))
	indexName(p.byName, s.name, s)
	p.record(ChangeAdd, s.name, "", false, typ, true, internal)
	return s
}

func invalid(r *ref, why string) error { return fmt.Errorf("%s: %w: %s", r.String(), ErrInvalid, why) }

// set is uci_set: create or update an option or section; an empty value
// deletes.
func (p *Package) set(r *ref, internal bool) error {
	if err := p.expand(r, false); err != nil {
		return err
	}
	if !r.hasVal {
		return invalid(r, "no value")
	}
	if r.s == nil && (r.hasOpt || !r.hasSec) {
		return invalid(r, "no such section")
	}
	if !r.hasOpt && r.val != "" && !ValidType(r.val) {
		return invalid(r, "bad section type")
	}
	if r.o == nil && r.s != nil && r.hasOpt {
		r.o = r.s.Option(r.opt)
	}
	switch {
	case r.val == "":
		if !r.complete {
			return nil
		}
		return p.delete(r, internal)
	case r.o == nil && r.hasOpt: // new option
		r.o = &Option{name: r.opt, value: r.val}
		r.s.addOption(r.o)
		r.last = r.o
	case r.s == nil && r.hasSec: // new section
		r.s = p.allocSection(r.val, r.sec)
		r.last = r.s
	case r.o != nil && r.hasOpt: // update option, in place
		if !r.o.isList && r.o.value == r.val {
			return nil
		}
		r.o.isList, r.o.values, r.o.value = false, nil, r.val
		r.last = r.o
	case r.s != nil && r.hasSec: // update section type, in place
		if r.s.typ == r.val {
			return nil
		}
		if len(r.s.typ) != len(r.val) {
			// libuci reallocates the section under its current name,
			// which makes an anonymous section a named one.
			r.s.anonymous = false
		}
		r.s.typ = r.val
		r.last = r.s
	default:
		return invalid(r, "nothing to set")
	}
	p.record(ChangeSet, r.sec, r.opt, r.hasOpt, r.val, true, internal)
	return nil
}

// delete is uci_delete: remove an option or section, or with a numeric
// value one item of a list.
func (p *Package) delete(r *ref, internal bool) error {
	if err := p.expand(r, true); err != nil {
		return err
	}
	if r.s == nil {
		return invalid(r, "cannot delete a package")
	}
	if r.o != nil && r.o.isList && r.hasVal && r.val != "" {
		idx, n := cScanInt(r.val)
		if n == 0 {
			return fmt.Errorf("%s=%s: %w", r.String(), r.val, errBadIndex)
		}
		if idx >= 0 && idx < len(r.o.values) {
			p.record(ChangeDelete, r.sec, r.opt, r.hasOpt, r.val, true, internal)
			r.o.values = append(r.o.values[:idx], r.o.values[idx+1:]...)
		}
		return nil
	}
	p.record(ChangeDelete, r.sec, r.opt, r.hasOpt, "", false, internal)
	if r.hasOpt {
		unindexName(r.s.byName, r.o.name, r.o)
		r.s.options = deleteOption(r.s.options, r.o)
		r.o = nil
	} else {
		unindexName(p.byName, r.s.name, r.s)
		p.sections = deleteSection(p.sections, p.sectionIndex(r.s))
		r.s = nil
	}
	return nil
}

// addList is uci_add_list: append to a list, turning a single option into
// a list first.
func (p *Package) addList(r *ref, internal bool) error {
	if err := p.expand(r, false); err != nil {
		return err
	}
	if r.s == nil {
		return invalid(r, "no such section")
	}
	if !r.hasVal {
		return invalid(r, "no value")
	}
	if !r.hasOpt {
		return invalid(r, "no option")
	}
	if r.o != nil {
		if r.o.isList {
			p.record(ChangeListAdd, r.sec, r.opt, true, r.val, true, internal)
			r.o.values = append(r.o.values, r.val)
			return nil
		}
		// The single value becomes the first item, in place.
		r.o.isList, r.o.values, r.o.value = true, []string{r.o.value}, ""
	} else {
		r.o = &Option{name: r.opt, isList: true}
		r.s.addOption(r.o)
	}
	p.record(ChangeListAdd, r.sec, r.opt, true, r.val, true, internal)
	r.o.values = append(r.o.values, r.val)
	r.last = r.o
	return nil
}

// delList is uci_del_list: remove every list item equal to the value.
func (p *Package) delList(r *ref, internal bool) error {
	if err := p.expand(r, false); err != nil {
		return err
	}
	if r.s == nil {
		return invalid(r, "no such section")
	}
	if !r.hasVal {
		return invalid(r, "no value")
	}
	if r.o == nil || !r.hasOpt || !r.o.isList {
		return nil
	}
	p.record(ChangeListDel, r.sec, r.opt, true, r.val, true, internal)
	kept := r.o.values[:0]
	for _, v := range r.o.values {
		if v != r.val {
			kept = append(kept, v)
		}
	}
	r.o.values = kept
	return nil
}

// rename is uci_rename: give a section or option a new name.
func (p *Package) rename(r *ref, internal bool) error {
	if err := p.expand(r, true); err != nil {
		return err
	}
	if r.s == nil {
		return invalid(r, "cannot rename a package")
	}
	if !r.hasVal {
		return invalid(r, "no new name")
	}
	p.record(ChangeRename, r.sec, r.opt, r.hasOpt, r.val, true, internal)
	if r.o != nil {
		if r.s.byName != nil {
			unindexName(r.s.byName, r.o.name, r.o)
			indexName(r.s.byName, r.val, r.o)
		}
		r.o.name = r.val
	} else {
		unindexName(p.byName, r.s.name, r.s)
		indexName(p.byName, r.val, r.s)
		r.s.name = r.val
		r.s.anonymous = false
	}
	return nil
}

// reorder is uci_reorder_section: move a section to position pos (clamped
// to the end; a negative position moves it to the front). A move that
// leaves the section where it was records nothing.
func (p *Package) reorder(s *Section, pos int, internal bool) {
	from := p.sectionIndex(s)
	p.sections = deleteSection(p.sections, from)
	to := min(max(pos, 0), len(p.sections))
	p.sections = append(p.sections, nil)
	copy(p.sections[to+1:], p.sections[to:])
	p.sections[to] = s
	if to != from {
		p.record(ChangeReorder, s.name, "", false, strconv.Itoa(pos), true, internal)
	}
}

// deleteSection removes ss[i] (i < 0: nothing), clearing the freed slot.
// It and deleteOption are slices.Delete and slices.DeleteFunc without a
// generic instantiation per element type in the router binary
// (docs/packaging.md).
func deleteSection(ss []*Section, i int) []*Section {
	if i < 0 {
		return ss
	}
	copy(ss[i:], ss[i+1:])
	ss[len(ss)-1] = nil
	return ss[:len(ss)-1]
}

// deleteOption removes o from opts, clearing the freed slot.
func deleteOption(opts []*Option, o *Option) []*Option {
	for i, x := range opts {
		if x == o {
			copy(opts[i:], opts[i+1:])
			opts[len(opts)-1] = nil
			return opts[:len(opts)-1]
		}
	}
	return opts
}
