package uci

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
)

// tool is one run of the uci command line, mirroring uci's cli.c: its flags,
// its input stream and libuci's list of change directories.
type tool struct {
	cur       Cursor
	deltaPath []string // libuci's delta_path; the last element is the save dir
	strict    bool
	perrors   bool // -S: report each skipped parse error
	nameAnon  bool // -n
	delim     string
	merge     bool // -m
	quiet     bool // -q
	noCommit  bool // -P
	showExt   bool // show anonymous sections as @type[i]; -X clears it
	batch     bool
	in        *stream
	inName    string
	out       *bufio.Writer
	errw      io.Writer
}

const usageText = `Usage: nodekeeper uci [<options>] <command> [<arguments>]

Commands:
	batch
	export     [<config>]
	import     [<config>]
	changes    [<config>]
	commit     [<config>]
	add        <config> <section-type>
	add_list   <config>.<section>.<option>=<string>
	del_list   <config>.<section>.<option>=<string>
	show       [<config>[.<section>[.<option>]]]
	get        <config>.<section>[.<option>]
	set        <config>.<section>[.<option>]=<value>
	delete     <config>[.<section>[[.<option>][=<id>]]]
	rename     <config>.<section>[.<option>]=<name>
	revert     <config>[.<section>[.<option>]]
	reorder    <config>.<section>=<position>

Options:
	-c <path>  set the search path for config files (default: /etc/config)
	-C <path>  set the search path for config override files (default: /var/run/uci)
	-d <str>   set the delimiter for list values in uci show
	-f <file>  use <file> as input instead of stdin
	-m         when importing, merge data into an existing package
	-n         name unnamed sections on export (default)
	-N         don't name unnamed sections
	-p <path>  add a search path for config change files
	-P <path>  add a search path for config change files and use as default
	-t <path>  set save path for config change files
	-q         quiet mode (don't print error messages)
	-s         force strict mode (stop on parser errors, default)
	-S         disable strict mode
	-X         do not use extended syntax on 'show'

`

// Main runs the uci command line with args, the arguments after "uci", and
// returns the exit status. It behaves like OpenWrt's uci tool: same options,
// commands, output, exit statuses and files; error messages carry uci's
// text, and parse errors also name the file.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	t := &tool{
		strict:    true,
		delim:     " ",
		showExt:   true,
		deltaPath: []string{DefaultSaveDir},
		inName:    "standard input",
		out:       bufio.NewWriter(stdout),
		errw:      stderr,
	}
	defer t.out.Flush()
	var input *os.File
	defer func() {
		if input != nil {
			input.Close()
		}
	}()

	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		// libuci has no help option: it prints its usage, exit status 0,
		// after "invalid option"; asked for, the usage comes alone.
		t.usage()
		return 0
	}
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		i++
		for j := 1; j < len(a); j++ {
			c := a[j]
			k := strings.IndexByte("c:C:d:f:LmnNp:P:qsSt:X", c)
			if k < 0 || c == ':' {
				fmt.Fprintf(stderr, "uci: invalid option -- '%c'\n", c)
				t.usage()
				return 0
			}
			var arg string
			if strings.HasPrefix("c:C:d:f:LmnNp:P:qsSt:X"[k+1:], ":") {
				switch {
				case j+1 < len(a):
					arg = a[j+1:]
				case i < len(args):
					arg = args[i]
					i++
				default:
					fmt.Fprintf(stderr, "uci: option requires an argument -- '%c'\n", c)
					t.usage()
					return 0
				}
				j = len(a)
			}
			switch c {
			case 'c':
				t.cur.ConfDir = arg
			case 'C':
				t.cur.OverrideDir = or(arg, "-")
			case 'd':
				t.delim = arg
			case 'f':
				if input != nil {
					t.cliError("Too many input files.\n")
					return 1
				}
				f, err := os.Open(arg)
				if err != nil {
					t.cliError("uci: %s\n", strerror(err))
					return 1
				}
				input, t.inName = f, arg
			case 'm':
				t.merge = true
			case 'n':
				t.nameAnon = true
			case 'N':
				t.nameAnon = false
			case 'p':
				if !slices.Contains(t.deltaPath, arg) {
					// Before the last entry (append, shift by one: no
					// slices.Insert instantiation in the router binary).
					n := len(t.deltaPath)
					t.deltaPath = append(t.deltaPath, arg)
					t.deltaPath[n-1], t.deltaPath[n] = arg, t.deltaPath[n-1]
				}
			case 'P':
				t.setSaveDir(arg)
				t.noCommit = true
			case 'q':
				t.quiet = true
			case 's':
				t.strict = true
			case 'S':
				t.strict, t.perrors = false, true
			case 't':
				t.setSaveDir(arg)
			case 'X':
				t.showExt = false
			default: // 'L' is in uci's option string but unhandled
				t.usage()
				return 0
			}
		}
	}
	if input != nil {
		t.in = newStream(input)
	} else {
		t.in = newStream(stdin)
	}
	t.cur.SaveDir = t.deltaPath[len(t.deltaPath)-1]
	t.cur.DeltaDirs = t.deltaPath[:len(t.deltaPath)-1]
	t.cur.Lax = !t.strict
	t.cur.nameAnonymous = t.nameAnon
	if t.perrors {
		// libuci prints these itself, -q or not.
		t.cur.warn = func(err error) {
			t.out.Flush()
			fmt.Fprintln(t.errw, errorText(err))
		}
	}

	args = args[i:]
	if len(args) == 0 {
		t.usage()
		return 0
	}
	ret := t.cmd(args)
	if ret == 255 {
		t.usage()
	}
	return ret
}

