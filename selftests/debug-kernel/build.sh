#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the selftests' debug kernel (KASAN, kmemleak, lockdep, UBSAN) from
# Debian's linux-source-6.12, once per machine: the result is cached
# outside the work tree, keyed by the source package's version, the config
# fragment and this script, and later calls only print where it is.
#
# usage: selftests/debug-kernel/build.sh [--print]
#
# Bump when the recipe below changes what gets built; edits that do not
# (messages, say) then keep the cached kernel.
recipe=1

# Prints the cache directory on the last line of stdout.  It holds:
#   bzImage        the kernel to boot
#   kernelrelease  its "uname -r"
#   src/           the configured, built tree (KDIR for out-of-tree modules)
#   root/          its modules as installed (lib/modules/RELEASE)
# With --print, prints it only if the build is already cached (exit 1 if not).
#
# Environment: ILP_DEBUG_KERNEL_CACHE overrides the cache location
# (default /var/cache/ilp/debug-kernel for root, else
# ${XDG_CACHE_HOME:-~/.cache}/ilp/debug-kernel).

set -eu
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/config
tarball=/usr/src/linux-source-6.12.tar.xz
package=linux-source-6.12

print_only=0
case ${1:-} in
--print) print_only=1 ;;
"") ;;
*) echo "usage: $0 [--print]" >&2; exit 2 ;;
esac

if [ -n "${ILP_DEBUG_KERNEL_CACHE:-}" ]; then
	cache=$ILP_DEBUG_KERNEL_CACHE
elif [ "$(id -u)" = 0 ]; then
	cache=/var/cache/ilp/debug-kernel
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/ilp/debug-kernel
fi

srcver=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null) || srcver=
if [ -z "$srcver" ] || [ ! -r "$tarball" ]; then
	echo "debug-kernel: $package is not installed (scripts/install-deps --debug-kernel)" >&2
	exit 2
fi
key=$({ echo "recipe $recipe"; cat "$fragment"; } | sha256sum | cut -c1-12)
dir=$cache/$srcver-$key

if [ -f "$dir/ready" ]; then
	echo "$dir"
	exit 0
fi
[ $print_only = 1 ] && exit 1

mkdir -p "$cache"
# One build at a time per cache; a second caller waits and then reuses it.
exec 9>"$cache/.lock"
flock 9
if [ -f "$dir/ready" ]; then
	echo "$dir"
	exit 0
fi

start=$SECONDS
tmp=$dir.partial
rm -rf "$tmp"
mkdir -p "$tmp"
log=$tmp/build.log
echo "debug-kernel: building $package $srcver with $(basename "$fragment") ($key) in $dir" >&2
echo "debug-kernel: this takes 15-20 minutes on two cores; the log is $log" >&2

tar -xf "$tarball" -C "$tmp"
mv "$tmp/linux-source-6.12" "$tmp/src"
cd "$tmp/src"
run() {
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "debug-kernel: FAILED: $*" >&2
		exit 1
	fi
}
run make defconfig
run make kvm_guest.config
run scripts/kconfig/merge_config.sh -m .config "$fragment"
run make olddefconfig

# A fragment line that Kconfig silently overrode would leave a checker
# off without anyone noticing: insist on every "=y", "=m" and value.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" .config ||
			{ echo "debug-kernel: config wants '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" .config || echo unset)'" >&2; bad=1; }
		;;
	esac
done <"$fragment"
[ $bad = 0 ] || exit 1

run make -j"$(nproc)" bzImage modules
run make INSTALL_MOD_PATH="$tmp/root" INSTALL_MOD_STRIP=1 modules_install
make -s kernelrelease >"$tmp/kernelrelease"
cp arch/x86/boot/bzImage "$tmp/bzImage"
cd /
rm -rf "$dir"
mv "$tmp" "$dir"
touch "$dir/ready"
echo "debug-kernel: built $(cat "$dir/kernelrelease") in $(((SECONDS - start) / 60)) min" >&2
echo "$dir"
