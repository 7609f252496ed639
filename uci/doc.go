// Package uci reads and writes OpenWrt UCI configuration exactly as libuci
// does: the same parse rules, output, change files and locking, so that
// nodekeeper and the uci tool can work on the same files at the same time.
//
// A Cursor says where config files (/etc/config), override files
// (/var/run/uci) and staged changes (/tmp/.uci) live. Load reads a package
// with its staged changes, LoadCommitted without them:
//
//	c := &uci.Cursor{} // OpenWrt's directories
//	p, err := c.LoadCommitted("nodekeeper")
//	if err != nil { ... }
//	for _, s := range p.SectionsOfType("policy") {
//		on, err := s.Bool("enabled", true)
//		...
//	}
//
// Changes (Set, AddSection, Delete, AddList, DelList, Rename, Reorder) are
// staged by Save in the change file that "uci changes" lists, and Commit
// writes them to the config file atomically under the file's lock.
//
// Main implements the uci command line ("nodekeeper uci").
package uci
