#!/bin/sh
# bench.sh: run every benchmark suite in scripts/bench/ (one script per area:
# each runs its Go benchmarks and its peer in the same run and prints a table).
# BENCH=policy runs only scripts/bench/policy.sh.
set -eu
cd "$(dirname "$0")/.."
for s in scripts/bench/*.sh; do
	[ -e "$s" ] || { echo "bench: no suites in scripts/bench/"; exit 0; }
	name=$(basename "$s" .sh)
	if [ -n "${BENCH:-}" ] && [ "$BENCH" != "$name" ]; then continue; fi
	echo "== $name"
	sh "$s"
	echo
done
