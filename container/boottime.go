package container

import (
	"bytes"
	"strconv"
	"time"

	"github.com/nodekeeper/nodekeeper/internal/safefile"
)

// bootTime reads when the host booted from the btime line of a
// /proc/stat; the zero time if it cannot (then every stopped container
// of a started sliver is a warning, as before).
func bootTime(path string) time.Time {
	b, err := safefile.ReadFile(path, 1<<20)
	if err != nil {
		return time.Time{}
	}
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			if sec, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64); err == nil && sec > 0 {
				return time.Unix(sec, 0)
			}
		}
	}
	return time.Time{}
}
