#!/bin/bash
# PID 1 of the systemd sandbox until it execs systemd (deploy/test/systemd_sandbox.py starts it with
# `unshare --cgroup --pid --fork --mount --net --uts --ipc`). It builds the machine systemd boots:
# this machine's own / seen through an overlay whose writes go to a tmpfs (adduser, apt, /etc, /srv,
# PostgreSQL's data all stay in the sandbox and vanish with it), a fresh /proc, a read-only /sys, the
# sandbox's own cgroup subtree, a minimal /dev. Then pivot_root and exec /lib/systemd/systemd.
# Usage: systemd_sandbox_init.sh DIR [CHECKOUT]   (DIR holds root/ and rw/, made by the caller)
set -euo pipefail
dir=$1
checkout=${2:-}
root=$dir/root

mount --make-rprivate /
mount -t tmpfs -o size=4g,mode=755 sandbox-rw "$dir/rw"
mkdir "$dir/rw/upper" "$dir/rw/work"
mount -t overlay sandbox-root -o "lowerdir=/,upperdir=$dir/rw/upper,workdir=$dir/rw/work" "$root"

mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
# cgroups: this process was moved into its own subtree and unshared its cgroup namespace, so the
# hierarchies mounted here are rooted at that subtree: systemd manages it and nothing of the host's.
mount -t tmpfs -o mode=755 cgroup-root "$root/sys/fs/cgroup"
mkdir "$root/sys/fs/cgroup/systemd" "$root/sys/fs/cgroup/unified"
mount -t cgroup -o none,name=systemd cgroup "$root/sys/fs/cgroup/systemd"
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup/unified"

mount -t tmpfs -o mode=755 sandbox-dev "$root/dev"
for node in null zero full random urandom tty; do
    touch "$root/dev/$node"
    mount --bind "/dev/$node" "$root/dev/$node"
done
mkdir "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
touch "$root/dev/console"
mount --bind "$dir/console" "$root/dev/console"  # systemd's console messages go to a file
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=1777 tmp "$root/tmp"  # an empty /tmp, as after a boot
# The checkout under test (the walk-through clones it; the SMTP sink runs from its venv), read-only at
# the same path: wherever it lies (under /tmp, on another filesystem) the steps above would hide it.
if [ -n "$checkout" ]; then
    mkdir -p "$root$checkout"
    mount --bind "$checkout" "$root$checkout"
    mount -o remount,bind,ro "$root$checkout"
fi

# Units of this machine that have no place in a throwaway sandbox (terminals, mDNS, the clock,
# maintenance timers) are masked; nginx and PostgreSQL start as they would on a fresh Debian.
for unit in getty.target getty@tty1.service console-getty.service serial-getty@ttyS0.service \
    avahi-daemon.service avahi-daemon.socket systemd-timesyncd.service systemd-pstore.service \
    e2scrub_reap.service e2scrub_all.timer apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
    fstrim.timer man-db.timer remote-fs.target cron.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
echo bookings-sandbox >"$root/etc/hostname"

mkdir -p "$root/.oldroot"
cd "$root"
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
hostname bookings-sandbox
export container=bookings-test
exec /lib/systemd/systemd --system --show-status=no --log-target=journal-or-kmsg
