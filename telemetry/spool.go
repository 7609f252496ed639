package telemetry

import "sync"

// message is one MQTT publish waiting in the spool.
type message struct {
	id       uint64 // spool order; the head is acknowledged by id
	Topic    string
	Payload  []byte
	QoS      byte
	Retained bool
}

func (m message) size() int64 { return int64(len(m.Topic) + len(m.Payload) + 16) }

// ramSpool is a bounded FIFO of messages in memory. A message leaves it only
// through ack, once the broker acknowledged it; when the byte cap is reached
// the oldest messages are dropped and counted.
type ramSpool struct {
	mu      sync.Mutex
	q       []message
	head    int
	bytes   int64
	max     int64
	lastID  uint64
	dropped uint64
	changed uint64 // bumped on every push, ack and drop (for the file spool)
	wake    chan struct{}
	empty   chan struct{} // signalled when an ack empties the spool
}

func newRAMSpool(maxBytes int64) *ramSpool {
	return &ramSpool{max: maxBytes, wake: make(chan struct{}, 1), empty: make(chan struct{}, 1)}
}

// push appends m, dropping the oldest messages while over the cap. A
// message larger than the cap by itself is dropped. It never blocks.
func (s *ramSpool) push(m message) {
	s.mu.Lock()
	s.lastID++
	m.id = s.lastID
	s.q = append(s.q, m)
	s.bytes += m.size()
	for s.bytes > s.max && s.head < len(s.q) {
		s.bytes -= s.q[s.head].size()
		s.q[s.head] = message{}
		s.head++
		s.dropped++
	}
	s.changed++
	s.compact()
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// compact moves the queue to the front once half of it is consumed, so the
// backing array does not grow without bound.
func (s *ramSpool) compact() {
	if s.head > 0 && s.head >= len(s.q)/2 {
		n := copy(s.q, s.q[s.head:])
		clear(s.q[n:])
		s.q = s.q[:n]
		s.head = 0
	}
}

// peek returns the oldest message.
func (s *ramSpool) peek() (message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head == len(s.q) {
		return message{}, false
	}
	return s.q[s.head], true
}

// after returns the oldest waiting message whose id is above id (the head
// for 0). Ids are consecutive in the queue, so it is an index.
func (s *ramSpool) after(id uint64) (message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head == len(s.q) {
		return message{}, false
	}
	i := s.head
	if first := s.q[s.head].id; id >= first {
		i += int(id - first + 1)
	}
	if i >= len(s.q) {
		return message{}, false
	}
	return s.q[i], true
}

// last returns the id of the newest message pushed so far.
func (s *ramSpool) last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastID
}

// ack removes the head if it is still the message id (it may have been
// dropped meanwhile).
func (s *ramSpool) ack(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head < len(s.q) && s.q[s.head].id == id {
		s.bytes -= s.q[s.head].size()
		s.q[s.head] = message{}
		s.head++
		s.changed++
		s.compact()
		if s.head == len(s.q) {
			select {
			case s.empty <- struct{}{}:
			default:
			}
		}
	}
}

// depth returns the number of messages and bytes waiting and the number
// dropped so far.
func (s *ramSpool) depth() (n int, bytes int64, dropped uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q) - s.head, s.bytes, s.dropped
}

// snapshot copies the waiting messages (for the file spool).
func (s *ramSpool) snapshot() ([]message, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]message(nil), s.q[s.head:]...), s.changed
}

// notify is signalled after each push.
func (s *ramSpool) notify() <-chan struct{} { return s.wake }
