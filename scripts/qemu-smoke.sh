#!/bin/sh
# qemu-smoke.sh: run the cross-compiled binaries in dist/ under qemu-user-static
# and check that every router architecture gives the answers amd64 gives (MIPS
# is big-endian: byte-order bugs show up there), then build the .ipk packages,
# which enforces the flash budget. Run by `make smoke` after `make cross`.
#
# Each subcommand below must be listed in `help` and is checked:
#   version            same text as amd64 but for the architecture
#   uci                export, then import and export again, of the config
#                      files of the UCI vectors in uci/testdata/vectors:
#                      same output and exit status as amd64, and a round trip
#                      that gives back what it was given
#   policy test        on openwrt-package/files/policies: same as amd64
#   telemetry sample   (without the netlink collectors, see below) exits 0 and prints a JSON document with the same keys
#                      as amd64's (values are live, so they differ)
#   the TLS variants   dist/nodekeeper-linux-* (package nodekeeper, built with
#                      -tags nk_notls) refuses a TLS broker at config time and
#                      names nodekeeper-ssl; dist/nodekeeper-ssl-linux-* gives
#                      the same version and help and takes TLS settings (it
#                      fails on the missing CA file, before connecting)
# SMOKE_UCI_CASES (default 40) bounds the number of UCI cases; UCI_VECTORS
# names another vector directory.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
archs="mips mipsle arm arm64"
# prefix: which variant run() runs (dist/<prefix><arch>).
prefix=nodekeeper-linux-
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

fail() { echo "smoke FAIL: $*" >&2; failed=1; }

# run ARCH ARGS...: the ARCH binary with ARGS, natively for amd64.
# (Functions use _-prefixed names: sh has no local variables.)
run() {
	_ra=$1
	shift
	case $_ra in
	amd64)
		if [ "$(uname -m)" = x86_64 ]; then "dist/${prefix}amd64" "$@"; else qemu-x86_64-static "dist/${prefix}amd64" "$@"; fi ;;
	*)
		_rq=$(echo "$_ra" | sed 's/^arm64$/aarch64/; s/^mipsle$/mipsel/')
		"qemu-$_rq-static" "dist/$prefix$_ra" "$@" ;;
	esac
}

# capture ARCH OUTFILE ARGS... (stdin passed on): stdout into OUTFILE, and the
# exit status appended to it as a last line.
capture() {
	_ca=$1 _co=$2
	shift 2
	_crc=0
	run "$_ca" "$@" > "$_co" 2> "$_co.err" || _crc=$?
	echo "exit $_crc" >> "$_co"
}

# has CMD: whether the amd64 binary lists CMD among its commands.
has() { run amd64 help 2>&1 | grep -q "^  $1 "; }

for a in amd64 $archs; do
	for f in "dist/nodekeeper-linux-$a" "dist/nodekeeper-ssl-linux-$a"; do
		[ -f "$f" ] || { echo "smoke: $f missing: run 'make cross'" >&2; exit 1; }
	done
done

# version and help
capture amd64 "$work/version.amd64" version
capture amd64 "$work/help.amd64" help
for a in $archs; do
	capture "$a" "$work/version.$a" version
	sed "s#linux/$a)#linux/amd64)#" "$work/version.$a" | cmp -s - "$work/version.amd64" ||
		fail "$a version: $(head -n 1 "$work/version.$a"), amd64 said $(head -n 1 "$work/version.amd64")"
	capture "$a" "$work/help.$a" help
	# usage goes to stderr
	cmp -s "$work/help.$a.err" "$work/help.amd64.err" || fail "$a help differs from amd64's"
	echo "smoke $a: $(head -n 1 "$work/version.$a")"
done

# uci round trips over the vectors' config files
if has uci; then
	vectors=${UCI_VECTORS:-uci/testdata/vectors}
	if ! ls "$vectors"/*.json >/dev/null 2>&1; then
		fail "uci: no vectors in $vectors"
	else
		$GO run scripts/uci-vector-files.go -n "${SMOKE_UCI_CASES:-40}" "$vectors" "$work/cases"
		ncases=0
		for c in "$work"/cases/*/; do
			c=${c%/}
			name=$(basename "$c")
			ncases=$((ncases + 1))
			for a in amd64 $archs; do
				o=$work/uci.$name.$a
				capture "$a" "$o.export" uci -c "$c" -t "$work/save.$a" export
				# Round trip what exported cleanly; an empty export (no file that
				# parses) has nothing to import: uci would say "Entry not found".
				if [ "$(tail -n 1 "$o.export")" = "exit 0" ] && [ "$(wc -l < "$o.export")" -gt 1 ]; then
					mkdir -p "$o.conf"
					sed '$d' "$o.export" | capture "$a" "$o.import" uci -c "$o.conf" -t "$work/save.$a" import
					capture "$a" "$o.again" uci -c "$o.conf" -t "$work/save.$a" export
					cmp -s "$o.export" "$o.again" || fail "uci $name on $a: export, import, export gave a different text"
				fi
				if [ "$a" != amd64 ]; then
					for step in export import again; do
						[ ! -f "$work/uci.$name.amd64.$step" ] && [ ! -f "$o.$step" ] && continue
						cmp -s "$work/uci.$name.amd64.$step" "$o.$step" || fail "uci $name on $a: $step differs from amd64"
					done
				fi
			done
		done
		echo "smoke: uci round trips over $ncases vector cases on amd64 $archs"
	fi
