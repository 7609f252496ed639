#!/bin/sh
# size-report.sh [GOARCH] [TOP] [VARIANT]: where the bytes of the nodekeeper
# binary go.
#
# Builds the binary for GOARCH (default mips, the architecture the flash budget
# is set for) and VARIANT (empty: the nodekeeper package, without TLS; ssl:
# nodekeeper-ssl) with scripts/cross.sh, once stripped as shipped and once with
# its symbol table, and prints (scripts/size-report.go) the sections and the
# bytes per module, per Go package and per symbol. TOP (default 20) limits each
# table.
set -eu
cd "$(dirname "$0")/.."
arch=${1:-mips}
top=${2:-20}
variant=${3:-}
GO=${GO:-go}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

title="linux/$arch"
[ -z "$variant" ] || title="$title ($variant variant)"
ver="-X main.version=$(cat VERSION)"
scripts/cross.sh "$arch" "$work/stripped" "-s -w $ver" "$variant"
scripts/cross.sh "$arch" "$work/full" "$ver" "$variant"
$GO run scripts/size-report.go -top "$top" -name "$title" "$work/stripped" "$work/full"
