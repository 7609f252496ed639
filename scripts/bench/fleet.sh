#!/bin/sh
# fleet.sh: the fleet tool at scale (issue 13): plan and apply to 1,000
# simulated nodes (no soak), status at 1,000 and 11,000 nodes, and
# ingestion of 10,000 nodes' telemetry documents (1,000 a second) and
# states, with bin/nodekeeper-fleet's own CPU and memory (it runs as a
# process of its own, apart from mosquitto and the simulator). Needs
# mosquitto.
set -eu
cd "$(dirname "$0")/../.."
command -v mosquitto >/dev/null || { echo "bench fleet: mosquitto missing (scripts/deps.sh installs it)" >&2; exit 1; }
go test -run '^$' -bench Fleet -benchtime 1x -timeout 20m ./fleet/sim/ | grep -v '^\(goos\|goarch\|pkg\|cpu\|PASS\|ok\|BenchmarkFleet\)'
