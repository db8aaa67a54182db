#!/bin/sh
# mmdebstrap customize hook: $1 is the root of the new image.
# Installs the backend test app and its units, the lab's TLS material and DNS,
# and prepares systemd and nginx for a container.
set -eu
root=$1
lab=$(cd "$(dirname "$0")/.." && pwd)

# Backend test app: app1..app3 on HTTP 8081..8083 (also TCP and UDP
# 9081..9083, HTTPS 8441..8443), and `other` (HTTPS 8444, signed by another CA).
install -D -m 0755 "$lab/backend/balancer_backend.py" "$root/opt/balancer-backend/balancer_backend.py"
install -D -m 0644 "$lab/backend/balancer-backend@.service" "$root/etc/systemd/system/balancer-backend@.service"
for env in "$lab"/backend/*.env; do
    install -D -m 0644 "$env" "$root/etc/balancer-backend/$(basename "$env")"
    systemctl --root="$root" enable "balancer-backend@$(basename "$env" .env).service"
done

# TLS: two unrelated CAs and their certificates, made with the image's own
# openssl. The apps run as nobody:nogroup and read their keys through the group.
tls=/etc/balancer-lab/tls
install -D -m 0755 "$lab/backend/lab-tls.sh" "$root/opt/balancer-backend/lab-tls.sh"
chroot "$root" /opt/balancer-backend/lab-tls.sh "$tls"
chroot "$root" sh -c "chown root:nogroup $tls/*.key && chmod 0640 $tls/*.key && chmod 0644 $tls/*.crt"

# The lab DNS: dnsmasq on 127.0.0.1:53 answers the names of
# /etc/balancer-lab/hosts; balancer-lab-dns changes one and reloads.
install -D -m 0644 "$lab/image/dns/hosts" "$root/etc/balancer-lab/hosts"
install -D -m 0644 "$lab/image/dns/dnsmasq.conf" "$root/etc/balancer-lab/dnsmasq.conf"
install -D -m 0644 "$lab/image/dns/balancer-lab-dns.service" "$root/etc/systemd/system/balancer-lab-dns.service"
install -D -m 0755 "$lab/image/dns/balancer-lab-dns" "$root/usr/local/bin/balancer-lab-dns"
systemctl --root="$root" enable balancer-lab-dns.service

# nginx starts at boot with Debian's stock nginx.conf. The default site
# (listen 80 default_server) is disabled so that the vhosts tests write own
# port 80; sites-available/default stays for reference.
rm -f "$root/etc/nginx/sites-enabled/default"
# One worker: round-robin state is per worker unless the upstream has a
# zone, so with one worker the split over N requests is exact and testable.
sed -i 's/^worker_processes .*/worker_processes 1;/' "$root/etc/nginx/nginx.conf"
grep -q '^worker_processes 1;' "$root/etc/nginx/nginx.conf"
# libnginx-mod-stream enabled itself: nginx.conf loads modules-enabled/*.conf.
chroot "$root" test -e /etc/nginx/modules-enabled/50-mod-stream.conf
systemctl --root="$root" enable nginx.service

# systemd 258 and later run only on cgroup v2: on a cgroup v1 (hybrid)
# host, /sbin/init first gives systemd the container's own cgroup v2 group.
systemd_version=$(chroot "$root" dpkg-query -W -f="\${Version}" systemd)
if chroot "$root" dpkg --compare-versions "$systemd_version" ge 258~; then
    chroot "$root" dpkg-divert --local --rename --divert /usr/sbin/init.systemd --add /usr/sbin/init
    install -m 0755 "$lab/image/init.sh" "$root/usr/sbin/init"
fi

# Units that have nothing to do in a container.
systemctl --root="$root" mask getty.target console-getty.service \
    systemd-udevd.service systemd-udev-trigger.service systemd-remount-fs.service \
    sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount \
    sys-kernel-config.mount sys-fs-fuse-connections.mount

# systemd creates a machine id at first boot of each container.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
