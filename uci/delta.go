package uci

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ChangeOp is the kind of a staged change.
type ChangeOp int

// Change kinds, in libuci's order.
const (
	ChangeAdd     ChangeOp = iota // add an anonymous section: Value is its type
	ChangeDelete                  // delete a section or option, or a list item by index (Value)
	ChangeSet                     // set an option, or create or retype a section
	ChangeRename                  // rename a section or option to Value
	ChangeReorder                 // move a section to position Value
	ChangeListAdd                 // append Value to a list
	ChangeListDel                 // remove Value from a list
)

// opChar is the prefix of each kind in a change file (uci_command_char).
var opChar = [...]byte{ChangeAdd: '+', ChangeDelete: '-', ChangeSet: 0, ChangeRename: '@', ChangeReorder: '^', ChangeListAdd: '|', ChangeListDel: '~'}

// A Change is one staged change, as stored in the save directory.
type Change struct {
	Op      ChangeOp
	Section string
	Option  string // "" when the change is about the section
	Value   string

	hasOption, hasValue bool
}

// Line returns the change as a line of a change file for package pkg,
// without the newline: for example "+net.cfg02b619='t'" or "-net.x.v".
func (c Change) Line(pkg string) string {
	var b strings.Builder
	if ch := opChar[c.Op]; ch != 0 {
		b.WriteByte(ch)
	}
	b.WriteString(pkg + "." + c.Section)
	if c.hasOption {
		b.WriteString("." + c.Option)
	}
	if c.Op != ChangeDelete || c.hasValue {
		b.WriteByte('=')
		writeQuoted(&b, c.Value)
	}
	return b.String()
}

// writeQuoted writes v in single quotes as sh would read it: each quote
// becomes quote, backslash, quote, quote.
func writeQuoted(w io.StringWriter, v string) {
	w.WriteString("'")
	w.WriteString(strings.ReplaceAll(v, "'", `'\''`))
	w.WriteString("'")
}

// parseChangeLine reads the change at the start of the parser's current
// line (uci_parse_delta_tuple). It may read further lines for a quoted
// value spanning lines.
func parseChangeLine(p *parser) (ChangeOp, *ref, error) {
	arg, rest, err := p.argument(false)
	if err != nil {
		return 0, nil, err
	}
	if rest != "" {
		return 0, nil, fmt.Errorf("change %q: %w: trailing text", arg, ErrInvalid)
	}
	op := ChangeSet
	if arg != "" {
		for k, ch := range opChar {
			if ch != 0 && ch == arg[0] {
				op, arg = ChangeOp(k), arg[1:]
				break
			}
		}
	}
	r, err := parseRef(arg)
	if err != nil {
		return 0, nil, err
	}
	bad := !r.hasSec || r.extended || op != ChangeDelete && !r.hasVal
	switch op {
	case ChangeReorder:
		bad = bad || r.hasOpt
	case ChangeRename:
		bad = bad || !ValidName(r.val)
	case ChangeListAdd, ChangeListDel:
		bad = bad || !r.hasOpt
	}
	if bad {
		return 0, nil, fmt.Errorf("change %q: %w", arg, ErrInvalid)
	}
	return op, r, nil
}

// applyChange replays one change line onto p (uci_parse_delta_line).
func (p *Package) applyChange(op ChangeOp, r *ref) error {
	if r.pkg != p.name {
		return fmt.Errorf("change for package %s in %s: %w", r.pkg, p.name, ErrParse)
	}
	p.saved = append(p.saved, Change{Op: op, Section: r.sec, Option: r.opt, Value: r.val, hasOption: r.hasOpt, hasValue: r.hasVal})
	switch op {
	case ChangeReorder:
		if err := p.expand(r, true); err != nil {
			return err
		}
		p.reorder(r.s, int(int32(cStrtoul(r.val))), true)
	case ChangeRename:
		return p.rename(r, true)
	case ChangeDelete:
		if err := p.delete(r, true); err != nil && !errors.Is(err, errBadIndex) {
			return err
		}
	case ChangeListAdd:
		return p.addList(r, true)
	case ChangeListDel:
		return p.delList(r, true)
	case ChangeAdd, ChangeSet:
		if err := p.set(r, true); err != nil {
			return err
		}
		if s, ok := r.last.(*Section); ok && !r.hasOpt && op == ChangeAdd {
			s.anonymous = true
		}
	}
	return nil
}

