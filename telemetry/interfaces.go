package telemetry

import (
	"context"
	"time"
)

func init() {
	registerCollector("interfaces", true, func(Sources) Collector {
		return &interfacesCollector{prev: map[string]linkSample{}}
	})
}

// interfacesCollector reports every link of the node's network namespace
// from one RTM_GETLINK netlink dump (one request, no file per counter).
type interfacesCollector struct {
	links linkDumper
	prev  map[string]linkSample
	seen  map[string]bool
}

// linkSample is what the rates of the next sample are computed from.
type linkSample struct {
	at                             time.Time
	rxBytes, txBytes, rxPkts, txPk uint64
}

// Collect implements Collector.
func (c *interfacesCollector) Collect(_ context.Context, now time.Time, doc *Document) error {
	var out []Interface
	if err := c.links.dump(func(l *link) { out = append(out, linkToInterface(l)) }); err != nil {
		doc.Interfaces = nil // absent rather than stale
		return err
	}
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	clear(c.seen)
	rates := make([]LinkRates, len(out))
	for i := range out {
		ifc := &out[i]
		c.seen[ifc.Name] = true
		cur := linkSample{at: now, rxBytes: ifc.RxBytesTotal, txBytes: ifc.TxBytesTotal, rxPkts: ifc.RxPacketsTotal, txPk: ifc.TxPacketsTotal}
		if p, ok := c.prev[ifc.Name]; ok {
			if dt := now.Sub(p.at).Seconds(); dt > 0 {
				rates[i] = LinkRates{
					RxBps: round3(8 * counterDelta(p.rxBytes, cur.rxBytes) / dt),
					TxBps: round3(8 * counterDelta(p.txBytes, cur.txBytes) / dt),
					RxPps: round3(counterDelta(p.rxPkts, cur.rxPkts) / dt),
					TxPps: round3(counterDelta(p.txPk, cur.txPk) / dt),
				}
				ifc.LinkRates = &rates[i]
			}
		}
		c.prev[ifc.Name] = cur
	}
	for n := range c.prev {
		if !c.seen[n] {
			delete(c.prev, n)
		}
	}
	doc.Interfaces = out
	return nil
}

func (c *interfacesCollector) close() { c.links.close() }

// linkToInterface maps a netlink link to the document's interface.
func linkToInterface(l *link) Interface {
	ifc := Interface{
		Name:           l.name,
		State:          l.state(),
		MTU:            int(l.mtu),
		RxBytesTotal:   l.rxBytes,
		TxBytesTotal:   l.txBytes,
		RxPacketsTotal: l.rxPackets,
		TxPacketsTotal: l.txPackets,
		RxErrorsTotal:  l.rxErrors,
		TxErrorsTotal:  l.txErrors,
		RxDroppedTotal: l.rxDropped,
		TxDroppedTotal: l.txDropped,
	}
	if l.flags&iffUp != 0 && l.flags&iffRunning != 0 {
		ifc.Up = 1
	}
	if len(l.mac) == 6 {
		ifc.MAC = l.mac.String()
	}
	return ifc
}

// counterDelta is the increase of a counter; a counter that went backwards
// (the link was recreated or the counter wrapped) counts from zero.
func counterDelta(prev, cur uint64) float64 {
	if cur < prev {
		return float64(cur)
	}
	return float64(cur - prev)
}
