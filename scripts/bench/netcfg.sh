#!/bin/sh
# netcfg.sh: creating 100 veth pairs attached to a bridge, with addresses,
# by netcfg, by a loop of ip commands and by one `ip -batch`, side by side
# in the same run, each run in a fresh network namespace (root needed).
set -eu
cd "$(dirname "$0")/../.."
go=${GO:-go}
runs=${NETCFG_BENCH_RUNS:-10}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [ "$(id -u)" != 0 ]; then
	echo "netcfg bench: needs root (network namespaces)"
	exit 0
fi
# The three methods make the same links and addresses (checked first).
$go test -count=1 -run '^TestBenchmarkPeersAgree$' ./netcfg >/dev/null
$go test -run '^$' -bench 'Veth100' -benchtime "${runs}x" -count 1 ./netcfg 2>/dev/null >"$out"

ns() { awk -v b="$1" '$1 ~ "^"b"(-[0-9]+)?$" { print $3; exit }' "$out"; }
ms() { awk -v n="$1" 'BEGIN { printf "%.0f", n / 1e6 }'; }
x() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

n=$(ns BenchmarkVeth100Netcfg)
l=$(ns BenchmarkVeth100IPLoop)
b=$(ns BenchmarkVeth100IPBatch)
echo "100 veth pairs on a bridge with addresses, fresh namespace each run, mean of $runs runs"
echo
echo "| method | time | netcfg is | target |"
echo "|---|---|---|---|"
echo "| netcfg (plan + apply, pure Go netlink) | $(ms "$n") ms | | |"
echo "| loop of ip commands | $(ms "$l") ms | $(x "$l" "$n") faster | ≥ 20x |"
echo "| ip -batch | $(ms "$b") ms | $(x "$b" "$n") faster | ≥ 1.0x |"
