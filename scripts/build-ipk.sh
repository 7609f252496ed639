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
# URL, descriptions, conffiles, PROVIDES and CONFLICTS come from
# openwrt-package/nodekeeper/Makefile.
#
# Two packages per architecture, the variants of the feed Makefile:
#   nodekeeper      dist/nodekeeper-linux-<goarch>, built with -tags nk_notls
#   nodekeeper-ssl  dist/nodekeeper-ssl-linux-<goarch>, with TLS; it provides
#                   and conflicts with nodekeeper
#
# Environment (all optional):
#   DIST               input binaries (default dist)
#   OUT                output directory (default $DIST/ipk), replaced whole on
#                      success and removed on failure: never a partial feed
#   ARCHS              OpenWrt package architectures to build (default: all below)
#   PACKAGES           packages to build (default: nodekeeper nodekeeper-ssl)
#   RELEASE            package release N in X.Y.Z-rN (default PKG_RELEASE)
#   DEPENDS            the Depends field (default libc; empty omits it)
#   SOURCE_DATE_EPOCH  mtime of every entry (default: time of the last commit)
#   BUDGET_MIPS_BIN      bytes nodekeeper's mips binary may have (default 8000000)
#   BUDGET_IPK           bytes a nodekeeper .ipk may have (default 3000000)
#   BUDGET_SSL_MIPS_BIN  bytes nodekeeper-ssl's mips binary may have (default 10500000)
#   BUDGET_SSL_IPK       bytes a nodekeeper-ssl .ipk may have (default 4000000)
# The .ipk budgets hold for every architecture but x86_64 (PCs and VMs have
# disks, not flash). Past a budget the script fails after printing the size
# report.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

feed=openwrt-package/nodekeeper
mk=$feed/Makefile
DIST=${DIST:-dist}
OUT=${OUT:-$DIST/ipk}
BUDGET_MIPS_BIN=${BUDGET_MIPS_BIN:-8000000}
BUDGET_IPK=${BUDGET_IPK:-3000000}
BUDGET_SSL_MIPS_BIN=${BUDGET_SSL_MIPS_BIN:-10500000}
BUDGET_SSL_IPK=${BUDGET_SSL_IPK:-4000000}
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
# mk_pkg_var PKG NAME: the value of NAME:= inside `define Package/PKG`.
mk_pkg_var() { mk_define "Package/$1" | sed -n "s/^[[:space:]]*$2:=[[:space:]]*//p" | head -n 1; }

name=$(mk_var PKG_NAME)
release=${RELEASE:-$(mk_var PKG_RELEASE)}
license=$(mk_var PKG_LICENSE)
section=$(mk_var SECTION)
url=$(mk_var URL)
conffiles=$(mk_define "Package/$name/conffiles")
version=$(cat VERSION)
packages=${PACKAGES:-$name $name-ssl}
[ -n "$name" ] && [ -n "$release" ] || die "$mk: PKG_NAME or PKG_RELEASE is missing"
for p in $packages; do
	case $p in
	"$name" | "$name-ssl") ;;
	*) die "unknown package $p (known: $name $name-ssl)" ;;
	esac
	[ -n "$(mk_define "Package/$p/description")" ] || die "$mk: the description of $p is missing"
done
echo "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || die "VERSION: '$version' is not X.Y.Z"
echo "$release" | grep -Eq '^[0-9]+$' || die "release '$release' is not a number"
for b in "BUDGET_MIPS_BIN=$BUDGET_MIPS_BIN" "BUDGET_IPK=$BUDGET_IPK" \
	"BUDGET_SSL_MIPS_BIN=$BUDGET_SSL_MIPS_BIN" "BUDGET_SSL_IPK=$BUDGET_SSL_IPK"; do
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

# check_binary FILE GOARCH PKG: FILE must be a static Go ELF for GOARCH built
# for the routers' CPUs (soft float on MIPS: most have no FPU) as the variant
# PKG wants it (nodekeeper: -tags nk_notls; nodekeeper-ssl: with TLS).
check_binary() {
	f=$1 goarch=$2 _cp=$3
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
	notls=no
	echo "$info" | grep -Eq -- '-tags=(.*,)?nk_notls(,|$)' && notls=yes
	case $_cp:$notls in
	"$name:no") die "$f: built with TLS, but package $name is the build without (-tags nk_notls, scripts/cross.sh)" ;;
	"$name-ssl:yes") die "$f: built without TLS (-tags nk_notls), but package $name-ssl is the build with TLS" ;;
	esac
}

# stage DIR BINARY PKG: the package's files as Package/nodekeeper/install puts
# them.
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
		for x in $keep; do echo "$x"; done > "$d/lib/upgrade/keep.d/$3"
		chmod 0644 "$d/lib/upgrade/keep.d/$3"
	fi
}

