#!/bin/sh
# build-apk.sh: OpenWrt 25.x packages (apk-tools v3 .apk files) and a signed
# packages.adb index per architecture from the cross-compiled binaries in
# dist/, without apk-tools (Debian has none): scripts/build-apk (Go,
# internal/apkadb) writes the ADB files as `apk mkpkg` and `apk mkndx` do.
#
# Each package is staged with the files its .ipk carries
# (openwrt-package/package-files.sh) plus what OpenWrt's package-pack.mk adds
# for apk: /lib/apk/packages/<pkg>.list (every file and link, made before the
# conffile lists are added), <pkg>.conffiles (the Makefile's conffiles) and
# <pkg>.conffiles_static (each conffile that is a plain file, with its
# sha256); and package-pack.mk's maintainer scripts: post-install
# (default_postinst, which enables and starts the service, then the
# package's own postinst), post-upgrade (the same with PKG_UPGRADE=1) and
# pre-deinstall (default_prerm: stop and disable).
#
# Packages: nodekeeper and nodekeeper-ssl (provides nodekeeper=VERSION, so
# apk swaps one for the other) per architecture, luci-app-nodekeeper once
# (arch noarch) and copied into every architecture's repository.
#
# Output: OUT/<arch>/<pkg>-<X.Y.Z>-r<N>.apk and OUT/<arch>/packages.adb (a
# repository per architecture, as OpenWrt's), OUT/sizes.txt, and
# OUT/keys/nodekeeper.pem, the public key, when signed. OUT is replaced whole
# on success and left alone on failure.
#
# Environment (all optional):
#   DIST, OUT          input binaries (default dist), output (default $DIST/apk)
#   ARCHS, PACKAGES, RELEASE, DEPENDS, SOURCE_DATE_EPOCH: as build-ipk.sh
#   APK_SIGN_KEY       private key (EC P-256 or RSA PEM) signing the indexes;
#                      unset: unsigned (apk then wants --allow-untrusted).
#                      The packages are not signed, as OpenWrt's are not: apk
#                      checks each against its hash in the signed index, and
#                      an ECDSA signature (random) would make two builds of a
#                      package differ
#   BUDGET_MIPS_BIN, BUDGET_SSL_MIPS_BIN: as build-ipk.sh
#   BUDGET_APK         bytes a nodekeeper .apk may have (default $BUDGET_IPK or 3000000)
#   BUDGET_SSL_APK     bytes a nodekeeper-ssl .apk may have (default $BUDGET_SSL_IPK or 4000000)
#   BUILD_APK          a build of scripts/build-apk to use (default: built here)
# The .apk budgets hold for every architecture but x86_64, as for the .ipk.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

feed=openwrt-package/nodekeeper
mk=$feed/Makefile
luci=openwrt-package/luci-app-nodekeeper
lucimk=$luci/Makefile
DIST=${DIST:-dist}
OUT=${OUT:-$DIST/apk}
BUDGET_MIPS_BIN=${BUDGET_MIPS_BIN:-8000000}
BUDGET_APK=${BUDGET_APK:-${BUDGET_IPK:-3000000}}
BUDGET_SSL_MIPS_BIN=${BUDGET_SSL_MIPS_BIN:-10500000}
BUDGET_SSL_APK=${BUDGET_SSL_APK:-${BUDGET_SSL_IPK:-4000000}}
DEPENDS=${DEPENDS-libc}
APK_SIGN_KEY=${APK_SIGN_KEY:-}
GO=${GO:-go}

die() { echo "build-apk: $*" >&2; exit 1; }

