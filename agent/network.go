package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/netcfg"
	"github.com/nodekeeper/nodekeeper/wire"
)

// desiredNetwork is the network the configuration and the slivers want:
// the UCI sections, one sliver_iface section per veth of every sliver
// (when the node has a sliver_net), and the interfaces policies took down.
func (a *Agent) desiredNetwork() (netcfg.Config, error) {
	cfg := a.config()
	secs := append([]netcfg.Section(nil), cfg.Network.Sections...)
	if sn, _ := netcfg.SliverNetOf(secs); sn != nil && a.slivers != nil {
		for _, s := range a.slivers.Slivers() {
			for i, ifc := range s.Interfaces {
				o := map[string][]string{"sliver": {strconv.Itoa(s.ID)}, "type": {string(ifc.Kind)}}
				if ifc.Kind == netcfg.Isolated {
					o["device"] = []string{ifc.Parent}
					o["vlan"] = []string{strconv.Itoa(ifc.VLAN)}
				}
				secs = append(secs, netcfg.Section{Type: "sliver_iface", Name: fmt.Sprintf("sliver_%s_%d", s.Name, i), Options: o})
			}
		}
	}
	c, err := netcfg.FromSections(secs)
	if err != nil {
		return c, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range c.Links {
		if down, ok := a.ifDown[c.Links[i].Name]; ok {
			c.Links[i].Down = down
		}
	}
	return c, nil
}

// network returns the network manager: nil while the network is
// disabled, or did not open (its namespace missing, say).
func (a *Agent) network() *netcfg.Manager {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.net
}

// networkMissing says why network() is nil.
func (a *Agent) networkMissing() error {
	if !a.config().Network.Enabled {
		return errors.New("the network is disabled on this node (network.enabled)")
	}
	return errors.New("the network did not open: see the network error in nodekeeper status")
}

// openNetwork opens the network manager (at the start, and at a later sync
// while it did not open) and reverts a change a previous run left
// unconfirmed. A manager that opened but could not recover stays closed.
func (a *Agent) openNetwork(ctx context.Context) (*netcfg.Manager, error) {
	cfg := a.config()
	n, err := netcfg.Open(netcfg.Options{NetNS: cfg.Network.Netns, StateDir: cfg.Network.StateDir, Logger: a.log})
	if err != nil {
		return nil, err
	}
	reverted, err := n.Recover(ctx)
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("recover a confirm window left open: %w", err)
	}
	if reverted {
		a.log.Warn("network: a change left unconfirmed by a previous run was reverted")
	}
	a.mu.Lock()
	a.net = n
	a.mu.Unlock()
	return n, nil
}

// syncNetwork applies the desired network. A failure is an internal error
// (the kernel is left as it was: netcfg rolls a failed apply back); a sync
// that succeeds clears the network's errors but its watch's (those clear
// when the watch subscribes again: watchTrouble). A network that did not
// open at the start is opened here once it can be (its namespace
// appeared); until then there is nothing to sync, and its error stays.
func (a *Agent) syncNetwork(ctx context.Context) error {
	a.netMu.Lock()
	defer a.netMu.Unlock()
	n := a.network()
	if n == nil {
		if !a.config().Network.Enabled || ctx.Err() != nil {
			return nil
		}
		var err error
		if n, err = a.openNetwork(ctx); err != nil {
			a.log.Debug("network still does not open", "err", err)
			return nil
		}
		a.log.Info("network opened")
		go a.watchNetwork(a.ctx, n)
	}
	desired, err := a.desiredNetwork()
	if err != nil {
		a.internalError("network", err)
		return err
	}
	p, err := n.Sync(ctx, desired)
	if err != nil {
		if ctx.Err() == nil {
			a.internalError("network", err)
		}
		return err
	}
	a.clearErrors(func(e *wire.ErrorEntry) bool {
		return e.Kind == "network" && !strings.HasPrefix(e.Message, watchFailed)
	})
	if !p.Empty() {
		a.log.Info("network changed", "steps", len(p.Steps))
	}
	for _, w := range p.Warnings {
		a.log.Debug("network", "warning", w)
	}
	return nil
}

// watchFailed starts the message of the error of a network watch that
// failed.
const watchFailed = "watch: "

// watchTrouble lists a network watch that cannot subscribe (err, the
// first failure of a streak) as a `network` error, an internal error, and
// clears it once the watch subscribes again (nil): policies' link.*
// triggers hear nothing meanwhile, and the admin sees why.
func (a *Agent) watchTrouble(err error) {
	if err != nil {
		a.internalError("network", fmt.Errorf(watchFailed+"%w", err))
		return
	}
	a.log.Info("network watch subscribed again")
	a.clearErrors(func(e *wire.ErrorEntry) bool {
		return e.Kind == "network" && strings.HasPrefix(e.Message, watchFailed)
	})
}

