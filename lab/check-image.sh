#!/usr/bin/env bash
# What a lab image promises, checked inside a running lab container:
#
#   docker exec -i CONTAINER bash -s < lab/check-image.sh
#
# (lab/lab.sh check does that for each image). Prints one line per check,
# "ok" or "FAIL", and exits 1 if any failed. A throwaway nginx on 127.0.0.1
# ports 7000..7091 (its own config, pid and logs under a temp dir) proves the
# stream module, TLS to the backends and the lab DNS; the system nginx and
# the backends' state are left as they were.
set -uo pipefail

TLS=/etc/balancer-lab/tls
failed=0
ok() { printf 'ok   - %s\n' "$*"; }
fail() { printf 'FAIL - %s\n' "$*"; failed=1; }
check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}
equal() { # equal DESCRIPTION ACTUAL EXPECTED
    if [[ $2 == "$3" ]]; then ok "$1: $2"; else fail "$1: got '$2', expected '$3'"; fi
}
header() { # header NAME: the value of response header NAME on stdin (curl -D-)
    tr -d '\r' | awk -v h="$1" 'tolower($0) ~ "^" tolower(h) ":" { sub(/^[^:]*:[ \t]*/, ""); print; exit }'
}
tcp_exchange() { # tcp_exchange PORT: first line, then the echo of "ping"
    python3 - "$1" <<'EOF'
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as sock:
    stream = sock.makefile("rb")
    first = stream.readline().decode().strip()
    sock.sendall(b"ping\n")
    print(first, stream.readline().decode().strip())
EOF
}
udp_exchange() { # udp_exchange PORT: the answer to the datagram "ping"
    python3 - "$1" <<'EOF'
import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(5)
    sock.sendto(b"ping", ("127.0.0.1", int(sys.argv[1])))
    print(sock.recv(1024).decode())
EOF
}
wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# ---------------------------------------------------------------- system
equal "systemd booted" "$(systemctl is-system-running)" running
nginx_version=$(nginx -v 2>&1 | sed 's|.*nginx/||')
ok "nginx version $nginx_version"
check "nginx.service is active" systemctl is-active nginx
check "nginx -t of the system config" nginx -t
for unit in balancer-backend@app1 balancer-backend@app2 balancer-backend@app3 balancer-backend@other balancer-lab-dns; do
    check "$unit is active" systemctl is-active "$unit"
done
so=/usr/lib/nginx/modules/ngx_stream_module.so
check "stream module at $so" test -f "$so"
check "nginx -V: stream built as a dynamic module" sh -c 'nginx -V 2>&1 | grep -q -- "--with-stream=dynamic"'
check "modules-enabled loads the stream module" grep -qs ngx_stream_module /etc/nginx/modules-enabled/50-mod-stream.conf

# ---------------------------------------------------------------- backends
for n in 1 2 3; do
    equal "app$n HTTP 808$n" "$(curl -s "http://127.0.0.1:808$n/")" "app$n"
    equal "app$n TCP 908$n (name, then the echo)" "$(tcp_exchange "908$n")" "app$n ping"
    equal "app$n UDP 908$n" "$(udp_exchange "908$n")" "app$n ping"
    head=$(curl -s -D- -o /dev/null --cacert "$TLS/ca.crt" --resolve "app$n.lab.test:844$n:127.0.0.1" \
        "https://app$n.lab.test:844$n/headers")
    equal "app$n HTTPS 844$n verified by the lab CA, X-Backend" "$(header X-Backend <<<"$head")" "app$n"
    equal "app$n HTTPS 844$n X-SNI" "$(header X-SNI <<<"$head")" "app$n.lab.test"
    equal "app$n HTTPS 844$n X-Client-CN without a client certificate" "$(header X-Client-CN <<<"$head")" ""
    head=$(curl -s -D- -o /dev/null --cacert "$TLS/ca.crt" --cert "$TLS/client.crt" --key "$TLS/client.key" \
        --resolve "backend.lab.test:844$n:127.0.0.1" "https://backend.lab.test:844$n/")
    equal "app$n HTTPS 844$n mutual TLS: X-Client-CN" "$(header X-Client-CN <<<"$head")" "lab-client"
    equal "app$n HTTPS 844$n answers for backend.lab.test" "$(header X-SNI <<<"$head")" "backend.lab.test"
