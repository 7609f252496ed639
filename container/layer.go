package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nodekeeper/nodekeeper/netcfg"
)

// minDisk is the smallest disk limit: an ext4 image smaller than this has
// little room left after its own metadata.
const minDisk = 16 << 20

// layerLayout names the files of a sliver's writable layer:
//
//	layers/<name>/disk.img      size-capped ext4 image, when the sliver has a disk limit
//	layers/<name>/disk/         its mount point; the rest then lives inside it
//	layers/<name>/delta/        the overlay's upper layer (work/ beside it, LXC's)
//	layers/<name>/rootfs/       or a private copy of the template, without overlayfs
//	layers/<name>/deployed.json written last: the layer is complete for this instance_sn
type layerLayout struct {
	dir, image, mnt, marker string
}

func (m *Manager) layout(name string) layerLayout {
	d := filepath.Join(m.layersDir(), name)
	return layerLayout{dir: d, image: filepath.Join(d, "disk.img"), mnt: filepath.Join(d, "disk"), marker: filepath.Join(d, "deployed.json")}
}

// base is where the layer's directories live: inside the disk image when
// there is one.
func (l layerLayout) base(s *Sliver) string {
	if s.Resources.DiskBytes > 0 {
		return l.mnt
	}
	return l.dir
}

type layerMarker struct {
	InstanceSN uint64 `json:"instance_sn"`
	Overlay    bool   `json:"overlay"`
	DiskBytes  int64  `json:"disk_bytes,omitempty"`
}

// readMarker returns the marker of a complete layer, if there is one.
func (l layerLayout) readMarker() (layerMarker, bool) {
	var mk layerMarker
	b, err := os.ReadFile(l.marker)
	if err != nil || json.Unmarshal(b, &mk) != nil {
		return mk, false
	}
	return mk, true
}

// deploy builds the sliver's writable layer and defines its container. A
// complete layer built for the same instance_sn (the container definition
// was lost, the node rebooted) is kept with its data.
func (m *Manager) deploy(ctx context.Context, s *Sliver) error {
	l := m.layout(s.Name)
	lower, err := m.cache.template(ctx, s.Template)
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	cfg, err := m.containerConfig(s, lower)
	if err != nil {
		return err
	}
	mk, ok := l.readMarker()
	if ok && mk.InstanceSN == s.InstanceSN && mk.Overlay == m.overlay && mk.DiskBytes == s.Resources.DiskBytes {
		if err := m.mountLayer(s); err != nil {
			return err
		}
		return m.define(ctx, s, cfg)
	}
	if err := m.buildLayer(ctx, s, lower); err != nil {
		return err
	}
	// The marker and the config are synced with the next record, after
	// lxc-start when a start follows (latersync.go). A failure of either
	// fails the deploy, which then tears down both.
	if err := m.writeMarker(s); err != nil {
		return err
	}
	return m.define(ctx, s, cfg)
}

// define has the driver define the container, without waiting for the
// disk if it can: the sliver's next record waits instead.
func (m *Manager) define(ctx context.Context, s *Sliver, cfg ContainerConfig) error {
	ld, ok := m.driver.(laterDefiner)
	if !ok {
		return m.driver.Define(ctx, cfg)
	}
	paths, err := ld.DefineLater(ctx, cfg)
	m.later(s.Name, paths...)
	return err
}

// writeMarker records that the sliver's layer is complete for its
// instance_sn; the sliver's next record waits for it.
func (m *Manager) writeMarker(s *Sliver) error {
	mk, _ := json.Marshal(layerMarker{InstanceSN: s.InstanceSN, Overlay: m.overlay, DiskBytes: s.Resources.DiskBytes})
	p := m.layout(s.Name).marker
	if err := writeFileLater(p, mk, 0o640); err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	m.later(s.Name, p)
	return nil
}

// buildLayer makes the sliver's writable layer, all but its marker
// (writeMarker).
func (m *Manager) buildLayer(ctx context.Context, s *Sliver, lower string) error {
	l := m.layout(s.Name)
	if err := m.teardown(ctx, s.Name); err != nil {
		return err
	}
	if err := os.MkdirAll(l.dir, 0o750); err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	if s.Resources.DiskBytes > 0 {
		if err := makeImage(l.image, s.Resources.DiskBytes); err != nil {
			return fmt.Errorf("disk limit: %w", err)
		}
		if err := os.Mkdir(l.mnt, 0o750); err != nil {
			return fmt.Errorf("layer: %w", err)
		}
		if err := mountImage(l.image, l.mnt); err != nil {
			return fmt.Errorf("disk limit: %w", err)
		}
	}
	top := filepath.Join(l.base(s), "rootfs")
	if m.overlay {
		top = filepath.Join(l.base(s), "delta")
		if err := os.Mkdir(top, 0o755); err != nil {
			return fmt.Errorf("layer: %w", err)
		}
	} else if err := copyTree(ctx, lower, top); err != nil {
		return fmt.Errorf("layer: copy of the template: %w", err)
	}
	if s.Data != nil {
		p, err := m.cache.data(ctx, *s.Data)
		if err != nil {
			return fmt.Errorf("data archive: %w", err)
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("data archive: %w", err)
		}
		_, err = extract(ctx, f, top, m.cache.unpack)
		f.Close()
		if err != nil {
			return fmt.Errorf("data archive %s: %w", s.Data.URL, err)
		}
	}
	// What the layer holds (a copy of the template, a data archive, a
	// disk image's file system) is on disk before its marker: the layer's
	// file system, and with a disk image the one holding the image too.
	if !m.overlay || s.Data != nil || s.Resources.DiskBytes > 0 {
		if err := syncFS(top); err != nil {
			return fmt.Errorf("layer: %w", err)
		}
		if s.Resources.DiskBytes > 0 {
			if err := syncFS(l.dir); err != nil {
				return fmt.Errorf("layer: %w", err)
			}
		}
	}
	return nil
}

