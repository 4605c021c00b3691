#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's 6.12 kernel under QEMU (software emulation), load the freshly
# built ilp.ko inside it and run the selftests; print their TAP output here.
#
# The guest mounts this machine's root file system read-only over 9p, so the
# tests use the host's own tools (bash, iproute2, kmod) and our built binaries
# exactly as they are.  A second, writable 9p share carries the results back.
#
# With --debug-kernel it boots instead the debug kernel that
# selftests/debug-kernel/build.sh builds (KASAN, lockdep, kmemleak, UBSAN),
# builds ilp.ko against that tree and has kmemleak scan at the end: while
# ilp.ko is still loaded, if it is, and again after it is unloaded.
#
# Exit status: 0 when every test passed or skipped; 1 when a test printed
# "not ok", the kernel printed an oops, BUG, WARNING or a KASAN, UBSAN,
# lockdep or kmemleak report, the guest panicked or the run timed out; 2 on
# a usage or set-up error.

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
suite_dir=$top/selftests/ilp

usage() {
	cat <<EOF
usage: $0 [options] [-- COMMAND...]

  -t NAME      run only test NAME (repeatable; e.g. -t module_load.sh)
  -l           list the tests and exit
  -k KVER      kernel to boot (default: newest Debian 6.12 generic kernel)
  -d, --debug-kernel
               boot the debug kernel (built and cached on first use, about
               15-20 minutes) and check for kmemleak reports at the end
  -T SECONDS   time limit for the whole VM run (default: 900; 2400 with -d)
  -o DIR       keep console log, dmesg and TAP output in DIR
  -m MEM       guest memory (default: 1G; 2G with -d)
  -c CPUS      guest CPUs (default: 2)
  -a ARGS      append ARGS to the kernel command line (e.g. "dyndbg=...")
  -q           quiet: do not echo the console while the VM runs
  -- COMMAND   run COMMAND in the guest instead of the test suite
               (the module is installed but not loaded)

Environment: ILP_BUILD_DIR (default: $top/build) is the CMake build tree;
ILP_INJECT=leak,lock-order (either or both) boots a module with those planted
bugs (Kbuild).
EOF
}

# getopts knows no long options: spell the long one short (not in the
# guest command after "--").
args=()
opts=1
for a in "$@"; do
	case $opts:$a in
	1:--) opts=0; args+=("$a") ;;
	1:--debug-kernel) args+=(-d) ;;
	*) args+=("$a") ;;
	esac
done
set -- "${args[@]}"

tests=()
kver=
time_limit=
outdir=
mem=
debug=0
cpus=2
append=
quiet=0
list=0
while getopts "t:lk:dT:o:m:c:a:qh" opt; do
	case $opt in
	d) debug=1 ;;
	t) tests+=("$OPTARG") ;;
	l) list=1 ;;
	k) kver=$OPTARG ;;
	T) time_limit=$OPTARG ;;
	o) outdir=$OPTARG ;;
	m) mem=$OPTARG ;;
	c) cpus=$OPTARG ;;
	a) append=$OPTARG ;;
	q) quiet=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
die() { echo "run-vm: $*" >&2; exit 2; }

