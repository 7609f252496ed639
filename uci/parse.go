package uci

import (
	"bytes"
	"errors"
	"fmt"
)

// parser is libuci's parse context. Like the C code it keeps the current
// logical line in a buffer and unquotes strings in place, writing NUL bytes
// as terminators; several of libuci's quirks (a bare value glued to ';' ends
// the line, '#' ends a bare word, byte offsets in errors) follow from that,
// so the algorithm is kept as it is rather than rewritten as a lexer.
type parser struct {
	in     *stream
	file   string // for error messages
	buf    []byte // len(buf) is libuci's bufsz
	filled int    // buf_filled: length of the text read into buf
	pos    int
	line   int
}

// abort carries an error out of the parser, as libuci's longjmp does.
type abort struct{ err error }

func (p *parser) fail(reason string) {
	panic(abort{&ParseError{File: p.file, Line: p.line, Byte: p.pos, Reason: reason}})
}

func throw(err error) { panic(abort{err}) }

// catch runs f and returns the error it aborted with, if any.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			a, ok := r.(abort)
			if !ok {
				panic(r)
			}
			err = a.err
		}
	}()
	f()
	return nil
}

func (p *parser) at(i int) byte {
	if i < len(p.buf) {
		return p.buf[i]
	}
	return 0
}

func (p *parser) put(i int, c byte) {
	if i < len(p.buf) {
		p.buf[i] = c
	}
}

func (p *parser) cur() byte { return p.at(p.pos) }

// cstr returns the NUL-terminated string at i.
func (p *parser) cstr(i int) string {
	if i >= len(p.buf) {
		return ""
	}
	n := bytes.IndexByte(p.buf[i:], 0)
	if n < 0 {
		n = len(p.buf) - i
	}
	return string(p.buf[i : i+n])
}

func (p *parser) cstrlen(i int) int {
	if i >= len(p.buf) {
		return 0
	}
	n := bytes.IndexByte(p.buf[i:], 0)
	if n < 0 {
		return len(p.buf) - i
	}
	return n
}

func (p *parser) grow() {
	nb := make([]byte, 2*len(p.buf))
	copy(nb, p.buf)
	p.buf = nb
}

// getln reads the next line into the buffer at offset, growing the buffer
// until the whole line fits (uci_getln).
func (p *parser) getln(offset int) {
	if p.buf == nil {
		p.buf = make([]byte, 32)
	}
	if offset >= len(p.buf)-1 {
		p.grow()
	}
	ofs := offset
	for {
		p.buf[ofs] = 0
		if !p.in.fgets(p.buf[ofs:]) || p.buf[ofs] == 0 {
			return
		}
		ofs += p.cstrlen(ofs)
		p.filled = ofs
		if p.buf[ofs-1] == '\n' {
			p.line++
			return
		}
		p.grow()
	}
}

// backslash skips a backslash; at the end of a line it joins the next line
// and reports false (nothing to copy).
func (p *parser) backslash() bool {
	p.pos++
	c := p.cur()
	if c == 0 || c == '\n' || c == '\r' && p.at(p.pos+1) == '\n' && p.at(p.pos+2) == 0 {
		p.getln(p.pos)
		return false
	}
	return true
}

func (p *parser) skipWhitespace() {
	for c := p.cur(); c != 0 && isSpace(c); c = p.cur() {
		p.pos++
	}
}

func (p *parser) addc(target *int) {
	p.put(*target, p.cur())
	*target++
	p.pos++
}

func (p *parser) increasePos(add int) bool {
	if p.pos+add > p.filled {
		return false
	}
	p.pos += add
	return true
}

func (p *parser) doubleQuote(target *int) {
	p.pos++
	for {
		switch p.cur() {
		case '"':
			p.pos++
			return
		case 0:
			p.getln(p.pos)
			if p.cur() == 0 {
				p.fail(`EOF with unterminated "`)
			}
		case '\\':
			if p.backslash() {
				p.addc(target)
			}
		default:
			p.addc(target)
		}
	}
}

