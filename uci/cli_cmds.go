package uci

import (
	"bytes"
	"fmt"
	"strings"
)

// lookup parses a tuple, loads its package and resolves it (uci_lookup_ptr
// with extended syntax).
func (t *tool) lookup(tuple string) (*ref, *Package, error) {
	r, err := parseRef(tuple)
	if err != nil {
		return nil, nil, err
	}
	p, err := t.cur.Load(r.pkg)
	if err != nil {
		return nil, nil, err
	}
	if err := p.resolve(r, true); err != nil {
		return nil, nil, err
	}
	return r, p, nil
}

// packageCmd runs show, changes, export or commit on one package, or on
// every package of the config directory.
func (t *tool) packageCmd(cmd string, argv []string) int {
	if len(argv) > 2 {
		return 255
	}
	if len(argv) == 2 {
		return t.packageCmdOne(cmd, argv[1])
	}
	names, err := t.cur.Configs()
	if err != nil {
		t.perror(err)
		return 1
	}
	for _, name := range names {
		t.packageCmdOne(cmd, name)
	}
	return 0
}

func (t *tool) packageCmdOne(cmd, tuple string) int {
	r, p, err := t.lookup(tuple)
	if err != nil {
		t.perror(err)
		return 1
	}
	switch cmd {
	case "changes":
		t.showChanges(p)
	case "commit":
		if t.noCommit {
			return 0
		}
		if err := t.cur.commit(p, false); err != nil {
			t.perror(err)
			return 1
		}
	case "export":
		var b bytes.Buffer
		exportPackage(&b, p, true, t.nameAnon)
		t.out.Write(b.Bytes())
	case "show":
		if !r.complete {
			t.perror(ErrNotFound)
			return 1
		}
		switch {
		case r.o != nil:
			t.showOption(p, r.s.name, r.o)
		case r.s != nil:
			t.showSection(p, r.s.name, r.s)
		default:
			t.showPackage(p)
		}
	}
	return 0
}

// sectionCmd runs get, set, add_list, del_list, delete, rename, revert or
// reorder on one tuple and stages the change.
func (t *tool) sectionCmd(cmd string, argv []string) int {
	if len(argv) != 2 {
		return 255
	}
	r, p, err := t.lookup(argv[1])
	if err != nil {
		t.perror(err)
		return 1
	}
	if r.hasVal && (cmd == "get" || cmd == "revert") {
		return 1
	}
	switch cmd {
	case "get":
		if !r.complete {
			t.perror(ErrNotFound)
			return 1
		}
		if r.o != nil {
			t.showValue(r.o, false)
		} else if r.s != nil {
			t.out.WriteString(r.s.typ + "\n")
		}
		return 0
	case "revert":
		if p.hasDelta {
			sec, opt := "", ""
			if r.hasSec {
				sec = r.sec
			}
			if r.hasOpt {
				opt = r.opt
			}
			t.cur.revert(p.name, sec, opt)
		}
		return 0
	case "ren", "rename":
		err = p.rename(r, false)
	case "set":
		err = p.set(r, false)
	case "add_list":
		err = p.addList(r, false)
	case "del_list":
		err = p.delList(r, false)
	case "reorder":
		if r.s == nil || !r.hasVal {
			t.perror(ErrNotFound)
			return 1
		}
		p.reorder(r.s, int(int32(cStrtoul(r.val))), false)
	case "del", "delete":
		if r.hasVal {
			if _, n := cScanInt(r.val); n == 0 {
				return 1
			}
		}
		err = p.delete(r, false)
	}
	if err == nil {
		err = t.cur.save(p)
	}
	if err != nil {
		t.perror(err)
		return 1
	}
	return 0
}

// doImport reads config text from the input: into one package, merged as
// staged changes with -m, or replacing every package it names.
func (t *tool) doImport(argv []string) int {
	if len(argv) > 2 {
		return 255
	}
	name := ""
	if len(argv) == 2 {
		name = argv[1]
	} else if t.merge {
		return 255
	}
	var into *Package
	if t.merge {
		if p, err := t.cur.Load(name); err == nil {
			into = p
		}
	}
	pkgs, _, err := importText(t.in, t.inName, name, into, name != "", t.strict, t.cur.warn)
	if err == nil {
		if into != nil {
			err = t.cur.save(into)
		} else {
			for _, p := range pkgs {
				p.cur = &t.cur
				err = t.cur.commit(p, true)
			}
		}
	}
	if err != nil {
		t.perror(err)
		return 1
	}
	return 0
}

// doAdd adds an anonymous section and prints its name. Its exit status is
// libuci's error code, as uci's is.
func (t *tool) doAdd(argv []string) int {
	if len(argv) != 3 {
		return 255
	}
	p, err := t.cur.Load(argv[1])
	if err == nil {
		s := p.addSection(argv[2], false)
		if err = t.cur.save(p); err == nil {
			fmt.Fprintf(t.out, "%s\n", s.name)
			return 0
		}
	}
	t.perror(err)
	return errorCode(err)
}

func (t *tool) printQuoted(v string) {
	t.out.WriteString("'" + escape(v) + "'")
}

// showValue prints an option's value as "uci get" (quote false) or "uci
// show" does; list items are separated by the -d delimiter.
func (t *tool) showValue(o *Option, quote bool) {
	if !o.isList {
		if quote {
			t.printQuoted(o.value)
		} else {
			t.out.WriteString(o.value)
		}
		t.out.WriteByte('\n')
		return
	}
	for i, v := range o.values {
		if i > 0 {
			t.out.WriteString(t.delim)
		}
		if !quote && !strings.ContainsAny(v, " \t\r\n") {
			t.out.WriteString(v)
		} else {
			t.printQuoted(v)
		}
	}
	t.out.WriteByte('\n')
}

func (t *tool) showOption(p *Package, sref string, o *Option) {
	t.out.WriteString(p.name + "." + sref + "." + o.name + "=")
	t.showValue(o, true)
}

func (t *tool) showSection(p *Package, sref string, s *Section) {
	t.out.WriteString(p.name + "." + sref + "=" + s.typ + "\n")
	for _, o := range s.options {
		t.showOption(p, sref, o)
	}
}

// showPackage shows every section; anonymous ones as @type[i] unless -X.
func (t *tool) showPackage(p *Package) {
	seen := map[string]int{}
	for _, s := range p.sections {
		sref := s.name
		if t.showExt {
			if s.anonymous {
				sref = fmt.Sprintf("@%s[%d]", s.typ, seen[s.typ])
			}
			seen[s.typ]++
		}
		t.showSection(p, sref, s)
	}
}

// showChanges lists the staged changes as "uci changes" does.
func (t *tool) showChanges(p *Package) {
	for _, c := range p.saved {
		prefix, op := "", "="
		switch c.Op {
		case ChangeDelete:
			prefix = "-"
		case ChangeListAdd:
			op = "+="
		case ChangeListDel:
			op = "-="
		}
		t.out.WriteString(prefix + p.name + "." + c.Section)
		if c.hasOption {
			t.out.WriteString("." + c.Option)
		}
		if c.Op != ChangeDelete {
			t.out.WriteString(op)
			t.printQuoted(c.Value)
		}
		t.out.WriteByte('\n')
	}
}