done
curl -s -o /dev/null --cacert "$TLS/ca.crt" --resolve other.lab.test:8444:127.0.0.1 https://other.lab.test:8444/
equal "other HTTPS 8444 fails verification with the lab CA (curl exit 60)" "$?" 60
equal "other HTTPS 8444 verifies with other-ca.crt" \
    "$(curl -s --cacert "$TLS/other-ca.crt" --resolve other.lab.test:8444:127.0.0.1 https://other.lab.test:8444/)" other
curl -s -o /dev/null --cacert "$TLS/ca.crt" --cert "$TLS/other.crt" --key "$TLS/other.key" https://127.0.0.1:8441/
check "app1 HTTPS refuses a client certificate from the other CA" test $? -ne 0

control=/run/balancer-backend/app2.control
echo 503 >"$control"
equal "control file mode 503 applies to HTTPS" \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TLS/ca.crt" https://127.0.0.1:8442/)" 503
echo refuse >"$control"
check "mode refuse closes HTTP 8082" wait_for 5 sh -c '! curl -s -o /dev/null http://127.0.0.1:8082/'
check "mode refuse closes HTTPS 8442" wait_for 5 sh -c '! curl -s -o /dev/null -k https://127.0.0.1:8442/'
check "mode refuse closes TCP 9082" wait_for 5 bash -c '! (exec 3<>/dev/tcp/127.0.0.1/9082)'
echo ok >"$control"
check "mode ok opens them again" wait_for 5 bash -c \
    'curl -sf -o /dev/null http://127.0.0.1:8082/ && curl -sf -o /dev/null -k https://127.0.0.1:8442/ && (exec 3<>/dev/tcp/127.0.0.1/9082)'
equal "UDP 9082 answers again" "$(udp_exchange 9082)" "app2 ping"

# ---------------------------------------------------------------- throwaway nginx
dir=$(mktemp -d)
names_before=$(balancer-lab-dns)
cleanup() {
    [[ -s $dir/nginx.pid ]] && nginx -c "$dir/nginx.conf" -s stop 2>/dev/null
    [[ $(balancer-lab-dns) == "$names_before" ]] || balancer-lab-dns app.lab.test 127.0.0.1
    rm -rf "$dir"
}
trap cleanup EXIT

