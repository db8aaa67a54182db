#!/usr/bin/env bash
# Integration tests on a real, throwaway nginx bound to 127.0.0.1.
#
# Sets up a temp dir with its own nginx.conf (pid, logs and temp paths inside
# it; the stream module loaded; http includes conf.d/*.conf, then
# site.d/*.conf; no stream {} block: the engine adds it, and the stream target
# proves that), makes the lab TLS material (lab/backend/lab-tls.sh), starts
# the lab backends app1..app3 (HTTP, TCP, UDP and HTTPS with an optional
# client certificate checked against the lab CA) and "other" (HTTPS with a
# certificate of the other CA), starts nginx, runs ansible-playbook over the
# targets in tests/integration/targets/ (each applied as a role; setup_* dirs
# are roles the targets depend on, not targets), and always stops nginx and
# the backends. A target that fails is cleaned up after and the next one
# still runs; the last play fails naming every failed target. The seconds
# each target took are printed at the end. Exit status: the playbook's.
#
#   scripts/integration.sh [TARGET...]      (default: every target dir)
#   KEEP_TMP=1        keep the temp dir (kept anyway when something fails)
#   IT_PORT_FIRST=N   use ports N..N+59 (default: a random block in 20000-31999)
#   ANSIBLE_ARGS=-v   extra ansible-playbook arguments
#
# Expects ansible-playbook on PATH and the collection reachable through
# ANSIBLE_COLLECTIONS_PATH (`make integration` provides both).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NGINX_REAL="${NGINX_REAL:-$(command -v nginx || echo /usr/sbin/nginx)}"
TARGET_PY=/usr/bin/python3          # managed side: system Python, stdlib only
BACKEND="$ROOT/lab/backend/balancer_backend.py"
LAB_TLS="$ROOT/lab/backend/lab-tls.sh"
STREAM_MODULE="${STREAM_MODULE:-/usr/lib/nginx/modules/ngx_stream_module.so}"
# Ports come from a block of 60 picked at random in 20000-31999 (below the
# kernel's ephemeral range), so that runs in other worktrees at the same time
# seldom meet; IT_PORT_FIRST chooses the block.
PORT_FIRST=${IT_PORT_FIRST:-$((20000 + RANDOM % 200 * 60))}
PORT_LAST=$((PORT_FIRST + 59))

die() { echo "integration: $*" >&2; exit 1; }
[ -x "$NGINX_REAL" ] || die "nginx not found (apt-get install nginx-light)"
[ -x "$TARGET_PY" ] || die "$TARGET_PY not found"
[ -f "$BACKEND" ] || die "missing $BACKEND"
[ -f "$LAB_TLS" ] || die "missing $LAB_TLS"
command -v openssl >/dev/null || die "openssl not found (lab/backend/lab-tls.sh needs it)"
[ -f "$STREAM_MODULE" ] || die "the nginx stream module $STREAM_MODULE is missing; make apt installs libnginx-mod-stream"
command -v ansible-playbook >/dev/null || die "ansible-playbook not on PATH (run: make integration)"

# --- ports ---------------------------------------------------------------------
# 1 for nginx, 3 backends (HTTP), 2 that must stay closed, 6 for vhosts, then
# the backends' TCP, UDP and HTTPS ports (3 each), "other" (HTTP and HTTPS),
# and 4 for stream proxies. A port is taken only when nothing listens on
# 127.0.0.1 there and both a TCP and a UDP socket can bind it.
free_ports() {  # prints the free ports of $1..$2, one a line
    "$TARGET_PY" - "$1" "$2" <<'PY'
import socket, sys
for port in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    probe = socket.socket()
    probe.settimeout(0.5)
    listening = probe.connect_ex(("127.0.0.1", port)) == 0
    probe.close()
    if listening:
        continue
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as sock:
                sock.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
PY
}
mapfile -t PORTS < <(free_ports "$PORT_FIRST" "$PORT_LAST")
PORTS_NEEDED=27
[ "${#PORTS[@]}" -ge "$PORTS_NEEDED" ] || die "need $PORTS_NEEDED free ports in $PORT_FIRST-$PORT_LAST, found ${#PORTS[@]}"
NGINX_PORT=${PORTS[0]}
APP_PORTS=("${PORTS[1]}" "${PORTS[2]}" "${PORTS[3]}")
CLOSED_PORTS=("${PORTS[4]}" "${PORTS[5]}")
VHOST_PORTS=("${PORTS[@]:6:6}")     # free for vhosts the targets write
APP_TCP_PORTS=("${PORTS[@]:12:3}")
APP_UDP_PORTS=("${PORTS[@]:15:3}")
APP_HTTPS_PORTS=("${PORTS[@]:18:3}")
OTHER_PORT=${PORTS[21]} OTHER_HTTPS_PORT=${PORTS[22]}
STREAM_PORTS=("${PORTS[@]:23:4}")   # free for stream proxies the targets write
yaml_list() { local IFS=,; local joined="$*"; echo "[${joined//,/, }]"; }

