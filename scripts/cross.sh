#!/bin/sh
# cross.sh NAME OUT LDFLAGS [VARIANT]: build a static nodekeeper for one router
# architecture.
#
# NAME is one of mips, mipsle (both GOMIPS=softfloat: most router CPUs have no
# FPU), arm (GOARM=7), arm64, amd64. VARIANT is the OpenWrt package the binary
# is for (docs/packaging.md):
#   (empty)  nodekeeper: built with -tags nk_notls, no crypto/tls (2 MB less)
#   ssl      nodekeeper-ssl: with TLS to the MQTT broker
# Both are built for size: no inlining (-l) except in the packages whose
# speed matters (NK_GCFLAGS, below; `NK_GCFLAGS= scripts/cross.sh ...`
# builds without).
set -eu
name=$1 out=$2 ldflags=$3 variant=${4:-}
# MIPS segments are aligned to 16 KiB instead of the Go linker's 64 KiB
# (-R): every OpenWrt MIPS kernel uses 4 KiB pages (16 KiB alignment also
# loads on 16 KiB-page kernels), and the 64 KiB alignment padded the file
# by up to 128 KiB of zeros, which made the binary's size jump by 64 KiB
# steps past the flash budget on a few bytes of code (docs/packaging.md).
case $name in
mips|mipsle) export GOARCH=$name GOMIPS=softfloat; ldflags="$ldflags -R 0x4000" ;;
arm)         export GOARCH=arm GOARM=7 ;;
arm64|amd64) export GOARCH=$name ;;
*) echo "cross.sh: unknown architecture $name" >&2; exit 2 ;;
esac
case $variant in
"")  tags=nk_notls ;;
ssl) tags="" ;;
*) echo "cross.sh: unknown variant $variant (want none or ssl)" >&2; exit 2 ;;
esac
# NK_TAGS adds build tags (nk_pprof: profiles of the real process, for the
# benches only; never in a shipped binary).
[ -n "${NK_TAGS:-}" ] && tags="${tags:+$tags,}$NK_TAGS"
# Inlining makes the binary about 1 MB larger. It is switched off everywhere
# (later patterns win) except in the runtime and the Lua VM, which run the
# hot code (the policy threshold benchmark is as fast as with full inlining,
# docs/packaging.md).
NK_GCFLAGS=${NK_GCFLAGS-all=-l runtime= internal/runtime/...= github.com/yuin/gopher-lua/...=}
set --
for g in $NK_GCFLAGS; do
	set -- "$@" "-gcflags=$g"
done
export CGO_ENABLED=0 GOOS=linux
exec ${GO:-go} build -trimpath -tags "$tags" "$@" -ldflags "$ldflags" -o "$out" ./cmd/nodekeeper
