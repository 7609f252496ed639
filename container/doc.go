// Package container manages slivers: LXC containers with the lifecycle,
// limits and templates of CONFINE, driven through the LXC command-line tools.
package container
