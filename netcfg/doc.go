// Package netcfg configures sliver and mesh interfaces through netlink:
// it plans the changes from the kernel's state to a desired model and applies
// them as a transaction that is rolled back on failure.
package netcfg
