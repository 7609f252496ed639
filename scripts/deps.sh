#!/bin/sh
# deps.sh: install what the tests, the benchmarks and the demo need on a fresh
# Debian machine. Idempotent: when everything is present it does nothing.
set -eu

# Debian packages: command they provide (for a quick check), package name.
pkgs="
mosquitto:mosquitto
mosquitto_sub:mosquitto-clients
lxc-start:lxc
busybox:busybox-static
ip:iproute2
nft:nftables
qemu-mips-static:qemu-user-static
socat:socat
lua5.1:lua5.1
collectd:collectd-core
xz:xz-utils
mkfs.ext4:e2fsprogs
signify-openbsd:signify-openbsd
wget:wget
curl:curl
pgrep:procps
nsenter:util-linux
node:nodejs
promtool:prometheus
stress-ng:stress-ng
chromium:chromium
"
STATICCHECK_VERSION=v0.8.2

missing=""
for p in $pkgs; do
	cmd=${p%%:*} pkg=${p#*:}
	if ! command -v "$cmd" >/dev/null 2>&1 && ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $pkg"
	fi
done
# busybox-static specifically: the dynamic busybox cannot be copied into a rootfs.
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
	case $missing in *busybox-static*) ;; *) missing="$missing busybox-static" ;; esac
fi

if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "deps: need root to install$missing" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Package scripts must not start daemons (mosquitto, lxc-net): tests start their own.
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	apt-get install -y -qq --no-install-recommends $missing
fi

gobin=$(go env GOPATH)/bin
if ! command -v staticcheck >/dev/null 2>&1 && [ ! -x "$gobin/staticcheck" ]; then
	echo "deps: installing staticcheck $STATICCHECK_VERSION into $gobin"
	go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi

# The qemu smoke tests run foreign binaries that re-execute themselves (the
# policy worker), so the kernel must hand foreign ELF files to qemu: register
# Debian's qemu-user-static binfmt entries when nothing (systemd-binfmt,
# binfmt-support) did.
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ]; then
	mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null ||
		{ echo "deps: cannot mount $binfmt: the qemu smoke tests need binfmt_misc" >&2; exit 1; }
fi
for q in mips mipsel arm aarch64; do
	[ -e "$binfmt/qemu-$q" ] && continue
	conf=/usr/lib/binfmt.d/qemu-$q.conf
	[ -r "$conf" ] || { echo "deps: $conf missing (qemu-user-static)" >&2; exit 1; }
	echo "deps: registering qemu-$q with binfmt_misc"
	cat "$conf" > "$binfmt/register"
done
