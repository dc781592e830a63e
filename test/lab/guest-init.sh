#!/bin/busybox sh
# /init of the lab guest. It exists to give migration tests something observable:
# a heartbeat that must never stop, memory that keeps changing, and disk writes whose order can be
# checked afterwards. It never exits: PID 1 exiting panics the guest.
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp
mount -t tmpfs tmpfs /tmp

# Only the modules the cloud kernel has as =m are in the image; order was resolved at build time.
for m in $(cat /etc/ferry-modules); do
  insmod "/lib/modules/$m.ko" 2>/dev/null
done

arg() {
  for kv in $(cat /proc/cmdline); do
    case "$kv" in "$1="*) echo "${kv#*=}"; return ;; esac
  done
  echo "$2"
}
dirty_mib=$(arg ferry.dirty_mib 0)
echo 0 > /tmp/last-record

# Memory dirtier: rewrites a tmpfs file with non-zero data so QEMU cannot skip the pages as zero,
# alternating two random seeds so every rewrite changes the pages' contents too (QEMU's page
# sampling, calc-dirty-rate, sees a page rewritten with the same bytes as unchanged).
if [ "$dirty_mib" -gt 0 ] 2>/dev/null; then
  mkdir -p /dirty
  dd if=/dev/urandom of=/tmp/seed0 bs=1024 count=1024 2>/dev/null
  dd if=/dev/urandom of=/tmp/seed1 bs=1024 count=1024 2>/dev/null
  (
    round=0
    while true; do
      i=0
      while [ "$i" -lt "$dirty_mib" ]; do
        dd if=/tmp/seed$((round % 2)) of=/dirty/buf bs=1048576 seek="$i" count=1 conv=notrunc 2>/dev/null
        i=$((i + 1))
      done
      round=$((round + 1))
    done
  ) &
fi

# Disk writer: record n goes to 512-byte sector n, bypassing the guest page cache, so a test can
# later prove records 1..N are all on the disk with no gap.
i=0
while [ ! -b /dev/vda ] && [ "$i" -lt 25 ]; do sleep 0.2; i=$((i + 1)); done
if [ -b /dev/vda ]; then
  sectors=$(cat /sys/block/vda/size)
  (
    n=1
    while [ "$n" -lt "$sectors" ]; do
      printf 'ferry-record %d\n' "$n" | dd of=/dev/vda bs=512 seek="$n" count=1 conv=sync,notrunc,fsync oflag=direct 2>/dev/null || break
      echo "$n" > /tmp/last-record.new && mv /tmp/last-record.new /tmp/last-record
      n=$((n + 1))
    done
  ) &
fi

# Serial console: every line typed on ttyS0 comes back as "ferry-echo: <line>", so a test can prove
# that a console's keystrokes reach the guest. tty0 is the VGA screen (when the VM has one), so the
# graphical console has something to show; without a display the writes there go nowhere.
# The line "ferry-poweroff" powers the guest off from inside (QEMU then exits), as a user's
# `poweroff` would: tests use it to show that a VM stopped by its guest turns to shut off.
(
  while IFS= read -r line; do
    echo "ferry-echo: $line" > /dev/ttyS0
    echo "ferry-echo: $line" 2>/dev/null > /dev/tty0
    if [ "$line" = "ferry-poweroff" ]; then sync; poweroff -f; fi
  done
) < /dev/ttyS0 &
printf '\n  Ferry lab guest\n  Type on the serial console: each line comes back as ferry-echo.\n\n' 2>/dev/null > /dev/tty0

n=0
while true; do
  n=$((n + 1))
  echo "ferry-heartbeat $n disk=$(cat /tmp/last-record)" > /dev/ttyS0
  [ $((n % 25)) -eq 1 ] && echo "ferry-heartbeat $n" 2>/dev/null > /dev/tty0
  sleep 0.2
done
