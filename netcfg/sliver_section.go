package netcfg

import "fmt"

// SliverNetOf returns the node's sliver network as its `config sliver_net`
// section describes it, or nil when there is none. The agent uses it to
// derive the interfaces of slivers it creates (SliverNet.Network) from the
// same settings FromSections turns into bridges. Errors name the section
// and the option.
func SliverNetOf(secs []Section) (*SliverNet, error) {
	var n *SliverNet
	for i := range secs {
		if secs[i].Type != "sliver_net" {
			continue
		}
		s := &sec{Section: secs[i]}
		if s.Options == nil {
			s.Options = map[string][]string{}
		}
		s.checkOptions(otherSections["sliver_net"])
		if n != nil {
			s.fail("node", "a second sliver_net section")
		}
		n = s.sliverNet()
		if s.err != nil {
			return nil, s.err
		}
	}
	if n != nil {
		if _, _, err := n.Network(nil); err != nil {
			return nil, fmt.Errorf("config sliver_net: %w", err)
		}
	}
	return n, nil
}
