package container

import (
	"context"
	"errors"
	"io"
	"net"
	"time"
)

// Driver is a container engine. LXC (through its command-line tools) is
// the one nodekeeper ships; OpenWrt's uxc or go-lxc where cgo is available
// could be others. Names are container names (ContainerName of a sliver).
type Driver interface {
	// Define creates the container, or rewrites its definition, from c.
	// The rootfs directories exist already.
	Define(ctx context.Context, c ContainerConfig) error
	// Start boots a defined container and returns once it runs.
	Start(ctx context.Context, name string) error
	// Stop halts a container, cleanly if it can within timeout, else by
	// force. Stopping a stopped container is not an error.
	Stop(ctx context.Context, name string, timeout time.Duration) error
	// Destroy removes a stopped container's definition and the rootfs
	// layer it names (Rootfs.Dir), never Rootfs.Lower. Destroying a
	// container that does not exist is not an error.
	Destroy(ctx context.Context, name string) error
	// Info reports a container's state; ErrNoContainer if it is not defined.
	Info(ctx context.Context, name string) (Info, error)
	// List names every defined container.
	List(ctx context.Context) ([]string, error)
	// Attach runs argv inside a running container and returns its exit status.
	Attach(ctx context.Context, name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
	// Limits reads the limits in force from a running container's cgroups.
	Limits(ctx context.Context, name string) (Resources, error)
}

// laterDefiner is a Driver that can also define a container without
// waiting for the disk (latersync.go): DefineLater returns the files a
// sliver's record must wait for before it counts on the definition.
type laterDefiner interface {
	DefineLater(ctx context.Context, c ContainerConfig) ([]string, error)
}

// ErrNoContainer is returned by Driver.Info for a container that is not defined.
var ErrNoContainer = errors.New("no such container")

// Info is a container's state as the driver sees it.
type Info struct {
	Running bool
	PID     int // init's PID on the host when running
	// State is the driver's own word (RUNNING, STOPPED, FROZEN, ...).
	State string
}

// ContainerConfig is a driver-neutral description of a container.
type ContainerConfig struct {
	Name     string
	Hostname string
	Rootfs   Rootfs
	Limits   Resources // DiskBytes is the Manager's business, not the driver's
	Networks []Network
}

// Rootfs is a container's root: an overlay of a writable Dir over a
// read-only Lower (the shared template), or Dir alone when Lower is empty.
type Rootfs struct {
	Lower string
	Dir   string
}

// NetworkType is how an interface reaches the sliver.
type NetworkType string

// Network types.
const (
	Veth NetworkType = "veth" // a pair: Host on the host, plugged into Link (a bridge)
	VLAN NetworkType = "vlan" // a VLAN device on Link, moved into the container
)

// Network is one interface of a container.
type Network struct {
	Type NetworkType
	Name string // inside the container
	Host string // host-side veth name
	MAC  net.HardwareAddr
	Link string // bridge (veth) or parent device (vlan)
	VLAN int
	// Addresses with prefix length; empty leaves the interface unconfigured.
	IPv4, Gateway4, IPv6, Gateway6 string
}
