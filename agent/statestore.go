package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
)

// remoteState is what the agent keeps of remote management across
// restarts and reboots, in STATE_DIR/remote.json (written atomically, only
// when a desired document is processed or the node state caps a sliver).
type remoteState struct {
	// AppliedSeq is the seq of the last good document, the one in force.
	AppliedSeq uint64 `json:"applied_seq"`
	// SeenSeq is the highest seq of a document whose signature verified,
	// whatever became of it: a document must come with a higher one.
	SeenSeq uint64 `json:"seen_seq"`
	// TrustedTime is the newest ts of a document whose signatures
	// verified: a lower bound of the time for expires, when the clock is
	// behind.
	TrustedTime time.Time `json:"trusted_time,omitzero"`
	// Document is the last good document as it was signed, and Signer the
	// id of the key that signed it.
	Document json.RawMessage `json:"document,omitempty"`
	Signer   string          `json:"signer,omitempty"`
	// Slivers and Policies are what documents created and wrote (and may
	// therefore remove); what the owner made locally is never removed.
	Slivers  []string `json:"slivers,omitempty"`
	Policies []string `json:"policies,omitempty"`
	// Held are the requested states of slivers the node state holds down
	// (safe, debug, failure), given back when it allows them again.
	Held map[string]container.Request `json:"held,omitempty"`
	// Refused is the newest document that spent its seq but did not
	// apply (refused or rolled back), and why: when it comes again (the
	// retained message after a restart) the state report says the same,
	// quietly. A document that applies clears it.
	Refused *refusedDoc `json:"refused,omitempty"`
}

// refusedDoc names a document that spent its seq without applying.
type refusedDoc struct {
	Seq    uint64 `json:"seq"`
	Digest string `json:"digest"` // docDigest
	Reason string `json:"reason"` // the error entry's message
}

// undoLog is what an apply in progress changed, kept on disk from before
// its first change until it is confirmed or rolled back
// (STATE_DIR/pending.json): an agent that dies inside the confirm window
// rolls the document back at its next start.
type undoLog struct {
	Seq     uint64       `json:"seq"`
	Digest  string       `json:"digest,omitempty"` // the document's docDigest
	Started time.Time    `json:"started"`
	Prev    remoteState  `json:"prev"`
	UCI     []uciUndo    `json:"uci,omitempty"`
	Files   []fileUndo   `json:"files,omitempty"`
	Slivers []sliverUndo `json:"slivers,omitempty"`
}

// uciUndo restores one option: its values before, or its absence.
type uciUndo struct {
	Section    string   `json:"section"`
	Option     string   `json:"option"`
	Had        bool     `json:"had"`
	List       bool     `json:"list,omitempty"`
	Values     []string `json:"values,omitempty"`
	NewSection string   `json:"new_section,omitempty"` // type of a section the apply created
}

// fileUndo restores one policy file: its content before, or its absence.
type fileUndo struct {
	Name string `json:"name"`
	Had  bool   `json:"had"`
	Data []byte `json:"data,omitempty"`
}

// sliverUndo restores one sliver: its spec before, or its absence.
type sliverUndo struct {
	Name string          `json:"name"`
	Old  *container.Spec `json:"old,omitempty"`
}

// stateStore reads and writes the files of STATE_DIR.
type stateStore struct{ dir string }

func (s stateStore) remotePath() string  { return filepath.Join(s.dir, "remote.json") }
func (s stateStore) pendingPath() string { return filepath.Join(s.dir, "pending.json") }

func (s stateStore) init() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	return nil
}

// load reads remote.json; a missing file is the empty state.
func (s stateStore) load() (remoteState, error) {
	var st remoteState
	b, err := os.ReadFile(s.remotePath())
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("state %s: %w", s.remotePath(), err)
	}
	return st, nil
}

func (s stateStore) save(st remoteState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.remotePath(), b, 0o600)
}

// pending reads the undo log of an apply that did not finish; nil if none.
func (s stateStore) pending() (*undoLog, error) {
	b, err := os.ReadFile(s.pendingPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("undo log: %w", err)
	}
	var u undoLog
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, fmt.Errorf("undo log %s: %w", s.pendingPath(), err)
	}
	return &u, nil
}

func (s stateStore) savePending(u *undoLog) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.pendingPath(), b, 0o600)
}

func (s stateStore) clearPending() error {
	if err := os.Remove(s.pendingPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("undo log: %w", err)
	}
	return nil
}
