// Package container manages slivers: LXC containers with the lifecycle,
// limits and templates of CONFINE, driven through the LXC command-line tools.
//
// A Manager owns a state directory (Open takes its lock, loads the sliver
// records and adopts the containers already running). Each sliver moves one
// step at a time, registered → allocated → deployed → started and back,
// towards its requested state (register, deploy or start); a failing step
// leaves it in fail_allocate, fail_deploy or fail_start with the error
// kept. Templates are rootfs tarballs cached by SHA-256 and shared
// read-only under an overlay (or copied where overlayfs does not work);
// limits go through LXC's cgroup keys (v1 or v2, per controller) and disk
// limits through a size-capped ext4 image. Driver is the container engine;
// LXC drives lxc-start, lxc-stop, lxc-info, lxc-attach, lxc-cgroup,
// lxc-destroy and lxc-ls without cgo. See docs/slivers.md.
package container
