#!/bin/bash
# demo.sh: a community network of three nodes on this machine, each running
# the nodekeeper agent, with a live view of what they publish. `make demo`
# runs it after installing what is missing and building bin/nodekeeper.
#
# What it builds (as root; nothing in the host's own network namespace):
#   hub      a network namespace with a bridge, the lab's "community
#            network", and a mosquitto listening on it
#   node1-3  one namespace each, joined to the hub by a veth (eth0,
#            10.99.0.N); the agents build the mesh themselves from their UCI
#            config: a VXLAN overlay (vni 42) on a bridge nkmesh (10.100.0.N)
# then runs one agent per node with the example policies, pushes a signed
# desired document to node1 (a busybox sliver and a policy, demo-load),
# fakes a high load on node1 so the policy caps the sliver, and shows it
# all in `nodekeeper watch`. Then the fleet: `nodekeeper-fleet apply` rolls
# a fleet directory out in waves (slice mesh on all three nodes, node1's s1
# and its policy kept as they are) and `nodekeeper-fleet status` sums the
# fleet up; `nodekeeper-fleet serve` shows it all in a browser from the
# start (the URL is printed). On a keypress (or after DEMO_SECONDS seconds
# when that is set) it kills node3's agent with SIGKILL and shows its
# `offline` arrive (the MQTT last will), then cleans everything up, also
# when interrupted.
#
# Environment: NODEKEEPER (the binary, default bin/nodekeeper),
# NODEKEEPER_FLEET (the fleet tool, default bin/nodekeeper-fleet),
# DEMO_SECONDS (unattended: how long the view runs before the kill),
# DEMO_KEEP=1 (keep the work directory, for its logs), DEMO_WEB_PORT (the
# web view's port on this machine, default 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: the lab needs root (network namespaces, LXC): sudo make demo" >&2
	exit 1
