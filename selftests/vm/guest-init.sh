#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 inside the selftest VM, started from the initramfs once the host's
# root is mounted read-only at /.  Makes the writable places a test needs,
# installs the freshly built ilp.ko where modprobe finds it, runs the suite
# (or the requested command), saves TAP, dmesg and the exit code to the
# results share and powers off.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

power_off() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 10
}
trap power_off EXIT


mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /mnt 2>/dev/null ||
	{ echo "guest-init: cannot mount the results share"; exit 1; }
share=/mnt
# shellcheck source=/dev/null
. $share/config.sh

# tmpfs over the places that must be writable.  The source tree may live
# under one of them (a clone in /tmp, say): keep it visible across the
# mount by moving a bind mount of it back on top.
writable=(/tmp /run /var/tmp /root /var/lib /var/log /etc/netns)
keep=()
for p in "$ILP_TOP" "$ILP_BUILD_DIR"; do
	for w in "${writable[@]}"; do
		case $p/ in "$w"/*) keep+=("$p") ;; esac
	done
done
mkdir -p /dev/shm /dev/pts
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
saved=0
for p in "${keep[@]}"; do
	mkdir -p /dev/shm/keep$saved
	mount --bind "$p" /dev/shm/keep$saved
	saved=$((saved + 1))
done
for w in "${writable[@]}"; do
	[ -d "$w" ] && mount -t tmpfs -o mode=0755 tmpfs "$w"
done
chmod 1777 /tmp /var/tmp
saved=0
for p in "${keep[@]}"; do
	mkdir -p "$p"
	mount --move /dev/shm/keep$saved "$p"
	saved=$((saved + 1))
done
mkdir -p /run/netns /run/lock /var/lib/ilp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname ilp-vm
ip link set lo up

# Install ilp.ko as a package would (updates/ beats the tree): run-vm.sh
# indexed it with depmod; stack that over the kernel's own modules.  A
# kernel this machine does not have installed (the debug kernel) gets a
# module directory of its own, pointing at its modules on the host.
kver=$(uname -r)
moddir=/lib/modules/$kver
mkdir -p /run/ilp-mods
cp -r $share/modules/. /run/ilp-mods/
if [ -d "$moddir" ]; then
	modprobe overlay
	mount -t overlay overlay -o "lowerdir=/run/ilp-mods:$moddir" "$moddir" ||
		{ echo "guest-init: cannot overlay $moddir"; exit 1; }
else
	mount -t tmpfs -o mode=0755 tmpfs /lib/modules
	mkdir -p "$moddir"
	cp -r /run/ilp-mods/. "$moddir/"
	ln -s "$ILP_HOST_MODDIR/kernel" "$moddir/kernel"
fi

# kmemleak: forget what boot left (the kernel's own false positives), so
# that the scan after the suite shows only what the tests leaked.
kmemleak=/sys/kernel/debug/kmemleak
if [ "${ILP_KMEMLEAK:-0}" = 1 ]; then
	[ -w $kmemleak ] || { echo "guest-init: this kernel has no kmemleak"; exit 1; }
	echo scan >$kmemleak
	echo clear >$kmemleak
fi

export ILP_TOP ILP_BUILD_DIR
# On the debug kernel: more time per test, and lighter loads (lib.sh's
# "scaled"); it is there to catch memory and locking bugs, not to carry
# floods at emulated speed.
if [ "${ILP_KMEMLEAK:-0}" = 1 ]; then
	export ILP_TIMEOUT_FACTOR=5 ILP_LOAD_DIVISOR=10 ILP_TAP_TIMES=1
fi
export PATH=$ILP_BUILD_DIR/cli:$ILP_BUILD_DIR/daemon:$PATH

echo "guest-init: kernel $kver ready"
if [ ${#ILP_COMMAND[@]} -gt 0 ]; then
	cd "$ILP_TOP" || exit 1
	"${ILP_COMMAND[@]}" 2>&1 | tee $share/output.txt
	rc=${PIPESTATUS[0]}
else
	# shellcheck disable=SC2086
	"$ILP_TOP/selftests/vm/run-suite.sh" "$ILP_TOP/selftests/ilp" \
		"$ILP_BUILD_DIR/selftests/ilp" $ILP_TESTS | tee $share/tap.txt
	rc=${PIPESTATUS[0]}
fi
# kmemleak_report WHEN: scan, and add what is unreferenced now to $leaks
# under "(scanned WHEN)".  Objects younger than 5 s are never reported:
# let the last ones age, then scan twice (a block seen unreferenced once
# may be in flight).
leaks=/run/kmemleak.txt
: >$leaks
kmemleak_report() {
	local found
	sleep 6
	echo scan >$kmemleak
	echo scan >$kmemleak
	found=$(cat $kmemleak)
	[ -z "$found" ] || printf '(scanned %s)\n%s\n' "$1" "$found" >>$leaks
}

# Unload whatever is left so that the module's exit path runs under test
# too.  A leak still there while ilp.ko is loaded is reported first: its
# backtrace can then name the module's functions, which after the unload
# are bare addresses.
if [ "${ILP_KMEMLEAK:-0}" = 1 ] && [ -d /sys/module/ilp ]; then
	kmemleak_report "with ilp.ko loaded"
	# Report each leak once: what was seen here is not again below.
	echo clear >$kmemleak
fi
# After the suite the unload must succeed, or its exit path never ran and
# something kept a reference: the suite's own ilp_unload waits for sockets
# being released and says what still holds the module.  (A guest command
# may leave users behind on purpose: after one, a single try.)
if [ ${#ILP_COMMAND[@]} -gt 0 ]; then
	modprobe -r ilp 2>/dev/null
elif ! bash -c 'source "$1/selftests/ilp/lib.sh" && ilp_unload' _ "$ILP_TOP" >/run/unload.txt 2>&1; then
	{ echo "ilp.ko could not be unloaded after the suite:"; cat /run/unload.txt; } |
		tee $share/unload-failed.txt
fi
if [ "${ILP_KMEMLEAK:-0}" = 1 ]; then
	kmemleak_report "after ilp.ko was unloaded"
	# Written only now: its absence tells the host the scans did not finish.
	cp $leaks $share/kmemleak.txt
	echo "guest-init: kmemleak: $(grep -c '^unreferenced object' $leaks) suspected leaks"
fi
dmesg >$share/dmesg.txt
echo "$rc" >$share/rc
