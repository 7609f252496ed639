#!/bin/sh
# size-report.sh [GOARCH] [TOP]: where the bytes of the nodekeeper binary go.
#
# Builds the binary for GOARCH (default mips, the architecture the flash budget
# is set for) with scripts/cross.sh, once stripped as shipped and once with its
# symbol table, and sums the sizes `go tool nm -size` gives per module and per
# Go package (bss excluded: it takes no flash). The rest of the file is the
# function tables (pclntab), ELF headers and padding, which grow with the code.
# TOP (default 20) limits each table.
set -eu
cd "$(dirname "$0")/.."
arch=${1:-mips}
top=${2:-20}
GO=${GO:-go}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ver="-X main.version=$(cat VERSION)"
scripts/cross.sh "$arch" "$work/stripped" "-s -w $ver"
scripts/cross.sh "$arch" "$work/full" "$ver"
$GO tool nm -size "$work/full" > "$work/nm"

stripped=$(stat -c %s "$work/stripped")
awk -v top="$top" -v stripped="$stripped" -v arch="$arch" '
# pkgof NAME: the Go package a symbol belongs to.
function pkgof(n,    p, i, cut, rest, j) {
	sub(/^type:\*?/, "", n)
	sub(/^go:itab\.\*?/, "", n)
	sub(/^\.eq\./, "", n)
	if (n ~ /^go:/) return "(go: func and type metadata)"
	p = n
	cut = match(p, /[(\[,]/)
	if (cut > 0) p = substr(p, 1, cut - 1)
	i = 0
	while (match(substr(p, i + 1), /\//)) i += RSTART
	rest = substr(n, i + 1)
	j = index(rest, ".")
	if (j > 0) n = substr(n, 1, i) substr(rest, 1, j - 1)
	gsub(/%2e/, ".", n) # the linker escapes dots in the last path element
	return n
}
# modof PKG: the module (or "std") a package comes from.
function modof(p,    parts, k) {
	if (p ~ /^\(/) return p
	if (p ~ /^github\.com\/nodekeeper\/nodekeeper(\/|$)/ || p == "main") return "github.com/nodekeeper/nodekeeper"
	k = split(p, parts, "/")
	if (parts[1] !~ /\./) return "std"
	if (k >= 3) return parts[1] "/" parts[2] "/" parts[3]
	return p
}
$3 ~ /^[TtRrDd]$/ {
	pkg = pkgof($4)
	bypkg[pkg] += $2
	bymod[modof(pkg)] += $2
	total += $2
}
END {
	printf "nodekeeper linux/%s: %d bytes stripped; %d bytes in sized symbols, %d in function tables, headers and padding\n", arch, stripped, total, stripped - total
	printf "\nby module (bytes, share of stripped binary):\n"
	for (m in bymod) printf "%10d %5.1f%%  %s\n", bymod[m], 100 * bymod[m] / stripped, m | "sort -rn | head -n " top
	close("sort -rn | head -n " top)
	printf "\nby package:\n"
	for (p in bypkg) printf "%10d %5.1f%%  %s\n", bypkg[p], 100 * bypkg[p] / stripped, p | "sort -rn | head -n " top
	close("sort -rn | head -n " top)
}' "$work/nm"
echo
echo "largest symbols:"
awk '$3 ~ /^[TtRrDd]$/ { printf "%10d  %s\n", $2, $4 }' "$work/nm" | sort -rn | head -n "$top"
