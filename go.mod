module github.com/nodekeeper/nodekeeper

go 1.26.0

require (
	github.com/chromedp/chromedp v0.23.1
	github.com/eclipse/paho.mqtt.golang v1.5.1
	github.com/fsnotify/fsnotify v1.10.1
	github.com/google/nftables v0.3.0
	github.com/influxdata/line-protocol/v2 v2.2.1
	github.com/mdlayher/genetlink v1.4.0
	github.com/mdlayher/netlink v1.11.2
	github.com/mdlayher/wifi v0.10.0
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	github.com/yuin/gopher-lua v1.1.2
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require (
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/mdlayher/socket v0.6.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
)

// A trimmed copy of paho v1.5.1 without websockets, proxies and (with the
// build tag nk_notls) TLS: third_party/paho.mqtt.golang/README.nodekeeper.
replace github.com/eclipse/paho.mqtt.golang => ./third_party/paho.mqtt.golang

// A trimmed copy of gopher-lua v1.1.2 without the libraries the policy
// sandbox never opens: third_party/gopher-lua/README.nodekeeper.
replace github.com/yuin/gopher-lua => ./third_party/gopher-lua

// A copy of wifi v0.10.0 without ConnectWPAPSK (its PBKDF2 linked SHA-1,
// SHA-3 and PBKDF2 into the binary): third_party/wifi/README.nodekeeper.
replace github.com/mdlayher/wifi => ./third_party/wifi

// A trimmed copy of vishvananda/netlink v1.3.1 without the link kinds,
// route encapsulations and qdiscs nodekeeper never uses:
// third_party/netlink/README.nodekeeper.
replace github.com/vishvananda/netlink => ./third_party/netlink

// A trimmed copy of nftables v0.3.0 that decodes only the rule expressions
// netcfg writes: third_party/nftables/README.nodekeeper.
replace github.com/google/nftables => ./third_party/nftables
