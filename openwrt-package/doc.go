// Package openwrtpackage has no API: it is the OpenWrt package of nodekeeper
// (the feed Makefile and files in nodekeeper/, example policies in
// files/policies/) and the tests that check it. The tests build .ipk files
// with scripts/build-ipk.sh and check them against OpenWrt's ipkg-build layout
// byte by byte, run the procd init script against a stubbed rc.common
// (testdata/rc.common), and exercise the size report and the flash budget.
// docs/packaging.md describes the package.
package openwrtpackage
