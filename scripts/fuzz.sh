#!/bin/sh
# fuzz.sh DURATION: run every Go fuzz target of the module for DURATION each.
# Go runs one fuzz target per invocation, so targets are found and run one by one.
set -eu
t=${1:-15s}
go=${GO:-go}
for pkg in $($go list ./...); do
	for f in $($go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $f for $t"
		$go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg"
	done
done
