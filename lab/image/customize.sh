#!/bin/sh
# mmdebstrap customize hook: $1 is the root of the new image.
# Installs the backend test app and its units, and prepares systemd and nginx
# for a container.
set -eu
root=$1
lab=$(cd "$(dirname "$0")/.." && pwd)

# Backend test app: three instances app1..app3 on ports 8081..8083.
install -D -m 0755 "$lab/backend/balancer_backend.py" "$root/opt/balancer-backend/balancer_backend.py"
install -D -m 0644 "$lab/backend/balancer-backend@.service" "$root/etc/systemd/system/balancer-backend@.service"
for env in "$lab"/backend/app*.env; do
    install -D -m 0644 "$env" "$root/etc/balancer-backend/$(basename "$env")"
    systemctl --root="$root" enable "balancer-backend@$(basename "$env" .env).service"
done

# nginx starts at boot with Debian's stock nginx.conf. The default site
# (listen 80 default_server) is disabled so that the vhosts tests write own
# port 80; sites-available/default stays for reference.
rm -f "$root/etc/nginx/sites-enabled/default"
# One worker: round-robin state is per worker unless the upstream has a
# zone, so with one worker the split over N requests is exact and testable.
sed -i 's/^worker_processes .*/worker_processes 1;/' "$root/etc/nginx/nginx.conf"
grep -q '^worker_processes 1;' "$root/etc/nginx/nginx.conf"
systemctl --root="$root" enable nginx.service

# Units that have nothing to do in a container.
systemctl --root="$root" mask getty.target console-getty.service \
    systemd-udevd.service systemd-udev-trigger.service systemd-remount-fs.service \
    sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount \
    sys-kernel-config.mount sys-fs-fuse-connections.mount

# systemd creates a machine id at first boot of each container.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
