#!/bin/sh
# netcfg.sh: creating 100 veth pairs attached to a bridge, with addresses,
# by netcfg, by a loop of ip commands and by one `ip -batch` (also with the
# veths' queues as netcfg makes them), side by side in the same run, each
# run in a fresh network namespace (root needed).
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
# The methods make the same links and addresses (checked first).
$go test -count=1 -run '^TestBenchmarkPeersAgree$' ./netcfg >/dev/null
$go test -run '^$' -bench '^BenchmarkVeth100$' -benchtime "${runs}x" -count 1 ./netcfg 2>/dev/null >"$out"

# The benchmark reports the median of each method as NAME-ms.
metric() { awk -v m="$1-ms" '/^BenchmarkVeth100/ { for (i = 2; i <= NF; i++) if ($i == m) { print $(i-1); exit } }' "$out"; }
x() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

n=$(metric netcfg)
l=$(metric ip-loop)
b=$(metric ip-batch)
q=$(metric ip-batch-1q)
ns=$(metric netcfg-sys)
bs=$(metric ip-batch-sys)
echo "100 veth pairs on a bridge with addresses; each run in a fresh namespace;"
echo "the methods take turns in every round; median of $runs rounds"
echo
echo "| method | time | netcfg is | target |"
echo "|---|---|---|---|"
echo "| netcfg (plan + apply, pure Go netlink) | $n ms | | |"
echo "| loop of ip commands | $l ms | $(x "$l" "$n") faster | ≥ 20x |"
echo "| ip -batch | $b ms | $(x "$b" "$n") faster | ≥ 1.0x |"
echo "| ip -batch, one queue a veth end as netcfg makes them | $q ms | $(x "$q" "$n") faster | (for comparison) |"
echo
echo "Kernel CPU time spent in the requests (system time, the floor under"
echo "the times above): netcfg $ns ms, ip -batch $bs ms. 20x the loop would be"
echo "$(awk -v a="$l" 'BEGIN { printf "%.0f", a / 20 }') ms."
