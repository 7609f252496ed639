// Package dir loads a fleet directory: the admin's description of the
// whole fleet, made to live in git (docs/fleet.md).
//
//	groups.yaml      node groups: by id, or by the labels nodes report
//	slices/NAME.yaml one slice a file: template, resources, interfaces,
//	                 wanted state, owner, placement
//	policies/*.lua   Lua policies (docs/policies.md)
//	policies.yaml    which groups each policy file goes to
//	settings.yaml    UCI settings and node state per group
//
// Loading is strict: an unknown field, a reference to a group that does
// not exist, a template without sha256 or anything a node would refuse is
// an error naming the file and line, and a directory with any error is
// refused whole, before anything is pushed.
package dir
