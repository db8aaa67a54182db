#!/bin/sh
# nginx-workers.sh list NGINX_BINARY NGINX_CONF
#     print the PIDs of the worker processes of the Nginx master that runs
#     NGINX_CONF (found through its pid file), one per line
# nginx-workers.sh wait PID...
#     wait (at most 10 s) until none of these PIDs is a worker that still
#     takes requests: each has exited or says "is shutting down"
#
# Used by the role's reload handlers: a reload returns as soon as the master
# got the signal, and a worker that still runs the old configuration after
# 10 s means the master did not load the new one.
set -u

pid_file() {
    file=$("$1" -T -c "$2" 2>/dev/null | sed -n 's/^[[:space:]]*pid[[:space:]]\{1,\}\([^;[:space:]]*\)[[:space:]]*;.*/\1/p' | head -n 1)
    [ -n "$file" ] || file=$("$1" -V 2>&1 | sed -n 's/.*--pid-path=\([^[:space:]]*\).*/\1/p' | head -n 1)
    echo "${file:-/run/nginx.pid}"
}

is_taking_requests() {
    [ "$(tr -d '\000' < "/proc/$1/cmdline" 2>/dev/null)" = "nginx: worker process" ]
}

case "${1:-}" in
    list)
        file=$(pid_file "$2" "$3")
        master=$(cat "$file" 2>/dev/null) || exit 0
        for dir in /proc/[0-9]*; do
            pid=${dir#/proc/}
            parent=$(cut -d ' ' -f 4 "$dir/stat" 2>/dev/null) || continue
            if [ "$parent" = "$master" ] && is_taking_requests "$pid"; then
                echo "$pid"
            fi
        done
        ;;
    wait)
        shift
        tries=0
        while [ "$tries" -lt 100 ]; do
            busy=
            for pid in "$@"; do
                if is_taking_requests "$pid"; then busy="$busy $pid"; fi
            done
            [ -z "$busy" ] && exit 0
            sleep 0.1
            tries=$((tries + 1))
        done
        echo "the old Nginx worker(s)$busy still take requests 10 s after the reload: the master did not load the" \
             "new configuration (its error log says why)" >&2
        exit 1
        ;;
    *)
        echo "usage: $0 list NGINX_BINARY NGINX_CONF | wait PID..." >&2
        exit 2
        ;;
esac
