#!/usr/bin/env bash
# Integration tests on a real, throwaway nginx bound to 127.0.0.1.
#
# Sets up a temp dir with its own nginx.conf (pid, logs and temp paths inside
# it; http includes conf.d/*.conf, then site.d/*.conf), starts the lab
# backends app1..app3, starts nginx, runs ansible-playbook over the targets in
# tests/integration/targets/ (each applied as a role; setup_* dirs are roles
# the targets depend on, not targets), and always stops nginx and the
# backends. Exit status: the playbook's.
#
#   scripts/integration.sh [TARGET...]      (default: every target dir)
#   KEEP_TMP=1        keep the temp dir (kept anyway when something fails)
#   ANSIBLE_ARGS=-v   extra ansible-playbook arguments
#
# Expects ansible-playbook on PATH and the collection reachable through
# ANSIBLE_COLLECTIONS_PATH (`make integration` provides both).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NGINX_REAL="${NGINX_REAL:-$(command -v nginx || echo /usr/sbin/nginx)}"
TARGET_PY=/usr/bin/python3          # managed side: system Python, stdlib only
BACKEND="$ROOT/lab/backend/balancer_backend.py"
PORT_FIRST=18080 PORT_LAST=18099

die() { echo "integration: $*" >&2; exit 1; }
[ -x "$NGINX_REAL" ] || die "nginx not found (apt-get install nginx-light)"
[ -x "$TARGET_PY" ] || die "$TARGET_PY not found"
[ -f "$BACKEND" ] || die "missing $BACKEND"
command -v ansible-playbook >/dev/null || die "ansible-playbook not on PATH (run: make integration)"

# --- ports: 1 for nginx, 3 backends, 2 that must stay closed, 6 for vhosts --
port_free() {  # true when nothing listens on 127.0.0.1:$1
    ! "$TARGET_PY" - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}
PORTS=()
for p in $(seq "$PORT_FIRST" "$PORT_LAST"); do
    port_free "$p" && PORTS+=("$p")
done
[ "${#PORTS[@]}" -ge 12 ] || die "need 12 free ports in $PORT_FIRST-$PORT_LAST, found ${#PORTS[@]}"
NGINX_PORT=${PORTS[0]}
APP_PORTS=("${PORTS[1]}" "${PORTS[2]}" "${PORTS[3]}")
CLOSED_PORTS=("${PORTS[4]}" "${PORTS[5]}")
VHOST_PORTS=("${PORTS[@]:6:6}")     # free for vhosts the targets write