// setSaveDir is uci_set_savedir: the directory moves to the end of the
// change directories.
func (t *tool) setSaveDir(dir string) {
	kept := t.deltaPath[:0]
	for _, d := range t.deltaPath {
		if d != dir {
			kept = append(kept, d)
		}
	}
	t.deltaPath = append(kept, dir)
}

func (t *tool) usage() {
	t.out.Flush()
	io.WriteString(t.errw, usageText)
}

func (t *tool) cliError(format string, a ...any) {
	if !t.quiet {
		t.out.Flush()
		fmt.Fprintf(t.errw, format, a...)
	}
}

// perror prints an error as uci does: "uci: Entry not found".
func (t *tool) perror(err error) {
	t.cliError("uci: %s\n", errorText(err))
}

// errorText is libuci's message for err; parse errors in a file add the
// position, and the file's name.
func errorText(err error) string {
	s := codeText[errorCode(err)]
	var pe *ParseError
	if errors.As(err, &pe) {
		s += fmt.Sprintf(" (%s) at line %d, byte %d", pe.Reason, pe.Line, pe.Byte)
		if pe.File != "" {
			s += " in " + pe.File
		}
	}
	return s
}

// strerror is C's text for an OS error, e.g. "No such file or directory".
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// cmd runs one command (uci_cmd); argv[0] is its name, matched regardless
// of case as uci does.
func (t *tool) cmd(argv []string) int {
	switch name := asciiLower(argv[0]); name {
	case "batch":
		if t.batch {
			return 255
		}
		return t.runBatch()
	case "show", "changes", "export", "commit":
		return t.packageCmd(name, argv)
	case "get", "set", "ren", "rename", "revert", "reorder", "del", "delete", "add_list", "del_list":
		return t.sectionCmd(name, argv)
	case "import":
		return t.doImport(argv)
	case "help":
		t.usage()
		return 0
	case "add":
		return t.doAdd(argv)
	}
	return 255
}

// runBatch reads commands from the input, one a line, until EOF or "exit".
func (t *tool) runBatch() int {
	t.batch = true
	defer func() { t.batch = false }()
	for !t.in.eof {
		ret := t.batchCmd()
		t.out.Flush()
		if ret == 254 {
			return 0
		}
		if ret == 255 {
			t.cliError("Unknown command\n")
		}
	}
	return 0
}

// batchCmd reads and runs one batch line of at most three arguments.
func (t *tool) batchCmd() int {
	ps := &parser{in: t.in, file: t.inName}
	var argv []string
	for i := 0; ; i++ {
		if i == 4 {
			t.cliError("Too many arguments\n")
			return 1
		}
		arg, _, err := ps.argument(i == 0)
		if err != nil {
			t.perror(err)
			return 0
		}
		if arg == "" {
			break
		}
		argv = append(argv, arg)
	}
	if len(argv) == 0 {
		return 0
	}
	if asciiLower(argv[0]) == "exit" {
		return 254
	}
	return t.cmd(argv)
}
