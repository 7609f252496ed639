package openwrtpackage

import (
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// luciFile is a file or directory luci-app-nodekeeper installs.
type luciFile struct {
	path string // without the leading slash; directories end in "/"
	mode int64
	dir  bool
	body []byte
}

// luciFiles lists what luci-app-nodekeeper installs, read from its source
// (htdocs/ under /www, root/ under /), in tar's --sort=name order.
func luciFiles(t *testing.T) []luciFile {
	t.Helper()
	var out []luciFile
	seen := map[string]bool{}
	add := func(src, prefix string) {
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if rel == "." {
				if prefix != "" && !seen[prefix] {
					seen[prefix] = true
					out = append(out, luciFile{prefix, 0o755, true, nil})
				}
				return nil
			}
			rel = prefix + filepath.ToSlash(rel)
			if d.IsDir() {
				out = append(out, luciFile{rel + "/", 0o755, true, nil})
				return nil
			}
			out = append(out, luciFile{rel, 0o644, false, readFile(t, p)})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add(filepath.Join(luciDir, "root"), "")
	add(filepath.Join(luciDir, "htdocs"), "www/")
	sort.SliceStable(out, func(i, j int) bool {
		a, b := strings.Split(strings.TrimSuffix(out[i].path, "/"), "/"), strings.Split(strings.TrimSuffix(out[j].path, "/"), "/")
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
	return out
}
