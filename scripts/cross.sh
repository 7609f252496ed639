#!/bin/sh
# cross.sh NAME OUT LDFLAGS: build a static nodekeeper for one router architecture.
# NAME is one of mips, mipsle (both GOMIPS=softfloat: most router CPUs have no FPU),
# arm (GOARM=7), arm64, amd64.
set -eu
name=$1 out=$2 ldflags=$3
case $name in
mips|mipsle) export GOARCH=$name GOMIPS=softfloat ;;
arm)         export GOARCH=arm GOARM=7 ;;
arm64|amd64) export GOARCH=$name ;;
*) echo "cross.sh: unknown architecture $name" >&2; exit 2 ;;
esac
export CGO_ENABLED=0 GOOS=linux
exec ${GO:-go} build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/nodekeeper
