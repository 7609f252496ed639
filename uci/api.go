package uci

import "fmt"

// Changes made through these methods are recorded like "uci set" records
// them: Save appends them to the save directory, where "uci changes" and
// other readers see them, and Commit writes them to the config file. Section
// names may use the extended syntax "@type[i]".

// Set sets an option, creating it (and turning a list into a single value).
// With option "" it creates a named section of type value or changes the
// section's type. An empty value deletes, as "uci set" does.
//
// Unlike libuci (and `nodekeeper uci set`), Set never creates a section
// whose name is outside the name grammar: an extended reference
// ("@type[9]") that finds no section is an error, not a new section named
// "@type[9]", which no config file could hold.
func (p *Package) Set(section, option, value string) error {
	r, err := p.newRef(section, option, value, true)
	if err != nil {
		return err
	}
	if r.s == nil && !ValidName(section) {
		return fmt.Errorf("section %q: %w", section, ErrNotFound)
	}
	return p.set(r, false)
}

// AddSection adds an anonymous section of the given type at the end.
func (p *Package) AddSection(typ string) (*Section, error) {
	if !ValidType(typ) {
		return nil, fmt.Errorf("section type %q: %w", typ, ErrInvalid)
	}
	return p.addSection(typ, false), nil
}

// Delete removes an option, or with option "" a whole section.
func (p *Package) Delete(section, option string) error {
	r, err := p.newRef(section, option, "", false)
	if err != nil {
		return err
	}
	return p.delete(r, false)
}

// AddList appends a value to a list option, creating it; a single option
// becomes a list first.
func (p *Package) AddList(section, option, value string) error {
	if option == "" {
		return fmt.Errorf("%s.%s: %w: no option", p.name, section, ErrInvalid)
	}
	r, err := p.newRef(section, option, value, true)
	if err != nil {
		return err
	}
	return p.addList(r, false)
}

// DelList removes every occurrence of value from a list option.
func (p *Package) DelList(section, option, value string) error {
	if option == "" {
		return fmt.Errorf("%s.%s: %w: no option", p.name, section, ErrInvalid)
	}
	r, err := p.newRef(section, option, value, true)
	if err != nil {
		return err
	}
	return p.delList(r, false)
}

// Rename renames an option, or with option "" the section (which is then no
// longer anonymous).
func (p *Package) Rename(section, option, name string) error {
	if !ValidName(name) {
		return fmt.Errorf("name %q: %w", name, ErrInvalid)
	}
	r, err := p.newRef(section, option, name, true)
	if err != nil {
		return err
	}
	return p.rename(r, false)
}

// Reorder moves a section to position pos (0 is first).
func (p *Package) Reorder(section string, pos int) error {
	r, err := p.newRef(section, "", "", false)
	if err != nil {
		return err
	}
	if r.s == nil {
		return fmt.Errorf("%s: %w", r.String(), ErrNotFound)
	}
	p.reorder(r.s, pos, false)
	return nil
}

// Changes returns the staged changes: those read from the change files at
// Load and those made since, in order.
func (p *Package) Changes() []Change {
	return append(append([]Change(nil), p.saved...), p.pending...)
}

func (p *Package) cursor() *Cursor {
	if p.cur == nil {
		return &Cursor{}
	}
	return p.cur
}

// Save stages the changes made since Load in the save directory, as every
// modifying uci command does.
func (p *Package) Save() error { return p.cursor().save(p) }

// Commit saves, then writes every staged change of the package to its
// config file atomically under the file's lock, and clears them. It re-reads
// the file and the change files first, so p reflects the committed state
// afterwards (Section values obtained before are stale).
func (p *Package) Commit() error { return p.cursor().commit(p, false) }
