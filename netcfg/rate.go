package netcfg

import (
	"fmt"
	"strconv"
	"strings"
)

// rateUnits are tc's rate units, in bits per second.
var rateUnits = []struct {
	suffix string
	mult   uint64
}{
	{"gibit", 1 << 30}, {"mibit", 1 << 20}, {"kibit", 1 << 10},
	{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3},
	{"gbps", 8e9}, {"mbps", 8e6}, {"kbps", 8e3},
	{"bit", 1}, {"bps", 8},
}

// ParseRate reads a rate the way tc writes it: "10mbit", "512kbit",
// "1gbit", "100mbps" (bytes per second), or a bare number of bits per
// second. It returns bits per second.
func ParseRate(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := uint64(1)
	for _, u := range rateUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = num, u.mult
			break
		}
	}
	return scaled(s, t, mult, "rate")
}

// ParseSize reads a size in bytes the way tc writes it: "32k" or "32kb"
// (KiB), "1m" or "1mb" (MiB), "1500b" or a bare number.
func ParseSize(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = num, u.mult
			break
		}
	}
	return scaled(s, t, mult, "size")
}

func scaled(orig, num string, mult uint64, what string) (uint64, error) {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || num == "" || strings.ContainsAny(num, "eE+-xXpP_nN") {
		return 0, fmt.Errorf("%s %q: want a number with an optional unit like 10mbit or 32k", what, orig)
	}
	v := f * float64(mult)
	if v >= 1<<63 {
		return 0, fmt.Errorf("%s %q is too large", what, orig)
	}
	return uint64(v), nil
}

// FormatRate writes bits per second in the largest tc unit that divides it.
func FormatRate(bits uint64) string {
	switch {
	case bits == 0:
		return "0bit"
	case bits%1e9 == 0:
		return fmt.Sprintf("%dgbit", bits/1e9)
	case bits%1e6 == 0:
		return fmt.Sprintf("%dmbit", bits/1e6)
	case bits%1e3 == 0:
		return fmt.Sprintf("%dkbit", bits/1e3)
	}
	return fmt.Sprintf("%dbit", bits)
}
