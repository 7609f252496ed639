package uci

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// A vector is one conformance case recorded from OpenWrt's uci tool; see
// testdata/vectors/README.md.
type vector struct {
	Name  string            `json:"name"`
	Files map[string]string `json:"files"`
	Steps []struct {
		Args   []string `json:"args"`
		Stdin  *string  `json:"stdin"`
		Stdout string   `json:"stdout"`
		Exit   int      `json:"exit"`
	} `json:"steps"`
	FinalFiles map[string]string `json:"final_files"`
	FinalSaves map[string]string `json:"final_saves"`
}

// vectorDirs are the directories of cases to run: ours, and a held-out set
// named by UCI_VECTORS.
func vectorDirs(t *testing.T) []string {
	dirs := []string{"testdata/vectors"}
	if d := os.Getenv("UCI_VECTORS"); d != "" {
		dirs = append(dirs, d)
	}
	return dirs
}

func loadVectors(t *testing.T) []*vector {
	t.Helper()
	var vs []*vector
	for _, dir := range vectorDirs(t) {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no vectors in %s (%v)", dir, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v := &vector{}
			if err := json.Unmarshal(data, v); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if v.Name == "" {
				v.Name = strings.TrimSuffix(filepath.Base(f), ".json")
			}
			vs = append(vs, v)
		}
	}
	return vs
}

// checkDefaultSaveDir fails if OpenWrt's default save directory holds
// changes: like uci, nodekeeper uci also replays /tmp/.uci when -t names
// another save directory, so such files would leak into every case.
func checkDefaultSaveDir(t *testing.T) {
	ents, _ := os.ReadDir(DefaultSaveDir)
	if len(ents) > 0 {
		t.Fatalf("%s is not empty; uci replays it in every case, so the vectors cannot run here", DefaultSaveDir)
	}
}

type runner func(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int)

func TestVectorsBinary(t *testing.T) {
	needBinary(t)
	checkDefaultSaveDir(t)
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			runVector(t, v, func(t *testing.T, stdin string, args ...string) (string, string, int) {
				return runUCI(t, stdin, args...)
			})
		})
	}
}

func TestVectorsInProcess(t *testing.T) {
	checkDefaultSaveDir(t)
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			runVector(t, v, func(t *testing.T, stdin string, args ...string) (string, string, int) {
				return runMain(stdin, args...)
			})
		})
	}
}

func runVector(t *testing.T, v *vector, run runner) {
	root := t.TempDir()
	dirs := map[string]string{"{C}": "config", "{O}": "override", "{S}": "save"}
	for k, d := range dirs {
		dirs[k] = filepath.Join(root, d)
		if err := os.Mkdir(dirs[k], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range v.Files {
		if err := os.WriteFile(filepath.Join(dirs["{C}"], name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, st := range v.Steps {
		args := make([]string, len(st.Args))
		for j, a := range st.Args {
			for k, d := range dirs {
				a = strings.ReplaceAll(a, k, d)
			}
			args[j] = a
		}
		stdin := ""
		if st.Stdin != nil {
			stdin = *st.Stdin
		}
		out, errs, code := run(t, stdin, args...)
		if out != st.Stdout || code != st.Exit {
			t.Fatalf("step %d: uci %q\nstdin %q\ngot exit %d, stdout %q\nwant exit %d, stdout %q\nstderr %q",
				i, st.Args, stdin, code, out, st.Exit, st.Stdout, errs)
		}
	}
	compareDir(t, "config dir", dirs["{C}"], v.FinalFiles)
	compareDir(t, "save dir", dirs["{S}"], v.FinalSaves)
}

func compareDir(t *testing.T, what, dir string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = string(data)
	}
	if want == nil {
		want = map[string]string{}
	}
	var diffs []string
	for name, w := range want {
		if g, ok := got[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing, want %q", name, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: got %q\n\twant %q", name, g, w))
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected file %q", name, g))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("%s differs:\n%s", what, strings.Join(diffs, "\n"))
	}
}
