// Package sim is a node simulator for the fleet's tests and benchmarks:
// in-process nodes that speak the agent's real topics and formats. Each
// connects with the agent's last will, publishes its retained status,
// info and state report, and takes signed desired documents as the agent
// does (the signature by a trusted key, the seq above the last seen, the
// document for this node, sliver specs checked, admission by the owner),
// applying all of a document or none. Slivers are records, not
// containers: a simulated node is cheap enough to run thousands.
package sim

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/wire"
)

// Options are what every simulated node shares.
type Options struct {
	Broker  string // tcp://127.0.0.1:PORT
	Prefix  string // default "nodekeeper"
	Trusted []wire.PublicKey
}

// NodeOptions make one simulated node.
type NodeOptions struct {
	Info inventory.Info
	// Admit is the owner's admission policy: it returns "" to admit a
	// sliver new to the node, or why it is refused.
	Admit func(spec container.Spec) string
	// FailStart names slivers that do not start (fail_start): a document
	// with one is rolled back whole, as the agent does.
	FailStart map[string]bool
	// Local are slivers the owner made on the node; documents never touch
	// them.
	Local []container.Spec
	// Mute nodes take no documents (a hung agent that stays connected).
	Mute bool
	// Threshold is remote.threshold: documents need this many distinct
	// trusted signers (0, 1: one).
	Threshold int
}

// Node is one simulated node.
type Node struct {
	ID string
	o  Options
	no NodeOptions
	// key is the node's identity: its state reports are signed with it,
	// as the agent signs them (wire.SignState).
	key wire.SecretKey

	mu         sync.Mutex
	client     mqtt.Client
	appliedSeq uint64
	seenSeq    uint64
	lastEnv    [32]byte
	applied    []byte // the document in force
	remote     map[string]container.Spec
	policies   map[string]string
	settings   map[string]wire.Setting
	nodeState  string
	errs       []wire.ErrorEntry
	load       [3]float64
	// Counters for tests.
	received, refusedDocs, rolledBack int
}

// New makes a node; Start connects it.
func New(id string, o Options, no NodeOptions) *Node {
	if o.Prefix == "" {
		o.Prefix = "nodekeeper"
	}
	no.Info.Node = id
	key, err := wire.GenerateKey()
	if err != nil {
		panic("sim: " + err.Error())
	}
	return &Node{ID: id, o: o, no: no, key: key, remote: map[string]container.Spec{}, policies: map[string]string{}, nodeState: "production"}
}

// Key is the node's identity key, as an enrolment list names it.
func (n *Node) Key() wire.PublicKey { return n.key.Public() }

func (n *Node) topic(leaf string) string { return n.o.Prefix + "/" + n.ID + "/" + leaf }