# An older output goes first, so that a failure leaves none behind; OUT is
# removed only when it holds nothing but what this script writes.
if [ -e "$OUT" ]; then
	for f in $(find "$OUT" -mindepth 1); do
		r=${f#"$OUT"/}
		case $r in
		sizes.txt | keys | keys/*.pem | */*.apk | */packages.adb) ;;
		*/*) die "$OUT holds $r, which is not a package or an index: not removing it" ;;
		*) [ -d "$f" ] || die "$OUT holds $r, which is not a package or an index: not removing it" ;;
		esac
	done
	rm -rf "$OUT"
fi

# What each package installs, the architectures, the binary checks and the
# flash cost: shared with build-ipk.sh.
. openwrt-package/package-files.sh

name=$(mk_var PKG_NAME)
release=${RELEASE:-$(mk_var PKG_RELEASE)}
license=$(mk_var PKG_LICENSE)
url=$(mk_var URL)
maintainer=$(mk_var PKG_MAINTAINER)
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
for b in "BUDGET_MIPS_BIN=$BUDGET_MIPS_BIN" "BUDGET_APK=$BUDGET_APK" \
	"BUDGET_SSL_MIPS_BIN=$BUDGET_SSL_MIPS_BIN" "BUDGET_SSL_APK=$BUDGET_SSL_APK"; do
	echo "${b#*=}" | grep -Eq '^[0-9]+$' || die "${b%%=*} '${b#*=}' is not a number of bytes"
done
# apk's version syntax: X.Y.Z-rN.
pkgversion=$version-r$release

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || stat -c %Y VERSION)
fi
export SOURCE_DATE_EPOCH
echo "$SOURCE_DATE_EPOCH" | grep -Eq '^[0-9]+$' || die "SOURCE_DATE_EPOCH '$SOURCE_DATE_EPOCH' is not a number"
[ -z "$APK_SIGN_KEY" ] || [ -f "$APK_SIGN_KEY" ] || die "APK_SIGN_KEY $APK_SIGN_KEY is not a file"

archs=${ARCHS:-$(for a in $all_archs; do echo "${a%%:*}"; done)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022
out=$work/out
mkdir "$out"
tool=${BUILD_APK:-}
if [ -z "$tool" ]; then
	tool=$work/build-apk
	$GO build -trimpath -o "$tool" ./scripts/build-apk || die "building scripts/build-apk failed"
fi
[ -x "$tool" ] || die "BUILD_APK $tool is not executable"
# A key apk would refuse fails here, before anything is built.
[ -z "$APK_SIGN_KEY" ] || "$tool" pubkey --sign-key "$APK_SIGN_KEY" > "$work/key.pem" ||
	die "APK_SIGN_KEY $APK_SIGN_KEY: not a key apk accepts (EC P-256 or RSA)"

# apk_meta DIR PKG: package-pack.mk's /lib/apk/packages files.
apk_meta() {
	d=$1 m=$1/lib/apk/packages
	install -d -m 0755 "$d/lib" "$d/lib/apk" "$m"
	(cd "$d" && find . \( -type f -o -type l \) | sed 's|^\.||' | LC_ALL=C sort) > "$work/list"
	install -m 0644 "$work/list" "$m/$2.list"
	case $2 in
	"$name" | "$name-ssl")
		for x in $conffiles; do echo "$x"; done > "$m/$2.conffiles"
		: > "$m/$2.conffiles_static"
		for x in $conffiles; do
			[ -f "$d$x" ] || continue
			echo "$x $(sha256sum "$d$x" | cut -d ' ' -f 1)" >> "$m/$2.conffiles_static"
		done
		chmod 0644 "$m/$2.conffiles" "$m/$2.conffiles_static"
		;;
	esac
}

# apk_scripts PKG DIR: package-pack.mk's post-install, post-upgrade and
# pre-deinstall for PKG, written into DIR.
apk_scripts() {
	{
		echo '#!/bin/sh'
		echo '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0'
		echo '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'
		echo '. ${IPKG_INSTROOT}/lib/functions.sh'
		echo 'export root="${IPKG_INSTROOT}"'
		echo "export pkgname=\"$1\""
		echo 'add_group_and_user'
		echo 'default_postinst'
		own_postinst "$1" | sed '/^[[:space:]]*#!/d'
	} > "$2/post-install"
	{
		echo '#!/bin/sh'
		echo 'export PKG_UPGRADE=1'
		sed '/^[[:space:]]*#!/d' "$2/post-install"
	} > "$2/post-upgrade"
	{
		echo '#!/bin/sh'
		echo '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'
		echo '. ${IPKG_INSTROOT}/lib/functions.sh'
		echo 'export root="${IPKG_INSTROOT}"'
		echo "export pkgname=\"$1\""
		echo 'default_prerm'
	} > "$2/pre-deinstall"
}

# mkpkg ROOT PKG ARCH OUTFILE: the package as package-pack.mk's `apk mkpkg`
# call makes it.
mkpkg() {
	s=$work/scripts-$2
	mkdir -p "$s"
	apk_scripts "$2" "$s"
	if [ "$2" = "$lucipkg" ]; then
		deps="$DEPENDS $(mk_var LUCI_DEPENDS "$lucimk" | sed 's/+//g')"
		desc=$(mk_var LUCI_TITLE "$lucimk") origin=feeds/nodekeeper/$2 pkgurl= provides=
	else
		deps=$DEPENDS origin=feeds/nodekeeper/$name pkgurl=$url provides=
		# package-pack.mk: $(strip) of the description, one line.
		desc=$(mk_define "Package/$2/description" | tr '\n' ' ' | sed 's/[[:space:]]\{1,\}/ /g; s/^ //; s/ $//')
		# A variant provides the name at its version: apk installs one
		# provider of a versioned name at a time and swaps them.
		for x in $(mk_pkg_var "$2" PROVIDES); do provides="$provides $x=$pkgversion"; done
	fi
	"$tool" mkpkg --info "name:$2" --info "version:$pkgversion" --info "description:$desc" \
		--info "arch:$3" --info "license:$license" --info "origin:$origin" --info "url:$pkgurl" \
		--info "maintainer:$maintainer" --info "provides:${provides# }" --info "depends:$(echo $deps)" \
		--script "post-install:$s/post-install" --script "post-upgrade:$s/post-upgrade" \
		--script "pre-deinstall:$s/pre-deinstall" --files "$1" --output "$4" ||
		die "mkpkg $2 $3 failed"
}

fail=""
row() { printf '%-20s %-28s %12s %12s %14s' "$@"; }
report=$(row package architecture binary .apk 'xz squashfs')
lucifile=""
for vpkg in $packages; do
	if [ "$vpkg" = "$lucipkg" ]; then
		root=$work/$vpkg/noarch
		stage_luci "$root"
		apk_meta "$root" "$vpkg"
		lucifile=$work/$vpkg-$pkgversion.apk
		mkpkg "$root" "$vpkg" noarch "$lucifile"
		report="$report
$(row "$vpkg" noarch - "$(mb "$(stat -c %s "$lucifile")")" -)"
		continue
	fi
	if [ "$vpkg" = "$name" ]; then
		prefix=nodekeeper-linux- budget_bin=$BUDGET_MIPS_BIN budget_apk=$BUDGET_APK
	else
		prefix=nodekeeper-ssl-linux- budget_bin=$BUDGET_SSL_MIPS_BIN budget_apk=$BUDGET_SSL_APK
	fi
	for arch in $archs; do
		goarch=""
		for a in $all_archs; do [ "${a%%:*}" = "$arch" ] && goarch=${a#*:}; done
		[ -n "$goarch" ] || die "unknown package architecture $arch (known: $(echo $all_archs | sed 's/:[a-z0-9]*//g'))"
		bin=$DIST/$prefix$goarch
		check_binary "$bin" "$goarch" "$vpkg"
		root=$work/$vpkg/$arch
		stage "$root" "$bin" "$vpkg"
		apk_meta "$root" "$vpkg"
		mkdir -p "$out/$arch"
		apk=$out/$arch/$vpkg-$pkgversion.apk
		mkpkg "$root" "$vpkg" "$arch" "$apk"
		bsize=$(stat -c %s "$bin") asize=$(stat -c %s "$apk") xsize=$(squashfs_cost "$bin")
		report="$report
