package container

import (
	"fmt"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// State is where a sliver is in CONFINE's lifecycle on this node.
type State string

// The sliver states of CONFINE. Allocated is internal to the node; the
// fail_* states keep the error that led to them.
const (
	Registered   State = "registered"    // known, nothing reserved
	Allocated    State = "allocated"     // resources checked, template and data fetched and verified
	Deployed     State = "deployed"      // writable layer and container defined, not running
	Started      State = "started"       // container running
	FailAllocate State = "fail_allocate" // allocation failed: bad template, impossible limit, ...
	FailDeploy   State = "fail_deploy"   // building the writable layer or the container failed
	FailStart    State = "fail_start"    // the container did not start
)

// Request is the state asked of a sliver (CONFINE's set_state).
type Request string

// The requested states of CONFINE.
const (
	Register Request = "register"
	Deploy   Request = "deploy"
	Start    Request = "start"
)

// level orders states on the ladder registered < allocated < deployed <
// started. A failed state sits on the level its failed step started from.
func (s State) level() int {
	switch s {
	case Registered, FailAllocate:
		return 0
	case Allocated, FailDeploy:
		return 1
	case Deployed, FailStart:
		return 2
	case Started:
		return 3
	}
	return -1
}

// Failed reports whether s is one of the fail_* states.
func (s State) Failed() bool {
	return s == FailAllocate || s == FailDeploy || s == FailStart
}

// target is the state a request leads to.
func (r Request) target() State {
	switch r {
	case Deploy:
		return Deployed
	case Start:
		return Started
	}
	return Registered
}

// ParseRequest checks a requested state given as text.
func ParseRequest(s string) (Request, error) {
	switch r := Request(s); r {
	case Register, Deploy, Start:
		return r, nil
	}
	return "", fmt.Errorf("unknown requested state %q (want register, deploy or start)", truncate(s, 40))
}

// Archive names a rootfs template or a data archive: a tarball (plain,
// gzip, or xz/bzip2/zstd when the node has the tool) fetched from an
// http(s) or file URL, or read from an absolute local path, and verified
// against its SHA-256.
type Archive struct {
	URL    string `json:"url"`
	SHA256 string `json:"sha256"`
	// Type is the template's distribution (debian, openwrt, ...); informational.
	Type string `json:"type,omitempty"`
}

// Resources are the limits of a sliver. Zero means no limit.
type Resources struct {
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	// CPUShares is the relative CPU weight (cgroup v1 cpu.shares, 2..262144;
	// converted to cpu.weight on cgroup v2).
	CPUShares int `json:"cpu_shares,omitempty"`
	// CPUMillicores caps CPU time: 1000 is one whole core.
	CPUMillicores int   `json:"cpu_millicores,omitempty"`
	Pids          int   `json:"pids,omitempty"`
	DiskBytes     int64 `json:"disk_bytes,omitempty"`
}

// Interface is one network interface of a sliver, of a CONFINE kind. The
// bridges it plugs into are netcfg's; addresses are given by the caller
// (netcfg derives them), or left empty for the sliver to configure itself.
type Interface struct {
	Kind netcfg.IfaceKind `json:"kind"`
	// Bridge is the host bridge of a veth kind; empty takes the one the
	// Manager's Config gives for the kind.
	Bridge string `json:"bridge,omitempty"`
	// Parent and VLAN describe an isolated interface: a VLAN (tag
	// 0x100-0xfff) on the node's direct interface Parent.
	Parent string `json:"parent,omitempty"`
	VLAN   int    `json:"vlan,omitempty"`
	// IPv4 and IPv6 are addresses with prefix length (10.0.0.2/24).
	IPv4     string `json:"ipv4,omitempty"`
	Gateway4 string `json:"gateway4,omitempty"`
	IPv6     string `json:"ipv6,omitempty"`
	Gateway6 string `json:"gateway6,omitempty"`
}

// Spec is what is asked of a sliver.
type Spec struct {
	Name  string `json:"name"`
	Slice string `json:"slice"`
	// ID is the sliver's number on this node (1..netcfg.MaxSliverID); 0
	// asks Create to pick the lowest free one.
	ID         int         `json:"id"`
	Template   Archive     `json:"template"`
	Data       *Archive    `json:"data,omitempty"`
	Resources  Resources   `json:"resources"`
	Interfaces []Interface `json:"interfaces,omitempty"`
	// InstanceSN going up means: redeploy from scratch.
	InstanceSN uint64  `json:"instance_sn"`
	Request    Request `json:"set_state"`
}

// Sliver is a sliver's record: its spec and where it stands.
type Sliver struct {
	Spec
	State State `json:"state"`
	// Error explains a fail_* state.
	Error string `json:"error,omitempty"`
	// DeployedSN is the InstanceSN the current deployment was built for.
	DeployedSN uint64    `json:"deployed_sn,omitempty"`
	Updated    time.Time `json:"updated"`
}

// Status is what List reports of a sliver, for the CLI and telemetry.
type Status struct {
	Name    string  `json:"name"`
	Slice   string  `json:"slice"`
	ID      int     `json:"id"`
	State   State   `json:"state"`
	Request Request `json:"set_state"`
	Error   string  `json:"error,omitempty"`
	// Container is the name of the sliver's container in the driver.
	Container string `json:"container"`
	// PID is the container's init process as the host sees it; 0 when it
	// is not running.
	PID int `json:"pid,omitempty"`
	// HostInterfaces are the host-side ends of the sliver's veths.
	HostInterfaces   []string `json:"host_interfaces,omitempty"`
	MemoryLimitBytes int64    `json:"memory_limit_bytes,omitempty"`
}

// validName tells a sliver or slice name: 1-32 of a-z, 0-9 and '-', not
// starting or ending with '-' (the regular expression
// `^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`, written out: regexp costs the
// binary 0.26 MB, docs/packaging.md).
func validName(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// CheckName checks a sliver name given from outside (a flag, the control
// socket, a policy's action) against the grammar of validName, so that a
// name that could never be a sliver is refused where it enters, before it
// is looked up, remembered or quoted.
func CheckName(s string) error {
	if !validName(s) {
		return fmt.Errorf("sliver name %q: want 1-32 of a-z, 0-9 and '-', not starting or ending with '-'", truncate(s, 40))
	}
	return nil
}

// ContainerPrefix starts the name of every container nodekeeper makes; a
// container with it that no record explains is an orphan.
const ContainerPrefix = "nk-"

// ContainerName is the driver's name for a sliver's container.
func ContainerName(sliver string) string { return ContainerPrefix + sliver }

// Interfaces of one sliver: netcfg numbers isolated ones 5..15.
const (
	maxIsolated   = 11
	maxInterfaces = 5 + maxIsolated
)

// minMemory is the smallest memory limit a sliver can boot with.
const minMemory = 4 << 20

// validate checks a spec for what can be told without the node: names,
// hashes, interface kinds and addresses, limits that are never possible.
func (s *Spec) validate() error {
	if !validName(s.Name) {
		return fmt.Errorf("sliver name %q: want 1-32 of a-z, 0-9 and '-', not starting or ending with '-'", truncate(s.Name, 40))
	}
	if s.Slice == "" {
		s.Slice = s.Name
	}
	if !validName(s.Slice) {
		return fmt.Errorf("sliver %s: slice name %q: want 1-32 of a-z, 0-9 and '-'", s.Name, truncate(s.Slice, 40))
	}
	if s.ID < 0 || s.ID > netcfg.MaxSliverID {
		return fmt.Errorf("sliver %s: id %d out of range 1..%d", s.Name, s.ID, netcfg.MaxSliverID)
	}
	if s.Request == "" {
		s.Request = Register
	}
	if _, err := ParseRequest(string(s.Request)); err != nil {
		return fmt.Errorf("sliver %s: %w", s.Name, err)
	}
	if err := s.Template.validate(); err != nil {
		return fmt.Errorf("sliver %s: template: %w", s.Name, err)
	}
	if s.Data != nil {
		if err := s.Data.validate(); err != nil {
			return fmt.Errorf("sliver %s: data archive: %w", s.Name, err)
		}
	}
	if err := s.Resources.validate(); err != nil {
		return fmt.Errorf("sliver %s: %w", s.Name, err)
	}
	if len(s.Interfaces) > maxInterfaces {
		return fmt.Errorf("sliver %s: %d interfaces, at most %d (one of each veth kind, %d isolated)", s.Name, len(s.Interfaces), maxInterfaces, maxIsolated)
	}
	seen := map[netcfg.IfaceKind]bool{}
	isolated := 0
	for i := range s.Interfaces {
		ifc := &s.Interfaces[i]
		if _, _, err := netcfg.IfaceNumber(ifc.Kind, 0); err != nil {
			return fmt.Errorf("sliver %s: interface %d: %w", s.Name, i, err)
		}
		if ifc.Kind != netcfg.Isolated && seen[ifc.Kind] {
			return fmt.Errorf("sliver %s: interface %d: a second %s interface (at most one of each kind but isolated)", s.Name, i, ifc.Kind)
		}
		seen[ifc.Kind] = true
		if ifc.Kind == netcfg.Isolated {
			if isolated++; isolated > maxIsolated {
				return fmt.Errorf("sliver %s: interface %d: more than %d isolated interfaces", s.Name, i, maxIsolated)
			}
		}
		if err := ifc.validate(); err != nil {
			return fmt.Errorf("sliver %s: interface %d (%s): %w", s.Name, i, ifc.Kind, err)
		}
	}
	return nil
}

func (a *Archive) validate() error {
	if a.URL == "" {
		return fmt.Errorf("no URL or path")
	}
	if err := checkText("URL or path", a.URL, false); err != nil {
		return err
	}
	if _, err := parseSource(a.URL); err != nil {
		return err
	}
	if err := checkText("type", a.Type, true); err != nil {
		return err
	}
	a.SHA256 = strings.ToLower(a.SHA256)
	if len(a.SHA256) != 64 || strings.Trim(a.SHA256, "0123456789abcdef") != "" {
		return fmt.Errorf("%s: sha256 %q is not 64 hex digits", a.URL, truncate(a.SHA256, 70))
	}
	return nil
}

func (r Resources) validate() error {
	switch {
	case r.MemoryBytes < 0 || r.CPUShares < 0 || r.CPUMillicores < 0 || r.Pids < 0 || r.DiskBytes < 0:
		return fmt.Errorf("negative resource limit in %+v", r)
	case r.CPUShares != 0 && (r.CPUShares < 2 || r.CPUShares > 262144):
		return fmt.Errorf("cpu shares %d out of range 2..262144", r.CPUShares)
	case r.MemoryBytes > maxBytes || r.DiskBytes > maxBytes || r.CPUMillicores > maxCPUMillicores || r.Pids > maxPids:
		return fmt.Errorf("resource limit beyond any node in %+v", r)
	}
	return nil
}

func (ifc *Interface) validate() error {
	if ifc.Kind == netcfg.Isolated {
		if ifc.Parent == "" {
			return fmt.Errorf("isolated interface needs the direct interface it is a VLAN of")
		}
		if err := netcfg.CheckLinkName(ifc.Parent); err != nil {
			return fmt.Errorf("parent: %w", err)
		}
		if ifc.VLAN < 0x100 || ifc.VLAN > 0xfff {
			return fmt.Errorf("VLAN tag %#x out of range 0x100-0xfff", ifc.VLAN)
		}
	} else if ifc.Bridge != "" {
		if err := netcfg.CheckLinkName(ifc.Bridge); err != nil {
			return fmt.Errorf("bridge: %w", err)
		}
	}
	if (ifc.Kind == netcfg.Isolated) != (ifc.Parent != "" || ifc.VLAN != 0) || (ifc.Kind == netcfg.Isolated && ifc.Bridge != "") {
		return fmt.Errorf("bridge is for veth kinds, parent and vlan for isolated only")
	}
	for _, a := range []struct {
		what, val  string
		v6, prefix bool
	}{
		{"ipv4", ifc.IPv4, false, true}, {"gateway4", ifc.Gateway4, false, false},
		{"ipv6", ifc.IPv6, true, true}, {"gateway6", ifc.Gateway6, true, false},
	} {
		if a.val == "" {
			continue
		}
		if err := checkAddr(a.what, a.val, a.v6, a.prefix); err != nil {
			return err
		}
	}
	return nil
}