// replay applies the change file text to p and returns how many changes
// applied. Lines that do not parse or apply are skipped, as libuci does.
func (p *Package) replay(data []byte) int {
	ps := &parser{in: newStream(bytes.NewReader(data))}
	n := 0
	for !ps.in.eof {
		ps.pos = 0
		ps.getln(0)
		if ps.buf[0] == 0 {
			continue
		}
		op, r, err := parseChangeLine(ps)
		if err == nil {
			r.p = p
			err = p.applyChange(op, r)
		}
		if err == nil {
			n++
		}
	}
	return n
}

// deltaFiles lists the change files of pkg in replay order: the extra
// directories, then the save directory.
func (c *Cursor) deltaFiles(pkg string) []string {
	var files []string
	for _, d := range c.DeltaDirs {
		if d != c.saveDir() {
			files = append(files, filepath.Join(d, pkg))
		}
	}
	return append(files, filepath.Join(c.saveDir(), pkg))
}

// readShared reads a regular file under a shared lock; a missing file reads
// as nothing.
func readShared(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	if err := lockFile(f, false); err != nil {
		return nil, ioError("lock", path, err)
	}
	defer unlockFile(f)
	return io.ReadAll(f)
}

// loadDeltas replays every change file of p and returns the number of
// changes applied.
func (c *Cursor) loadDeltas(p *Package) (int, error) {
	if !p.hasDelta {
		return 0, nil
	}
	n := 0
	for _, f := range c.deltaFiles(p.name) {
		data, err := readShared(f)
		if err != nil {
			return n, err
		}
		n += p.replay(data)
	}
	return n, nil
}

// save appends p's pending changes to its change file in the save directory
// (uci_save). A package read by path has no change file and is committed.
func (c *Cursor) save(p *Package) error {
	if !p.hasDelta {
		return c.commit(p, false)
	}
	if len(p.pending) == 0 {
		return nil
	}
	dir := c.saveDir()
	if fi, err := os.Stat(dir); err != nil {
		mode := os.FileMode(0o700)
		if ci, err := os.Stat(c.confDir()); err == nil {
			mode = ci.Mode().Perm()
		}
		_ = os.Mkdir(dir, mode) // as libuci: a failure shows when opening the file
	} else if !fi.IsDir() {
		return ioError("save", dir, errors.New("not a directory"))
	}
	path := filepath.Join(dir, p.name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, c.newFileMode(p.name))
	if err != nil {
		return ioError("open", path, err)
	}
	defer f.Close()
	if err := lockFile(f, true); err != nil {
		return ioError("lock", path, err)
	}
	defer unlockFile(f)
	var b bytes.Buffer
	for _, ch := range p.pending {
		b.WriteString(ch.Line(p.name) + "\n")
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return ioError("seek", path, err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		return ioError("write", path, err)
	}
	p.saved = append(p.saved, p.pending...)
	p.pending = nil
	return nil
}

// revert drops the staged changes of p's save-directory change file that
// match section and option ("" matches all), like uci_revert's filter. A
// change file with a malformed line is left as it is, as libuci does.
func (c *Cursor) revert(pkg, section, option string) error {
	path := filepath.Join(c.saveDir(), pkg)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil // nothing staged
	}
	defer f.Close()
	if err := lockFile(f, true); err != nil {
		return ioError("lock", path, err)
	}
	defer unlockFile(f)
	data, err := io.ReadAll(f)
	if err != nil {
		return ioError("read", path, err)
	}
	ps := &parser{in: newStream(bytes.NewReader(data))}
	var keep bytes.Buffer
	for !ps.in.eof {
		ps.pos = 0
		ps.getln(0)
		if ps.buf[0] == 0 {
			continue
		}
		op, r, err := parseChangeLine(ps)
		if err != nil {
			return nil
		}
		match := (section == "" || r.sec == section) && (option == "" || r.hasOpt && r.opt == option)
		if !match {
			ch := Change{Op: op, Section: r.sec, Option: r.opt, Value: r.val, hasOption: r.hasOpt, hasValue: r.hasVal}
			keep.WriteString(ch.Line(pkg) + "\n")
		}
	}
	if err := f.Truncate(0); err != nil {
		return ioError("truncate", path, err)
	}
	if _, err := f.WriteAt(keep.Bytes(), 0); err != nil {
		return ioError("write", path, err)
	}
	return nil
}