// mountLayer mounts the sliver's disk image if it has one and it is not
// mounted (after a reboot).
func (m *Manager) mountLayer(s *Sliver) error {
	l := m.layout(s.Name)
	if s.Resources.DiskBytes == 0 || isMountpoint(l.mnt) {
		return nil
	}
	if _, err := os.Stat(l.image); err != nil {
		return fmt.Errorf("disk image: %w", err)
	}
	if err := mountImage(l.image, l.mnt); err != nil {
		return fmt.Errorf("disk limit: %w", err)
	}
	return nil
}

// teardown removes the sliver's container and writable layer, whatever
// state a crash left them in. The container is stopped first if it runs.
func (m *Manager) teardown(ctx context.Context, name string) error {
	ct := ContainerName(name)
	if err := m.driver.Stop(ctx, ct, m.cfg.StopTimeout); err != nil {
		return err
	}
	l := m.layout(name)
	// The image goes first: the driver then destroys an empty mount point,
	// not the whole content of the image.
	if isMountpoint(l.mnt) {
		if err := unmount(l.mnt); err != nil {
			return err
		}
	}
	if err := m.driver.Destroy(ctx, ct); err != nil {
		return err
	}
	if err := os.RemoveAll(l.dir); err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	return nil
}

// containerConfig is the driver's view of a sliver.
func (m *Manager) containerConfig(s *Sliver, lower string) (ContainerConfig, error) {
	l := m.layout(s.Name)
	c := ContainerConfig{Name: ContainerName(s.Name), Hostname: s.Name, Limits: s.Resources}
	c.Limits.DiskBytes = 0
	if m.overlay {
		c.Rootfs = Rootfs{Lower: lower, Dir: filepath.Join(l.base(s), "delta")}
	} else {
		c.Rootfs = Rootfs{Dir: filepath.Join(l.base(s), "rootfs")}
	}
	for i, ifc := range s.Interfaces {
		n, err := m.network(s, i, ifc)
		if err != nil {
			return c, err
		}
		c.Networks = append(c.Networks, n)
	}
	return c, nil
}

// network builds interface i of s: names and MAC from netcfg, the bridge
// from the interface or the Manager's config.
func (m *Manager) network(s *Sliver, i int, ifc Interface) (Network, error) {
	index := 0
	for _, o := range s.Interfaces[:i] {
		if o.Kind == netcfg.Isolated {
			index++
		}
	}
	num, inner, err := netcfg.IfaceNumber(ifc.Kind, index)
	if err != nil {
		return Network{}, err
	}
	mac, err := netcfg.SliverMAC(m.cfg.Node, s.ID, num)
	if err != nil {
		return Network{}, fmt.Errorf("interface %s: %w", inner, err)
	}
	n := Network{Name: inner, MAC: mac, IPv4: ifc.IPv4, Gateway4: ifc.Gateway4, IPv6: ifc.IPv6, Gateway6: ifc.Gateway6}
	if ifc.Kind == netcfg.Isolated {
		n.Type, n.Link, n.VLAN = VLAN, ifc.Parent, ifc.VLAN
		if err := netcfg.CheckLinkName(n.Link); err != nil {
			return Network{}, fmt.Errorf("interface %s: parent: %w", inner, err)
		}
		return n, nil
	}
	n.Type = Veth
	if n.Host, err = netcfg.SliverVethName(m.cfg.Node, s.ID, num); err != nil {
		return Network{}, fmt.Errorf("interface %s: %w", inner, err)
	}
	n.Link = ifc.Bridge
	if n.Link == "" {
		n.Link = m.cfg.Bridges[ifc.Kind]
	}
	if n.Link == "" {
		k := string(ifc.Kind)
		return Network{}, errors.New("interface " + inner + ": no bridge for " + k + " interfaces: name one in the interface (--iface " + k +
			",bridge=BRIDGE), with --bridge " + k + "=BRIDGE, or in UCI: list bridge '" + k + "=BRIDGE' in config slivers, or a sliver_net section (docs/network.md)")
	}
	if err := netcfg.CheckLinkName(n.Link); err != nil {
		return Network{}, fmt.Errorf("interface %s: bridge: %w", inner, err)
	}
	return n, nil
}
