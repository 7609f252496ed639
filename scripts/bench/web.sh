#!/bin/sh
# web.sh: the fleet's web view at scale (issue 14): the nodes page's load
# time in headless Chromium at 1,000 and 10,000 simulated nodes, and the
# server's CPU and RSS while their telemetry documents stream (each node
# every 10 s) and a page takes live updates. bin/nodekeeper-fleet serve runs
# as a process of its own. Needs mosquitto and chromium.
set -eu
cd "$(dirname "$0")/../.."
command -v mosquitto >/dev/null || { echo "bench web: mosquitto missing (scripts/deps.sh installs it)" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "bench web: /usr/bin/chromium missing (scripts/deps.sh installs it)" >&2; exit 1; }
go test -run '^$' -bench Web -benchtime 1x -timeout 20m ./fleet/web/ | grep -v '^\(goos\|goarch\|pkg\|cpu\|PASS\|ok\|BenchmarkWeb\)'
