package telemetry

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"time"
)

// fileSpool is the RAM spool written to a file now and then, so a backlog
// survives a restart while the flash sees few writes: the file is rewritten
// (atomically) at most once per interval, only when the backlog changed, and
// removed when the backlog is empty. A crash loses at most one interval.
type fileSpool struct {
	*ramSpool
	path     string
	interval time.Duration
	saved    uint64 // ramSpool.changed at the last write
	onDisk   bool
	log      *slog.Logger
}

const spoolMagic = "NKSPOOL1"

// openFileSpool loads the backlog left at path, if any.
func openFileSpool(path string, maxBytes int64, interval time.Duration, log *slog.Logger) (*fileSpool, error) {
	s := &fileSpool{ramSpool: newRAMSpool(maxBytes), path: path, interval: interval, log: log}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("spool file: %w", err)
	}
	msgs, err := decodeSpool(b)
	if err != nil {
		// Keep the bad file for inspection and start empty rather than
		// refusing to run.
		bad := path + ".bad"
		os.Rename(path, bad)
		log.Warn("spool file unreadable, moved aside", "path", path, "moved_to", bad, "err", err)
		return s, nil
	}
	for _, m := range msgs {
		s.push(m)
	}
	s.saved = s.changed
	s.onDisk = true
	return s, nil
}

// run writes the spool every interval until ctx ends, then once more.
func (s *fileSpool) run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.flush(); err != nil {
				s.log.Error("spool flush", "err", err)
			}
			return
		case <-t.C:
			if err := s.flush(); err != nil {
				s.log.Error("spool flush", "err", err)
			}
		}
	}
}

// flush writes the backlog if it changed since the last write.
func (s *fileSpool) flush() error {
	msgs, changed := s.snapshot()
	if changed == s.saved {
		return nil
	}
	if len(msgs) == 0 {
		if s.onDisk {
			if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove empty spool: %w", err)
			}
			s.onDisk = false
		}
		s.saved = changed
		return nil
	}
	if err := writeFileAtomic(s.path, encodeSpool(msgs)); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.saved = changed
	s.onDisk = true
	return nil
}

// encodeSpool writes the magic, then per message a flags byte (QoS, retained
// bit 2), the topic and the payload as uvarint-length-prefixed strings, and a
// CRC-32 of everything before it.
func encodeSpool(msgs []message) []byte {
	b := []byte(spoolMagic)
	for _, m := range msgs {
		f := m.QoS & 3
		if m.Retained {
			f |= 4
		}
		b = append(b, f)
		b = binary.AppendUvarint(b, uint64(len(m.Topic)))
		b = append(b, m.Topic...)
		b = binary.AppendUvarint(b, uint64(len(m.Payload)))
		b = append(b, m.Payload...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// decodeSpool parses what encodeSpool wrote.
func decodeSpool(b []byte) ([]message, error) {
	if len(b) < len(spoolMagic)+4 || !bytes.HasPrefix(b, []byte(spoolMagic)) {
		return nil, errors.New("not a spool file (bad magic)")
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("checksum mismatch")
	}
	var msgs []message
	r := body[len(spoolMagic):]
	for n := 0; len(r) > 0; n++ {
		f := r[0]
		if f&^7 != 0 || f&3 > 2 {
			return nil, fmt.Errorf("message %d: bad flags %#x", n, f)
		}
		r = r[1:]
		topic, rest, err := cutUvarintBytes(r)
		if err != nil {
			return nil, fmt.Errorf("message %d topic: %w", n, err)
		}
		payload, rest, err := cutUvarintBytes(rest)
		if err != nil {
			return nil, fmt.Errorf("message %d payload: %w", n, err)
		}
		r = rest
		msgs = append(msgs, message{Topic: string(topic), Payload: bytes.Clone(payload), QoS: f & 3, Retained: f&4 != 0})
	}
	return msgs, nil
}

func cutUvarintBytes(b []byte) (v, rest []byte, err error) {
	l, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, nil, errors.New("bad length")
	}
	b = b[n:]
	if l > uint64(len(b)) {
		return nil, nil, fmt.Errorf("length %d beyond end (%d left)", l, len(b))
	}
	return b[:l], b[l:], nil
}
