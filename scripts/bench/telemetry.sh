#!/bin/sh
# telemetry.sh: benchmarks of telemetry/ beside its peer, Debian's collectd.
#
# 1. Go benchmarks: CPU time and allocations of one collection cycle and of
#    one publish (cpu-ms/op counts every goroutine, paho's included).
# 2. collectd (cpu, memory, load, interface and mqtt plugins, 1 s interval,
#    QoS 1) and `nodekeeper telemetry publish --interval 1s` run side by side
#    against the same mosquitto for the same time; the table gives CPU
#    seconds, CPU per 1 s cycle, RSS and messages each got acknowledged.
#    The publisher's RSS is sampled through the run: it must stay flat.
#
# BENCH_SECONDS (default 60) sets the side-by-side run; BENCH_MINUTES=10
# gives the 10-minute acceptance run.
set -eu
cd "$(dirname "$0")/../.."
secs=${BENCH_SECONDS:-60}
[ -n "${BENCH_MINUTES:-}" ] && secs=$((BENCH_MINUTES * 60))

echo "-- Go benchmarks (targets: system+interfaces <= 0.2 cpu-ms/op, full cycle with publishes <= 1 cpu-ms/op)"
go test -run '^$' -bench . -benchtime 2s ./telemetry | grep -E '^Benchmark'

for c in mosquitto collectd mosquitto_sub; do
	command -v $c >/dev/null || { echo "bench: $c missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
tmp=$(mktemp -d)
# The binary as the nodekeeper package ships it (no TLS, inlining only where
# it is hot: scripts/cross.sh), for this machine's architecture.
scripts/cross.sh "$(go env GOARCH)" "$tmp/nodekeeper" '-s -w'
# The floor experiment: only the syscalls of a cycle, from Go, no work.
go build -o "$tmp/floor" scripts/bench/telemetry-floor.go
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A free loopback port: random, skipping ones in use.
while :; do
	port=$(awk 'BEGIN { srand(); print 20000 + int(rand() * 40000) }')
	ss -ltn "sport = :$port" | grep -q LISTEN || break
done
user=""
[ "$(id -u)" = 0 ] && user="user root"
printf 'listener %s 127.0.0.1\nallow_anonymous true\n%s\n' "$port" "$user" > "$tmp/mosquitto.conf"
mosquitto -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
pids="$pids $!"
sleep 1

# Count what each publisher got through to the broker.
mosquitto_sub -p "$port" -q 1 -t 'collectd/#' -t 'nodekeeper/#' -v >"$tmp/sub.txt" 2>/dev/null &
pids="$pids $!"

cat >"$tmp/collectd.conf" <<CONF
Hostname "bench"
FQDNLookup false
Interval 1
BaseDir "$tmp"
PIDFile "$tmp/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin cpu
LoadPlugin memory
LoadPlugin load
LoadPlugin interface
LoadPlugin mqtt
<Plugin mqtt>
  <Publish "bench">
    Host "127.0.0.1"
    Port "$port"
    ClientId "collectd-bench"
    QoS 1
    Prefix "collectd"
  </Publish>
</Plugin>
CONF
collectd -f -C "$tmp/collectd.conf" >"$tmp/collectd.log" 2>&1 &
cpid=$!
pids="$pids $cpid"
"$tmp/nodekeeper" telemetry publish --broker "tcp://127.0.0.1:$port" --node bench --interval 1s --start-delay -1s >"$tmp/nk.log" 2>&1 &
npid=$!
pids="$pids $npid"
"$tmp/floor" "127.0.0.1:$port" >"$tmp/floor.log" 2>&1 &
fpid=$!
pids="$pids $fpid"

hz=$(getconf CLK_TCK)
# CPU seconds of a process: the sum over its threads of the kernel's exact
# run time (/proc/PID/task/TID/schedstat, nanoseconds; both programs keep
# their threads for the whole run). utime+stime from /proc/PID/stat counts
# 1/CLK_TCK ticks: 0.17 ms per cycle in a 60 s run, too coarse for the
# targets; it is printed too.
cpu() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.6f\n", s / 1e9 }'; }
ticks() { awk -v hz="$hz" '{print ($14+$15)/hz}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
sleep 5 # warm-up: both connected, first samples out
f0=$(cpu $fpid) c0=$(cpu $cpid) n0=$(cpu $npid) ct0=$(ticks $cpid) nt0=$(ticks $npid)
nrss_first=$(rss $npid) nrss_max=$nrss_first crss_max=$(rss $cpid)
step=$((secs / 10)); [ $step -lt 1 ] && step=1
t=0
half=""
while [ $t -lt "$secs" ]; do
	sleep $step
	t=$((t + step))
	kill -0 $cpid 2>/dev/null || { echo "collectd died:"; cat "$tmp/collectd.log"; exit 1; }
	kill -0 $npid 2>/dev/null || { echo "nodekeeper died:"; cat "$tmp/nk.log"; exit 1; }
	r=$(rss $npid); [ "$r" -gt "$nrss_max" ] && nrss_max=$r
	r=$(rss $cpid); [ "$r" -gt "$crss_max" ] && crss_max=$r
	# The Go heap reaches its first GC goal within the first minutes; RSS
	# must not grow after the first half.
	[ -z "$half" ] && [ $((t * 2)) -ge "$secs" ] && half=$(rss $npid)
done
f1=$(cpu $fpid) c1=$(cpu $cpid) n1=$(cpu $npid) ct1=$(ticks $cpid) nt1=$(ticks $npid)
nrss_end=$(rss $npid) crss_end=$(rss $cpid)
cmsgs=$(grep -c '^collectd/' "$tmp/sub.txt" || true)
nmsgs=$(grep -c '^nodekeeper/bench/telemetry/' "$tmp/sub.txt" || true)

echo
echo "-- side by side for ${secs}s at a 1 s interval, QoS 1, same mosquitto"
printf '%-12s %10s %14s %10s %10s %10s\n' program "cpu s" "cpu ms/cycle" "RSS kB" "RSS max" messages
row() { awk -v n="$1" -v a="$2" -v b="$3" -v s="$secs" -v r="$4" -v m="$5" -v k="$6" \
	'BEGIN { printf "%-12s %10.3f %14.3f %10s %10s %10s\n", n, b - a, (b - a) * 1000 / s, r, m, k }'; }
row collectd "$c0" "$c1" "$crss_end" "$crss_max" "$cmsgs"
row nodekeeper "$n0" "$n1" "$nrss_end" "$nrss_max" "$nmsgs"
row floor "$f0" "$f1" "$(awk '/^VmRSS/ {print $2}' /proc/$fpid/status)" - -
echo "(floor: scripts/bench/telemetry-floor.go, a cycle's syscalls from Go and nothing else: what the"
echo "  kernel and the Go runtime cost on this machine before any collecting, encoding or MQTT logic)"
# The target is judged beside the floor of the same run: when the floor
# itself is over 1.0 ms (a busy host, a slow VM), no implementation meets
# the target on this machine at this moment, and the verdict says so.
awk -v c0="$c0" -v c1="$c1" -v n0="$n0" -v n1="$n1" -v f0="$f0" -v f1="$f1" -v ct0="$ct0" -v ct1="$ct1" -v nt0="$nt0" -v nt1="$nt1" -v s="$secs" -v hz="$hz" 'BEGIN {
	c = (c1 - c0) * 1000 / s; n = (n1 - n0) * 1000 / s; f = (f1 - f0) * 1000 / s
	printf "(CPU: threads'"'"' run time from schedstat; in %d Hz ticks: collectd %.2f, nodekeeper %.2f ms per cycle)\n", hz, (ct1 - ct0) * 1000 / s, (nt1 - nt0) * 1000 / s
	v = (n <= 1.0) ? "met" : (f > 1.0 ? sprintf("out of reach in this run: its floor is %.2f ms", f) : "not met")
	printf "CPU per cycle target (<= 1.0 ms): %s; nodekeeper %+.2f ms from the floor; collectd / nodekeeper = %.2fx\n", v, n - f, (n > 0 ? c / n : 0)
}'

