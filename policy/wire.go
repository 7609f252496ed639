package policy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// The engine and its worker talk over two pipes in frames: a 4-byte
// little-endian length, a type byte and a payload of varints, floats and
// length-prefixed strings. It is compact and allocation-light, so a round
// of all policies costs one write and one read each way.

const (
	msgConfig    byte = iota + 1 // engine -> worker, once: budgets and allow-lists
	msgLoad                      // engine -> worker: load a file
	msgLoaded                    // worker -> engine: the file's policies or its problems
	msgUnload                    // engine -> worker: drop a file
	msgRound                     // engine -> worker: evaluate some policies
	msgRoundDone                 // worker -> engine: the results of a round
	msgQuery                     // worker -> engine: peers() or uci.get during a round
	msgAnswer                    // engine -> worker: the answer to a query
	msgTest                      // engine -> worker: run a *_test.lua file
	msgTestDone                  // worker -> engine: test results
)

// maxFrame bounds what either side accepts in one frame, so a hostile
// policy cannot make the agent allocate much: results are capped long
// before this in the worker.
const maxFrame = 4 << 20

var errFrameTooLarge = errors.New("frame too large")

type enc struct{ b []byte }

func (e *enc) reset(typ byte) { e.b = append(e.b[:0], 0, 0, 0, 0, typ) }

// frame finishes the frame started by reset and returns it.
func (e *enc) frame() []byte {
	binary.LittleEndian.PutUint32(e.b, uint32(len(e.b)-4))
	return e.b
}

func (e *enc) uint(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) int(v int64)     { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) str(s string)    { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bytes(s []byte)  { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) float(f float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f)) }
func (e *enc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *enc) strs(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

// dec reads a payload; the first error sticks and later reads return zero
// values, so callers check err once at the end.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = errors.New("malformed frame")
	}
	d.b = nil
}

func (d *dec) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length and checks it against what is left, so a corrupt
// frame cannot make the reader allocate.
func (d *dec) count(min int) int {
	n := d.uint()
	if n > uint64(len(d.b)) || (min > 0 && n*uint64(min) > uint64(len(d.b))) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *dec) bytes() []byte {
	n := d.count(1)
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string { return string(d.bytes()) }

func (d *dec) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *dec) bool() bool {
	if len(d.b) < 1 {
		d.fail()
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}

func (d *dec) strs() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.str()
	}
	return ss
}

// frameReader reads frames from a pipe into a buffer it reuses. A read that
// times out (the engine polls its worker while it waits) leaves partial
// frames in the buffer, so reading can simply resume.
type frameReader struct {
	r   io.Reader
	buf []byte
	off int // start of unread data
}

// next returns the next frame's type and payload; the payload is valid
// until the following call.
func (fr *frameReader) next() (byte, []byte, error) {
	for {
		if avail := fr.buf[fr.off:]; len(avail) >= 4 {
			n := int(binary.LittleEndian.Uint32(avail))
			if n < 1 || n > maxFrame {
				return 0, nil, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
			}
			if len(avail) >= 4+n {
				fr.off += 4 + n
				return avail[4], avail[5 : 4+n], nil
			}
			if need := fr.off + 4 + n; need > cap(fr.buf) {
				nb := make([]byte, len(avail), max(4+n, 4096))
				copy(nb, avail)
				fr.buf, fr.off = nb, 0
			}
		}
		if fr.off > 0 && fr.off == len(fr.buf) {
			fr.buf, fr.off = fr.buf[:0], 0
		}
		if len(fr.buf) == cap(fr.buf) {
			nb := make([]byte, len(fr.buf)-fr.off, max(2*cap(fr.buf), 4096))
			copy(nb, fr.buf[fr.off:])
			fr.buf, fr.off = nb, 0
		}
		n, err := fr.r.Read(fr.buf[len(fr.buf):cap(fr.buf)])
		fr.buf = fr.buf[:len(fr.buf)+n]
		if err != nil && n == 0 {
			return 0, nil, err
		}
	}
}

// Policy metadata, as the worker reports it after loading a file.
type policyMeta struct {
	Name        string
	Line        int
	Every       int64 // nanoseconds; 0 for event policies
	On          string
	Hold        int64
	Cooldown    int64
	Priority    int64
	DryRun      bool
	Description string
}

func (e *enc) meta(m *policyMeta) {
	e.str(m.Name)
	e.int(int64(m.Line))
	e.int(m.Every)
	e.str(m.On)
	e.int(m.Hold)
	e.int(m.Cooldown)
	e.int(m.Priority)
	e.bool(m.DryRun)
	e.str(m.Description)
}

func (d *dec) meta() policyMeta {
	return policyMeta{Name: d.str(), Line: int(d.int()), Every: d.int(), On: d.str(), Hold: d.int(),
		Cooldown: d.int(), Priority: d.int(), DryRun: d.bool(), Description: d.str()}
}

func (e *enc) action(a *Action) {
	e.str(a.Op)
	e.str(a.Sliver)
	e.str(a.Iface)
	e.float(a.CPU)
	e.int(a.MemoryBytes)
	e.int(a.Pids)
	e.str(a.Package)
	e.str(a.Section)
	e.str(a.Option)
	e.str(a.Value)
	e.str(a.Level)
	e.str(a.Message)
}

func (d *dec) action() Action {
	return Action{Op: d.str(), Sliver: d.str(), Iface: d.str(), CPU: d.float(), MemoryBytes: d.int(),
		Pids: d.int(), Package: d.str(), Section: d.str(), Option: d.str(), Value: d.str(),
		Level: d.str(), Message: d.str()}
}

// An evalResult is what one evaluation of one policy produced.
type evalResult struct {
	When    bool // the condition held
	Fired   bool // act ran to its end
	Err     string
	Kind    errKind
	Actions []Action
	Logs    []string
	Inputs  []string
	Values  []string // the JSON values of Inputs, beside them ("" unknown)
	// State is the policy's persistent state after the evaluation, when
	// StateSet (it changed).
	StateSet bool
	State    []byte
}

// errKind classifies a failure for the decision log and for tests.
type errKind byte

const (
	errNone    errKind = iota
	errRuntime         // a Lua error
	errCPU             // the CPU budget was exceeded
	errMemory          // the memory budget was exceeded
	errWorker          // the worker died for another reason
)

func (e *enc) result(r *evalResult) {
	e.bool(r.When)
	e.bool(r.Fired)
	e.str(r.Err)
	e.b = append(e.b, byte(r.Kind))
	e.uint(uint64(len(r.Actions)))
	for i := range r.Actions {
		e.action(&r.Actions[i])
	}
	e.strs(r.Logs)
	e.strs(r.Inputs)
	e.strs(r.Values)
	e.bool(r.StateSet)
	if r.StateSet {
		e.bytes(r.State)
	}
}

func (d *dec) result() evalResult {
	r := evalResult{When: d.bool(), Fired: d.bool(), Err: d.str()}
	if len(d.b) > 0 {
		r.Kind = errKind(d.b[0])
		d.b = d.b[1:]
	}
	if n := d.count(12); n > 0 {
		r.Actions = make([]Action, n)
		for i := range r.Actions {
			r.Actions[i] = d.action()
		}
	}
	r.Logs = d.strs()
	r.Inputs = d.strs()
	r.Values = d.strs()
	r.StateSet = d.bool()
	if r.StateSet {
		r.State = append([]byte(nil), d.bytes()...)
	}
	return r
}
