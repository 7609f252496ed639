package telemetry

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func msg(i int) message {
	return message{Topic: "t", Payload: []byte(fmt.Sprintf("%04d", i)), QoS: 1}
}

func TestRAMSpoolOrderAckAndCap(t *testing.T) {
	one := msg(0).size()
	s := newRAMSpool(10 * one)
	for i := range 25 {
		s.push(msg(i))
	}
	n, b, dropped := s.depth()
	if n != 10 || b != 10*one || dropped != 15 {
		t.Fatalf("depth %d bytes %d dropped %d, want 10, %d, 15", n, b, one*10, dropped)
	}
	head, _ := s.peek()
	s.push(msg(25)) // drops the head (15) while it is "in flight"
	s.ack(head.id)  // must not remove 16
	for want := 16; want <= 25; want++ {
		m, ok := s.peek()
		if !ok || string(m.Payload) != fmt.Sprintf("%04d", want) {
			t.Fatalf("head %q %v, want %04d", m.Payload, ok, want)
		}
		s.ack(m.id)
	}
	if _, ok := s.peek(); ok {
		t.Fatal("spool not empty")
	}
	if n, b, d := s.depth(); n != 0 || b != 0 || d != 16 {
		t.Fatalf("after draining: %d %d %d", n, b, d)
	}
}

func TestSpoolEncodingRoundTrip(t *testing.T) {
	msgs := []message{
		{Topic: "a/b", Payload: []byte(`{"seq":1}`), QoS: 1},
		{Topic: "a/status", Payload: []byte("online"), Retained: true},
		{Topic: "x", Payload: nil, QoS: 0},
	}
	got, err := decodeSpool(encodeSpool(msgs))
	if err != nil || len(got) != 3 {
		t.Fatal(err, got)
	}
	for i := range msgs {
		if got[i].Topic != msgs[i].Topic || !bytes.Equal(got[i].Payload, msgs[i].Payload) || got[i].QoS != msgs[i].QoS || got[i].Retained != msgs[i].Retained {
			t.Errorf("message %d: %+v, want %+v", i, got[i], msgs[i])
		}
	}
	bad := encodeSpool(msgs)
	bad[10] ^= 1
	for name, b := range map[string][]byte{"flipped bit": bad, "truncated": encodeSpool(msgs)[:20], "empty": nil, "other file": []byte("hello world, not a spool")} {
		if _, err := decodeSpool(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzDecodeSpool(f *testing.F) {
	f.Add(encodeSpool([]message{{Topic: "a", Payload: []byte("b"), QoS: 1}}))
	f.Add([]byte(spoolMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := decodeSpool(b)
		if err != nil {
			return
		}
		again, err := decodeSpool(encodeSpool(msgs))
		if err != nil || len(again) != len(msgs) {
			t.Fatalf("re-encoding a decoded spool: %v (%d vs %d)", err, len(again), len(msgs))
		}
	})
}

func TestFileSpoolSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spool")
	log := slog.New(slog.DiscardHandler)
	s, err := openFileSpool(path, 1<<20, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.flush(); err != nil || fileExists(path) {
		t.Fatalf("flushing an empty spool wrote a file (%v)", err)
	}
	for i := range 5 {
		s.push(msg(i))
	}
	m, _ := s.peek()
	s.ack(m.id)
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(path)
	if err := s.flush(); err != nil { // unchanged: no write
		t.Fatal(err)
	}
	if st2, _ := os.Stat(path); !os.SameFile(st1, st2) {
		t.Error("an unchanged spool was written again")
	}

	s2, err := openFileSpool(path, 1<<20, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	for want := 1; want < 5; want++ {
		m, ok := s2.peek()
		if !ok || string(m.Payload) != fmt.Sprintf("%04d", want) {
			t.Fatalf("after restart head %q, want %04d", m.Payload, want)
		}
		s2.ack(m.id)
	}
	if err := s2.flush(); err != nil || fileExists(path) {
		t.Fatalf("a drained spool left its file (%v)", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestFileSpoolBadFileMovedAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	os.WriteFile(path, []byte("garbage"), 0o644)
	var logs bytes.Buffer
	s, err := openFileSpool(path, 1<<20, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.depth(); n != 0 || !fileExists(path+".bad") || !strings.Contains(logs.String(), "bad magic") {
		t.Errorf("depth %d, .bad exists %v, log %q", n, fileExists(path+".bad"), logs.String())
	}
}

func TestSeqPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seq")
	s, err := openSeq(path)
	if err != nil {
		t.Fatal(err)
	}
	for want := uint64(1); want <= 5; want++ {
		if v, err := s.take(); v != want || err != nil {
			t.Fatalf("take = %d %v, want %d", v, err, want)
		}
	}
	// A crash (no close): the next run starts after the reserved block.
	crashed, _ := openSeq(path)
	if v, _ := crashed.take(); v <= 5 || v > 5+seqBlock+1 {
		t.Errorf("after a crash seq %d, want in (5, %d]", v, 5+seqBlock+1)
	}
	// A clean stop: the next run goes on exactly.
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s2, _ := openSeq(path)
	if v, _ := s2.take(); v != 6 {
		t.Errorf("after a clean stop seq %d, want 6", v)
	}
	os.WriteFile(path, []byte("seven\n"), 0o644)
	if _, err := openSeq(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad seq file: error %v should name %s", err, path)
	}
}
