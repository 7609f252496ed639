package uci

import (
	"fmt"
	"strings"
)

// ref is libuci's struct uci_ptr: a parsed "package.section.option=value"
// tuple and what it resolved to. The has* flags keep C's distinction
// between a missing part (NULL) and an empty one.
type ref struct {
	pkg, sec, opt, val     string
	hasSec, hasOpt, hasVal bool
	extended               bool // section is not a plain name ("@type[i]")
	done, complete         bool // UCI_LOOKUP_DONE, UCI_LOOKUP_COMPLETE

	p    *Package
	s    *Section
	o    *Option
	last any // *Package, *Section or *Option
}

// parseRef parses a tuple like uci_parse_ptr.
func parseRef(str string) (*ref, error) {
	r := &ref{}
	if k := strings.IndexByte(str, '='); k >= 0 {
		r.val, r.hasVal = str[k+1:], true
		str = str[:k]
	}
	parts := strings.SplitN(str, ".", 4)
	if len(parts) == 4 {
		return nil, fmt.Errorf("%q: %w: too many dots", str, ErrParse)
	}
	r.pkg = parts[0]
	if len(parts) > 1 {
		r.sec, r.hasSec = parts[1], true
	}
	if len(parts) > 2 {
		r.opt, r.hasOpt = parts[2], true
	}
	if why := r.validate(); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrParse, why)
	}
	return r, nil
}

// validate checks names and value like uci_parse_ptr and returns what is
// wrong, or "".
func (r *ref) validate() string {
	switch {
	case !ValidPackage(r.pkg):
		return fmt.Sprintf("bad package name %q", r.pkg)
	case r.hasOpt && !ValidName(r.opt):
		return fmt.Sprintf("bad option name %q", r.opt)
	case r.hasVal && !validText(r.val):
		return fmt.Sprintf("control character in value %q", r.val)
	}
	r.extended = r.hasSec && !ValidName(r.sec)
	return ""
}

// resolve finds the section and option of r in p (the part of
// uci_lookup_ptr after the package is loaded). A missing section or option
// leaves r incomplete; a malformed extended reference is an error.
func (p *Package) resolve(r *ref, extended bool) error {
	r.done = true
	r.p, r.last = p, p
	if !r.hasSec && r.s == nil {
		r.complete = true
		return nil
	}
	s := r.s
	if s == nil {
		if r.extended {
			if !extended {
				return fmt.Errorf("section %q: %w", r.sec, ErrInvalid)
			}
			var err error
			if s, err = p.extSection(r.sec); err != nil {
				return err
			}
			if s != nil {
				r.sec = s.name
			}
		} else {
			s = p.lookupSection(r.sec)
		}
	}
	if s == nil {
		return nil
	}
	r.s, r.last = s, s
	if r.hasOpt {
		o := s.Option(r.opt)
		if o == nil {
			return nil
		}
		r.o, r.last = o, o
	}
	r.complete = true
	return nil
}

// expand is uci_expand_ptr: resolve r if needed, require it complete if
// asked, and fill in names from what it resolved to.
func (p *Package) expand(r *ref, complete bool) error {
	if !r.done {
		if err := p.resolve(r, true); err != nil {
			return err
		}
	}
	if complete && !r.complete {
		return fmt.Errorf("%s: %w", r.String(), ErrNotFound)
	}
	if r.s != nil && !r.hasSec {
		r.sec, r.hasSec = r.s.name, true
	}
	if r.o != nil && !r.hasOpt {
		r.opt, r.hasOpt = r.o.name, true
	}
	return nil
}

func (r *ref) String() string {
	s := r.pkg
	if r.hasSec {
		s += "." + r.sec
	}
	if r.hasOpt {
		s += "." + r.opt
	}
	return s
}

// newRef builds the reference of an API call, validated as a tuple would be.
func (p *Package) newRef(section, option, value string, hasValue bool) (*ref, error) {
	r := &ref{pkg: p.name, sec: section, hasSec: true, opt: option, hasOpt: option != "", val: value, hasVal: hasValue}
	if why := r.validate(); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, why)
	}
	if err := p.resolve(r, true); err != nil {
		return nil, err
	}
	return r, nil
}
