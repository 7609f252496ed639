package netcfg

import "log/slog"

// Options say where a Manager works.
type Options struct {
	// NetNS is the network namespace to manage: a name under /run/netns
	// or a path (/proc/PID/ns/net). Empty manages the caller's own.
	NetNS string
	// StateDir keeps the state to go back to while a confirm window is
	// open (see ApplyConfirmed); DefaultStateDir if empty. A tmpfs is
	// right: a reboot clears the kernel's state as well.
	StateDir string
	// Logger receives what netcfg logs; slog.Default() if nil.
	Logger *slog.Logger
}

// DefaultStateDir is where confirm-or-revert keeps its state by default.
const DefaultStateDir = "/var/run/nodekeeper/netcfg"
