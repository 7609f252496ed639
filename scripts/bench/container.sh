#!/bin/sh
# container.sh: time from request to started for one sliver, beside plain
# lxc-start on the same container in the same run (real LXC; needs root).
# Each case runs BENCHTIME (default 20x) iterations, COUNT (default 3)
# times; the table shows the best run, the one least disturbed by whatever
# else the machine does. "tmpfs" puts the state directory in memory: the
# difference to "disk" is the cost of fsync-ing records and configs.
set -eu
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
	echo "container: needs root for real containers; skipped"
	exit 0
fi
out=$(go test -run '^$' -bench '^Benchmark(LXCStart|LXCStartRecord|StartDeployed|RequestToStarted|RequestToStartedCold)$' \
	-benchtime "${BENCHTIME:-20x}" -count "${COUNT:-3}" ./container/ 2>&1) || { echo "$out"; exit 1; }
echo "$out" | awk '
/^Benchmark/ {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	v = $3 / 1e6
	if (!(name in ms)) { order[n++] = name; ms[name] = v } else if (v < ms[name]) ms[name] = v
}
END {
	desc["LXCStart"] = "lxc-start -d alone (peer)"
	desc["LXCStartRecord"] = "floor: lxc-start -d + one fsynced record"
	desc["StartDeployed/state=disk"] = "nodekeeper: start a deployed sliver"
	desc["StartDeployed/state=tmpfs"] = "nodekeeper: start a deployed sliver (tmpfs)"
	desc["RequestToStarted/state=disk"] = "nodekeeper: request -> started, template cached"
	desc["RequestToStarted/state=tmpfs"] = "nodekeeper: request -> started, cached (tmpfs)"
	desc["RequestToStartedCold"] = "nodekeeper: request -> started, template fetched"
	if (!("LXCStart" in ms)) { print "container: no results"; exit 1 }
	printf "%-50s %10s %12s %8s\n", "case (best of runs)", "ms/op", "overhead ms", "ratio"
	for (i = 0; i < n; i++) {
		k = order[i]
		over = (k == "LXCStart") ? "-" : sprintf("%+.1f", ms[k] - ms["LXCStart"])
		printf "%-50s %10.1f %12s %7.2fx\n", desc[k], ms[k], over, ms[k] / ms["LXCStart"]
	}
}'
