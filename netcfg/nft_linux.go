package netcfg

import (
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// TableName is the name of netcfg's nftables tables, one in the inet family
// (NAT, and what private bridges may reach) and one in the bridge family
// (what bridge ports may reach). Other tables are never touched.
const TableName = "nodekeeper"

func (m *Manager) nft() (*nftables.Conn, error) {
	c, err := nftables.New(nftables.WithNetNSFd(int(m.ns)))
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return c, nil
}

// readFirewall reads netcfg's tables back into a Firewall from the tags in
// their rules' comments.
func (m *Manager) readFirewall() (Firewall, error) {
	var f Firewall
	c, err := m.nft()
	if err != nil {
		return f, err
	}
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyINet, nftables.TableFamilyBridge} {
		tables, err := c.ListTablesOfFamily(fam)
		if err != nil {
			if errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.EAFNOSUPPORT) || os.IsNotExist(err) {
				// A kernel without nf_tables has no rules of ours.
				return f, nil
			}
			return f, fmt.Errorf("netcfg: list nftables tables: %w", err)
		}
		var table *nftables.Table
		for _, t := range tables {
			if t.Name == TableName {
				table = t
			}
		}
		if table == nil {
			continue
		}
		chains, err := c.ListChainsOfTableFamily(fam)
		if err != nil {
			return f, fmt.Errorf("netcfg: list nftables chains: %w", err)
		}
		for _, ch := range chains {
			if ch.Table.Name != TableName {
				continue
			}
			rules, err := c.GetRules(table, ch)
			if err != nil {
				return f, fmt.Errorf("netcfg: list rules of %s: %w", ch.Name, err)
			}
			for _, r := range rules {
				tag, _ := userdata.GetString(r.UserData, userdata.TypeComment)
				parseTag(tag, &f)
			}
		}
	}
	return f.canonical(), nil
}

// writeFirewall replaces netcfg's tables with f in one nftables
// transaction: the kernel takes all of it or none.
func (m *Manager) writeFirewall(f Firewall) error {
	c, err := m.nft()
	if err != nil {
		return err
	}
	inet := &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}
	bridge := &nftables.Table{Name: TableName, Family: nftables.TableFamilyBridge}
	for _, t := range []*nftables.Table{inet, bridge} {
		// Adding an existing table is no error, deleting a missing one is.
		c.AddTable(t)
		c.DelTable(t)
	}
	rs := &ruleset{c: c, chains: map[string]*nftables.Chain{}}
	f = f.canonical()
	var private []string
	for _, s := range f.Isolate {
		if s.Mode == IsolatePrivate {
			private = append(private, s.Link)
		}
	}
	for _, s := range f.Isolate {
		tag := s.tag()
		switch s.Mode {
		case IsolatePrivate:
			in := rs.chain(inet, "input", nftables.ChainTypeFilter, nftables.ChainHookInput, nftables.ChainPriorityFilter)
			rs.rule(in, tag, concat(iifname(s.Link), ctEstablished(), accept()))
			rs.rule(in, tag, concat(iifname(s.Link), drop()))
			fwd := rs.chain(inet, "forward", nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter)
			for _, other := range private {
				rs.rule(fwd, tag, concat(iifname(s.Link), oifname(other, true), drop()))
			}
		case IsolatePort:
			fwd := rs.chain(bridge, "forward", nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter)
			rs.rule(fwd, tag, concat(iifname(s.Link), drop()))
		case IsolatePublic:
			in := rs.chain(bridge, "input", nftables.ChainTypeFilter, nftables.ChainHookInput, nftables.ChainPriorityFilter)
			rs.rule(in, tag, concat(iifname(s.Link), drop()))
		}
	}
	for _, n := range f.NAT {
		post := rs.chain(inet, "postrouting", nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)
		e := saddr(n.Source)
		if n.Bridge != "" {
			e = concat(e, oifname(n.Bridge, false))
		}
		rs.rule(post, n.tag(), concat(e, []expr.Any{&expr.Masq{}}))
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	return nil
}

type ruleset struct {
	c      *nftables.Conn
	tables map[*nftables.Table]bool
	chains map[string]*nftables.Chain
}

func (rs *ruleset) chain(t *nftables.Table, name string, typ nftables.ChainType, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
	key := fmt.Sprint(t.Family, name)
	if ch := rs.chains[key]; ch != nil {
		return ch
	}
	if rs.tables == nil {
		rs.tables = map[*nftables.Table]bool{}
	}
	if !rs.tables[t] {
		rs.c.AddTable(t)
		rs.tables[t] = true
	}
	accept := nftables.ChainPolicyAccept
	ch := rs.c.AddChain(&nftables.Chain{Name: name, Table: t, Type: typ, Hooknum: hook, Priority: prio, Policy: &accept})
	rs.chains[key] = ch
	return ch
}

func (rs *ruleset) rule(ch *nftables.Chain, tag string, e []expr.Any) {
	rs.c.AddRule(&nftables.Rule{Table: ch.Table, Chain: ch, Exprs: e,
		UserData: userdata.AppendString(nil, userdata.TypeComment, tag)})
}

func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ifnameBytes(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

func iifname(name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifnameBytes(name)},
	}
}

func oifname(name string, eq bool) []expr.Any {
	op := expr.CmpOpNeq
	if eq {
		op = expr.CmpOpEq
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: ifnameBytes(name)},
	}
}

func ctEstablished() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED),
			Xor:  binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
	}
}

// saddr matches packets whose source address is in p.
func saddr(p netip.Prefix) []expr.Any {
	proto, off := byte(unix.NFPROTO_IPV4), uint32(12)
	if p.Addr().Is6() {
		proto, off = unix.NFPROTO_IPV6, 8
	}
	n := uint32(p.Addr().BitLen() / 8)
	mask := make([]byte, n)
	for i := 0; i < p.Bits(); i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: mask, Xor: make([]byte, n)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

func accept() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}} }
func drop() []expr.Any   { return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}} }
