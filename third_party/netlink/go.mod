module github.com/vishvananda/netlink

go 1.12

require (
	github.com/vishvananda/netns v0.0.5
	golang.org/x/sys v0.10.0
)
