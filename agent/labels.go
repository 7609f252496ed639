package agent

import (
	"slices"
	"strconv"
	"strings"

	"github.com/nodekeeper/nodekeeper/wire"
)

// maxLabels bounds the labels and tags of `config agent` together.
const maxLabels = 64

// readLabels reads `list label` of the agent section: 'KEY=VALUE' is a
// label, a word without '=' a tag. Keys and tags are 1 to 64 of
// [A-Za-z0-9_.-]; values up to 128 bytes of printable ASCII or UTF-8
// without control characters. A key or tag given twice is refused.
func readLabels(r *optionReader) (map[string]string, []string) {
	var labels map[string]string
	var tags []string
	list := r.list("label")
	if len(list) > maxLabels {
		r.fail("label", "%d labels and tags: at most %d", len(list), maxLabels)
		return nil, nil
	}
	for _, l := range list {
		k, v, isLabel := strings.Cut(l, "=")
		_, dup := labels[k]
		switch {
		case !labelWord(k):
			r.fail("label", "%q: want KEY=VALUE or TAG, KEY and TAG 1 to 64 of A-Z a-z 0-9 _ . -", l)
		case isLabel && (len(v) > 128 || strings.ContainsAny(v, controlChars) || !printable(v)):
			r.fail("label", "%q: want a value of at most 128 printable bytes", l)
		case isLabel && dup || !isLabel && slices.Contains(tags, k):
			r.fail("label", "%q: given twice", k)
		case isLabel:
			if labels == nil {
				labels = map[string]string{}
			}
			labels[k] = v
		default:
			tags = append(tags, k)
		}
	}
	return labels, tags
}

// labelWord reports whether s is a label key or a tag.
func labelWord(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// printable reports whether s is valid UTF-8 without C1 controls.
func printable(s string) bool {
	for _, c := range s {
		if c == 0xfffd || c >= 0x80 && c < 0xa0 {
			return false
		}
	}
	return true
}

// readLocation reads `option latitude` and `option longitude` (both or
// neither): decimal degrees such as 41.3874 or -2.5, in -90..90 and
// -180..180.
func readLocation(r *optionReader) *wire.Location {
	la, okLa := r.raw("latitude")
	lo, okLo := r.raw("longitude")
	if !okLa && !okLo {
		return nil
	}
	if okLa != okLo {
		r.fail("latitude", "latitude and longitude go together: give both or neither")
		return nil
	}
	lat, ok1 := degrees(la, 90)
	if !ok1 {
		r.fail("latitude", "%q: want decimal degrees in -90..90, such as 41.3874", la)
	}
	lon, ok2 := degrees(lo, 180)
	if !ok2 {
		r.fail("longitude", "%q: want decimal degrees in -180..180, such as 2.1686", lo)
	}
	if !ok1 || !ok2 {
		return nil
	}
	return &wire.Location{Lat: lat, Lon: lon}
}

// degrees parses a decimal number ([-]DIGITS[.DIGITS], at most 20 bytes)
// within -limit..limit.
func degrees(s string, limit float64) (float64, bool) {
	d := strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(d, ".")
	if len(s) > 20 || !digits(whole) || dot && !digits(frac) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && f >= -limit && f <= limit
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