# control DIR ARCH PKG: CONTROL/ as package-pack.mk writes it, before
# ipkg-build.
control() {
	c=$1/CONTROL
	install -d -m 0755 "$c"
	conflicts=$(mk_pkg_var "$3" CONFLICTS | sed 's/[[:space:]]\{1,\}/, /g')
	provides=$(mk_pkg_var "$3" PROVIDES | sed 's/[[:space:]]\{1,\}/, /g')
	{
		echo "Package: $3"
		echo "Version: $pkgversion"
		[ -z "$DEPENDS" ] || echo "Depends: $DEPENDS"
		[ -z "$conflicts" ] || echo "Conflicts: $conflicts"
		[ -z "$provides" ] || echo "Provides: $provides"
		echo "Source: feeds/nodekeeper/$name"
		echo "SourceName: $name"
		[ -z "$license" ] || echo "License: $license"
		[ -z "$section" ] || echo "Section: $section"
		echo "SourceDateEpoch: $SOURCE_DATE_EPOCH"
		[ -z "$url" ] || echo "URL: $url"
		echo "Architecture: $2"
		echo "Installed-Size: 0"
		printf "Description: "
		mk_define "Package/$3/description" | sed -e 's,^[[:space:]]*, ,g'
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
	pkgname=$(sed -n 's/^Package: //p' "$d/CONTROL/control")
	mkdir "$t"
	(cd "$d" && ipk_tar --exclude=./CONTROL -cf - .) | gzip -n > "$t/data.tar.gz"
	size=$(gzip -dc < "$t/data.tar.gz" | wc -c)
	sed -i -e "s/^Installed-Size: .*/Installed-Size: $size/" "$d/CONTROL/control"
	(cd "$d/CONTROL" && ipk_tar -cf - .) | gzip -n > "$t/control.tar.gz"
	echo "2.0" > "$t/debian-binary"
	chmod 0644 "$t/debian-binary" "$t/data.tar.gz" "$t/control.tar.gz"
	arch=$(sed -n 's/^Architecture: //p' "$d/CONTROL/control")
	pkg=$2/${pkgname}_${pkgversion}_$arch.ipk
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
row() { printf '%-15s %-28s %12s %12s %14s' "$@"; }
report=$(row package architecture binary .ipk 'xz squashfs')
for vpkg in $packages; do
	if [ "$vpkg" = "$name" ]; then
		prefix=nodekeeper-linux- budget_bin=$BUDGET_MIPS_BIN budget_ipk=$BUDGET_IPK
	else
		prefix=nodekeeper-ssl-linux- budget_bin=$BUDGET_SSL_MIPS_BIN budget_ipk=$BUDGET_SSL_IPK
	fi
	for arch in $archs; do
		goarch=""
		for a in $all_archs; do [ "${a%%:*}" = "$arch" ] && goarch=${a#*:}; done
		[ -n "$goarch" ] || die "unknown package architecture $arch (known: $(echo $all_archs | sed 's/:[a-z0-9]*//g'))"
		bin=$DIST/$prefix$goarch
		check_binary "$bin" "$goarch" "$vpkg"
		root=$work/$vpkg/$arch
		stage "$root" "$bin" "$vpkg"
		control "$root" "$arch" "$vpkg"
		ipkg_build "$root" "$feedout"
		ipk=$feedout/${vpkg}_${pkgversion}_$arch.ipk
		bsize=$(stat -c %s "$bin") isize=$(stat -c %s "$ipk") xsize=$(squashfs_cost "$bin")
		report="$report
$(row "$vpkg" "$arch" "$(mb "$bsize")" "$(mb "$isize")" "$(mb "$xsize")")"
		if [ "$goarch" = mips ] && [ "$bsize" -gt "$budget_bin" ]; then
			fail="$fail
over budget: $vpkg mips binary $bin is $bsize bytes, budget $budget_bin ($(mb "$budget_bin"))"
		fi
		if [ "$arch" != x86_64 ] && [ "$isize" -gt "$budget_ipk" ]; then
			fail="$fail
over budget: $(basename "$ipk") is $isize bytes, budget $budget_ipk ($(mb "$budget_ipk"))"
		fi
	done
done
make_index "$feedout"
echo "$report" > "$feedout/sizes.txt"

echo "build-ipk: $packages $pkgversion, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
echo "$report"
echo "budget: $name: mips binary <= $(mb "$BUDGET_MIPS_BIN"), .ipk <= $(mb "$BUDGET_IPK");" \
	"$name-ssl: mips binary <= $(mb "$BUDGET_SSL_MIPS_BIN"), .ipk <= $(mb "$BUDGET_SSL_IPK") (x86_64 .ipk not counted)"
if [ -n "$fail" ]; then
	echo "build-ipk:$fail" >&2
	echo "build-ipk: no packages written; see where the bytes go with scripts/size-report.sh" >&2
	exit 1
fi
mkdir -p "$(dirname "$OUT")"
cp -R "$feedout" "$OUT"
echo "build-ipk: packages and index in ${OUT#"$top"/}"
