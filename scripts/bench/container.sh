#!/bin/sh
# container.sh: time from request to started for one sliver, beside plain
# lxc-start on the same container in the same run (real LXC; needs root).
# Each case runs BENCHTIME (default 20x) iterations, COUNT (default 3)
# times; the table shows the best run's mean and the quickest single
# iteration, the one least disturbed by whatever else the machine does,
# and the ratio of the quickest to lxc-start's quickest. "tmpfs" puts the
# state directory in memory: the difference to "disk" is the cost of
# fsync-ing records and configs. The "floor" rows do only the writes a
# crash-safe start cannot do without (see BenchmarkLXCStartRecord).
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
	v = $3 / 1e6; q = v
	for (f = 4; f <= NF; f++) if ($f == "min-ms/op") q = $(f - 1)
	if (!(name in ms)) { order[n++] = name; ms[name] = v; qs[name] = q }
	if (v < ms[name]) ms[name] = v
	if (q < qs[name]) qs[name] = q
}
END {
	desc["LXCStart"] = "lxc-start -d alone (peer)"
	desc["LXCStartRecord/records=one"] = "floor: lxc-start -d + one fsynced record"
	desc["LXCStartRecord/records=request"] = "floor: record, config, lxc-start -d, record"
	desc["StartDeployed/state=disk"] = "nodekeeper: start a deployed sliver"
	desc["StartDeployed/state=tmpfs"] = "nodekeeper: start a deployed sliver (tmpfs)"
	desc["RequestToStarted/state=disk"] = "nodekeeper: request -> started, template cached"
	desc["RequestToStarted/state=tmpfs"] = "nodekeeper: request -> started, cached (tmpfs)"
	desc["RequestToStartedCold"] = "nodekeeper: request -> started, template fetched"
	if (!("LXCStart" in ms)) { print "container: no results"; exit 1 }
	printf "%-50s %9s %9s %9s %7s\n", "case", "mean ms", "min ms", "+min ms", "ratio"
	for (i = 0; i < n; i++) {
		k = order[i]
		over = (k == "LXCStart") ? "-" : sprintf("%+.1f", qs[k] - qs["LXCStart"])
		printf "%-50s %9.1f %9.1f %9s %6.2fx\n", desc[k], ms[k], qs[k], over, qs[k] / qs["LXCStart"]
	}
	print "(mean: best of the runs; min: quickest single start over all runs; ratio of the min to lxc-start alone)"
}'
# The three that count, taking turns in every iteration so that all meet
# the same load: the ratio of the medians is the figure of issue 16. 60
# rounds (SIDE_ROUNDS; about 10 s): with 20 the median ratio moved by
# 0.07x between two runs a minute apart on this shared machine.
out=$(go test -run '^$' -bench '^BenchmarkSideBySide$' -benchtime "${SIDE_ROUNDS:-60}x" -count 1 ./container/ 2>&1) || { echo "$out"; exit 1; }
echo "$out" | awk '
/^BenchmarkSideBySide/ {
	for (f = 4; f <= NF; f++) v[$f] = $(f - 1)
	printf "\nside by side, taking turns (%d rounds)               median ms    min ms   ratio (median)\n", $2
	printf "%-50s %9.1f %9.1f %7.2fx\n", "lxc-start -d alone (peer)", v["lxc-median-ms"], v["lxc-min-ms"], 1
	printf "%-50s %9.1f %9.1f %7.2fx\n", "floor: record, config, lxc-start -d, record", v["floor-median-ms"], v["floor-min-ms"], v["floor-median-ms"] / v["lxc-median-ms"]
	printf "%-50s %9.1f %9.1f %7.2fx\n", "nodekeeper: request -> started, template cached", v["nk-median-ms"], v["nk-min-ms"], v["nk-median-ms"] / v["lxc-median-ms"]
	# Judged beside the same run'"'"'s floor: when the floor itself is over
	# 1.2x (fsyncs are dearer on a loaded disk), no crash-safe start meets
	# the target at that moment.
	r = v["nk-median-ms"] / v["lxc-median-ms"]; f = v["floor-median-ms"] / v["lxc-median-ms"]
	printf "target <= 1.2x lxc-start: %s: nodekeeper %.2fx; the crash-safe floor %.2fx, nodekeeper %+.1f ms from it\n", (r <= 1.2 ? "met" : (f > 1.2 ? "out of reach in this run (its crash-safe floor alone is over 1.2x)" : "not met")), r, f, v["nk-median-ms"] - v["floor-median-ms"]
	found = 1
}
END { if (!found) { print "container: no side-by-side result"; exit 1 } }'
