module github.com/nodekeeper/nodekeeper

go 1.26

require github.com/yuin/gopher-lua v1.1.2

require (
	github.com/fsnotify/fsnotify v1.10.1 // indirect
	golang.org/x/sys v0.13.0 // indirect
)
