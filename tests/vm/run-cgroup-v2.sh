#!/usr/bin/env bash
# Run a command inside a throw-away QEMU VM whose cgroups are pure v2, and exit with its status.
#
#   tests/vm/run-cgroup-v2.sh [COMMAND...]
#
# Default COMMAND: the cgroup integration suite of this checkout (build it first: npx tsc -p .).
# See DEVELOPERS.md ("The cgroup-v2 VM") for how it works and how to debug it.
#
# The VM: Debian's linux-image-amd64 kernel under qemu-system-x86_64 (TCG: no KVM needed), a
# busybox initramfs built here, the host's / shared read-only over 9p and mounted under an
# overlay with a tmpfs upper layer (so the guest may write anywhere; nothing reaches the host),
# cgroup2 at /sys/fs/cgroup with every controller enabled. The command runs as root in the
# directory this script was started from. Its output arrives on the serial console; the last
# line the guest prints is a sentinel carrying the exit status.
#
# Environment: BRIG_VM_KERNEL (path to vmlinuz; default: newest /boot/vmlinuz-* with modules),
# BRIG_VM_MEM (MiB, 2048), BRIG_VM_CPUS (2), BRIG_VM_TIMEOUT (seconds, 420),
# BRIG_VM_LOG (serial log file; default a temp file, printed on failure).
# Needs: qemu-system-x86, linux-image-amd64, busybox-static, cpio (Debian packages).
set -euo pipefail

die() { echo "run-cgroup-v2: $*" >&2; exit 2; }

start=$(date +%s)
workdir=$(pwd)
mem=${BRIG_VM_MEM:-2048}
cpus=${BRIG_VM_CPUS:-2}
timeout_s=${BRIG_VM_TIMEOUT:-420}
sentinel=BRIG_VM_EXIT_STATUS

if [ $# -eq 0 ]; then
  set -- node_modules/.bin/node --test --test-isolation=none --test-reporter=spec 'dist/tests/integration/cgroups/*.test.js'
fi

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || die "cpio missing (apt-get install cpio)"
# A dynamically linked busybox (Debian's "busybox" package) cannot run in the bare initramfs.
busybox=/bin/busybox
[ -x "$busybox" ] || die "busybox missing (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then die "$busybox is dynamically linked (apt-get install busybox-static)"; fi

# 1. The kernel: one whose modules are installed, so 9p/virtio/overlay can be loaded.
kernel=${BRIG_VM_KERNEL:-}
if [ -z "$kernel" ]; then
  for k in $(ls -1v /boot/vmlinuz-* 2>/dev/null | tac); do
    if [ -f "/lib/modules/${k#/boot/vmlinuz-}/modules.dep" ]; then kernel=$k; break; fi
  done
fi
[ -n "$kernel" ] && [ -r "$kernel" ] || die "no kernel with modules in /boot (apt-get install linux-image-amd64)"
kver=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$kver
[ -d "$moddir" ] || die "$moddir missing for $kernel"

tmp=$(mktemp -d /tmp/brig-vm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
log=${BRIG_VM_LOG:-$tmp/serial.log}

# 2. The modules, dependencies first (modules.dep lists a module's dependencies, which modprobe
#    loads last-listed first).
declare -A seen=()
order=()
add_module() { # $1: path relative to $moddir
  local m=$1 deps d
  [ -n "${seen[$m]:-}" ] && return
  seen[$m]=1
  deps=$(awk -v m="$m:" '$1 == m { $1 = ""; print }' "$moddir/modules.dep")
  for d in $(echo "$deps" | tr ' ' '\n' | tac); do add_module "$d"; done
  order+=("$m")
}
find_module() { # $1: module name → path relative to $moddir, or nothing when built in
  awk -F: -v n="$1" '{ f = $1; sub(/.*\//, "", f); sub(/\.ko(\.(xz|zst|gz))?$/, "", f); gsub(/-/, "_", f); if (f == n) { print $1; exit } }' \
    "$moddir/modules.dep"
}
for name in virtio_pci 9pnet_virtio 9p overlay; do
  path=$(find_module "$name")
  if [ -n "$path" ]; then add_module "$path"
  elif ! grep -q "/$name.ko" "$moddir/modules.builtin" 2>/dev/null; then die "module $name not found for $kver"; fi
done

# 3. The initramfs: static busybox, the modules, init (stage 1) and stage 2.
root=$tmp/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,host,upper,newroot,modules}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
: > "$root/modules/order"
for m in "${order[@]}"; do
  base=$(basename "$m")
  case "$m" in
    *.ko.xz) xz -dc "$moddir/$m" > "$root/modules/${base%.xz}"; base=${base%.xz} ;;
    *.ko.zst) zstd -qdc "$moddir/$m" > "$root/modules/${base%.zst}"; base=${base%.zst} ;;
    *.ko.gz) gzip -dc "$moddir/$m" > "$root/modules/${base%.gz}"; base=${base%.gz} ;;
    *) cp "$moddir/$m" "$root/modules/$base" ;;
  esac
  echo "$base" >> "$root/modules/order"
