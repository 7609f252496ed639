package uci

import (
	"bytes"
	"io"
	"strings"
)

// escape prepares s for single quotes as sh reads them: each quote becomes
// quote, backslash, quote, quote.
func escape(s string) string {
	if strings.IndexByte(s, '\'') < 0 {
		return s
	}
	return strings.ReplaceAll(s, "'", `'\''`)
}

// exportType writes a section type bare, as libuci does, unless it holds a
// character the parser would not read back as part of a bare word; libuci
// writes those bare too and cannot read its own output then.
func exportType(typ string) string {
	if strings.ContainsAny(typ, "#;'\"\\") {
		return "'" + escape(typ) + "'"
	}
	return typ
}

// exportPackage writes p in libuci's export format. With header the text
// starts with a package line; with nameAnonymous anonymous sections are
// written with their generated names.
func exportPackage(b *bytes.Buffer, p *Package, header, nameAnonymous bool) {
	if header {
		b.WriteString("package " + escape(p.name) + "\n")
	}
	for _, s := range p.sections {
		b.WriteString("\nconfig " + exportType(s.typ))
		if !s.anonymous || nameAnonymous {
			b.WriteString(" '" + escape(s.name) + "'")
		}
		b.WriteByte('\n')
		for _, o := range s.options {
			if !o.isList {
				b.WriteString("\toption " + escape(o.name) + " '" + escape(o.value) + "'\n")
				continue
			}
			for _, v := range o.values {
				b.WriteString("\tlist " + escape(o.name) + " '" + escape(v) + "'\n")
			}
		}
	}
	b.WriteByte('\n')
}

// WriteTo writes p as "uci export" does: a package line, then every section
// with its options, values in single quotes.
func (p *Package) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	exportPackage(&b, p, true, false)
	return b.WriteTo(w)
}