// setIface takes an interface the agent manages down or up, for a policy.
func (a *Agent) setIface(ctx context.Context, name string, down bool) error {
	if a.network() == nil {
		return a.networkMissing()
	}
	desired, err := a.desiredNetwork()
	if err != nil {
		return err
	}
	found := false
	for _, l := range desired.Links {
		if l.Name == name && l.Kind != netcfg.External {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("interface %s is not one nodekeeper manages", name)
	}
	a.mu.Lock()
	prev, had := a.ifDown[name]
	a.ifDown[name] = down
	a.mu.Unlock()
	if err := a.syncNetwork(ctx); err != nil {
		a.mu.Lock()
		if had {
			a.ifDown[name] = prev
		} else {
			delete(a.ifDown, name)
		}
		a.mu.Unlock()
		return err
	}
	return nil
}

// watchNetwork turns the kernel's link, address and route notifications
// into policy events (link.up, link.down, link.flapping, ...). A watch
// that cannot subscribe is tried again (1 s, doubling up to a minute),
// and a `network` error says so until it subscribes (watchTrouble).
func (a *Agent) watchNetwork(ctx context.Context, n *netcfg.Manager) {
	opts := netcfg.WatchOptions{OnTrouble: a.watchTrouble}
	var evs <-chan netcfg.Event
	for pause, failing := time.Second, false; ; pause = min(2*pause, time.Minute) {
		var err error
		if evs, err = n.Watch(ctx, opts); err == nil {
			if failing {
				a.watchTrouble(nil)
			}
			break
		}
		if !failing {
			a.watchTrouble(err)
		}
		failing = true
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
	for ev := range evs {
		data := map[string]any{}
		if ev.Link != "" {
			data["iface"] = ev.Link
		}
		if ev.Addr != "" {
			data["addr"] = ev.Addr
		}
		if ev.Route != "" {
			data["route"] = ev.Route
		}
		if ev.Flaps > 0 {
			data["flaps"] = ev.Flaps
		}
		a.log.Debug("network event", "type", ev.Type, "link", ev.Link)
		a.event(ev.Type, data)
	}
}

// bridges are the host bridges of the sliver interface kinds: those of the
// sliver_net section (netcfg's defaults included), overridden by
// slivers.bridge.
func (a *Agent) bridges() map[netcfg.IfaceKind]string {
	cfg := a.config()
	b := map[netcfg.IfaceKind]string{}
	if sn, _ := netcfg.SliverNetOf(cfg.Network.Sections); sn != nil {
		_, ifs, err := sn.Network([]netcfg.SliverSpec{{ID: 1, Ifaces: []netcfg.SliverIfaceSpec{
			{Kind: netcfg.Private}, {Kind: netcfg.Debug}}}})
		if err == nil {
			for _, i := range ifs[1] {
				b[i.Kind] = i.Bridge
			}
		}
		if sn.PublicBridge != "" {
			b[netcfg.Public4], b[netcfg.Public6] = sn.PublicBridge, sn.PublicBridge
		}
		if sn.ManagementPrefix.IsValid() {
			b[netcfg.Management] = sn.ManagementBridge
			if b[netcfg.Management] == "" {
				b[netcfg.Management] = "nkmgmt"
			}
		}
	}
	for k, v := range cfg.Slivers.Bridges {
		b[k] = v
	}
	return b
}

// sliverInterfaces fills in what the node's sliver network derives for a
// sliver's interfaces (bridge, addresses, gateways) where the spec leaves
// them empty. Without a sliver_net section the spec stays as it is.
func (a *Agent) sliverInterfaces(spec *container.Spec) error {
	cfg := a.config()
	sn, err := netcfg.SliverNetOf(cfg.Network.Sections)
	if err != nil || sn == nil || len(spec.Interfaces) == 0 {
		return err
	}
	ss := netcfg.SliverSpec{ID: spec.ID}
	for _, ifc := range spec.Interfaces {
		ss.Ifaces = append(ss.Ifaces, netcfg.SliverIfaceSpec{Kind: ifc.Kind, Parent: ifc.Parent, VLAN: ifc.VLAN})
	}
	_, derived, err := sn.Network([]netcfg.SliverSpec{ss})
	if err != nil {
		return fmt.Errorf("sliver %s: %w", spec.Name, err)
	}
	for i := range spec.Interfaces {
		ifc, d := &spec.Interfaces[i], derived[spec.ID][i]
		if ifc.Kind == netcfg.Isolated {
			continue
		}
		if ifc.Bridge == "" {
			ifc.Bridge = d.Bridge
		}
		if ifc.IPv4 == "" && ifc.IPv6 == "" {
			ifc.IPv4, ifc.Gateway4, ifc.IPv6, ifc.Gateway6 = d.IPv4, d.Gateway4, d.IPv6, d.Gateway6
		}
	}
	return nil
}
