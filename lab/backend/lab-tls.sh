#!/bin/sh
# The lab's TLS material: two unrelated CAs and the certificates they sign.
#
#   lab/backend/lab-tls.sh DIR
#
# Writes into DIR (created if missing; files already there are replaced):
#
#   ca.crt ca.key              the lab CA, CN "balancer-lab CA"
#   app1.crt app1.key          server certificates signed by the lab CA, for
#   app2.crt app2.key            DNS appN.lab.test, backend.lab.test, localhost
#   app3.crt app3.key            and IP 127.0.0.1
#   client.crt client.key      client certificate signed by the lab CA,
#                                CN "lab-client" (mutual TLS)
#   other-ca.crt other-ca.key  an unrelated CA, CN "balancer-lab other CA"
#   other.crt other.key        server certificate signed by the other CA, for
#                                DNS other.lab.test, backend.lab.test, localhost
#                                and IP 127.0.0.1
#
# Every server certificate carries backend.lab.test, so one proxy_ssl_name
# verifies a whole group; other.crt carries it too, so that only its CA is
# wrong. Keys are EC P-256 (PEM, PKCS#8), certificates SHA-256, valid for
# LAB_TLS_DAYS days (default 3650). Needs the openssl program.
set -eu

dir=${1:?usage: lab-tls.sh DIR}
days=${LAB_TLS_DAYS:-3650}
command -v openssl >/dev/null || { echo "lab-tls.sh: the openssl program is missing" >&2; exit 1; }
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$1.key"
}

# new_ca NAME COMMON_NAME
new_ca() {
    new_key "$1"
    cat >"$work/$1.cnf" <<EOF
[req]
prompt = no
distinguished_name = dn
x509_extensions = ca
[dn]
CN = $2
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    openssl req -new -x509 -config "$work/$1.cnf" -key "$dir/$1.key" -sha256 -days "$days" \
        -out "$dir/$1.crt"
}

# new_cert NAME COMMON_NAME CA EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
new_cert() {
    new_key "$1"
    cat >"$work/$1.cnf" <<EOF
[req]
prompt = no
distinguished_name = dn
[dn]
CN = $2
EOF
    cat >"$work/$1.ext" <<EOF
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = $4
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    [ -z "${5:-}" ] || echo "subjectAltName = $5" >>"$work/$1.ext"
    openssl req -new -config "$work/$1.cnf" -key "$dir/$1.key" -out "$work/$1.csr"
    openssl x509 -req -in "$work/$1.csr" -CA "$dir/$3.crt" -CAkey "$dir/$3.key" \
        -set_serial "0x$(openssl rand -hex 16)" -sha256 -days "$days" \
        -extfile "$work/$1.ext" -out "$dir/$1.crt" 2>"$work/$1.log" || {
        cat "$work/$1.log" >&2
        exit 1
    }
}

server_names() {
    echo "DNS:$1, DNS:backend.lab.test, DNS:localhost, IP:127.0.0.1"
}

new_ca ca "balancer-lab CA"
for app in app1 app2 app3; do
    new_cert "$app" "$app.lab.test" ca serverAuth "$(server_names "$app.lab.test")"
done
new_cert client lab-client ca clientAuth
new_ca other-ca "balancer-lab other CA"
new_cert other other.lab.test other-ca serverAuth "$(server_names other.lab.test)"

for name in app1 app2 app3 client; do
    openssl verify -CAfile "$dir/ca.crt" "$dir/$name.crt" >/dev/null
done
openssl verify -CAfile "$dir/other-ca.crt" "$dir/other.crt" >/dev/null