func (p *parser) singleQuote(target *int) {
	p.pos++
	for {
		switch p.cur() {
		case '\'':
			p.pos++
			return
		case 0:
			p.getln(p.pos)
			if p.cur() == 0 {
				p.fail("EOF with unterminated '")
			}
		default:
			p.addc(target)
		}
	}
}

// parseStr unquotes one word: quoted and bare pieces glued together.
func (p *parser) parseStr(target *int) {
	next := true
loop:
	for {
		switch p.cur() {
		case '\'':
			p.singleQuote(target)
		case '"':
			p.doubleQuote(target)
		case '#':
			p.put(p.pos, 0)
			break loop
		case 0:
			break loop
		case ';':
			next = false
			break loop
		case '\\':
			if p.backslash() {
				p.addc(target)
			}
		default:
			p.addc(target)
		}
		if c := p.cur(); c == 0 || isSpace(c) {
			break
		}
	}
	if p.cur() != 0 && next {
		p.pos++
	}
	p.put(*target, 0)
}

// nextArg parses the next argument and returns its offset in the buffer.
func (p *parser) nextArg(required, name, pkg bool) int {
	p.skipWhitespace()
	val, target := p.pos, p.pos
	if p.cur() == ';' {
		p.put(p.pos, 0)
		p.pos++
	} else {
		p.parseStr(&target)
	}
	if p.at(val) == 0 {
		if required {
			p.fail("insufficient arguments")
		}
		return val
	}
	if name && !validStr(p.cstr(val), name, pkg) {
		p.fail("invalid character in name field")
	}
	return val
}

// argument is uci_parse_argument: the next argument of the current line,
// reading a fresh line first if fresh is set. rest is what follows it.
func (p *parser) argument(fresh bool) (arg, rest string, err error) {
	err = catch(func() {
		if fresh {
			p.pos = 0
			p.getln(0)
		}
		arg = p.cstr(p.nextArg(false, false, false))
		rest = p.cstr(p.pos)
	})
	return arg, rest, err
}

// importer turns config text into packages (uci_import).
type importer struct {
	parser
	strict bool
	warn   func(error) // reports errors skipped in lax mode
	name   string      // package of the text, unless a package line says otherwise
	single bool        // ignore package lines
	merge  bool        // changes are recorded as staged changes of pkg
	pkg    *Package
	sec    *Section
	done   []*Package // packages completed, in order (libuci's ctx->root)
}

// importText parses r as config text. With name set, package lines are
// ignored (single) or open further packages; with into set, the text is
// merged into it and the changes are recorded as pending changes. It returns
// every package read and the last one.
func importText(in *stream, file, name string, into *Package, single, strict bool, warn func(error)) ([]*Package, *Package, error) {
	im := &importer{parser: parser{in: in, file: file}, strict: strict, warn: warn, name: name, single: single}
	if into != nil && single {
		im.pkg, im.merge = into, true
	}
	if name != "" && !ValidPackage(name) {
		return nil, nil, fmt.Errorf("package name %q: %w", name, ErrInvalid)
	}
	for !in.eof {
		im.pos = 0
		im.getln(0)
		err := catch(func() {
			if im.buf[0] != 0 {
				im.parseLine()
			}
		})
		if err == nil {
			continue
		}
		if im.warn != nil {
			im.warn(err)
		}
		if !errors.Is(err, ErrParse) || im.strict {
			return nil, nil, err
		}
	}
	if in.err != nil {
		return nil, nil, ioError("read", file, in.err)
	}
	var last *Package
	err := catch(func() {
		if im.pkg == nil && name != "" {
			im.switchConfig()
		}
		last = im.pkg
		if im.merge {
			im.pkg = nil
		}
		im.name = ""
		im.switchConfig()
	})
	if err != nil {
		return nil, nil, err
	}
	return im.done, last, nil
}

