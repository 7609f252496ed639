package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/internal/safefile"
	"github.com/nodekeeper/nodekeeper/policy"
	"github.com/nodekeeper/nodekeeper/wire"
)

// sysRoot is where the agent finds /tmp/sysinfo/model and
// /etc/openwrt_release (tests read a fake root through readSysInfo).
const sysRoot = "/"

// maxSysInfoBytes bounds each of those files read.
const maxSysInfoBytes = 4096

// readSysInfo returns the board's model (/tmp/sysinfo/model) and the
// OpenWrt release (/etc/openwrt_release's DISTRIB_DESCRIPTION) under root;
// an absent file or value is "", as is a value that is not one line of
// at most 128 printable bytes. err is a file that is there but refused
// (not a regular file, too large).
func readSysInfo(root string) (model, release string, err error) {
	read := func(name string) string {
		b, e := safefile.ReadFile(filepath.Join(root, name), maxSysInfoBytes)
		if e != nil && !errors.Is(e, fs.ErrNotExist) && err == nil {
			err = e
		}
		return string(b)
	}
	model = sysValue(read("tmp/sysinfo/model"))
	for _, l := range strings.Split(read("etc/openwrt_release"), "\n") {
		if v, ok := strings.CutPrefix(l, "DISTRIB_DESCRIPTION="); ok {
			if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			release = sysValue(v)
		}
	}
	return model, release, err
}

// sysValue returns s without surrounding space when it is a value the
// info topic may carry, else "".
func sysValue(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 128 || strings.ContainsAny(s, controlChars) || !printable(s) {
		return ""
	}
	return s
}

// loadSysInfo reads the model and the release (at start and reload).
func (a *Agent) loadSysInfo() {
	model, release, err := readSysInfo(sysRoot)
	if err != nil {
		a.log.Warn("node info: file refused", "err", err)
	}
	a.mu.Lock()
	a.sys = [2]string{model, release}
	a.mu.Unlock()
}

// recordDecision keeps d as its policy's last decision (for the info
// topic and `nodekeeper policy list`), without its inputs and logs.
func (a *Agent) recordDecision(d policy.Decision) {
	d.Inputs, d.Values, d.Logs = nil, nil, nil
	a.mu.Lock()
	if a.decisions == nil {
		a.decisions = map[string]policy.Decision{}
	}
	a.decisions[policyFileOf(d.Source)+"\x00"+d.Policy] = d
	a.mu.Unlock()
}

// PolicyListing is a loaded policy and its last decision, as `nodekeeper
// policy list` shows it.
type PolicyListing struct {
	policy.Status
	LastDecision *policy.Decision `json:"last_decision,omitempty"`
}

// policyList lists the loaded policies with their last decisions and
// forgets the decisions of policies no longer loaded.
func (a *Agent) policyList(e *policy.Engine) []PolicyListing {
	ps := e.Policies()
	out := make([]PolicyListing, len(ps))
	keep := map[string]bool{}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, p := range ps {
		k := policyFileOf(p.Source) + "\x00" + p.Name
		out[i].Status = p
		if d, ok := a.decisions[k]; ok {
			out[i].LastDecision = &d
		}
		keep[k] = true
	}
	for k := range a.decisions {
		if !keep[k] {
			delete(a.decisions, k)
		}
	}
	return out
}

// info assembles what the node says about itself, without its time.
func (a *Agent) info() wire.Info {
	cfg := a.config()
	i := wire.Info{Node: cfg.Agent.NodeID, Labels: cfg.Agent.Labels, Tags: cfg.Agent.Tags, Location: cfg.Agent.Location}
	if e := a.policyEngine(); e != nil {
		for _, p := range a.policyList(e) {
			pi := wire.PolicyInfo{File: policyFileOf(p.Source), Name: p.Name}
			if d := p.LastDecision; d != nil {
				pi.LastDecision = &wire.DecisionSummary{Time: d.Time.UTC(), Fired: d.Fired, Actions: len(d.Actions), Error: d.Error}
			}
			i.Policies = append(i.Policies, pi)
		}
	}
	a.mu.Lock()
	i.Model, i.Release = a.sys[0], a.sys[1]
	a.mu.Unlock()
	return i
}

// publishInfo spools the signed info, retained, when it changed: at once
// when anything but the policies' last decisions changed, and at most
// once per telemetry interval for new decisions alone.
func (a *Agent) publishInfo() {
	pub := a.publisher()
	if pub == nil || a.identity.Key == nil {
		return
	}
	i := a.info()
	full, _ := json.Marshal(i)
	decided := i.Policies
	i.Policies = make([]wire.PolicyInfo, len(decided))
	for k, p := range decided {
		i.Policies[k] = wire.PolicyInfo{File: p.File, Name: p.Name}
	}
	static, _ := json.Marshal(i)
	now := time.Now()
	interval := a.config().Telemetry.Interval
	a.mu.Lock()
	send := !bytes.Equal(full, a.infoSent) && (!bytes.Equal(static, a.infoStatic) || now.Sub(a.infoAt) >= interval)
	if send {
		a.infoSent, a.infoStatic, a.infoAt = full, static, now
	}
	a.mu.Unlock()
	if !send {
		return
	}
	i.Policies, i.TS = decided, math.Round(float64(now.UnixMilli()))/1000
	b, _ := json.Marshal(i)
	signed, err := wire.SignInfo(a.identity, b)
	if err != nil {
		a.log.Error("node info not signed", "err", err)
		return
	}
	pub.Enqueue(pub.Topic("info"), signed, 1, true)
}
