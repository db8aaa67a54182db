#!/usr/bin/env bash
# Install the Debian packages the tests and the lab need, and only those that
# are missing: nothing is touched (no `apt-get update`) when all are present.
#
#   nginx (nginx-light where the release has it)  real nginx for integration
#   libnginx-mod-stream                           its stream module, unless nginx
#                                                 has it built in: the tests
#                                                 load_module it (path below)
#   mmdebstrap docker.io                          the lab images and containers
#   python3 python3-venv                          the virtualenv
#   curl git rsync make                           the scripts themselves
#   the shellcheck program                        ansible-test sanity (shell)
#
# Installing nginx must not start a service behind the tests' back: while
# apt runs, a policy-rc.d that denies service starts is in place (unless the
# host already has one). The tests never use the system nginx or port 80.
#
# Not root, or not Debian: says exactly what is missing and how to get it,
# and fails only if something is missing.
set -euo pipefail

log() { printf 'setup-apt: %s\n' "$*" >&2; }

packages=(mmdebstrap docker.io python3 python3-venv curl git rsync make shellcheck openssl)
# Any of these provides /usr/sbin/nginx; nginx-light is what we install.
nginx_flavours=(nginx-light nginx nginx-core nginx-full nginx-extras)

installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 ||
   [ ! -r /etc/debian_version ]; then
    missing=()
    for cmd in nginx mmdebstrap docker python3 curl git rsync make shellcheck; do
        command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$cmd")
    done
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=("python3 venv/ensurepip")
    if [ ${#missing[@]} -eq 0 ]; then
        log "not a Debian system; every needed tool is on PATH, continuing"
        exit 0
    fi
    log "not a Debian system (no dpkg/apt-get): install these yourself: ${missing[*]}"
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done
have_nginx=
for p in "${nginx_flavours[@]}"; do
    if installed "$p"; then have_nginx=$p; break; fi
done
[ -n "$have_nginx" ] || missing+=(nginx-light)

# The stream module: Debian builds it as a dynamic module, shipped apart in
# libnginx-mod-stream (nginx-full and nginx-extras depend on it, nginx-light
# and nginx do not). An nginx with stream built in needs nothing.
stream_so=/usr/lib/nginx/modules/ngx_stream_module.so
has_stream() {
    [ -f "$stream_so" ] && return 0
    [ -x /usr/sbin/nginx ] && /usr/sbin/nginx -V 2>&1 | tr ' ' '\n' | grep -qx -- '--with-stream'
}
has_stream || missing+=(libnginx-mod-stream)

if [ ${#missing[@]} -eq 0 ]; then
    log "all Debian packages present (nginx: $have_nginx, stream module: $(if [ -f "$stream_so" ]; then echo "$stream_so"; else echo built in; fi))"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]}"
    log "run as root:  apt-get update && apt-get install -y ${missing[*]}"
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l
log "missing: ${missing[*]}; running apt-get update"
apt-get update -q >/dev/null

# Debian 13 folded nginx-light into nginx: use what this release offers.
for i in "${!missing[@]}"; do
    if [ "${missing[$i]}" = nginx-light ]; then
        cand="$(apt-cache policy nginx-light 2>/dev/null | awk '/Candidate:/ {print $2}')"
        if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
            missing[i]=nginx
        fi
    fi
done

policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# balancer.nginx setup-apt.sh: no service starts while installing\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    made_policy=1
    trap '[ -n "$made_policy" ] && rm -f "$policy"' EXIT
fi

log "installing: ${missing[*]}"
apt-get install -y -q "${missing[@]}" >/tmp/setup-apt.$$.log 2>&1 || {
    tail -n 30 /tmp/setup-apt.$$.log >&2
    log "apt-get install failed (full log: /tmp/setup-apt.$$.log)"
    exit 1
}
rm -f /tmp/setup-apt.$$.log
log "installed: ${missing[*]}"
if ! has_stream; then
    log "nginx has no stream module: neither built in nor at $stream_so"
    exit 1
fi
