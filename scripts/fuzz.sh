#!/bin/sh
# fuzz.sh DURATION: run every Go fuzz target of the module for DURATION each.
# Go runs one fuzz target per invocation, so targets are found and run one by one.
#
# Go 1.26's fuzz coordinator can fail a target when -fuzztime runs out with a
# bare "context deadline exceeded" and no failing input (a race in
# internal/fuzz, golang.org/issue/75804, fixed in Go 1.27). Such a run counts
# as passed once the target's corpus replays cleanly; any other failure, and
# any failing input written, fails.
set -eu
t=${1:-15s}
go=${GO:-go}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $($go list ./...); do
	for f in $($go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $f for $t"
		if $go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg" >"$log" 2>&1; then
			tail -n 1 "$log"
			continue
		fi
		cat "$log"
		if grep -q 'Failing input written' "$log" ||
			[ "$(grep -A1 -- "^--- FAIL: $f " "$log" | sed -n 2p | tr -d '[:space:]')" != contextdeadlineexceeded ]; then
			exit 1
		fi
		echo "fuzz: $f stopped at the deadline with no failing input (golang.org/issue/75804): replaying its corpus"
		$go test -count=1 -run "^$f\$" "$pkg"
	done
done