# Flat RSS: from the middle of the run to its end it may not grow by more
# than 512 kB (a few pages of code first run late, GC noise).
anon=$(awk '/^RssAnon/ {print $2}' "/proc/$npid/status")
file=$(awk '/^RssFile/ {print $2}' "/proc/$npid/status")
# PSS counts a page shared by n processes as 1/n: what a router pays (the
# agent and its policy worker map the same binary).
pss=$(awk '/^Pss:/ {print $2}' "/proc/$npid/smaps_rollup")
pss_anon=$(awk '/^Pss_Anon:/ {print $2}' "/proc/$npid/smaps_rollup")
growth=$((nrss_end - half))
echo "nodekeeper RSS at half time ${half} kB, at the end ${nrss_end} kB (growth ${growth} kB, max ${nrss_max} kB;"
echo "  at the end ${anon} kB anonymous: heap and runtime; ${file} kB file: the binary's pages)"
echo "nodekeeper PSS at the end ${pss} kB (${pss_anon} kB anonymous)"
verdict() { if [ "$1" -le 8192 ]; then echo met; else echo "not met"; fi; }
echo "RSS target (8 MiB): VmRSS $(verdict "$nrss_max"); PSS $(verdict "$pss"); anonymous memory $(verdict "$anon")"
echo "  (file pages are the binary in the page cache, mapped in 64 kB fault-around blocks: shared and reclaimable)"
if [ "$secs" -lt 300 ]; then
	echo "RSS flat: not judged (the heap reaches its first GC goal after 2-3 minutes at 1 s; BENCH_MINUTES=10 judges)"
	exit 0
fi
if [ "$growth" -gt 512 ]; then
	echo "FAIL: nodekeeper RSS grew in the second half of the run"
	exit 1
fi
echo "RSS flat: ok"
