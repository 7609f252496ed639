#!/bin/sh
# policy.sh: the policy engine's benchmarks as a table, with PUC Lua 5.1
# (Debian's lua5.1) running the same Lua code in the same run.
set -eu
cd "$(dirname "$0")/../.."
go=${GO:-go}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
$go test -run '^$' -bench 'ThresholdEval|Round|GopherLua' -benchtime 1s -count 1 ./policy >"$out"

# ns/op of a benchmark (first match).
ns() { awk -v b="$1" '$1 ~ "^"b"(-[0-9]+)?$" { print $3; exit }' "$out"; }
allocs() { awk -v b="$1" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 1; i <= NF; i++) if ($i == "allocs/op") print $(i-1); exit }' "$out"; }
us() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1000 }'; }

echo "| measure | value | target |"
echo "|---|---|---|"
echo "| threshold policy evaluation, input included | $(us "$(ns BenchmarkThresholdEval)") µs, $(allocs BenchmarkThresholdEval) allocs | ≤ 20 µs |"
inproc=$(ns BenchmarkRoundInProcess)
worker=$(ns BenchmarkRoundWorker)
echo "| round of 10 policies in this process | $(us "$inproc") µs | |"
echo "| same round in the worker process | $(us "$worker") µs | |"
echo "| isolation boundary per round | $(awk -v a="$worker" -v b="$inproc" 'BEGIN { d = (a - b) / 1000; if (d < 0) d = 0; printf "%.1f", d }') µs | ≤ 100 µs |"
echo
echo "| Lua code (testdata/bench) | gopher-lua | PUC Lua 5.1 | ratio |"
echo "|---|---|---|---|"
for f in policy/testdata/bench/*.lua; do
	name=$(basename "$f" .lua)
	g=$(ns "BenchmarkGopherLua/$name")
	if command -v lua5.1 >/dev/null 2>&1; then
		p=$(lua5.1 -e "dofile('$f') local n, t = 0, os.clock() repeat bench() n = n + 1 until os.clock() - t > 1 print(string.format('%.0f', (os.clock() - t) / n * 1e9))")
	else
		p=""
	fi
	if [ -n "$p" ]; then
		echo "| $name | $(us "$g") µs | $(us "$p") µs | $(awk -v a="$g" -v b="$p" 'BEGIN { printf "%.1fx", a / b }') |"
	else
		echo "| $name | $(us "$g") µs | (lua5.1 missing) | |"
	fi
done
