package main

import "github.com/nodekeeper/nodekeeper/uci"

func init() {
	register(command{
		name:    "uci",
		summary: "read and change UCI configuration, like OpenWrt's uci",
		run:     uci.Main,
	})
}
