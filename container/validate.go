package container

// Validate checks a spec for what can be told without the node (names,
// hashes, interface kinds and addresses, impossible limits), as Create and
// Apply do first, and fills the defaults they fill (slice, request). The
// agent checks every sliver of a desired document this way before it
// applies any.
func (s *Spec) Validate() error { return s.validate() }
