// Package uci reads and writes OpenWrt UCI configuration exactly as libuci
// does: the same parse rules, output, change files and locking. It also
// implements the uci command line.
package uci
