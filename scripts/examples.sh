#!/usr/bin/env bash
# Prove that the EXAMPLES of every module's documentation run, for real, on
# this machine's Debian nginx configuration (/etc/nginx).
#
# tests/examples/examples.py builds one playbook from `ansible-doc --json`
# (log_format, upstream, vhost, config_info, site; tasks as documented; the
# "Reload nginx" handler runs `nginx -t` only). This script
#   1. checks that /etc/nginx passes `nginx -t` before anything is touched,
#   2. copies /etc/nginx aside (cp -a) and sets a trap that always puts it
#      back byte for byte (rsync --delete --checksum) and verifies that
#      `diff -r` and a listing of types, modes, owners, link targets and
#      mtimes show no difference (exit 1 and a loud message otherwise),
#   3. runs the playbook twice as root on localhost (connection local,
#      managed side /usr/bin/python3), stdout callback ansible.posix.json,
#   4. checks `nginx -t -c /etc/nginx/nginx.conf` on the result,
#   5. lets examples.py judge both passes: no task failed, and the second
#      pass changed only the tasks it lists as changed by the sequence;
#      and checks that pass 2 leaves /etc/nginx exactly as pass 1 left it.
# Log files that `nginx -t` creates under /var/log/nginx are removed again.
# The system nginx is never started, stopped or reloaded; it need not run.
#
#   scripts/examples.sh          (as root; about 20 s)
#   KEEP_TMP=1                   keep the temp dir (playbook, JSON output)
#
# Uses the virtualenv (.venv) when it exists and links the working tree in
# as balancer.nginx under .cache/collections unless ANSIBLE_COLLECTIONS_PATH
# is set (the Makefile sets it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ETC=/etc/nginx
NGINX_CONF="$ETC/nginx.conf"
LOG_DIR=/var/log/nginx
TARGET_PY=/usr/bin/python3          # managed side: system Python, stdlib only
LOCK=/run/lock/balancer-examples.lock

log() { printf 'examples.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: the examples write $ETC"
if [ -x "$ROOT/.venv/bin/python" ]; then PATH="$ROOT/.venv/bin:$PATH"; fi
if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]; then
    mkdir -p "$ROOT/.cache/collections/ansible_collections/balancer"
    ln -sfn "$ROOT" "$ROOT/.cache/collections/ansible_collections/balancer/nginx"
    export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections"
fi
export PATH ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=true   # ansible.posix.json ships with `ansible`
for tool in ansible-playbook ansible-doc nginx rsync diff flock; do
    command -v "$tool" >/dev/null || die "$tool not on PATH (make venv / make apt)"
done
[ -x "$TARGET_PY" ] || die "$TARGET_PY not found"
[ -f "$NGINX_CONF" ] || die "$NGINX_CONF not found (apt-get install nginx-light)"

exec 9>"$LOCK"
flock -n 9 || die "another scripts/examples.sh holds $LOCK"

nginx_test() {  # nginx -t on /etc/nginx; prints nginx's output only on failure
    local out
    if ! out="$(nginx -t -c "$NGINX_CONF" 2>&1)"; then
        printf '%s\n' "$out" >&2
        return 1
    fi
}
nginx_test || die "$NGINX_CONF fails nginx -t before any example ran; fix it first"

TMP="$(mktemp -d /tmp/balancer-examples.XXXXXX)"
BACKUP="$TMP/etc-nginx"
listing() {  # everything but content: type, mode, owner, group, link target, mtime
    (cd "$1" && find . -printf '%p|%y|%m|%u|%g|%l|%T@\n' | LC_ALL=C sort)
}
cp -a "$ETC" "$BACKUP"
listing "$BACKUP" >"$TMP/listing.before"
LOGS_BEFORE="$TMP/logs.before"
find "$LOG_DIR" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | LC_ALL=C sort >"$LOGS_BEFORE" || true

# shellcheck disable=SC2317  # reached through the EXIT trap
restore() {
    local rc=$? ok=1 name
    set +e
    trap - EXIT INT TERM
    log "restoring $ETC from $BACKUP"
    rsync -aH --delete --checksum "$BACKUP/" "$ETC/" || ok=0
    if ! diff -r --no-dereference "$BACKUP" "$ETC" >"$TMP/restore.diff" 2>&1; then
        ok=0
        cat "$TMP/restore.diff" >&2
    fi
    if ! listing "$ETC" | diff "$TMP/listing.before" - >"$TMP/restore.meta" 2>&1; then
        ok=0
        cat "$TMP/restore.meta" >&2
    fi
    if [ -d "$LOG_DIR" ]; then
        find "$LOG_DIR" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort |
            LC_ALL=C comm -13 "$LOGS_BEFORE" - |
            while IFS= read -r name; do
                log "removing $LOG_DIR/$name (created by nginx -t during the run)"
                rm -f -- "${LOG_DIR:?}/$name"
            done
    fi
    if [ "$ok" -ne 1 ]; then
        log "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        log "!!! RESTORE FAILED: $ETC differs from its copy taken before the run."
        log "!!! The original is kept in $BACKUP; put it back by hand:"
        log "!!!   rsync -aH --delete --checksum $BACKUP/ $ETC/"
        log "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        exit 1
    fi
    log "$ETC restored: diff -r and the metadata listing show no difference"
    if [ "$rc" -eq 0 ] && [ -z "${KEEP_TMP:-}" ]; then
        rm -rf "$TMP"
    else
        log "kept $TMP (playbook, pass*.json)"
    fi
    exit "$rc"
}
trap restore EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

PLAYBOOK="$TMP/examples.yml"
INVENTORY="$TMP/inventory.ini"
printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' "$TARGET_PY" >"$INVENTORY"
python "$ROOT/tests/examples/examples.py" build "$PLAYBOOK"

export ANSIBLE_STDOUT_CALLBACK=ansible.posix.json ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
    ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_LOCALHOST_WARNING=false
run_pass() {  # run_pass N: the playbook once, JSON to pass N.json; returns its status
    local rc=0
    log "pass $1: ansible-playbook $(basename "$PLAYBOOK")"
    (cd "$TMP" && ansible-playbook -i "$INVENTORY" "$PLAYBOOK") >"$TMP/pass$1.json" || rc=$?
    log "pass $1: ansible-playbook exited $rc"
    if [ "$rc" -eq 99 ]; then log "interrupted"; exit 130; fi   # 99: ansible's "User interrupted execution"
    return "$rc"
}

status=0
passes=("$TMP/pass1.json")
if run_pass 1; then
    cp -a "$ETC" "$TMP/after-pass1"
    run_pass 2 || status=1
    passes+=("$TMP/pass2.json")
    # Pass 2 may change files on the way (see NOT_IDEMPOTENT in examples.py),
    # but the sequence as a whole must converge: it ends where pass 1 ended.
    if diff -r --no-dereference "$TMP/after-pass1" "$ETC" >&2; then
        log "pass 2 left $ETC byte for byte as pass 1 left it"
    else
        log "FAIL: pass 2 left $ETC different from pass 1 (diff above)"
        status=1
    fi
else
    status=1
    log "pass 1 failed: no second pass"
fi

if nginx_test; then
    log "nginx -t -c $NGINX_CONF passes on the result"
else
    log "FAIL: nginx -t -c $NGINX_CONF fails on the result (output above)"
    status=1
fi
log "configuration written by the examples (conf.d):"
ls -l "$ETC/conf.d" >&2

python "$ROOT/tests/examples/examples.py" report "${passes[@]}" || status=1
log "done in ${SECONDS}s, status $status"
exit "$status"