func (im *importer) switchConfig() {
	if im.pkg != nil {
		im.done = append(im.done, im.pkg)
		im.pkg, im.sec = nil, nil
	}
	if im.name == "" {
		return
	}
	for _, q := range im.done {
		if q.name == im.name {
			throw(fmt.Errorf("package %s: %w", im.name, ErrDuplicate))
		}
	}
	im.pkg = newPackage(im.name)
}

// parseLine parses one line: commands separated by ';'.
func (im *importer) parseLine() {
	im.skipWhitespace()
	for {
		// strtok(cur, " \t")
		i := im.pos
		for c := im.at(i); c == ' ' || c == '\t'; c = im.at(i) {
			i++
		}
		if im.at(i) == 0 {
			return
		}
		j := i
		for c := im.at(j); c != 0 && c != ' ' && c != '\t'; c = im.at(j) {
			j++
		}
		im.put(j, 0)
		if im.buf[i] == '#' {
			return
		}
		switch string(im.buf[i:j]) {
		case "p", "package":
			im.parsePackage()
		case "c", "config":
			im.parseConfig()
		case "o", "option":
			im.parseOption(false)
		case "l", "list":
			im.parseOption(true)
		default:
			im.fail("invalid command")
		}
	}
}

// skipCommand moves past the command word, which strtok terminated.
func (im *importer) skipCommand(reason string) {
	if !im.increasePos(im.cstrlen(im.pos) + 1) {
		im.fail(reason)
	}
}

func (im *importer) assertEOL() {
	im.skipWhitespace()
	if ofs := im.nextArg(false, false, false); im.at(ofs) != 0 && im.strict {
		im.fail("too many arguments")
	}
}

func (im *importer) parsePackage() {
	im.skipCommand("package without name")
	ofs := im.nextArg(true, true, true)
	im.assertEOL()
	if im.single {
		return
	}
	im.name = im.cstr(ofs)
	im.switchConfig()
}

func (im *importer) parseConfig() {
	if im.pkg == nil {
		if im.name == "" {
			im.fail("attempting to import a file without a package name")
		}
		im.switchConfig()
	}
	im.skipCommand("config without name")
	ofsType := im.nextArg(true, false, false)
	if !ValidType(im.cstr(ofsType)) {
		im.fail("invalid character in type field")
	}
	ofsName := im.nextArg(false, true, false)
	im.assertEOL()
	typ, name := im.cstr(ofsType), im.cstr(ofsName)
	if name == "" {
		im.sec = im.pkg.addSection(typ, !im.merge)
		return
	}
	old := im.pkg.lookupSection(name)
	if old != nil && im.strict && old.typ != typ {
		im.fail("section of different type overwrites prior section with same name")
	}
	r := &ref{pkg: im.pkg.name, sec: name, val: typ, hasSec: true, hasVal: true, done: true, p: im.pkg, s: old}
	if err := im.pkg.set(r, !im.merge); err != nil {
		throw(err)
	}
	im.sec = r.s
}

func (im *importer) parseOption(list bool) {
	if im.sec == nil {
		im.fail("option/list command found before the first section")
	}
	im.skipCommand("option without name")
	ofsName := im.nextArg(true, true, false)
	ofsValue := im.nextArg(false, false, false)
	im.assertEOL()
	name, value := im.cstr(ofsName), im.cstr(ofsValue)
	r := &ref{pkg: im.pkg.name, sec: im.sec.name, opt: name, val: value,
		hasSec: true, hasOpt: true, hasVal: true, done: true, p: im.pkg, s: im.sec, o: im.sec.Option(name)}
	var err error
	if list {
		err = im.pkg.addList(r, !im.merge)
	} else {
		err = im.pkg.set(r, !im.merge)
	}
	if err != nil {
		throw(err)
	}
}

// Parse reads config text as package name, strictly, as "uci import name"
// would. The package is not attached to any file.
func Parse(name string, data []byte) (*Package, error) {
	_, p, err := importText(newStream(bytes.NewReader(data)), name, name, nil, true, true, nil)
	return p, err
}
