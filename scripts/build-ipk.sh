#!/bin/sh
# build-ipk.sh: OpenWrt .ipk packages and a feed index from the cross-compiled
# binaries in dist/, without the OpenWrt SDK.
#
# The packages are laid out byte for byte the way OpenWrt's include/package-pack.mk
# and scripts/ipkg-build lay them out: an outer gzip'd tar (GNU format, numeric
# owner 0/0, fixed mtime, gzip -n) of ./debian-binary, ./data.tar.gz and
# ./control.tar.gz; control fields in OpenWrt's order; conffiles resolved against
# the data; postinst/prerm calling default_postinst/default_prerm, the
# package's own postinst as postinst-pkg. The index is
# what scripts/ipkg-make-index.sh writes (Packages, Packages.gz), so a router can
# use the output directory as a `src/gz` feed. Name, release, license, section,
# URL, descriptions, conffiles, PROVIDES and CONFLICTS come from
# openwrt-package/nodekeeper/Makefile.
#
# Two packages per architecture, the variants of the feed Makefile:
#   nodekeeper      dist/nodekeeper-linux-<goarch>, built with -tags nk_notls
#   nodekeeper-ssl  dist/nodekeeper-ssl-linux-<goarch>, with TLS; it provides
#                   and conflicts with nodekeeper
# and one for every architecture (Architecture: all), from
# openwrt-package/luci-app-nodekeeper:
#   luci-app-nodekeeper  the LuCI page (Services -> nodekeeper)
# What each installs is openwrt-package/package-files.sh, shared with
# build-apk.sh.
#
# Environment (all optional):
#   DIST               input binaries (default dist)
#   OUT                output directory (default $DIST/ipk), replaced whole on
#                      success and removed on failure: never a partial feed
#   ARCHS              OpenWrt package architectures to build (default: all below)
#   PACKAGES           packages to build (default: nodekeeper nodekeeper-ssl
#                      luci-app-nodekeeper)
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
luci=openwrt-package/luci-app-nodekeeper
lucimk=$luci/Makefile
DIST=${DIST:-dist}
OUT=${OUT:-$DIST/ipk}
BUDGET_MIPS_BIN=${BUDGET_MIPS_BIN:-8000000}
BUDGET_IPK=${BUDGET_IPK:-3000000}
BUDGET_SSL_MIPS_BIN=${BUDGET_SSL_MIPS_BIN:-10500000}
BUDGET_SSL_IPK=${BUDGET_SSL_IPK:-4000000}
DEPENDS=${DEPENDS-libc}
GO=${GO:-go}

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

# What each package installs, the architectures, the binary checks and the
# flash cost: shared with build-apk.sh.
. openwrt-package/package-files.sh

name=$(mk_var PKG_NAME)
release=${RELEASE:-$(mk_var PKG_RELEASE)}
license=$(mk_var PKG_LICENSE)
section=$(mk_var SECTION)
url=$(mk_var URL)
conffiles=$(mk_define "Package/$name/conffiles")
version=$(cat VERSION)
lucipkg=luci-app-$name
packages=${PACKAGES:-$name $name-ssl $lucipkg}
[ -n "$name" ] && [ -n "$release" ] || die "$mk: PKG_NAME or PKG_RELEASE is missing"
for p in $packages; do
	case $p in
	"$name" | "$name-ssl") [ -n "$(mk_define "Package/$p/description")" ] || die "$mk: the description of $p is missing" ;;
	"$lucipkg") [ -n "$(mk_var LUCI_TITLE "$lucimk")" ] || die "$lucimk: LUCI_TITLE is missing" ;;
	*) die "unknown package $p (known: $name $name-ssl $lucipkg)" ;;
	esac
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

# control DIR ARCH PKG: CONTROL/ as package-pack.mk writes it, before
# ipkg-build.
control() {
	c=$1/CONTROL
	install -d -m 0755 "$c"
	if [ "$3" = "$lucipkg" ]; then
		# luci.mk: LUCI_DEPENDS, section luci, the title as description.
		deps=$(mk_var LUCI_DEPENDS "$lucimk" | sed 's/+//g')
		deps=$(echo $DEPENDS $deps | sed 's/[[:space:]]\{1,\}/, /g')
		src=$3 sect=luci pkgurl= conflicts= provides=
		desc=" $(mk_var LUCI_TITLE "$lucimk")"
	else
		deps=$DEPENDS src=$name sect=$section pkgurl=$url
		conflicts=$(mk_pkg_var "$3" CONFLICTS | sed 's/[[:space:]]\{1,\}/, /g')
		provides=$(mk_pkg_var "$3" PROVIDES | sed 's/[[:space:]]\{1,\}/, /g')
		desc=$(mk_define "Package/$3/description" | sed -e 's,^[[:space:]]*, ,g')
	fi
	{
		echo "Package: $3"
		echo "Version: $pkgversion"
		[ -z "$deps" ] || echo "Depends: $deps"
		[ -z "$conflicts" ] || echo "Conflicts: $conflicts"
		[ -z "$provides" ] || echo "Provides: $provides"
		echo "Source: feeds/nodekeeper/$src"
		echo "SourceName: $src"
		[ -z "$license" ] || echo "License: $license"
		[ -z "$sect" ] || echo "Section: $sect"
		echo "SourceDateEpoch: $SOURCE_DATE_EPOCH"
		[ -z "$pkgurl" ] || echo "URL: $pkgurl"
		echo "Architecture: $2"
		echo "Installed-Size: 0"
		printf "Description: "
		echo "$desc"
	} > "$c/control"
	# package-pack.mk: the package's own postinst as postinst-pkg, which
	# default_postinst runs.
	{ echo "#!/bin/sh"; own_postinst "$3"; } > "$c/postinst-pkg"
	chmod 0755 "$c/postinst-pkg"
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
	if [ "$vpkg" = "$lucipkg" ]; then
		# No binary: one package for every architecture.
		root=$work/$vpkg/all
		stage_luci "$root"
		control "$root" all "$vpkg"
		ipkg_build "$root" "$feedout"
		ipk=$feedout/${vpkg}_${pkgversion}_all.ipk
		report="$report
$(row "$vpkg" all - "$(mb "$(stat -c %s "$ipk")")" -)"
		continue
	fi
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
