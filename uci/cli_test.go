package uci

import (
	"strings"
	"testing"
)

// stepSpec is one command of a case; args are split on spaces, "{C}", "{O}" and
// "{S}" name the case's directories as in the recorded vectors, "{P}" an extra one.
type stepSpec struct {
	args, stdin, stdout string
	exit                int
}

// cliCases cover what the recorded vectors do not: multi-package import,
// batch corners, extra change directories, option handling. The expected
// results follow libuci's cli.c, file.c and delta.c.
var cliCases = []struct {
	name        string
	files       map[string]string
	steps       []stepSpec
	final       map[string]string
	finalSaves  map[string]string
	extraDeltas map[string]string // files of an extra change directory {P}
}{
	{
		name: "import several packages",
		steps: []stepSpec{
			{args: "import", stdin: "package a\nconfig t 'x'\n\toption v 1\npackage b\nconfig u\n"},
			{args: "show", stdout: "a.x=t\na.x.v='1'\nb.@u[0]=u\n"},
		},
		final: map[string]string{"a": "\nconfig t 'x'\n\toption v '1'\n\n", "b": "\nconfig u\n\n"},
	},
	{
		name: "import duplicate package",
		steps: []stepSpec{
			{args: "import", stdin: "package a\nconfig t\npackage a\nconfig u\n", exit: 1},
			{args: "import", stdin: "config t\n", exit: 1},
			{args: "-m import", exit: 255},
		},
	},
	{
		name:  "batch corners",
		files: map[string]string{"net": "config a 'x'\n"},
		steps: []stepSpec{
			{args: "batch", stdin: "add net t extra\nSET net.x.v='a b' # set\nbogus\nGet net.x.v\n\nimport q\nconfig z 'w'\n",
				stdout: "a b\n"},
			{args: "batch", stdin: "get net.x.v\nexit\nget net.x.v\n", stdout: "a b\n"},
		},
		final:      map[string]string{"net": "config a 'x'\n", "q": "\nconfig z 'w'\n\n"},
		finalSaves: map[string]string{"net": "net.x.v='a b'\n"},
	},
	{
		name:        "extra change directory",
		files:       map[string]string{"net": "config a 'x'\n"},
		extraDeltas: map[string]string{"net": "net.x.v='9'\n"},
		steps: []stepSpec{
			{args: "-p {P} get net.x.v", stdout: "9\n"},
			{args: "-p {P} set net.x.w=1"},
			{args: "-p {P} changes net", stdout: "net.x.v='9'\nnet.x.w='1'\n"},
			{args: "changes net", stdout: "net.x.w='1'\n"},
			{args: "-p {P} commit net"},
			{args: "-X show net", stdout: "net.x=a\nnet.x.v='9'\nnet.x.w='1'\n"},
		},
		final:      map[string]string{"net": "\nconfig a 'x'\n\toption v '9'\n\toption w '1'\n\n"},
		finalSaves: map[string]string{"net": ""},
	},
	{
		name:  "save dir without commit",
		files: map[string]string{"net": "config a 'x'\n"},
		steps: []stepSpec{
			{args: "-P {P} set net.x.w=2"},
			{args: "-P {P} get net.x.w", stdout: "2\n"},
			{args: "-P {P} commit net"},
			{args: "get net.x.w", exit: 1},
		},
		final:       map[string]string{"net": "config a 'x'\n"},
		extraDeltas: map[string]string{},
	},
	{
		name:  "list items and positions",
		files: map[string]string{"net": "config a 'x'\n\tlist l p\n\tlist l q\n\tlist l r\nconfig a 'y'\nconfig b 'z'\n"},
		steps: []stepSpec{
			{args: "delete net.x.l=1"},
			{args: "delete net.x.l=7"},
			{args: "reorder net.z=-1"},
			{args: "get net", stdout: ""},
			{args: "-d | get net.x.l", stdout: "p|r\n"},
			{args: "changes", stdout: "-net.x.l\nnet.z='-1'\n"},
			{args: "-X show net", stdout: "net.z=b\nnet.x=a\nnet.x.l='p' 'r'\nnet.y=a\n"},
		},
		final:      map[string]string{"net": "config a 'x'\n\tlist l p\n\tlist l q\n\tlist l r\nconfig a 'y'\nconfig b 'z'\n"},
		finalSaves: map[string]string{"net": "-net.x.l='1'\n^net.z='-1'\n"},
	},
	{
		name: "usage and options",
		steps: []stepSpec{
			{args: ""},
			{args: "-z show"},
			{args: "-c"},
			{args: "-f {C}/missing import x", exit: 1},
			{args: "frobnicate", exit: 255},
			{args: "help"},
		},
	},
}

func TestCommandLine(t *testing.T) {
	for _, mode := range []string{"binary", "in-process"} {
		for _, tc := range cliCases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				v := &vector{Name: tc.name, Files: tc.files, FinalFiles: tc.final, FinalSaves: tc.finalSaves}
				extra := ""
				if tc.extraDeltas != nil {
					extra = t.TempDir()
					for name, text := range tc.extraDeltas {
						write(t, extra+"/"+name, text)
					}
				}
				for _, s := range tc.steps {
					args := []string{"-c", "{C}", "-C", "{O}", "-t", "{S}"}
					if s.args != "" {
						args = append(args, strings.Split(strings.ReplaceAll(s.args, "{P}", extra), " ")...)
					}
					st := s
					v.Steps = append(v.Steps, struct {
						Args   []string `json:"args"`
						Stdin  *string  `json:"stdin"`
						Stdout string   `json:"stdout"`
						Exit   int      `json:"exit"`
					}{args, &st.stdin, s.stdout, s.exit})
				}
				run := func(t *testing.T, stdin string, args ...string) (string, string, int) {
					return runMain(stdin, args...)
				}
				if mode == "binary" {
					run = func(t *testing.T, stdin string, args ...string) (string, string, int) {
						return runUCI(t, stdin, args...)
					}
				}
				runVector(t, v, run)
			})
		}
	}
}