fi
for tool in ip nsenter mosquitto lxc-create busybox tar sha256sum; do
	command -v "$tool" >/dev/null || { echo "demo.sh: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
nk=$(readlink -f "${NODEKEEPER:-bin/nodekeeper}")
[ -x "$nk" ] || { echo "demo.sh: no $nk: run make build (or make demo)" >&2; exit 1; }
fleet=$(readlink -f "${NODEKEEPER_FLEET:-bin/nodekeeper-fleet}")
[ -x "$fleet" ] || { echo "demo.sh: no $fleet: run make build (or make demo)" >&2; exit 1; }

id=$(printf '%04x' $((RANDOM % 65536)))
tag=nkdemo-$id
work=$(mktemp -d "/tmp/$tag.XXXXXX")
chmod 755 "$work"
hub=$tag-hub
nodes=(node1 node2 node3)
port=1883 # the hub's namespace is the demo's own: its ports are all free
broker=tcp://10.99.0.254:$port
declare -A agent_pid=()
watch_pid= broker_pid= web_pid= fwd_pid=
# The fleet's web view, on this port of the machine running the demo.
web_port=${DEMO_WEB_PORT:-8080}

say() { printf '\n==> %s\n' "$*"; }
ns_of() { echo "$tag-$1"; }
# in_ns NS CMD...: run CMD in a namespace. (Backgrounded with &, a shell
# function would leave a subshell between $! and the process: processes
# that are killed later are started with nsenter itself.)
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

cleaned=
cleanup() {
	[ -n "$cleaned" ] && return
	cleaned=1
	trap '' INT TERM
	# Every step is tried, whatever the one before did.
	set +e +o pipefail
	say "cleaning up"
	for n in "${!agent_pid[@]}"; do
		kill -TERM "${agent_pid[$n]}" 2>/dev/null || true
	done
	for n in "${!agent_pid[@]}"; do
		for _ in $(seq 50); do kill -0 "${agent_pid[$n]}" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "${agent_pid[$n]}" 2>/dev/null || true
		wait "${agent_pid[$n]}" 2>/dev/null || true
	done
	# Agents leave slivers running on purpose (a restart adopts them): take
	# them down through the state directory, then sweep what LXC still has.
	for n in "${nodes[@]}"; do
		d=$work/$n
		[ -d "$d/slivers" ] || continue
		for s in $("$nk" sliver list --config-dir "$d/config" --json 2>/dev/null | grep -o '"name": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | sort -u); do
			in_ns "$(ns_of "$n")" "$nk" sliver remove --config-dir "$d/config" "$s" >/dev/null 2>&1 || true
		done
		if [ -d "$d/slivers/lxc" ]; then
			for c in $(lxc-ls -P "$d/slivers/lxc" 2>/dev/null); do
				lxc-stop -k -P "$d/slivers/lxc" -n "$c" >/dev/null 2>&1 || true
				lxc-destroy -f -P "$d/slivers/lxc" -n "$c" >/dev/null 2>&1 || true
			done
		fi
	done
	[ -n "$watch_pid" ] && { kill -TERM "$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true; }
	[ -n "$fwd_pid" ] && { kill -TERM "$fwd_pid" 2>/dev/null || true; wait "$fwd_pid" 2>/dev/null || true; }
	[ -n "$web_pid" ] && { kill -TERM "$web_pid" 2>/dev/null || true; wait "$web_pid" 2>/dev/null || true; }
	[ -n "$broker_pid" ] && { kill -TERM "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; }
	for n in "${nodes[@]}"; do
		ip netns del "$(ns_of "$n")" 2>/dev/null || true
	done
	ip netns del "$hub" 2>/dev/null || true
	# Mounts the slivers' layers left (none when the removal above worked).
	grep -o " $work/[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	if [ "${DEMO_KEEP:-}" = 1 ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
	left=$(ip netns list | grep -c "^$tag-" || true)
	procs=$( (pgrep -f "$work"; pgrep -f "^$nk ") | grep -vxc "$$" || true)
	echo "left behind: $left namespaces, $procs processes"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for WHAT SECONDS CMD...: run CMD every half second until it succeeds.
# CMD runs in a subshell: a shell function run with its output redirected
# keeps the redirection while a trap runs, so a Ctrl-C during it sent the
# cleanup's report to /dev/null.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for i in $(seq $((secs * 2))); do
		("$@") >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	echo "demo.sh: gave up waiting for $what" >&2
	return 1
}

say "the lab: hub and ${#nodes[@]} nodes in network namespaces (prefix $tag), work directory $work"
ip netns add "$hub"
in_ns "$hub" ip link set lo up
in_ns "$hub" ip link add br0 type bridge
# Flood the overlay's multicast to every node, with or without IGMP.
in_ns "$hub" ip link set br0 type bridge mcast_snooping 0
in_ns "$hub" ip addr add 10.99.0.254/24 dev br0
in_ns "$hub" ip link set br0 up
i=0
for n in "${nodes[@]}"; do
	i=$((i + 1))
	ns=$(ns_of "$n")
	ip netns add "$ns"
	in_ns "$ns" ip link set lo up
	in_ns "$hub" ip link add "p$i" type veth peer name eth0 netns "$ns"
	in_ns "$hub" ip link set "p$i" master br0 up
	in_ns "$ns" ip addr add "10.99.0.$i/24" dev eth0
	in_ns "$ns" ip link set eth0 up
	# Multicast (the overlay's group) leaves through the underlay.
	in_ns "$ns" ip route add 239.0.0.0/8 dev eth0
	echo "  $n: namespace $ns, eth0 10.99.0.$i/24"
done

say "mosquitto on $broker (inside $hub)"
mkdir -p "$work/hub"
cat >"$work/hub/mosquitto.conf" <<EOF
user root
listener $port 0.0.0.0
allow_anonymous true
EOF
nsenter --net="/run/netns/$hub" mosquitto -c "$work/hub/mosquitto.conf" >"$work/hub/mosquitto.log" 2>&1 &
broker_pid=$!
wait_for "mosquitto" 10 in_ns "$hub" bash -c "exec 3<>/dev/tcp/10.99.0.254/$port"

say "an admin key (nodekeeper keygen), trusted by every node"
"$nk" keygen -o "$work/admin" >/dev/null
pubkey=$(sed -n 2p "$work/admin.pub")
echo "  $work/admin.pub: $pubkey"

say "a sliver template: a busybox rootfs"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,sbin,etc,proc,sys,dev,tmp,root,run,var}
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for a in sh sleep cat ls ip ping touch ps uptime; do ln -s busybox "$rootfs/bin/$a"; done
ln -s ../bin/busybox "$rootfs/sbin/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$rootfs/etc/passwd"
echo "::sysinit:/bin/touch /run/booted" >"$rootfs/etc/inittab"
tar -C "$rootfs" --owner=0 --group=0 --numeric-owner -czf "$work/busybox.tar.gz" .
sha=$(sha256sum "$work/busybox.tar.gz" | cut -d' ' -f1)
echo "  $work/busybox.tar.gz sha256 $sha"

say "three agents: UCI config, the example policies, the mesh overlay"
i=0
for n in "${nodes[@]}"; do
	i=$((i + 1))
	d=$work/$n
	mkdir -p "$d/config" "$d/policies"
	cp "$root"/openwrt-package/files/policies/*.lua "$d/policies/"
	rm -f "$d"/policies/*_test.lua
	cat >"$d/config/nodekeeper" <<EOF
config agent 'agent'
	option node_id '$n'
	option log_level 'info'
	option latitude '41.38$((i * 17))'
	option longitude '2.16$((i * 23 % 100))'
	list label 'owner=demo'
	option log_target 'stderr'
	option state_dir '$d/state'
	option run_dir '$d/run'

config telemetry 'telemetry'
	option broker '$broker'
	option interval '2s'
	option start_delay '-1'
	option keepalive '2s'
	option override '$d/override.json'
	list collectors '-wifi'

config policy 'policy'
	option dir '$d/policies'

config slivers 'slivers'
	option state_dir '$d/slivers'
	option netns '$(ns_of "$n")'
	option stop_timeout '2s'
	# the demo's document names its template by a local path
	option remote_local_archives '1'

config remote 'remote'
	list trusted_key '$pubkey'
	option confirm_window '10s'
	option peers_all '1'

config network 'network'
	option state_dir '$d/run/netcfg'

config bridge 'nkmesh'
	list ipaddr '10.100.0.$i/24'

config overlay 'nkvx42'
	option vni '42'
	option group '239.1.1.42'
	option device 'eth0'
	option bridge 'nkmesh'

config sliver_net 'net'
EOF
	nsenter --net="/run/netns/$(ns_of "$n")" "$nk" run --config-dir "$d/config" >"$d/agent.log" 2>&1 &
	agent_pid[$n]=$!
	echo "  $n: agent pid ${agent_pid[$n]}, config $d/config/nodekeeper, log $d/agent.log"
done

say "the live view: nodekeeper watch --broker $broker"
echo "  (the raw messages, from another terminal: ip netns exec $hub mosquitto_sub -p $port -t 'nodekeeper/#' -v)"
nsenter --net="/run/netns/$hub" "$nk" watch --broker "tcp://127.0.0.1:$port" &
watch_pid=$!

say "the fleet's web view: nodekeeper-fleet serve (docs/web.md)"
nsenter --net="/run/netns/$hub" "$fleet" serve --listen 127.0.0.1:8080 --broker "tcp://127.0.0.1:$port" \
	--pub "$work/admin.pub" --history-step 10s >"$work/hub/web.log" 2>&1 &
web_pid=$!
# The view listens inside the hub's namespace; socat carries this
# machine's port there.
socat "TCP-LISTEN:$web_port,bind=127.0.0.1,fork,reuseaddr" \
	"EXEC:nsenter --net=/run/netns/$hub socat STDIO TCP\:127.0.0.1\:8080" >"$work/hub/socat.log" 2>&1 &
fwd_pid=$!
if wait_for "the web view" 20 curl -sf "http://127.0.0.1:$web_port/healthz"; then
	echo "  open http://127.0.0.1:$web_port/ (live while the demo runs; one chart point every 10 s; DEMO_WEB_PORT changes the port)"
else
	echo "  the web view did not come up on port $web_port (busy? DEMO_WEB_PORT=N): see $work/hub/web.log"
fi

for n in "${nodes[@]}"; do
	wait_for "$n's agent" 30 in_ns "$(ns_of "$n")" "$nk" status --config-dir "$work/$n/config"
done

say "the overlay: node1 pings node3 over VXLAN (10.100.0.3)"
wait_for "the overlay" 20 in_ns "$(ns_of node1)" busybox ping -c1 -W1 10.100.0.3
in_ns "$(ns_of node1)" busybox ping -c3 10.100.0.3 | sed -n '/packets/p'

say "a signed desired document to node1: sliver s1 (64 MiB, private network) and the policy demo-load"
cat >"$work/node1.json" <<EOF
{
  "node": "node1",
  "seq": 1,
  "slivers": [
    {"name": "s1", "slice": "s1",
     "template": {"url": "$work/busybox.tar.gz", "sha256": "$sha", "type": "busybox"},
     "resources": {"memory_bytes": 67108864},
     "interfaces": [{"kind": "private"}],
     "set_state": "start"}
  ],
  "policies": {"demo-load.lua": $(sed 's/\\/\\\\/g; s/"/\\"/g; s/\t/\\t/g' "$root/scripts/demo/demo-load.lua" | awk '{printf "%s\\n", $0}' | sed 's/^/"/; s/$/"/')}
}
EOF
in_ns "$hub" "$nk" push --broker "tcp://127.0.0.1:$port" -k "$work/admin.sec" node1 "$work/node1.json"
sliver_started() { "$nk" status --config-dir "$work/node1/config" --json | tr -d ' \n' | grep -q '"name":"s1"[^}]*"state":"started"'; }
wait_for "s1 to start on node1" 120 in_ns "$(ns_of node1)" bash -c "$(declare -f sliver_started); nk=$nk work=$work; sliver_started"
echo "  inside s1 (nodekeeper sliver attach s1 -- ip -4 -o addr show priv):"
in_ns "$(ns_of node1)" "$nk" sliver attach --config-dir "$work/node1/config" s1 -- ip -4 -o addr show priv | sed 's/^/    /' || true

say "faking a load of 8 on node1 (telemetry override): demo-load caps s1 at half a core"
echo '{"system": {"load": [8, 8, 8]}}' >"$work/node1/override.json.tmp"
mv "$work/node1/override.json.tmp" "$work/node1/override.json"
capped() { "$nk" status --config-dir "$work/node1/config" --json | tr -d ' \n' | grep -q '"name":"s1"[^]]*"limits":{'; }
wait_for "demo-load to cap s1" 60 in_ns "$(ns_of node1)" bash -c "$(declare -f capped); nk=$nk work=$work; capped"
rm -f "$work/node1/override.json"
echo "  the load is back to normal; the cap stays until the policy or an admin lifts it"

say "the fleet: a fleet directory, as it would live in git (docs/fleet.md)"
f=$work/fleet
mkdir -p "$f/slices" "$f/policies"
printf 'groups:\n  lab:\n    nodes: [node1, node2, node3]\n  first:\n    nodes: [node1]\n' >"$f/groups.yaml"
printf '%s\n' "# node1's sliver, as the document pushed above has it: kept as it is" \
	"template: {url: $work/busybox.tar.gz, sha256: $sha, type: busybox}" \
	"resources: {memory: 64M}" "interfaces: [private]" "set_state: start" "placement: {nodes: [node1]}" >"$f/slices/s1.yaml"
printf '%s\n' "# a slice on every node of the lab" \
	"template: {url: $work/busybox.tar.gz, sha256: $sha, type: busybox}" \
	"resources: {memory: 32M}" "interfaces: [private]" "set_state: start" "placement: {group: lab}" >"$f/slices/mesh.yaml"
cp "$root/scripts/demo/demo-load.lua" "$f/policies/"
printf 'demo-load.lua:\n  groups: [first]\n' >"$f/policies.yaml"
(cd "$f" && for x in groups.yaml slices/*.yaml policies.yaml; do echo "  --- $x"; sed 's/^/  /' "$x"; done)
fl_broker=tcp://127.0.0.1:$port
say "nodekeeper-fleet plan: what changes, node by node (exit status 2: changes)"
in_ns "$hub" "$fleet" plan "$f" --broker "$fl_broker" || [ $? = 2 ]
say "nodekeeper-fleet apply: signed, in waves (a canary, then the rest), each soaked 5 s"
in_ns "$hub" "$fleet" apply "$f" -k "$work/admin.sec" --broker "$fl_broker" --soak 5s
say "nodekeeper-fleet status"
in_ns "$hub" "$fleet" status "$f" --broker "$fl_broker"
echo "  the same, live, with charts, events, the rollout and a map: http://127.0.0.1:$web_port/"

if [ -n "${DEMO_SECONDS:-}" ]; then
	say "watching for $DEMO_SECONDS seconds"
	sleep "$DEMO_SECONDS"
else
	say "watching: press a key to kill node3's agent (kill -9) and see it go offline"
	read -r -n1 -s </dev/tty || sleep infinity
fi

say "kill -9 node3's agent: its broker connection dies, the last will says offline"
kill -KILL "${agent_pid[node3]}"
wait "${agent_pid[node3]}" 2>/dev/null || true
unset 'agent_pid[node3]'
offline() { timeout 2 mosquitto_sub -h 127.0.0.1 -p "$port" -t nodekeeper/node3/status -C 1 | grep -qx offline; }
if command -v mosquitto_sub >/dev/null; then
	wait_for "node3 offline" 20 in_ns "$hub" bash -c "$(declare -f offline); port=$port; offline"
else
	sleep 6
fi
sleep 1
