#!/bin/sh
# build-ipk.sh: OpenWrt .ipk packages and a feed index from the cross-compiled
# binaries in dist/, without the OpenWrt SDK.
#
# The packages are laid out byte for byte the way OpenWrt's include/package-pack.mk
# and scripts/ipkg-build lay them out: an outer gzip'd tar (GNU format, numeric
# owner 0/0, fixed mtime, gzip -n) of ./debian-binary, ./data.tar.gz and
# ./control.tar.gz; control fields in OpenWrt's order; conffiles resolved against
# the data; postinst/prerm calling default_postinst/default_prerm. The index is
# what scripts/ipkg-make-index.sh writes (Packages, Packages.gz), so a router can
# use the output directory as a `src/gz` feed. Name, release, license, section,
# URL, description and conffiles come from openwrt-package/nodekeeper/Makefile.
#
# Environment (all optional):
#   DIST               input binaries dist/nodekeeper-linux-<goarch> (default dist)
#   OUT                output directory (default $DIST/ipk), replaced whole on
#                      success and removed on failure: never a partial feed
#   ARCHS              OpenWrt package architectures to build (default: all below)
#   RELEASE            package release N in X.Y.Z-rN (default PKG_RELEASE)
#   DEPENDS            the Depends field (default libc; empty omits it)
#   SOURCE_DATE_EPOCH  mtime of every entry (default: time of the last commit)
#   BUDGET_MIPS_BIN    bytes the mips binary may have (default 8000000)
#   BUDGET_IPK         bytes any .ipk may have (default 3000000)
# Past a budget the script fails after printing the size report.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

feed=openwrt-package/nodekeeper
mk=$feed/Makefile
DIST=${DIST:-dist}
OUT=${OUT:-$DIST/ipk}
BUDGET_MIPS_BIN=${BUDGET_MIPS_BIN:-8000000}
BUDGET_IPK=${BUDGET_IPK:-3000000}
DEPENDS=${DEPENDS-libc}
GO=${GO:-go}

# OpenWrt package architecture -> Go binary it carries.
all_archs="
mips_24kc:mips
mipsel_24kc:mipsle
arm_cortex-a7_neon-vfpv4:arm
arm_cortex-a9_vfpv3-d16:arm
arm_cortex-a15_neon-vfpv4:arm
aarch64_cortex-a53:arm64
aarch64_cortex-a72:arm64
aarch64_generic:arm64
x86_64:amd64
"

die() { echo "build-ipk: $*" >&2; exit 1; }

# An older feed in OUT goes first, so that a failure leaves none behind; OUT
# is removed only when it holds nothing but what this script writes.
if [ -e "$OUT" ]; then
	for f in "$OUT"/* "$OUT"/.[!.]*; do
		[ -e "$f" ] || continue
		case ${f##*/} in
		*.ipk | Packages | Packages.gz | Packages.sig | sizes.txt) ;;
		*) die "$OUT holds $f, which is not a package or an index: not removing it" ;;
		esac
	done
	rm -rf "$OUT"
fi

# mk_var NAME: the value of NAME:= in the feed Makefile.
mk_var() { sed -n "s/^[[:space:]]*$1:=[[:space:]]*//p" "$mk" | head -n 1; }
# mk_define NAME: the body of `define NAME` in the feed Makefile.
mk_define() { awk -v d="define $1" '$0 == "endef" { on = 0 } on { print } $0 == d { on = 1 }' "$mk"; }

name=$(mk_var PKG_NAME)
release=${RELEASE:-$(mk_var PKG_RELEASE)}
license=$(mk_var PKG_LICENSE)
section=$(mk_var SECTION)
url=$(mk_var URL)
description=$(mk_define "Package/$name/description")
conffiles=$(mk_define "Package/$name/conffiles")
version=$(cat VERSION)
[ -n "$name" ] && [ -n "$release" ] && [ -n "$description" ] || die "$mk: PKG_NAME, PKG_RELEASE or the description is missing"
echo "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || die "VERSION: '$version' is not X.Y.Z"
echo "$release" | grep -Eq '^[0-9]+$' || die "release '$release' is not a number"
for b in "BUDGET_MIPS_BIN=$BUDGET_MIPS_BIN" "BUDGET_IPK=$BUDGET_IPK"; do
	echo "${b#*=}" | grep -Eq '^[0-9]+$' || die "${b%%=*} '${b#*=}' is not a number of bytes"
done
pkgversion=$version-r$release

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || stat -c %Y VERSION)
fi
export SOURCE_DATE_EPOCH
echo "$SOURCE_DATE_EPOCH" | grep -Eq '^[0-9]+$' || die "SOURCE_DATE_EPOCH '$SOURCE_DATE_EPOCH' is not a number"

