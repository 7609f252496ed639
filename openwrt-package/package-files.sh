# package-files.sh: what each package installs, the architectures and the
# checks of the binaries they carry, shared by scripts/build-ipk.sh and
# scripts/build-apk.sh (sourced, not run), so that the .ipk and the .apk of a
# package carry the same files. The feed Makefiles
# (openwrt-package/nodekeeper/Makefile, openwrt-package/luci-app-nodekeeper/Makefile)
# install the same files inside an OpenWrt tree.
#
# The caller sets feed (openwrt-package/nodekeeper), mk (its Makefile),
# luci (openwrt-package/luci-app-nodekeeper), GO and die(), and, from the
# Makefile, name and conffiles before calling check_binary or stage.

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

# squashfs_cost FILE: bytes FILE takes in an xz squashfs as OpenWrt builds it
# (256 KiB blocks compressed on their own, preset 9e, lc=0 lp=2 pb=2).
squashfs_cost() {
	xz -c -q --format=xz --check=none --block-size=262144 \
		--lzma2=preset=9e,lc=0,lp=2,pb=2,dict=256KiB < "$1" | wc -c
}

mb() { awk -v b="$1" 'BEGIN { printf "%.2f MB", b / 1000000 }'; }

# mk_var NAME [FILE]: the value of NAME:= in a feed Makefile (default $mk).
mk_var() { sed -n "s/^[[:space:]]*$1:=[[:space:]]*//p" "${2:-$mk}" | head -n 1; }
# mk_define NAME: the body of `define NAME` in the feed Makefile.
mk_define() { awk -v d="define $1" '$0 == "endef" { on = 0 } on { print } $0 == d { on = 1 }' "$mk"; }
# mk_pkg_var PKG NAME: the value of NAME:= inside `define Package/PKG`.
mk_pkg_var() { mk_define "Package/$1" | sed -n "s/^[[:space:]]*$2:=[[:space:]]*//p" | head -n 1; }

# stage DIR BINARY PKG: the files of nodekeeper or nodekeeper-ssl as
# Package/nodekeeper/install puts them, plus /lib/upgrade/keep.d as
# package-pack.mk adds it.
stage() {
	d=$1
	install -d -m 0755 "$d" "$d/usr/bin" "$d/etc/config" "$d/etc/init.d" \
		"$d/etc/uci-defaults" "$d/etc/nodekeeper/policies" "$d/usr/libexec/rpcd"
	install -m 0755 "$2" "$d/usr/bin/$name"
	install -m 0600 "$feed/files/$name.config" "$d/etc/config/$name"
	install -m 0755 "$feed/files/$name.init" "$d/etc/init.d/$name"
	install -m 0644 "$feed/files/$name.uci-defaults" "$d/etc/uci-defaults/$name"
	# The rpcd plugin: `ubus call nodekeeper status` (luci-app-nodekeeper
	# reads it; it works without LuCI).
	install -m 0755 "$feed/files/$name.rpcd" "$d/usr/libexec/rpcd/$name"
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

# stage_luci DIR: the files of luci-app-nodekeeper as luci.mk installs
# them: htdocs/ under /www, root/ under /.
stage_luci() {
	d=$1
	install -d -m 0755 "$d"
	(cd "$luci/htdocs" && find . -type d) | LC_ALL=C sort | while read -r x; do
		install -d -m 0755 "$d/www/$x"
	done
	(cd "$luci/htdocs" && find . -type f) | LC_ALL=C sort | while read -r x; do
		install -m 0644 "$luci/htdocs/$x" "$d/www/$x"
	done
	(cd "$luci/root" && find . -type d) | LC_ALL=C sort | while read -r x; do
		install -d -m 0755 "$d/$x"
	done
	(cd "$luci/root" && find . -type f) | LC_ALL=C sort | while read -r x; do
		install -m 0644 "$luci/root/$x" "$d/$x"
	done
}

# own_postinst PKG: the package's own post-install commands (postinst-pkg
# in an .ipk, appended to post-install in an .apk): rpcd reads its plugins
# and ACLs when it starts, so a package that adds one reloads it (as luci.mk
# does for LuCI applications). Nothing when installing into an image.
own_postinst() {
	case $1 in
	luci-app-*)
		cat <<-'EOF'
		[ -n "${IPKG_INSTROOT}" ] || {
			rm -f /tmp/luci-indexcache.*
			rm -rf /tmp/luci-modulecache/
			killall -HUP rpcd 2>/dev/null
			exit 0
		}
		EOF
		;;
	*)
		cat <<-'EOF'
		[ -n "${IPKG_INSTROOT}" ] || killall -HUP rpcd 2>/dev/null
		exit 0
		EOF
		;;
	esac
}
