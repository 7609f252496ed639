package agent

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/netcfg"
	"github.com/nodekeeper/nodekeeper/uci"
)

// optionReader reads the options of one section with typed getters. The
// first problem is kept, naming the file, the section and the option, so
// that a refused config says exactly what to fix.
type optionReader struct {
	file    string
	typ     string
	name    string
	s       *uci.Section // nil: the section is absent, every option takes its default
	allowed []string
	err     error
}

func newReader(file string, p *uci.Package, typ string, allowed []string) *optionReader {
	r := &optionReader{file: file, typ: typ, name: typ, allowed: allowed}
	secs := p.SectionsOfType(typ)
	if len(secs) > 0 {
		r.s = secs[0]
		r.name = secs[0].Name()
	}
	if len(secs) > 1 {
		r.err = fmt.Errorf("%s: config %s '%s': a second %s section (there is one)", file, typ, secs[1].Name(), typ)
		return r
	}
	if r.s != nil {
		for _, o := range r.s.Options() {
			if !slices.Contains(allowed, o.Name()) {
				r.fail(o.Name(), "unknown option%s (this section takes %s)", suggest(o.Name(), allowed), strings.Join(allowed, ", "))
				break
			}
		}
	}
	return r
}

// suggest returns " (did you mean X?)" for a near miss.
func suggest(got string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(got, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (r *optionReader) where(opt string) string {
	return fmt.Sprintf("%s: config %s '%s' option %s", r.file, r.typ, r.name, opt)
}

func (r *optionReader) fail(opt, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %s", r.where(opt), fmt.Sprintf(format, args...))
	}
}

func (r *optionReader) raw(opt string) (string, bool) {
	if r.s == nil {
		return "", false
	}
	o := r.s.Option(opt)
	if o == nil {
		return "", false
	}
	if o.IsList() {
		r.fail(opt, "is a list, takes one value")
		return "", false
	}
	return o.Value(), true
}

func (r *optionReader) str(opt, def string) string {
	if v, ok := r.raw(opt); ok {
		return v
	}
	return def
}

func (r *optionReader) list(opt string) []string {
	if r.s == nil {
		return nil
	}
	return r.s.List(opt)
}

func (r *optionReader) oneOf(opt, def string, allowed ...string) string {
	v := r.str(opt, def)
	if !slices.Contains(allowed, v) {
		r.fail(opt, "%q: want one of %s", v, strings.Join(allowed, ", "))
	}
	return v
}

func (r *optionReader) boolean(opt string, def bool) bool {
	v, ok := r.raw(opt)
	if !ok {
		return def
	}
	b, err := uci.ParseBool(v)
	if err != nil {
		r.fail(opt, "%q: want 1/0, yes/no, on/off, true/false", v)
		return def
	}
	return b
}

func (r *optionReader) integer(opt string, def, lo, hi int) int {
	v, ok := r.raw(opt)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		r.fail(opt, "%q: want a whole number in %d..%d", v, lo, hi)
		return def
	}
	return n
}

func (r *optionReader) float(opt string, def, lo, hi float64) float64 {
	v, ok := r.raw(opt)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	// NaN compares false with everything: it would pass a bare f < lo.
	if err != nil || !(f >= lo && f <= hi) {
		r.fail(opt, "%q: want a number in %g..%g", v, lo, hi)
		return def
	}
	return f
}

// duration reads "30s", "1m30s", or a bare number of seconds ("30").
func (r *optionReader) duration(opt string, def, lo time.Duration) time.Duration {
	v, ok := r.raw(opt)
	if !ok {
		return def
	}
	d, err := parseDuration(v)
	if err != nil || d < lo {
		r.fail(opt, "%q: want a duration of at least %v, such as 30s, 5m or a number of seconds", v, lo)
		return def
	}
	return d
}

func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		// A bare number of seconds: NaN, infinities and what overflows a
		// Duration convert to whatever the CPU gives, so they are refused.
		if !(f > -maxSeconds && f < maxSeconds) {
			return 0, fmt.Errorf("%q: out of range", v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(v)
}

// maxSeconds bounds a duration given as a bare number of seconds: about
// 292 years fit a time.Duration.
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

// size reads a byte count: "64M", "1G", "4096".
func (r *optionReader) size(opt string, def int64) int64 {
	v, ok := r.raw(opt)
	if !ok {
		return def
	}
	n, err := container.ParseSize(v)
	if err != nil || n < 0 {
		r.fail(opt, "%q: want a size such as 512K, 64M or a number of bytes", v)
		return def
	}
	return n
}

// path reads an absolute, clean path: it names files the agent reads,
// writes, removes or listens on.
func (r *optionReader) path(opt, def string) string {
	v := r.str(opt, def)
	if v != "" && !cleanPath(v) {
		r.fail(opt, "%q: want an absolute path in clean form", v)
	}
	return v
}

// netns reads a network namespace: a name under /run/netns or an
// absolute path (netcfg.CheckNetns), or empty for the agent's own.
func (r *optionReader) netns(opt string) string {
	v := r.str(opt, "")
	if v != "" {
		if err := netcfg.CheckNetns(v); err != nil {
			r.fail(opt, "%v", err)
		}
	}
	return v
}

// cleanPath reports whether p is an absolute path in its shortest form
// (filepath.Clean's) without control characters, at most 4096 bytes.
func cleanPath(p string) bool {
	return len(p) <= 4096 && filepath.IsAbs(p) && filepath.Clean(p) == p && !strings.ContainsAny(p, controlChars)
}

const controlChars = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"