else
	fail "uci: the binary has no uci command"
fi

# policy test on the example policies
if has policy; then
	policies=openwrt-package/files/policies
	for a in amd64 $archs; do
		capture "$a" "$work/policy.$a" policy test "$policies"
		[ "$(tail -n 1 "$work/policy.$a")" = "exit 0" ] || fail "policy test on $a: $(tail -n 1 "$work/policy.$a"): $(head -c 300 "$work/policy.$a.err")"
		[ "$a" = amd64 ] || cmp -s "$work/policy.$a" "$work/policy.amd64" || fail "policy test on $a differs from amd64"
	done
	echo "smoke: policy test $policies on amd64 $archs"
else
	fail "policy: the binary has no policy command"
fi

# telemetry sample. qemu-user (Debian's 7.2) cannot translate this kernel's
# netlink: it leaves newer link attributes byte-swapped for big-endian
# guests and has no generic netlink at all, so the netlink-based collectors
# (interfaces, wifi) are left out here; their parsers are tested by go test
# and against the real kernel.
if has telemetry; then
	for a in amd64 $archs; do
		capture "$a" "$work/telemetry.$a" telemetry sample --collectors=-interfaces,-wifi
		[ "$(tail -n 1 "$work/telemetry.$a")" = "exit 0" ] || fail "telemetry sample on $a: $(tail -n 1 "$work/telemetry.$a"): $(head -c 300 "$work/telemetry.$a.err")"
		head -c 1 "$work/telemetry.$a" | grep -q '{' || fail "telemetry sample on $a printed no JSON object"
		grep -o '"[A-Za-z0-9_]*":' "$work/telemetry.$a" | sort -u > "$work/telemetry.$a.keys"
		[ "$a" = amd64 ] || cmp -s "$work/telemetry.$a.keys" "$work/telemetry.amd64.keys" ||
			fail "telemetry sample on $a has other keys than amd64: $(diff "$work/telemetry.amd64.keys" "$work/telemetry.$a.keys" | grep '^[<>]' | tr '\n' ' ')"
	done
	echo "smoke: telemetry sample on amd64 $archs"
else
	fail "telemetry: the binary has no telemetry command"
fi

# the TLS variants
if has telemetry; then
	for a in amd64 $archs; do
		prefix=nodekeeper-linux-
		capture "$a" "$work/notls.$a" telemetry publish --broker ssl://127.0.0.1:1 --node smoke
		{ [ "$(tail -n 1 "$work/notls.$a")" = "exit 2" ] && grep -q "no TLS support; install nodekeeper-ssl" "$work/notls.$a.err"; } ||
			fail "$a: nodekeeper took an ssl:// broker: $(tail -n 1 "$work/notls.$a"): $(head -c 300 "$work/notls.$a.err")"
		prefix=nodekeeper-ssl-linux-
		capture "$a" "$work/ssl.version.$a" version
		cmp -s "$work/ssl.version.$a" "$work/version.$a" || fail "$a: nodekeeper-ssl version differs from nodekeeper's"
		capture "$a" "$work/ssl.$a" telemetry publish --broker ssl://127.0.0.1:1 --node smoke --ca "$work/no-such-ca.pem"
		{ [ "$(tail -n 1 "$work/ssl.$a")" = "exit 2" ] && grep -q "tls ca file" "$work/ssl.$a.err" && ! grep -q "no TLS support" "$work/ssl.$a.err"; } ||
			fail "$a: nodekeeper-ssl did not take TLS settings: $(tail -n 1 "$work/ssl.$a"): $(head -c 300 "$work/ssl.$a.err")"
	done
	prefix=nodekeeper-linux-
	echo "smoke: TLS variants (nodekeeper without, nodekeeper-ssl with) on amd64 $archs"
fi

[ "$failed" = 0 ] || exit 1

# packages, sizes and the flash budget
scripts/build-ipk.sh
