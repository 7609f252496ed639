#!/bin/sh
# test-loaded.sh: run the unit tests beside a CPU hog, as on a loaded CI
# runner or router (README.md, "Tests"). Not part of `make test` (it takes
# as long as the suite, ROUNDS times); it must pass whenever it is run.
#
#   PKGS    packages to test (default ./...)
#   ROUNDS  how many times in a row (default 2)
#   HOGS    CPU hogs (default: one per core, twice the cores' worth of load
#           with the tests themselves)
# The hog is stress-ng (Debian's stress-ng, scripts/deps.sh) or, without it,
# a shell busy loop per hog.
set -eu
cd "$(dirname "$0")/.."
pkgs=${PKGS:-./...}
rounds=${ROUNDS:-2}
hogs=${HOGS:-$(nproc)}
timeout=${TESTTIMEOUT:-40m}

pids=""
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT TERM
if command -v stress-ng >/dev/null 2>&1; then
	stress-ng --cpu "$hogs" --quiet &
	pids=$!
else
	i=0
	while [ "$i" -lt "$hogs" ]; do
		sh -c 'while :; do :; done' &
		pids="$pids $!"
		i=$((i + 1))
	done
fi
echo "test-loaded: $hogs CPU hog(s) running (pids$(printf ' %s' $pids)); testing $pkgs $rounds time(s)"
sleep 2
r=1
while [ "$r" -le "$rounds" ]; do
	echo "test-loaded: round $r of $rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
	go test -count=1 -timeout "$timeout" $pkgs
	r=$((r + 1))
done
echo "test-loaded: passed $rounds time(s) beside $hogs CPU hog(s)"
