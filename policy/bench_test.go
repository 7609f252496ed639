package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

const thresholdPolicy = `
policy "cpu-guard" {
  every = "30s",
  when = function(node) return node.system.load[1] > 4 end,
  act = function(node) sliver.limit("s3", { cpu = 0.5 }) end,
}`

// BenchmarkThresholdEval is one evaluation of a simple threshold policy,
// its input included: the raw node document as it arrives each round.
func BenchmarkThresholdEval(b *testing.B) {
	doc := sampleDoc(b)
	fs, problems := loadFile(context.Background(), "t.lua", []byte(thresholdPolicy), newLimits(Budget{}), nil, noAnswers{}, nil)
	if problems != nil {
		b.Fatal(problems)
	}
	defer fs.close()
	p := fs.policies[0]
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		r := fs.evaluate(ctx, p, evalInput{now: now, doc: newJdoc(doc), mayAct: true})
		if r.Err != "" || r.When {
			b.Fatal(r)
		}
	}
}

// The boundary's cost: a round of ten policies in the worker process
// against the same ten evaluations in this process.
const roundPolicies = 10

func roundFiles() string {
	var sb strings.Builder
	for i := 0; i < roundPolicies; i++ {
		fmt.Fprintf(&sb, "policy \"p%d\" { every = \"30s\", when = function(node) return node.system.load[1] > 4 end, act = function() end }\n", i)
	}
	return sb.String()
}

func BenchmarkRoundInProcess(b *testing.B) {
	doc := sampleDoc(b)
	fs, problems := loadFile(context.Background(), "r.lua", []byte(roundFiles()), newLimits(Budget{}), nil, noAnswers{}, nil)
	if problems != nil {
		b.Fatal(problems)
	}
	defer fs.close()
	wd := newWatchdog(Budget{}.withDefaults(), progress{}, func(int) {})
	now := time.Now()
	for b.Loop() {
		d := newJdoc(doc)
		for _, p := range fs.policies {
			ctx := wd.begin()
			fs.evaluate(ctx, p, evalInput{now: now, doc: d, mayAct: true})
			wd.end()
		}
	}
}

func BenchmarkRoundWorker(b *testing.B) {
	doc := sampleDoc(b)
	w, err := startWorker(testWorker(b), Budget{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer w.close()
	if _, problems, err := w.load(loadReq{id: 1, name: "r.lua", src: []byte(roundFiles())}); err != nil || problems != nil {
		b.Fatal(err, problems)
	}
	items := make([]roundItem, roundPolicies)
	for i := range items {
		items[i] = roundItem{file: 1, idx: uint64(i), mayAct: true}
	}
	now := time.Now()
	for b.Loop() {
		// A new sample every round, as the agent sends it.
		if _, err := w.round(now, doc, true, nil, items, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGopherLua runs testdata/bench/*.lua in gopher-lua; the bench
// script runs the same files in PUC Lua 5.1 beside it.
func BenchmarkGopherLua(b *testing.B) {
	files, _ := filepath.Glob("testdata/bench/*.lua")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(f), ".lua"), func(b *testing.B) {
			L := lua.NewState()
			defer L.Close()
			if err := L.DoString(string(src)); err != nil {
				b.Fatal(err)
			}
			fn := L.GetGlobal("bench")
			for b.Loop() {
				if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
					b.Fatal(err)
				}
				L.Pop(1)
			}
		})
	}
}