done
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

cat > "$root/init" <<'EOF'
#!/bin/sh
# Stage 1 (busybox, PID 1): modules, the host tree over 9p under a tmpfs overlay, switch_root.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
fail() { echo "stage1: $*"; echo "BRIG_VM_EXIT_STATUS=125"; poweroff -f; sleep 10; }
for m in $(cat /modules/order); do insmod "/modules/$m" || fail "insmod $m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=1048576,cache=loose host /host || fail "mount 9p"
mount -t tmpfs -o mode=755 tmpfs /upper || fail "mount tmpfs"
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/upper/data,workdir=/upper/work /newroot || fail "mount overlay"
cp /stage2 /newroot/.brig-vm-stage2
cp /cmdline /newroot/.brig-vm-cmd
umount /proc /sys
mount --move /dev /newroot/dev || umount /dev
exec switch_root /newroot /bin/sh /.brig-vm-stage2
EOF
chmod 755 "$root/init"

cat > "$root/stage2" <<'EOF'
# Stage 2 (the host's /bin/sh, PID 1, on the overlay): a fresh /proc, /sys and pure cgroup v2.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
# A fresh /tmp and /run, except where the checkout itself lives (CI may clone under /tmp):
# then that directory is carried over onto the fresh tmpfs with a bind mount.
workdir=$(sed -n '1s/^cd \(.*\) || exit 126$/\1/p' /.brig-vm-cmd)
for d in /tmp /run; do
  case "$workdir/" in
    "$d"/*) mkdir -p /.keep && mount --bind "$workdir" /.keep
            mount -t tmpfs -o mode=1777 tmpfs "$d"
            mkdir -p "$workdir" && mount --move /.keep "$workdir" ;;
    *) mount -t tmpfs -o mode=1777 tmpfs "$d" ;;
  esac
done
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control; done
echo "brig-vm: kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
status=0
. /.brig-vm-cmd || status=$?
echo "BRIG_VM_EXIT_STATUS=$status"
sync
echo o > /proc/sysrq-trigger
sleep 10
EOF

# The command runs from the same directory, with its words quoted for sh.
{
  printf 'cd %q || exit 126\n' "$workdir"
  printf '%q ' "$@"
  printf '\n'
} > "$root/cmdline"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$tmp/initramfs.gz"

# 4. Boot. The guest's console is the serial port, copied to the log and to our stdout.
echo "run-cgroup-v2: kernel $kernel, ${#order[@]} modules, ${mem} MiB, ${cpus} vCPUs (TCG), timeout ${timeout_s}s"
echo "run-cgroup-v2: guest runs: $*"
set +e
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu max -m "$mem" -smp "$cpus" \
  -nographic -no-reboot -nic none \
  -kernel "$kernel" -initrd "$tmp/initramfs.gz" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
  -virtfs "local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap" \
  -serial stdio -monitor none </dev/null 2>"$tmp/qemu.err" | stdbuf -oL tr -d '\r' | tee "$log"
# stdbuf: tr writing to a pipe buffers 4 KiB, and the test's stall watch (no output for 150 s)
# then saw nothing for minutes on a slower TCG host while the guest's tests ran.
qemu_status=${PIPESTATUS[0]}
set -e

elapsed=$(( $(date +%s) - start ))
status=$(sed -n "s/^.*$sentinel=\([0-9]*\).*$/\1/p" "$log" | tail -n 1)
if [ -z "$status" ]; then
  echo "run-cgroup-v2: no exit status from the guest (qemu status $qemu_status after ${elapsed}s)" >&2
  [ "$qemu_status" = 124 ] && echo "run-cgroup-v2: timed out after ${timeout_s}s" >&2
  cat "$tmp/qemu.err" >&2
  exit 3
fi
echo "run-cgroup-v2: guest command exited $status; wall time ${elapsed}s"
exit "$status"