$(row "$vpkg" "$arch" "$(mb "$bsize")" "$(mb "$asize")" "$(mb "$xsize")")"
		if [ "$goarch" = mips ] && [ "$bsize" -gt "$budget_bin" ]; then
			fail="$fail
over budget: $vpkg mips binary $bin is $bsize bytes, budget $budget_bin ($(mb "$budget_bin"))"
		fi
		if [ "$arch" != x86_64 ] && [ "$asize" -gt "$budget_apk" ]; then
			fail="$fail
over budget: $arch/$(basename "$apk") is $asize bytes, budget $budget_apk ($(mb "$budget_apk"))"
		fi
	done
done

# One repository per architecture: its packages, the LuCI app, the index.
for arch in $archs; do
	mkdir -p "$out/$arch"
	[ -z "$lucifile" ] || cp "$lucifile" "$out/$arch/"
	set -- "$out/$arch"/*.apk
	[ -e "$1" ] || continue
	if [ -n "$APK_SIGN_KEY" ]; then
		"$tool" mkndx --sign-key "$APK_SIGN_KEY" --output "$out/$arch/packages.adb" "$@"
	else
		"$tool" mkndx --output "$out/$arch/packages.adb" "$@"
	fi || die "mkndx $arch failed"
done
if [ -n "$APK_SIGN_KEY" ]; then
	mkdir "$out/keys"
	install -m 0644 "$work/key.pem" "$out/keys/$name.pem"
fi
echo "$report" > "$out/sizes.txt"

echo "build-apk: $packages $pkgversion, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
echo "$report"
echo "budget: $name: mips binary <= $(mb "$BUDGET_MIPS_BIN"), .apk <= $(mb "$BUDGET_APK");" \
	"$name-ssl: mips binary <= $(mb "$BUDGET_SSL_MIPS_BIN"), .apk <= $(mb "$BUDGET_SSL_APK") (x86_64 .apk not counted)"
if [ -n "$fail" ]; then
	echo "build-apk:$fail" >&2
	echo "build-apk: no packages written; see where the bytes go with scripts/size-report.sh" >&2
	exit 1
fi
[ -n "$APK_SIGN_KEY" ] || echo "build-apk: APK_SIGN_KEY unset: the indexes are not signed (apk add --allow-untrusted)"
mkdir -p "$(dirname "$OUT")"
cp -R "$out" "$OUT"
echo "build-apk: repositories in ${OUT#"$top"/}/<arch>/packages.adb"
