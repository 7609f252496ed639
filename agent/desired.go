package agent

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/nodekeeper/nodekeeper/container"
	"github.com/nodekeeper/nodekeeper/wire"
)

// desiredDoc is a desired document as the node reads it: the wire
// document, with its slivers checked as container specs.
type desiredDoc struct {
	*wire.Desired
	// Slivers shadows wire.Desired.Slivers with the checked specs; nil
	// when the document has no slivers part.
	Slivers *[]container.Spec
}

// parseDesired reads a document (wire.ParseDesired) and checks its slivers:
// each a valid spec, no name or id twice. The error says where.
func parseDesired(doc []byte, node string) (*desiredDoc, error) {
	w, err := wire.ParseDesired(doc, node)
	if err != nil {
		return nil, err
	}
	d := &desiredDoc{Desired: w}
	if w.Slivers == nil {
		return d, nil
	}
	specs := make([]container.Spec, len(*w.Slivers))
	names, ids := map[string]bool{}, map[int]string{}
	for i, raw := range *w.Slivers {
		s := &specs[i]
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(s); err != nil {
			return nil, fmt.Errorf("desired document: slivers[%d]: %w", i, err)
		}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("desired document: slivers[%d]: %w", i, err)
		}
		if names[s.Name] {
			return nil, fmt.Errorf("desired document: sliver %s listed twice", s.Name)
		}
		names[s.Name] = true
		if other, ok := ids[s.ID]; ok && s.ID != 0 {
			return nil, fmt.Errorf("desired document: slivers %s and %s both have id %d", other, s.Name, s.ID)
		}
		ids[s.ID] = s.Name
	}
	d.Slivers = &specs
	return d, nil
}
