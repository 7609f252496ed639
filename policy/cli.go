package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Tools is what the `nodekeeper policy` subcommands need: the budgets, the
// UCI allow-list and how to start the worker. Each file is loaded and run
// in the worker, as the agent would, so a hostile file fails alone.
type Tools struct {
	Budget   Budget
	UCIAllow []string
	Worker   WorkerSpec
}

// session is a worker that is restarted after it dies.
type session struct {
	t Tools
	w *workerProc
}

func (s *session) worker() (*workerProc, error) {
	if s.w == nil {
		w, err := startWorker(s.t.Worker, s.t.Budget, s.t.UCIAllow)
		if err != nil {
			return nil, err
		}
		s.w = w
	}
	return s.w, nil
}

func (s *session) close() {
	if s.w != nil {
		s.w.close()
		s.w = nil
	}
}

// load loads one file: its policies, or its problems as file:line: message.
func (s *session) load(id uint64, name string) ([]policyMeta, []string) {
	src, err := os.ReadFile(name)
	if err != nil {
		return nil, []string{fmt.Sprintf("%s:1: %v", name, err)}
	}
	if len(src) > maxFileSize {
		return nil, []string{fmt.Sprintf("%s:1: file is larger than %d KiB", name, maxFileSize>>10)}
	}
	w, err := s.worker()
	if err != nil {
		return nil, []string{fmt.Sprintf("%s:1: %v", name, err)}
	}
	metas, problems, err := w.load(loadReq{id: id, name: name, src: src})
	if err != nil {
		s.close()
		var d *death
		if errors.As(err, &d) {
			return nil, []string{fmt.Sprintf("%s:1: %s (while running the file's top level)", name, d.msg)}
		}
		return nil, []string{fmt.Sprintf("%s:1: %v", name, err)}
	}
	return metas, problems
}

// Check loads each file under the budgets and prints every problem as
// file:line: message. It returns the number of problems.
func (t Tools) Check(files []string, out io.Writer) int {
	s := &session{t: t}
	defer s.close()
	n := 0
	for i, f := range files {
		metas, problems := s.load(uint64(i+1), f)
		for _, p := range problems {
			fmt.Fprintln(out, p)
		}
		n += len(problems)
		if len(problems) == 0 && s.w != nil {
			s.w.unload(uint64(i + 1))
			_ = metas
		}
	}
	return n
}

// EvalLine is one line of `nodekeeper policy eval`.
type EvalLine struct {
	Policy  *string   `json:"policy"`
	Source  string    `json:"source"`
	When    bool      `json:"when"`
	Fired   bool      `json:"fired"`
	Actions []Action  `json:"actions"`
	Logs    []string  `json:"logs,omitempty"`
	Inputs  []string  `json:"inputs,omitempty"`
	Error   *string   `json:"error"`
	Time    time.Time `json:"time"`
}

// Eval evaluates every policy of each file once against doc at now,
// ignoring hold and cooldown (one evaluation cannot show them) and
// performing nothing; it prints one JSON object a line. Each file is
// loaded and run on its own; a file that fails gets a line with its error.
// Event policies get the event {name = <their event>}. It returns the
// number of failed files and policies.
func (t Tools) Eval(doc []byte, now time.Time, files []string, out io.Writer) int {
	if !json.Valid(doc) {
		fmt.Fprintln(out, `{"policy":null,"fired":false,"actions":[],"error":"the node document is not valid JSON"}`)
		return 1
	}
	s := &session{t: t}
	defer s.close()
	enc := json.NewEncoder(out)
	failed := 0
	for i, f := range files {
		id := uint64(i + 1)
		metas, problems := s.load(id, f)
		if len(problems) > 0 {
			msg := strings.Join(problems, "\n")
			enc.Encode(EvalLine{Source: f, Actions: []Action{}, Error: &msg, Time: now})
			failed++
			continue
		}
		for k, m := range metas {
			var event []byte
			if m.On != "" {
				event, _ = json.Marshal(map[string]string{"name": m.On})
			}
			line := EvalLine{Policy: &metas[k].Name, Source: fmt.Sprintf("%s:%d", f, m.Line), Actions: []Action{}, Time: now}
			w, err := s.worker()
			var res []evalResult
			if err == nil {
				res, err = w.round(now, doc, true, event, []roundItem{{file: id, idx: uint64(k), mayAct: true}}, nil)
			}
			if err != nil {
				s.close()
				msg := fmt.Sprintf("%s: policy %q: %v", line.Source, m.Name, err)
				line.Error = &msg
				enc.Encode(line)
				failed++
				// The file is gone with the worker: reload it for the rest.
				if _, problems := s.load(id, f); len(problems) > 0 {
					break
				}
				continue
			}
			r := res[0]
			line.When, line.Fired, line.Logs, line.Inputs = r.When, r.Fired, r.Logs, r.Inputs
			if r.Actions != nil {
				line.Actions = r.Actions
			}
			if r.Err != "" {
				line.Error = &r.Err
				failed++
			}
			enc.Encode(line)
		}
		if s.w != nil {
			s.w.unload(id)
		}
	}
	return failed
}

// Test runs the *_test.lua files found in paths (directories are searched
// recursively), each against the policy file beside it (x_test.lua tests
// x.lua). It prints each failure as file:line: message and ends with
// "N passed, M failed".
func (t Tools) Test(paths []string, out io.Writer) (passed, failed int) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(out, "%s:1: %v\n", p, err)
			failed++
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, "_test.lua") {
				files = append(files, path)
			}
			return nil
		})
	}
	sort.Strings(files)
	s := &session{t: t}
	defer s.close()
	for _, tf := range files {
		pf := strings.TrimSuffix(tf, "_test.lua") + ".lua"
		tsrc, err := os.ReadFile(tf)
		if err != nil {
			fmt.Fprintf(out, "%s:1: %v\n", tf, err)
			failed++
			continue
		}
		psrc, err := os.ReadFile(pf)
		if err != nil {
			fmt.Fprintf(out, "%s:1: no policy file %s beside it: %v\n", tf, filepath.Base(pf), err)
			failed++
			continue
		}
		w, err := s.worker()
		if err != nil {
			fmt.Fprintf(out, "%s:1: %v\n", tf, err)
			failed++
			continue
		}
		res, fileErr, err := w.test(pf, psrc, tf, tsrc)
		if err != nil {
			s.close()
			var d *death
			if errors.As(err, &d) {
				fileErr = fmt.Sprintf("%s:1: %s", tf, d.msg)
			} else {
				fileErr = fmt.Sprintf("%s:1: %v", tf, err)
			}
		}
		if fileErr != "" {
			fmt.Fprintln(out, fileErr)
			failed++
			continue
		}
		for _, r := range res {
			if r.failure == "" {
				passed++
				continue
			}
			failed++
			fmt.Fprintf(out, "%s (test %q)\n", r.failure, r.name)
		}
	}
	fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
	return passed, failed
}
