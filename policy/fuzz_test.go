package policy

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// FuzzNodeDocument feeds arbitrary bytes as the node document: reading
// any field, walking it with pairs and resolving counter paths must give
// values or errors, never a panic.
func FuzzNodeDocument(f *testing.F) {
	f.Add(sampleDoc(f))
	f.Add([]byte(`{"a":[1,{"b":"\u00e9\\"}],"c":null}`))
	f.Add([]byte(`{"a":`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		dc := newDecoder(L)
		d := newJdoc(doc)
		v, err := dc.root(d, "")
		if err != nil {
			return
		}
		deepFill(dc, v.(*lua.LTable), 0)
		d.lookup("system.load.1")
		d.lookup("interfaces.eth0.rx_bytes_total")
	})
}

// FuzzFrame feeds arbitrary payloads to the engine's decoder of worker
// results: a hostile worker must not crash or bloat the agent.
func FuzzFrame(f *testing.F) {
	var e enc
	e.reset(msgRoundDone)
	e.result(&evalResult{When: true, Fired: true, Actions: []Action{{Op: OpAlert, Message: "x"}}, Logs: []string{"l"}})
	f.Add(e.frame()[5:])
	f.Fuzz(func(t *testing.T, payload []byte) {
		d := dec{b: payload}
		for i := 0; i < 4 && d.err == nil; i++ {
			d.result()
		}
	})
}