# The tar and gzip invocations of ipkg-build; --owner/--group stand in for fakeroot.
ipk_tar() { tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name --mtime="@$SOURCE_DATE_EPOCH" "$@"; }

# check_binary FILE GOARCH: FILE must be a static Go ELF for GOARCH built for
# the routers' CPUs (soft float on MIPS: most have no FPU).
check_binary() {
	f=$1 goarch=$2
	[ -f "$f" ] || die "$f missing: run 'make cross' first"
	hdr=$(od -An -tx1 -N20 "$f" | tr -d ' \n')
	case $goarch in
	mips)   want=7f454c46010201:0008 ;;
	mipsle) want=7f454c46010101:0800 ;;
	arm)    want=7f454c46010101:2800 ;;
	arm64)  want=7f454c46020101:b700 ;;
	amd64)  want=7f454c46020101:3e00 ;;
	*) die "no ELF signature known for $goarch" ;;
	esac
	got=$(echo "$hdr" | cut -c1-14):$(echo "$hdr" | cut -c37-40)
	[ "$got" = "$want" ] || die "$f is not a linux/$goarch ELF binary (header $got, want $want)"
	info=$($GO version -m "$f") || die "$f: go version -m failed"
	echo "$info" | grep -q "GOARCH=$goarch\$" || die "$f: not built for GOARCH=$goarch"
	echo "$info" | grep -q 'CGO_ENABLED=0$' || die "$f: not a static build (CGO_ENABLED=0)"
	case $goarch in
	mips|mipsle) echo "$info" | grep -q 'GOMIPS=softfloat$' ||
		die "$f: built without GOMIPS=softfloat; it dies with SIGILL on FPU-less routers" ;;
	arm) echo "$info" | grep -Eq 'GOARM=[5-7]' || die "$f: needs GOARM 5, 6 or 7" ;;
	esac
}

# stage DIR BINARY: the package's files as Package/nodekeeper/install puts them.
stage() {
	d=$1
	install -d -m 0755 "$d" "$d/usr/bin" "$d/etc/config" "$d/etc/init.d" \
		"$d/etc/uci-defaults" "$d/etc/nodekeeper/policies"
	install -m 0755 "$2" "$d/usr/bin/$name"
	install -m 0600 "$feed/files/$name.config" "$d/etc/config/$name"
	install -m 0755 "$feed/files/$name.init" "$d/etc/init.d/$name"
	install -m 0644 "$feed/files/$name.uci-defaults" "$d/etc/uci-defaults/$name"
	for p in openwrt-package/files/policies/*; do
		[ ! -f "$p" ] || install -m 0644 "$p" "$d/etc/nodekeeper/policies/"
	done
	# package-pack.mk: conffiles that are not plain files (directories) are
	# kept across sysupgrade through /lib/upgrade/keep.d.
	keep=""
	for x in $conffiles; do
		[ -f "$d/$x" ] || keep="$keep $x"
	done
	if [ -n "$keep" ]; then
		install -d -m 0755 "$d/lib" "$d/lib/upgrade" "$d/lib/upgrade/keep.d"
		for x in $keep; do echo "$x"; done > "$d/lib/upgrade/keep.d/$name"
		chmod 0644 "$d/lib/upgrade/keep.d/$name"
	fi
}

# control DIR ARCH: CONTROL/ as package-pack.mk writes it, before ipkg-build.
control() {
	c=$1/CONTROL
	install -d -m 0755 "$c"
	{
		echo "Package: $name"
		echo "Version: $pkgversion"
		[ -z "$DEPENDS" ] || echo "Depends: $DEPENDS"
		echo "Source: feeds/nodekeeper/$name"
		echo "SourceName: $name"
		[ -z "$license" ] || echo "License: $license"
		[ -z "$section" ] || echo "Section: $section"
		echo "SourceDateEpoch: $SOURCE_DATE_EPOCH"
		[ -z "$url" ] || echo "URL: $url"
		echo "Architecture: $2"
		echo "Installed-Size: 0"
		printf "Description: "
		echo "$description" | sed -e 's,^[[:space:]]*, ,g'
	} > "$c/control"
	cat > "$c/postinst" <<-'EOF'
	#!/bin/sh
	[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
	[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
	. ${IPKG_INSTROOT}/lib/functions.sh
	default_postinst $0 $@
	EOF
	cat > "$c/prerm" <<-'EOF'
	#!/bin/sh
	[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
	. ${IPKG_INSTROOT}/lib/functions.sh
	default_prerm $0 $@
	EOF
	chmod 0644 "$c/control"
	chmod 0755 "$c/postinst" "$c/prerm"
	# ipkg-build: conffiles resolved to the plain files they name, sorted.
	resolved=$(for x in $conffiles; do find "$1$x" -type f 2>/dev/null; done | sed "s!^$1!!" | LC_ALL=C sort)
	if [ -n "$resolved" ]; then
		echo "$resolved" > "$c/conffiles"
		chmod 0644 "$c/conffiles"
	fi
}

# ipkg_build DIR DESTDIR: scripts/ipkg-build's archive steps.
ipkg_build() {
	d=$1 t=$2/IPKG_BUILD.$$
	mkdir "$t"
	(cd "$d" && ipk_tar --exclude=./CONTROL -cf - .) | gzip -n > "$t/data.tar.gz"
	size=$(gzip -dc < "$t/data.tar.gz" | wc -c)
	sed -i -e "s/^Installed-Size: .*/Installed-Size: $size/" "$d/CONTROL/control"
	(cd "$d/CONTROL" && ipk_tar -cf - .) | gzip -n > "$t/control.tar.gz"
	echo "2.0" > "$t/debian-binary"
	chmod 0644 "$t/debian-binary" "$t/data.tar.gz" "$t/control.tar.gz"
	arch=$(sed -n 's/^Architecture: //p' "$d/CONTROL/control")
	pkg=$2/${name}_${pkgversion}_$arch.ipk
	(cd "$t" && ipk_tar -cf - ./debian-binary ./data.tar.gz ./control.tar.gz) | gzip -n > "$pkg"
	rm -r "$t"
}

