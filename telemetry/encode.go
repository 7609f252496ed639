package telemetry

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Payload formats.
const (
	FormatJSON   = "json"
	FormatInflux = "influx"
)

// wireMessage is one encoded publish: a topic under telemetry/ and its
// payload.
type wireMessage struct {
	topic   string
	payload []byte
}

// encodeJSON makes one message per point: a flat JSON object with node, ts
// and seq, the entity's labels and string fields, then its numbers.
func encodeJSON(node string, ts float64, seq uint64, ps []point) []wireMessage {
	out := make([]wireMessage, 0, len(ps))
	for i := range ps {
		p := &ps[i]
		b := make([]byte, 0, 64+32*len(p.nums))
		b = append(b, `{"node":`...)
		b = appendJSONString(b, node)
		b = append(b, `,"ts":`...)
		b = appendNum(b, ts)
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, seq, 10)
		for _, kv := range p.tags {
			b = appendJSONKey(b, kv[0])
			b = appendJSONString(b, kv[1])
		}
		for _, kv := range p.strs {
			b = appendJSONKey(b, kv[0])
			b = appendJSONString(b, kv[1])
		}
		for _, f := range p.nums {
			b = appendJSONKey(b, f.key)
			b = f.append(b)
		}
		b = append(b, '}')
		out = append(out, wireMessage{topic: p.topic, payload: b})
	}
	return out
}

// encodeInflux makes one message per group, on the group's topic, with one
// line-protocol line per point (tags node plus the entity's labels,
// nanosecond timestamp).
func encodeInflux(node string, ts float64, seq uint64, ps []point) []wireMessage {
	var out []wireMessage
	tsNanos := int64(math.Round(ts*1000)) * 1e6
	for i := 0; i < len(ps); {
		g := ps[i].group
		var b []byte
		for ; i < len(ps) && ps[i].group == g; i++ {
			p := &ps[i]
			b = appendInfluxName(b, p.measurement)
			b = append(b, ",node="...)
			b = appendInfluxName(b, node)
			for _, kv := range p.tags {
				b = append(b, ',')
				b = appendInfluxName(b, kv[0])
				b = append(b, '=')
				b = appendInfluxName(b, kv[1])
			}
			b = append(b, " seq="...)
			b = strconv.AppendUint(b, seq, 10)
			b = append(b, 'i')
			for _, kv := range p.strs {
				b = append(b, ',')
				b = appendInfluxName(b, kv[0])
				b = append(b, '=')
				b = appendInfluxString(b, kv[1])
			}
			for _, f := range p.nums {
				b = append(b, ',')
				b = appendInfluxName(b, f.key)
				b = append(b, '=')
				b = f.append(b)
				if f.isInt {
					b = append(b, 'i') // without it, InfluxDB stores a float
				}
			}
			b = append(b, ' ')
			b = strconv.AppendInt(b, tsNanos, 10)
			b = append(b, '\n')
		}
		out = append(out, wireMessage{topic: g, payload: b})
	}
	return out
}

// appendNum writes v as a JSON number: integers without a fraction, others
// shortest; NaN and infinities (never expected) as 0.
func appendNum(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, '0')
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// append writes the field's number: an integer as one, a float as
// appendNum does (a float without a fraction reads as a float in line
// protocol too: "0" without the 'i' suffix).
func (f *numField) append(b []byte) []byte {
	if f.isInt {
		return strconv.AppendInt(b, f.i, 10)
	}
	return appendNum(b, f.v)
}

func appendJSONKey(b []byte, k string) []byte {
	b = append(b, ',')
	b = appendJSONString(b, k)
	return append(b, ':')
}

// appendJSONString writes s as a JSON string, escaping quotes, backslashes
// and control characters; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// appendInfluxName escapes a measurement, tag key, tag value or field key.
func appendInfluxName(b []byte, s string) []byte {
	if s == "" {
		return append(b, '_')
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ',', '=', ' ', '\\':
			b = append(b, '\\', c)
		case '\n', '\r', '\t':
			b = append(b, '_')
		default:
			b = append(b, c)
		}
	}
	return b
}

var influxStringEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func appendInfluxString(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, influxStringEscaper.Replace(s)...)
	return append(b, '"')
}
