#!/bin/sh
# /sbin/init of the lab images whose systemd needs cgroup v2 (systemd 258 and
# later refuse a cgroup v1 or hybrid /sys/fs/cgroup); the image's customize
# hook installs it over the diverted /usr/sbin/init (dpkg-divert) only there.
#
# The lab runs containers with the host's /sys/fs/cgroup (-v
# /sys/fs/cgroup:/sys/fs/cgroup --cgroupns=host). On a host with cgroup v2
# that is what systemd wants, and this script just runs it. On a v1 or hybrid
# host, Docker still puts the container into a cgroup v2 group of its own
# (/docker/ID of the hybrid unified hierarchy): this script replaces the v1
# mounts with that group, seen through a new cgroup namespace as the root
# of a cgroup2 file system, and then runs systemd as PID 1. Nothing outside
# the container's own group is touched.
set -eu
systemd=/lib/systemd/systemd

if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
    own=$(sed -n 's/^0:://p' /proc/self/cgroup)
    case $own in
        /?*) ;;
        *)
            echo "balancer-lab init: /sys/fs/cgroup is not cgroup v2 and this container has no cgroup v2 group of its own (0::${own:-missing} in /proc/self/cgroup); this systemd needs cgroup v2" >&2
            exit 1 ;;
    esac
    umount -R /sys/fs/cgroup 2>/dev/null || umount -l /sys/fs/cgroup
    # unshare keeps this PID (no fork): systemd below is still PID 1. The
    # inner shell expands its own "$0" and "$@".
    # shellcheck disable=SC2016
    exec unshare --cgroup /bin/sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$0" "$@"' "$systemd" "$@"
fi
exec "$systemd" "$@"