// Start connects the node (the last will says offline), publishes its
// status, info and state, and subscribes to its desired topic.
func (n *Node) Start(ctx context.Context) error {
	o := mqtt.NewClientOptions().AddBroker(n.o.Broker).SetClientID("nk-sim-"+n.ID).
		SetCleanSession(true).SetKeepAlive(30*time.Second).SetConnectTimeout(30*time.Second).
		SetAutoReconnect(true).SetMaxReconnectInterval(2*time.Second).SetOrderMatters(false).
		SetBinaryWill(n.topic("status"), []byte("offline"), 1, true)
	o.SetOnConnectHandler(func(c mqtt.Client) {
		c.Publish(n.topic("status"), 1, true, "online")
		info, _ := json.Marshal(n.no.Info)
		if signed, err := wire.SignInfo(n.key, info); err == nil {
			info = signed
		}
		c.Publish(n.topic("info"), 1, true, info)
		n.publishState(c)
		c.Subscribe(n.topic("desired"), 1, func(_ mqtt.Client, m mqtt.Message) { n.onDesired(m.Payload()) })
	})
	c := mqtt.NewClient(o)
	n.mu.Lock()
	n.client = c
	n.mu.Unlock()
	t := c.Connect()
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop disconnects the node as the agent does at a clean stop: the
// retained status says offline first.
func (n *Node) Stop() {
	n.mu.Lock()
	c := n.client
	n.client = nil
	n.mu.Unlock()
	if c == nil {
		return
	}
	c.Publish(n.topic("status"), 1, true, "offline").WaitTimeout(5 * time.Second)
	c.Disconnect(100)
}

// onDesired handles a desired envelope as the agent's handleDesired does.
func (n *Node) onDesired(payload []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	sum := sha256.Sum256(payload)
	if n.no.Mute || sum == n.lastEnv || len(payload) == 0 {
		return // the same retained envelope again after a reconnection
	}
	n.lastEnv = sum
	n.received++
	var doc []byte
	var key wire.PublicKey
	var err error
	if n.no.Threshold > 1 {
		var keys []wire.PublicKey
		if doc, keys, err = wire.OpenThreshold(n.o.Trusted, n.no.Threshold, payload); err == nil {
			key = keys[0]
		}
	} else {
		doc, key, err = wire.Open(n.o.Trusted, payload)
	}
	if err != nil {
		n.refuse(0, err.Error())
		return
	}
	var head struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(doc, &head); err != nil || head.Seq == 0 {
		n.refuse(0, "document signed by "+key.ID()+" has no valid seq")
		return
	}
	if head.Seq <= n.seenSeq {
		if head.Seq == n.appliedSeq && string(doc) == string(n.applied) {
			return // the document in force, delivered again: quietly ignored
		}
		n.refuse(head.Seq, fmt.Sprintf("desired document seq %d is not above the last seen %d: replayed or old, refused", head.Seq, n.seenSeq))
		return
	}
	n.seenSeq = head.Seq
	d, err := wire.ParseDesired(doc, n.ID)
	if err != nil {
		n.refuse(head.Seq, err.Error())
		return
	}
	n.apply(d, doc, key)
}

// apply applies a parsed document, all or nothing. The caller holds mu.
func (n *Node) apply(d *wire.Desired, doc []byte, key wire.PublicKey) {
	var specs []container.Spec
	if d.Slivers != nil {
		for i, raw := range *d.Slivers {
			var s container.Spec
			if err := json.Unmarshal(raw, &s); err != nil {
				n.refuse(d.Seq, fmt.Sprintf("desired document: slivers[%d]: %v", i, err))
				return
			}
			if err := s.Validate(); err != nil {
				n.refuse(d.Seq, fmt.Sprintf("desired document: slivers[%d]: %v", i, err))
				return
			}
			specs = append(specs, s)
		}
	}
	// Errors of earlier documents clear once a later one applies.
	n.errs = slices.DeleteFunc(n.errs, func(e wire.ErrorEntry) bool { return e.Seq != 0 && e.Seq < d.Seq })
	var refusals []wire.ErrorEntry
	newRemote := n.remote
	if d.Slivers != nil {
		newRemote = map[string]container.Spec{}
		for _, s := range specs {
			if n.isLocal(s.Name) {
				refusals = append(refusals, wire.ErrorEntry{Kind: wire.KindSliver, ID: s.Name, Member: "sliver " + s.Name, Seq: d.Seq, Message: "a sliver of that name was made locally: not changed"})
				continue
			}
			if _, had := n.remote[s.Name]; !had && n.no.Admit != nil {
				if why := n.no.Admit(s); why != "" {
					refusals = append(refusals, wire.ErrorEntry{Kind: wire.KindSliver, ID: s.Name, Member: "sliver " + s.Name, Seq: d.Seq, Message: "refused by policy owner-admission: " + why})
					continue
				}
			}
			if n.no.FailStart[s.Name] && s.Request == container.Start {
				n.rolledBack++
				msg := fmt.Sprintf("document seq %d rolled back: sliver %s: did not start", d.Seq, s.Name)
				n.errs = append(n.errs, wire.ErrorEntry{Time: now(), Kind: wire.KindDocument, ID: fmt.Sprint(d.Seq), Member: "desired", Seq: d.Seq, Message: msg})
				n.publishStateLocked()
				return
			}
			newRemote[s.Name] = s
		}
	}
	n.remote = newRemote
	if d.Policies != nil {
		n.policies = *d.Policies
	}
	if d.Settings != nil {
		n.settings = d.Settings
	}
	if d.NodeState != "" {
		n.nodeState = d.NodeState
	}
	for i := range refusals {
		refusals[i].Time = now()
	}
	n.errs = append(n.errs, refusals...)
	n.appliedSeq = d.Seq
	n.applied = doc
	_ = key
	n.publishStateLocked()
}

func (n *Node) isLocal(name string) bool {
	for _, s := range n.no.Local {
		if s.Name == name {
			return true
		}
	}
	return false
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// refuse records a refused document. The caller holds mu.
func (n *Node) refuse(seq uint64, msg string) {
	n.refusedDocs++
	n.errs = append(n.errs, wire.ErrorEntry{Time: now(), Kind: wire.KindDocument, ID: fmt.Sprint(seq), Member: "desired", Seq: seq, Message: "refused: " + msg})
	if len(n.errs) > 16 {
		n.errs = n.errs[len(n.errs)-16:]
	}
	n.publishStateLocked()
}

// Report returns the node's state report.
func (n *Node) Report() wire.StateReport {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.reportLocked()
}

func (n *Node) reportLocked() wire.StateReport {
	r := wire.StateReport{Node: n.ID, NodeKey: n.key.Public().String(), TS: math.Round(float64(time.Now().UnixMilli())) / 1000, NodeState: n.nodeState,
		AppliedSeq: n.appliedSeq, SeenSeq: n.seenSeq, Slivers: []wire.SliverReport{}, Errors: append([]wire.ErrorEntry{}, n.errs...)}
	r.Policies.Loaded = len(n.policies)
	for _, s := range n.no.Local {
		r.Slivers = append(r.Slivers, wire.SliverReport{Name: s.Name, Slice: s.Slice, ID: s.ID, State: "started", SetState: string(s.Request)})
	}
	names := make([]string, 0, len(n.remote))
	for name := range n.remote {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := n.remote[name]
		state := map[container.Request]string{container.Register: "registered", container.Deploy: "deployed", container.Start: "started"}[s.Request]
		r.Slivers = append(r.Slivers, wire.SliverReport{Name: s.Name, Slice: s.Slice, ID: s.ID, State: state, SetState: string(s.Request), Remote: true})
	}
	return r
}

func (n *Node) publishStateLocked() {
	if n.client != nil {
		n.publishState(n.client)
	}
}

// publishState publishes the state report, retained, signed with the
// node's key.
func (n *Node) publishState(c mqtt.Client) {
	b, _ := json.Marshal(n.reportLocked())
	if signed, err := wire.SignState(n.key, b); err == nil {
		c.Publish(n.topic("state"), 1, true, signed)
	}
}

// Counts returns how many envelopes the node received, refused and
// rolled back.
func (n *Node) Counts() (received, refused, rolledBack int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.received, n.refusedDocs, n.rolledBack
}

// Slivers returns the names of the slivers on the node: the owner's and
// the documents'.
func (n *Node) Slivers() (local, remote []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range n.no.Local {
		local = append(local, s.Name)
	}
	for name := range n.remote {
		remote = append(remote, name)
	}
	sort.Strings(remote)
	return local, remote
}

// SetFailStart changes which slivers fail to start.
func (n *Node) SetFailStart(names ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.no.FailStart = map[string]bool{}
	for _, s := range names {
		n.no.FailStart[s] = true
	}
}

// PublishDocument publishes a telemetry document (<prefix>/<node>/document,
// as the agent with telemetry.publish_document does) in which each
// started sliver of the documents uses cpuPercent and memBytes, and the
// system has the load set by SetLoad.
func (n *Node) PublishDocument(cpuPercent float64, memBytes int64) error {
	n.mu.Lock()
	type system struct {
		Load   [3]float64 `json:"load"`
		Memory struct {
			UsedPercent float64 `json:"used_percent"`
		} `json:"memory"`
	}
	type sliver struct {
		Name        string  `json:"name"`
		Slice       string  `json:"slice"`
		ID          int     `json:"id"`
		State       string  `json:"state"`
		MemoryBytes int64   `json:"memory_bytes"`
		CPUPercent  float64 `json:"cpu_percent"`
		RxBps       float64 `json:"rx_bps"`
		TxBps       float64 `json:"tx_bps"`
	}
	doc := struct {
		Node    string   `json:"node"`
		TS      float64  `json:"ts"`
		System  system   `json:"system"`
		Slivers []sliver `json:"slivers"`
	}{Node: n.ID, TS: float64(time.Now().UnixMilli()) / 1000, System: system{Load: n.load}}
	for _, s := range n.remote {
		if s.Request == container.Start {
			doc.Slivers = append(doc.Slivers, sliver{Name: s.Name, Slice: s.Slice, ID: s.ID, State: "started", MemoryBytes: memBytes, CPUPercent: cpuPercent, RxBps: 1000, TxBps: 500})
		}
	}
	c := n.client
	n.mu.Unlock()
	if c == nil {
		return fmt.Errorf("node %s: not started", n.ID)
	}
	b, _ := json.Marshal(doc)
	t := c.Publish(n.topic("document"), 0, false, b)
	t.WaitTimeout(10 * time.Second)
	return t.Error()
}

// SetLoad sets the load averages its telemetry documents report.
func (n *Node) SetLoad(load [3]float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.load = load
}
