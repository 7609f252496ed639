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
$go test -run '^$' -bench '^BenchmarkVeth100$' -benchtime "${runs}x" -count 1 ./netcfg 2>/dev/null >"$out"

# The benchmark reports the median of each method as NAME-ms.
metric() { awk -v m="$1-ms" '/^BenchmarkVeth100/ { for (i = 2; i <= NF; i++) if ($i == m) { print $(i-1); exit } }' "$out"; }
x() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

n=$(metric netcfg)
l=$(metric ip-loop)
b=$(metric ip-batch)
echo "100 veth pairs on a bridge with addresses; each run in a fresh namespace;"
echo "the three methods take turns in every round; median of $runs rounds"
echo
echo "| method | time | netcfg is | target |"
echo "|---|---|---|---|"
echo "| netcfg (plan + apply, pure Go netlink) | $n ms | | |"
echo "| loop of ip commands | $l ms | $(x "$l" "$n") faster | ≥ 20x |"
echo "| ip -batch | $b ms | $(x "$b" "$n") faster | ≥ 1.0x |"