TMP="$(mktemp -d /tmp/balancer-it.XXXXXX)"
PIDS=()
NGINX_CONF="$TMP/nginx.conf"
STREAM_CONF_DIR="$TMP/stream.d"     # not created here: the first stream write creates it
TLS_DIR="$TMP/tls"
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
"$LAB_TLS" "$TLS_DIR" >"$TMP/logs/lab-tls.log" 2>&1 || die "lab/backend/lab-tls.sh failed (see $TMP/logs/lab-tls.log)"
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
load_module $STREAM_MODULE;
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
cp -p "$NGINX_CONF" "$TMP/nginx.conf.seed"   # tasks/_cleanup.yml puts it back after a target

# --- backends ---------------------------------------------------------------
# app1..app3: HTTP, TCP, UDP, and HTTPS with their lab certificate (a client
# certificate is optional and checked against the lab CA); other: HTTP, and
# HTTPS with the other CA's certificate.
for i in 0 1 2; do
    name="app$((i + 1))"
    "$TARGET_PY" "$BACKEND" --name "$name" --port "${APP_PORTS[$i]}" --bind 127.0.0.1 \
        --control-file "$TMP/ctl/$name" --quiet \
        --tcp-port "${APP_TCP_PORTS[$i]}" --udp-port "${APP_UDP_PORTS[$i]}" \
        --https-port "${APP_HTTPS_PORTS[$i]}" --tls-cert "$TLS_DIR/$name.crt" --tls-key "$TLS_DIR/$name.key" \
        --tls-client-ca "$TLS_DIR/ca.crt" >"$TMP/logs/$name.log" 2>&1 &
    PIDS+=($!)
done
"$TARGET_PY" "$BACKEND" --name other --port "$OTHER_PORT" --bind 127.0.0.1 \
    --control-file "$TMP/ctl/other" --quiet \
    --https-port "$OTHER_HTTPS_PORT" --tls-cert "$TLS_DIR/other.crt" --tls-key "$TLS_DIR/other.key" \
    >"$TMP/logs/other.log" 2>&1 &
PIDS+=($!)
wait_for() {  # wait_for WHAT COMMAND...: up to 5 s
    local what=$1; shift
    for _ in $(seq 50); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "$what did not come up (see $TMP/logs)"
}
for i in 0 1 2; do
    name="app$((i + 1))"
    wait_for "backend $name on ${APP_PORTS[$i]}" curl -fsS "http://127.0.0.1:${APP_PORTS[$i]}/health"
    wait_for "backend $name HTTPS on ${APP_HTTPS_PORTS[$i]}" \
        curl -fsS --cacert "$TLS_DIR/ca.crt" "https://127.0.0.1:${APP_HTTPS_PORTS[$i]}/health"
    wait_for "backend $name TCP on ${APP_TCP_PORTS[$i]}" "$TARGET_PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
sys.exit(s.makefile().readline() != sys.argv[2] + "\n")' "${APP_TCP_PORTS[$i]}" "$name"
    wait_for "backend $name UDP on ${APP_UDP_PORTS[$i]}" "$TARGET_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(b"up", ("127.0.0.1", int(sys.argv[1])))