# make_index DIR: scripts/ipkg-make-index.sh.
make_index() {
	(
		cd "$1"
		empty=1
		for pkg in $(find . -name '*.ipk' | sort); do
			empty=
			f=${pkg#./}
			sum=$(sha256sum "$f" | cut -d ' ' -f 1)
			tar -xzOf "$f" ./control.tar.gz | tar -xzOf - ./control |
				sed -e "s/^Description:/Filename: $f\\
Size: $(stat -L -c %s "$f")\\
SHA256sum: $sum\\
Description:/"
			echo
		done
		[ -z "$empty" ] || echo
	) > "$1/Packages"
	gzip -9nc "$1/Packages" > "$1/Packages.gz"
}

# squashfs_cost FILE: bytes FILE takes in an xz squashfs as OpenWrt builds it
# (256 KiB blocks compressed on their own, preset 9e, lc=0 lp=2 pb=2).
squashfs_cost() {
	xz -c -q --format=xz --check=none --block-size=262144 \
		--lzma2=preset=9e,lc=0,lp=2,pb=2,dict=256KiB < "$1" | wc -c
}

mb() { awk -v b="$1" 'BEGIN { printf "%.2f MB", b / 1000000 }'; }

archs=${ARCHS:-$(for a in $all_archs; do echo "${a%%:*}"; done)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022
feedout=$work/out
mkdir "$feedout"

fail=""
report="$(printf '%-28s %12s %12s %14s' architecture binary .ipk 'xz squashfs')"
for arch in $archs; do
	goarch=""
	for a in $all_archs; do [ "${a%%:*}" = "$arch" ] && goarch=${a#*:}; done
	[ -n "$goarch" ] || die "unknown package architecture $arch (known: $(echo $all_archs | sed 's/:[a-z0-9]*//g'))"
	bin=$DIST/nodekeeper-linux-$goarch
	check_binary "$bin" "$goarch"
	root=$work/$arch
	stage "$root" "$bin"
	control "$root" "$arch"
	ipkg_build "$root" "$feedout"
	ipk=$feedout/${name}_${pkgversion}_$arch.ipk
	bsize=$(stat -c %s "$bin") isize=$(stat -c %s "$ipk") xsize=$(squashfs_cost "$bin")
	report="$report
$(printf '%-28s %12s %12s %14s' "$arch" "$(mb "$bsize")" "$(mb "$isize")" "$(mb "$xsize")")"
	if [ "$goarch" = mips ] && [ "$bsize" -gt "$BUDGET_MIPS_BIN" ]; then
		fail="$fail
over budget: mips binary $bin is $bsize bytes, budget $BUDGET_MIPS_BIN ($(mb "$BUDGET_MIPS_BIN"))"
	fi
	if [ "$isize" -gt "$BUDGET_IPK" ]; then
		fail="$fail
over budget: $(basename "$ipk") is $isize bytes, budget $BUDGET_IPK ($(mb "$BUDGET_IPK"))"
	fi
done
make_index "$feedout"
echo "$report" > "$feedout/sizes.txt"

echo "build-ipk: $name $pkgversion, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
echo "$report"
echo "budget: mips binary <= $(mb "$BUDGET_MIPS_BIN"), each .ipk <= $(mb "$BUDGET_IPK")"
if [ -n "$fail" ]; then
	echo "build-ipk:$fail" >&2
	echo "build-ipk: no packages written; see where the bytes go with scripts/size-report.sh" >&2
	exit 1
fi
mkdir -p "$(dirname "$OUT")"
cp -R "$feedout" "$OUT"
echo "build-ipk: packages and index in ${OUT#"$top"/}"