resolve_upstream=
if dpkg --compare-versions "$nginx_version" ge 1.27.3; then
    # Re-resolvable servers (1.27.3): the upstream follows the lab DNS.
    resolve_upstream="
        upstream moving { zone moving 64k; resolver 127.0.0.1 valid=1s; server app.lab.test:8081 resolve; }
        server { listen 127.0.0.1:7091; location / { proxy_pass http://moving; add_header X-Upstream \$upstream_addr always; } }"
fi
cat >"$dir/nginx.conf" <<EOF
# Every version: the stream module through an explicit load_module.
load_module $so;
pid $dir/nginx.pid;
error_log $dir/error.log;
worker_processes 1;
events {}
stream {
    upstream tcp_apps { server 127.0.0.1:9081; server 127.0.0.1:9082; server 127.0.0.1:9083; }
    upstream udp_apps { server 127.0.0.1:9081; server 127.0.0.1:9082; server 127.0.0.1:9083; }
    server { listen 127.0.0.1:7000; proxy_pass tcp_apps; }
    server { listen 127.0.0.1:7000 udp; proxy_pass udp_apps; proxy_responses 1; proxy_timeout 2s; }
}
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    proxy_ssl_trusted_certificate $TLS/ca.crt;
    proxy_ssl_verify on;
    proxy_ssl_server_name on;
    proxy_ssl_name backend.lab.test;
    upstream tls_apps { server 127.0.0.1:8441; server 127.0.0.1:8442; server 127.0.0.1:8443; }
    server { listen 127.0.0.1:7080; location / { proxy_pass https://tls_apps; } }
    server {
        listen 127.0.0.1:7081;
        location / {
            proxy_pass https://127.0.0.1:8441;
            proxy_ssl_certificate $TLS/client.crt;
            proxy_ssl_certificate_key $TLS/client.key;
        }
    }
    server { listen 127.0.0.1:7082; location / { proxy_pass https://127.0.0.1:8444; } }
    server {
        listen 127.0.0.1:7090;
        resolver 127.0.0.1 valid=1s;
        location / {
            set \$name app.lab.test;
            proxy_pass http://\$name:8081;
            add_header X-Upstream \$upstream_addr always;
        }
    }$resolve_upstream
}
EOF
check "nginx -t of a throwaway config with stream {} (load_module $so)" nginx -t -c "$dir/nginx.conf"
# The same stream block, the module loaded the Debian way.
sed "s|^load_module .*|include /etc/nginx/modules-enabled/*.conf;|" "$dir/nginx.conf" >"$dir/debian.conf"
check "nginx -t of it with the module from modules-enabled" nginx -t -c "$dir/debian.conf"
if nginx -c "$dir/nginx.conf"; then
    ok "throwaway nginx started"
    wait_for 5 test -s "$dir/nginx.pid"
    names=$(for _ in 1 2 3 4 5 6; do tcp_exchange 7000; done | sort | uniq -c | awk '{print $2 "=" $1}' | xargs)
    equal "stream TCP proxy, 6 connections round-robin" "$names" "app1=2 app2=2 app3=2"
    names=$(for _ in 1 2 3; do udp_exchange 7000; done | awk '{print $1}' | sort | xargs)
    equal "stream UDP proxy, 3 datagrams" "$names" "app1 app2 app3"
    names=$(for _ in 1 2 3; do curl -s http://127.0.0.1:7080/; done | sort | xargs)
    equal "proxy_ssl_verify with the lab CA over app1..3" "$names" "app1 app2 app3"
    head=$(curl -s -D- -o /dev/null http://127.0.0.1:7081/)
    equal "through nginx: X-SNI is proxy_ssl_name" "$(header X-SNI <<<"$head")" backend.lab.test
    equal "through nginx: mutual TLS, X-Client-CN" "$(header X-Client-CN <<<"$head")" lab-client
    equal "through nginx: the other CA's backend gets 502" \
        "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:7082/)" 502
    check "nginx logged the failed verification" grep -q "upstream SSL certificate verify error" "$dir/error.log"

    upstream_of() { curl -s -D- -o /dev/null "http://127.0.0.1:$1/" | header X-Upstream; }
    equal "lab DNS: resolver 127.0.0.1 finds app.lab.test" "$(upstream_of 7090)" 127.0.0.1:8081
    if [[ -n $resolve_upstream ]]; then
        equal "upstream with resolve: app.lab.test" "$(upstream_of 7091)" 127.0.0.1:8081
    fi
    balancer-lab-dns app.lab.test 127.0.0.2
    check "lab DNS: proxy_pass \$name follows app.lab.test to 127.0.0.2 within 5 s" \
        wait_for 5 sh -c "curl -s -D- -o /dev/null http://127.0.0.1:7090/ | grep -q 'X-Upstream: 127.0.0.2:8081'"
    if [[ -n $resolve_upstream ]]; then
        started=$SECONDS
        if wait_for 5 sh -c "curl -s -D- -o /dev/null http://127.0.0.1:7091/ | grep -q 'X-Upstream: 127.0.0.2:8081'"; then
            ok "upstream zone + resolver + server app.lab.test:8081 resolve follows the change (within $((SECONDS - started + 1)) s)"
        else
            fail "upstream with resolve did not follow app.lab.test to 127.0.0.2 within 5 s ($(upstream_of 7091))"
        fi
    fi
    balancer-lab-dns app.lab.test 127.0.0.1
else
    fail "throwaway nginx did not start: $(tail -n 5 "$dir/error.log")"
fi

if ((failed)); then
    echo "some checks FAILED"
    exit 1
fi
echo "all checks passed"