sys.exit(s.recv(100) != (sys.argv[2] + " up").encode())' "${APP_UDP_PORTS[$i]}" "$name"
done
wait_for "backend other on $OTHER_PORT" curl -fsS "http://127.0.0.1:$OTHER_PORT/health"
wait_for "backend other HTTPS on $OTHER_HTTPS_PORT" \
    curl -fsS --cacert "$TLS_DIR/other-ca.crt" "https://127.0.0.1:$OTHER_HTTPS_PORT/health"

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
it_vhost_ports: $(yaml_list "${VHOST_PORTS[@]}")
it_nginx_conf_seed: $TMP/nginx.conf.seed
it_stream_conf_dir: $STREAM_CONF_DIR
it_stream_module: $STREAM_MODULE
it_app_tcp_ports: $(yaml_list "${APP_TCP_PORTS[@]}")
it_app_udp_ports: $(yaml_list "${APP_UDP_PORTS[@]}")
it_app_https_ports: $(yaml_list "${APP_HTTPS_PORTS[@]}")
it_other_port: $OTHER_PORT
it_other_https_port: $OTHER_HTTPS_PORT
it_stream_ports: $(yaml_list "${STREAM_PORTS[@]}")
it_tls_dir: $TLS_DIR
VARS
{
    # One play per target. A target that fails is recorded, its files are
    # cleaned up (tasks/_cleanup.yml) and the next target runs; the last play
    # fails naming every target that failed.
    for t in "${TARGETS[@]}"; do
        [ -d "$ROOT/tests/integration/targets/$t" ] || die "no target $t"
        cat <<PLAY
- name: Integration target $t
  hosts: localhost
  gather_facts: false
  vars_files: [$TMP/vars.yml]
  tasks:
    - name: Start of target $t
      ansible.builtin.set_fact:
        it_target_start: "{{ now().timestamp() }}"
    - name: Target $t
      block:
        - name: Role $t
          ansible.builtin.import_role:
            name: $t
      rescue:
        - name: Remember that target $t failed, with the task and its message (CI shows only the end of the log)
          ansible.builtin.set_fact:
            it_failed_targets: "{{ it_failed_targets | default([]) + ['$t'] }}"
            it_failures: >-
              {{ it_failures | default([]) + ['$t, task "' ~ (ansible_failed_task.name | default('?')) ~ '": '
                 ~ (ansible_failed_result.msg | default(ansible_failed_result | default({}) | to_json) | string)[:3000]] }}
        - name: Put the configuration back for the next target
          ansible.builtin.include_tasks: "{{ it_helpers }}/_cleanup.yml"
      always:
        - name: Runtime of target $t
          ansible.builtin.command:
            argv: [sh, -c, 'printf "%s %.1f\\n" "\$1" "\$2" >> "\$3"', timing, $t,
                   "{{ now().timestamp() - it_target_start | float }}", $TMP/timings]
          changed_when: false
PLAY
    done
    cat <<PLAY
- name: Every target passed
  hosts: localhost
  gather_facts: false
  tasks:
    - name: No target failed
      ansible.builtin.assert:
        that: it_failed_targets | default([]) | length == 0
        fail_msg: "failed targets: {{ it_failed_targets | default([]) | join(', ') }}"
        quiet: true
      register: it_verdict
      ignore_errors: true
    - name: What failed, target by target
      ansible.builtin.debug:
        msg: "{{ it_failures }}"
      when: it_verdict is failed
    - name: Fail when a target failed
      ansible.builtin.fail:
        msg: "failed targets: {{ it_failed_targets | join(', ') }} (each with its failing task above)"
      when: it_verdict is failed
PLAY
} > "$TMP/playbook.yml"

read -ra EXTRA_ARGS <<< "${ANSIBLE_ARGS:-}"   # e.g. ANSIBLE_ARGS=-vvv
echo "integration: nginx on 127.0.0.1:$NGINX_PORT, backends ${APP_PORTS[*]} (TCP ${APP_TCP_PORTS[*]}, UDP ${APP_UDP_PORTS[*]}, HTTPS ${APP_HTTPS_PORTS[*]}), other HTTPS $OTHER_HTTPS_PORT, temp $TMP"
start=$(date +%s)
rc=0
ANSIBLE_ROLES_PATH="$ROOT/tests/integration/targets" \
ANSIBLE_RETRY_FILES_ENABLED=false \
ANSIBLE_LOCALHOST_WARNING=false \
ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    ansible-playbook -i "$TMP/inventory" "$TMP/playbook.yml" "${EXTRA_ARGS[@]}" || rc=$?
if [ -s "$TMP/timings" ]; then
    echo "integration: seconds per target (from its first task to its last):"
    sed 's/^/    /' "$TMP/timings"
fi
[ "$rc" -eq 0 ] || exit "$rc"
echo "integration: passed in $(( $(date +%s) - start ))s (${TARGETS[*]})"