# A guest command only after "--" (getopts has eaten it), so that a test
# name given without -t is an error, not a command run in the guest.
if [ $# -ge $OPTIND ] && [ "${*:OPTIND-1:1}" != "--" ]; then
	die "unexpected '${*:OPTIND:1}': name tests with -t, a guest command after --"
fi
shift $((OPTIND - 1))
command=("$@")

all_tests=$(make -s -C "$suite_dir" list) || die "cannot list tests in $suite_dir"
if [ $list = 1 ]; then
	echo "$all_tests"
	exit 0
fi
for t in "${tests[@]}"; do
	grep -qx -- "$t" <<<"$all_tests" || die "no test named '$t' (try -l)"
done

if [ $debug = 1 ]; then
	[ -z "$kver" ] || die "-k and --debug-kernel do not go together"
	dk=$("$top/selftests/debug-kernel/build.sh" | tail -n 1) || die "no debug kernel"
	kver=$(cat "$dk/kernelrelease")
	kernel=$dk/bzImage
	export ILP_KDIR=$dk/src
	moddir_host=$dk/root/lib/modules/$kver
	# KASAN's shadow and kmemleak's pool want room; checks slow everything.
	: "${mem:=2G}" "${time_limit:=2400}"
	# With 5-level paging visible, TCG's CPU identification once in a while
	# trips a spurious KASAN wild-access report.
	cpu=max,la57=off
	# The firmware's PCI interrupt routing (_PRT) runs in the ACPI
	# interpreter, which under KASAN and lockdep spins into its loop
	# timeout: 30 s of boot before virtio-pci falls back anyway.
	cmdline_extra="pci=noacpi"
else
	# The newest generic (not cloud: it has no 9p) Debian 6.12 kernel whose
	# headers are installed: the last line of scripts/kernels.
	if [ -z "$kver" ]; then
		kver=$("$top/scripts/kernels" | tail -n 1)
		[ -r "/boot/vmlinuz-$kver" ] || kver=
	fi
	[ -n "$kver" ] || die "no Debian 6.12 kernel with headers installed (run scripts/install-deps)"
	kernel=/boot/vmlinuz-$kver
	moddir_host=/lib/modules/$kver
	cpu=max
	cmdline_extra=
fi
: "${mem:=1G}" "${time_limit:=900}"
cmdline_extra+="${append:+ $append}"
[ -r "$kernel" ] || die "$kernel not readable"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed"

build=${ILP_BUILD_DIR:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac

# Build what the guest runs: the module for this kernel, the userspace
# binaries and the suite's helper programs.
"$top/scripts/build-module" "$kver" >&2 || die "module build failed for $kver"
ko=$build/kmod/$kver${ILP_INJECT:+-inject-${ILP_INJECT//,/+}}/ilp.ko
if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2 || die "cmake configure failed"
fi
cmake --build "$build" -j"$(nproc)" >&2 || die "userspace build failed"
make -s -C "$suite_dir" OUTPUT="$build/selftests/ilp" >&2 || die "selftest helpers failed to build"

work=$(mktemp -d /var/tmp/ilp-vm.XXXXXX)
qemu_pid=
cleanup() {
	[ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
share=$work/share
mkdir -p "$share" "$work/initramfs"

# What the guest should do, read by guest-init.sh.
{
	printf 'ILP_TOP=%q\n' "$top"
	printf 'ILP_BUILD_DIR=%q\n' "$build"
	printf 'ILP_TESTS=%q\n' "${tests[*]}"
	printf 'ILP_HOST_MODDIR=%q\n' "$moddir_host"
	printf 'ILP_KMEMLEAK=%q\n' "$debug"
	printf 'ILP_COMMAND=('
	for c in "${command[@]}"; do printf '%q ' "$c"; done
	printf ')\n'
} >"$share/config.sh"

# A minimal initramfs: busybox, the 9p modules (none when the kernel has
# them built in, as the debug kernel does) and an init that mounts the host
# root and hands over to guest-init.sh.
ird=$work/initramfs
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,lib/mod}
cp /bin/busybox "$ird/bin/busybox" || die "busybox-static not installed"
for m in fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p; do
	src=$moddir_host/kernel/$m.ko
	if [ -f "$src.xz" ]; then
		xz -dc "$src.xz" >"$ird/lib/mod/$(basename "$m").ko"
	elif [ -f "$src" ]; then
		cp "$src" "$ird/lib/mod/"
	elif ! grep -qx "kernel/$m.ko" "$moddir_host/modules.builtin" 2>/dev/null; then
		die "kernel module $m not found for $kver"
	fi
done
cat >"$ird/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in netfs 9pnet 9pnet_virtio 9p; do
	[ -f /lib/mod/\$m.ko ] || continue
	insmod /lib/mod/\$m.ko || echo "initramfs: cannot load \$m"
done
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose root /newroot ||
	{ echo "initramfs: cannot mount host root"; echo o >/proc/sysrq-trigger; }
mount --move /dev /newroot/dev
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
exec switch_root /newroot /bin/bash $(printf '%q' "$top/selftests/vm/guest-init.sh")
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.cpio.gz" ||
	die "cannot pack the initramfs"

# Index ilp.ko with the kernel's own modules here rather than in the guest
# (depmod over 9p under emulation takes a minute).  The guest stacks this
# directory over /lib/modules/KVER, as if a package had installed ilp.ko
# into updates/, so "modprobe ilp" resolves dependencies and socket(AF_ILP)
# loads the module through its alias.
dm=$work/depmod
mkdir -p "$dm/lib/modules/$kver/updates" "$share/modules"
ln -s "$moddir_host/kernel" "$dm/lib/modules/$kver/kernel"
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$moddir_host/$f" ] && cp "$moddir_host/$f" "$dm/lib/modules/$kver/"
done
cp "$ko" "$dm/lib/modules/$kver/updates/ilp.ko"
depmod -b "$dm" -a "$kver" || die "depmod failed"
cp -r "$dm/lib/modules/$kver/updates" "$dm/lib/modules/$kver"/modules.* "$share/modules/"

console=$work/console.log
: >"$console"
qemu_args=(
	-accel tcg -cpu "$cpu" -smp "$cpus" -m "$mem"
	-kernel "$kernel" -initrd "$work/initramfs.cpio.gz"
	-append "console=ttyS0 panic=-1 loglevel=6${cmdline_extra:+ $cmdline_extra}"
	-display none -monitor none -no-reboot
	-serial "file:$console"
	-virtfs "local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$share,mount_tag=results,security_model=none,multidevs=remap"
	-nic none
)

# boot: run the VM to its end or the time limit; sets timed_out.
boot() {
	echo "run-vm: booting $kver (time limit ${time_limit}s)" >&2
	setsid qemu-system-x86_64 "${qemu_args[@]}" </dev/null >"$work/qemu.out" 2>&1 &
	qemu_pid=$!
	if [ $quiet = 0 ]; then
		tail -n +1 -f "$console" --pid=$qemu_pid &
	fi
	timed_out=0
	local deadline=$((SECONDS + time_limit))
	while kill -0 "$qemu_pid" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			timed_out=1
			kill -9 "$qemu_pid" 2>/dev/null
			break
		fi
		sleep 1
	done
	wait "$qemu_pid" 2>/dev/null
	qemu_pid=
	wait 2>/dev/null
}

oops_re='Kernel panic|BUG:|WARNING:|Oops|general protection fault|UBSAN:|KASAN:|kernel BUG at|unreferenced object|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|RCU stall|Call Trace:'
# oopses FILE...: the kernel's reports in FILEs, with some context; fails
# when there is none.
oopses() { grep -hE -B2 -A25 "$oops_re" "$@" | head -n 80 | grep ''; }
boot
# A kernel that crashes while booting, before guest-init has started (so
# before ilp.ko can have been loaded), gets one more boot.  Seen once in
# many debug boots: an int3 oops in sched_clock_cpu() at 5.7 s, while the
# kernel patched its own code (a static key) on the other vCPU; QEMU's
# software emulation does not keep every cross-CPU code change in order as
# hardware does.  The crash is printed, not hidden, and a second one fails.
if [ $timed_out = 0 ] && [ ! -f "$share/rc" ] &&
	! grep -q '^guest-init: kernel .* ready$' "$console" &&
	crash=$(oopses "$console"); then
	echo "run-vm: the kernel crashed while booting, before ilp.ko could be loaded; booting once more. The crash:" >&2
	sed 's/^/run-vm:   /' <<<"$crash" >&2
	[ -n "$outdir" ] && mkdir -p "$outdir" && cp "$console" "$outdir/console-first-boot.log"
	: >"$console"
	boot
fi

if [ -n "$outdir" ]; then
	mkdir -p "$outdir"
	cp "$console" "$outdir/console.log"
	cp "$work/qemu.out" "$outdir/qemu.out"
	for f in tap.txt output.txt dmesg.txt kmemleak.txt rc; do
		[ -f "$share/$f" ] && cp "$share/$f" "$outdir/$f"
	done
fi

# Verdict.  The guest's own exit code is not enough: a test can print
# "not ok" and the kernel can WARN without any test noticing.
fail=0
reason=()
if [ $timed_out = 1 ]; then
	fail=1; reason+=("timed out after ${time_limit}s")
fi
if [ ! -f "$share/rc" ]; then
	fail=1; reason+=("the guest did not finish")
	echo "----- last console lines -----" >&2
	tail -n 40 "$console" >&2
	cat "$work/qemu.out" >&2
fi
if [ ${#command[@]} -gt 0 ] && [ -f "$share/output.txt" ]; then
	cat "$share/output.txt"
fi
tap=$share/tap.txt
if [ -f "$tap" ]; then
	echo "----- TAP output -----"
	cat "$tap"
	echo "----------------------"
	if grep -qE '^[[:space:]#]*not ok ' "$tap"; then
		fail=1; reason+=("a test printed 'not ok'")
	fi
fi
kmsg=$console
[ -f "$share/dmesg.txt" ] && kmsg="$console $share/dmesg.txt"
if [ -s "$share/unload-failed.txt" ]; then
	fail=1; reason+=("$(cat "$share/unload-failed.txt")")
fi
# The guest writes kmemleak.txt (empty when clean) after its last scan.
if [ $debug = 1 ] && [ -f "$share/rc" ] && [ ! -f "$share/kmemleak.txt" ]; then
	fail=1; reason+=("no kmemleak scan was made")
fi
if [ -s "$share/kmemleak.txt" ]; then
	fail=1; reason+=("kmemleak found leaks at the end of the run:")
	head -n 80 "$share/kmemleak.txt" >&2
fi
# shellcheck disable=SC2086
if oopses $kmsg >&2; then
	fail=1; reason+=("the kernel reported a problem:")
fi
if [ -f "$share/rc" ] && [ "$(cat "$share/rc")" != 0 ] && [ ${#command[@]} -gt 0 ]; then
	fail=1; reason+=("the command exited with $(cat "$share/rc")")
fi

if [ -f "$tap" ]; then
	pass=$(grep -E '^ok [0-9]+ ' "$tap" | grep -vc '# SKIP')
	skip=$(grep -cE '^ok [0-9]+ .*# SKIP' "$tap")
	nok=$(grep -cE '^not ok [0-9]+ ' "$tap")
	echo "selftests: $pass passed, $nok failed, $skip skipped"
fi
if [ $fail = 1 ]; then
	echo "run-vm: FAIL: ${reason[*]}" >&2
	exit 1
fi
clean=
[ $debug = 1 ] && clean=", kmemleak clean"
echo "run-vm: PASS ($kver${ILP_INJECT:+, planted bugs $ILP_INJECT}$clean)" >&2
exit 0