TMP="$(mktemp -d /tmp/balancer-it.XXXXXX)"
PIDS=()
NGINX_CONF="$TMP/nginx.conf"
cleanup() {
    local rc=$?
    set +e
    if [ -f "$TMP/nginx.pid" ]; then
        "$NGINX_REAL" -c "$NGINX_CONF" -s quit 2>/dev/null
        for _ in $(seq 50); do [ -f "$TMP/nginx.pid" ] || break; sleep 0.1; done
        [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null
    fi
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    if [ "$rc" -ne 0 ] || [ -n "${KEEP_TMP:-}" ]; then
        echo "integration: kept $TMP (nginx error log: $TMP/logs/error.log)" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$TMP"/{conf.d,site.d,server.d,sites-available,sites-enabled,logs,temp,ctl}
UPSTREAM=lb_pool

# Hand-written seed so nginx can start: the module takes this file over.
cat > "$TMP/conf.d/$UPSTREAM.conf" <<CONF
upstream $UPSTREAM {
    server 127.0.0.1:${APP_PORTS[0]};
}
CONF
echo 'location = /__generation { return 200 "seed"; }' > "$TMP/generation.conf"

cat > "$NGINX_CONF" <<CONF
# throwaway nginx of scripts/integration.sh
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log notice;
events { worker_connections 256; }
http {
    access_log $TMP/logs/access.log;
    client_body_temp_path $TMP/temp/client_body;
    proxy_temp_path $TMP/temp/proxy;
    fastcgi_temp_path $TMP/temp/fastcgi;
    uwsgi_temp_path $TMP/temp/uwsgi;
    scgi_temp_path $TMP/temp/scgi;
    include $TMP/conf.d/*.conf;
    include $TMP/site.d/*.conf;
    include $TMP/sites-enabled/*;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        include $TMP/generation.conf;
        include $TMP/server.d/*.conf;
        location / {
            proxy_pass http://$UPSTREAM;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 2s;
            add_header X-Upstream \$upstream_addr always;
        }
    }
}
CONF
PROXY_PASS_LINE=$(grep -n "proxy_pass http://$UPSTREAM;" "$NGINX_CONF" | cut -d: -f1)

# --- backends ---------------------------------------------------------------
for i in 0 1 2; do
    name="app$((i + 1))"
    "$TARGET_PY" "$BACKEND" --name "$name" --port "${APP_PORTS[$i]}" --bind 127.0.0.1 \
        --control-file "$TMP/ctl/$name" --quiet >"$TMP/logs/$name.log" 2>&1 &
    PIDS+=($!)
done
for i in 0 1 2; do
    for _ in $(seq 50); do
        curl -fsS -o /dev/null "http://127.0.0.1:${APP_PORTS[$i]}/health" 2>/dev/null && continue 2
        sleep 0.1
    done
    die "backend app$((i + 1)) did not come up on ${APP_PORTS[$i]} (see $TMP/logs)"
done

# --- nginx --------------------------------------------------------------------
"$NGINX_REAL" -t -q -c "$NGINX_CONF" || die "seed nginx.conf does not pass nginx -t"
"$NGINX_REAL" -c "$NGINX_CONF"
for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/" 2>/dev/null && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$NGINX_PORT/" | grep -qx app1 || die "nginx does not proxy to app1"

# --- playbook -------------------------------------------------------------------
TARGETS=("$@")
if [ "${#TARGETS[@]}" -eq 0 ]; then
    for d in "$ROOT"/tests/integration/targets/*/; do
        case "$(basename "$d")" in setup_*) continue ;; esac   # roles the targets depend on
        TARGETS+=("$(basename "$d")")
    done
fi
cat > "$TMP/inventory" <<INV
localhost ansible_connection=local ansible_python_interpreter=$TARGET_PY
INV
cat > "$TMP/vars.yml" <<VARS
it_tmp: $TMP
it_conf_dir: $TMP/conf.d
it_nginx_conf: $NGINX_CONF
it_nginx_real: $NGINX_REAL
it_nginx_port: $NGINX_PORT
it_base_url: http://127.0.0.1:$NGINX_PORT
it_upstream: $UPSTREAM
it_proxy_pass_line: $PROXY_PASS_LINE
it_generation_file: $TMP/generation.conf
it_control_dir: $TMP/ctl
it_target_python: $TARGET_PY
it_app_ports: [${APP_PORTS[0]}, ${APP_PORTS[1]}, ${APP_PORTS[2]}]
it_closed_ports: [${CLOSED_PORTS[0]}, ${CLOSED_PORTS[1]}]
it_site_dir: $TMP/site.d
it_sites_enabled: $TMP/sites-enabled
it_sites_available: $TMP/sites-available
it_vhost_ports: [$(vhost_ports=$(IFS=,; echo "${VHOST_PORTS[*]}"); echo "${vhost_ports//,/, }")]
VARS
{
    for t in "${TARGETS[@]}"; do
        [ -d "$ROOT/tests/integration/targets/$t" ] || die "no target $t"
        cat <<PLAY
- name: Integration target $t
  hosts: localhost
  gather_facts: false
  vars_files: [$TMP/vars.yml]
  roles: [$t]
PLAY
    done
} > "$TMP/playbook.yml"

read -ra EXTRA_ARGS <<< "${ANSIBLE_ARGS:-}"   # e.g. ANSIBLE_ARGS=-vvv
echo "integration: nginx on 127.0.0.1:$NGINX_PORT, backends ${APP_PORTS[*]}, temp $TMP"
start=$(date +%s)
ANSIBLE_ROLES_PATH="$ROOT/tests/integration/targets" \
ANSIBLE_RETRY_FILES_ENABLED=false \
ANSIBLE_LOCALHOST_WARNING=false \
ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    ansible-playbook -i "$TMP/inventory" "$TMP/playbook.yml" "${EXTRA_ARGS[@]}"
echo "integration: passed in $(( $(date +%s) - start ))s (${TARGETS[*]})"
