package policy

import (
	"fmt"
	"strconv"
	"time"
)

// parseDuration reads a policy duration: one or more number-unit pairs
// with units ms, s, m, h and d, such as "30s", "2m", "1h30m", "1.5d".
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total float64
	for rest := s; rest != ""; {
		i := 0
		for i < len(rest) && (rest[i] == '.' || rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q: expected a number such as \"30s\" or \"5m\"", s)
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
			j++
		}
		var unit float64
		switch rest[:j] {
		case "ms":
			unit = float64(time.Millisecond)
		case "s":
			unit = float64(time.Second)
		case "m":
			unit = float64(time.Minute)
		case "h":
			unit = float64(time.Hour)
		case "d":
			unit = 24 * float64(time.Hour)
		case "":
			return 0, fmt.Errorf("invalid duration %q: missing unit (ms, s, m, h or d)", s)
		default:
			return 0, fmt.Errorf("invalid duration %q: unknown unit %q (use ms, s, m, h or d)", s, rest[:j])
		}
		total += n * unit
		rest = rest[j:]
	}
	if total > float64(365*24*time.Hour) {
		return 0, fmt.Errorf("duration %q is longer than a year", s)
	}
	return time.Duration(total), nil
}

// ParseDuration reads a policy duration as policy files write them
// ("30s", "2m", "1h30m", "1.5d"): for the fleet's aggregation policies,
// which take the same hold and cooldown.
func ParseDuration(s string) (time.Duration, error) { return parseDuration(s) }
