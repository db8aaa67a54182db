# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every open source golden file passes a real ``nginx -t``.

The unit tests compare the renderer's output with the golden files in
tests/unit/plugins/module_utils/golden/; this proves that those files are what
Nginx accepts.  Each file, byte for byte as it is, is included in a minimal
configuration that defines what a vhost golden refers to (its upstream
groups, the upstream_debug log format); a golden of the stream context is
included in a stream {} block (the stream module loaded when it is a dynamic
one) that defines the groups its proxies pass to.  The files name hosts
(api1.internal), certificates (/etc/ssl/...) and logs (/var/log/nginx/...)
that this host need not have: ``nginx -t`` runs in a private mount
namespace where /etc/hosts, /etc/ssl and /var/log/nginx are throwaway
directories of the test, so nothing on the host is read or written.

A golden file that needs a newer open source Nginx than the one installed
must be refused by it, naming the directive that Nginx gained later (so the
version the engine's feature table gives is the version that matters).
NGINX Plus goldens are listed apart, with what makes them Plus.
Run by ``make integration``.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess

import pytest

NGINX = shutil.which('nginx') or '/usr/sbin/nginx'
HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, '..', 'unit', 'plugins', 'module_utils', 'golden')

# golden file (without .conf) -> the open source Nginx version it needs (every directive and parameter in it)
OPEN_SOURCE = {
    'upstream_round_robin_weights': (1, 0, 0),
    'upstream_least_conn': (1, 3, 1),             # least_conn
    'upstream_ip_hash': (1, 0, 0),
    'upstream_hash_consistent': (1, 7, 2),        # hash ... consistent
    'upstream_random_two': (1, 15, 1),            # random two
    'upstream_keepalive': (1, 19, 10),            # keepalive_time
    'upstream_server_parameters': (1, 11, 5),     # max_conns
    'upstream_unix_and_v6': (1, 0, 0),
    'upstream_zone_resolve_resolver': (1, 27, 3),  # resolver, resolver_timeout and resolve in upstream
    'vhost_simple': (1, 1, 4),                    # proxy_http_version
    'vhost_keepalive': (1, 1, 4),
    'vhost_locations': (1, 7, 5),                 # proxy_next_upstream_tries, proxy_next_upstream_timeout
    'vhost_tls': (1, 1, 4),
    'vhost_backend_tls': (1, 7, 8),               # proxy_ssl_verify, _name, _server_name (1.7.0), _certificate (1.7.8)
    'vhost_split': (1, 1, 4),                     # split_clients (0.8.37), proxy_http_version
    'upstream_stream': (1, 11, 5),                # upstream in stream {} (1.9.0), max_conns there (1.11.5)
    'stream_proxy_tcp': (1, 9, 0),                # the stream proxy module
    'stream_proxy_udp': (1, 9, 13),               # listen ... udp
}
# golden file -> the first line an older open source Nginx refuses, as it says it
REFUSED_BEFORE = {
    'upstream_zone_resolve_resolver': '"resolver" directive is not allowed here in {file}:5',
}
PLUS = {
    'upstream_plus_features': 'least_time, sticky cookie, slow_start, route, drain, ntlm and queue',
    'upstream_random_two_least_time': 'random two least_time=',
}

# Goldens of the stream context: included in stream {}, not in http {}.
STREAM_GOLDENS = ('upstream_stream', 'stream_proxy_tcp', 'stream_proxy_udp')
# What the stream proxy goldens refer to, defined in the stream block around them.
STREAM_CONTEXT = '''    upstream pg {{ server 127.0.0.1:5432; }}
    upstream dns {{ server 127.0.0.1:53; }}
'''
# What the vhost goldens refer to, defined in the http block around them.
VHOST_CONTEXT = '''    log_format upstream_debug '$remote_addr $host $request status=$status upstream=$upstream_addr '
                              'upstream_status=$upstream_status upstream_response_time=$upstream_response_time';
    upstream app {{ server 127.0.0.1:18081; }}
    upstream api {{ server 127.0.0.1:18082; keepalive 16; }}
    upstream plain {{ server 127.0.0.1:18083; }}
    map $http_upgrade $balancer_connection_upgrade {{ default upgrade; '' ''; }}
'''
MAIN = '''{load}pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 16; }}
http {{
    access_log off;
    client_body_temp_path {root}/t1; proxy_temp_path {root}/t2; fastcgi_temp_path {root}/t3;
    uwsgi_temp_path {root}/t4; scgi_temp_path {root}/t5;
{context}    include {root}/conf.d/*.conf;
}}
'''
# The http block of a stream golden, and the stream block that includes it.
MAIN_STREAM = '''{load}pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 16; }}
http {{
    access_log off;
    client_body_temp_path {root}/t1; proxy_temp_path {root}/t2; fastcgi_temp_path {root}/t3;
    uwsgi_temp_path {root}/t4; scgi_temp_path {root}/t5;
}}
stream {{
{context}    include {root}/conf.d/*.conf;
}}
'''
# The host names the golden files use, resolved in the private namespace only.
HOSTS = '127.0.0.1 localhost\n::1 localhost\n10.0.0.2 api1.internal api2.internal app.service.internal\n'


def installed_version():
    run = subprocess.run([NGINX, '-v'], capture_output=True, timeout=30, check=False)
    match = re.search(r'nginx/(\d+)\.(\d+)\.(\d+)', run.stderr.decode('utf-8', 'replace'))
    assert match, run.stderr
    return tuple(int(part) for part in match.groups())


def stream_load_module():
    """The ``load_module`` line a configuration with stream {} needs ('' when the module is built in)."""
    run = subprocess.run([NGINX, '-V'], capture_output=True, timeout=30, check=False)
    build = run.stderr.decode('utf-8', 'replace')
    if '--with-stream=dynamic' not in build:
        assert '--with-stream' in build, 'this nginx has no stream module: %s' % build
        return ''
    match = re.search(r'--modules-path=(\S+)', build)
    path = os.path.join(match.group(1) if match else '/usr/lib/nginx/modules', 'ngx_stream_module.so')
    assert os.path.exists(path), 'no %s (make apt installs libnginx-mod-stream)' % path
    return 'load_module %s;\n' % path


def golden_names():
    return sorted(name[:-len('.conf')] for name in os.listdir(GOLDEN) if name.endswith('.conf'))


def write_certificate(directory):
    """A throwaway self-signed certificate at certs/secure.pem and private/secure.key under ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'secure.example.com')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    os.makedirs(os.path.join(directory, 'certs'))
    os.makedirs(os.path.join(directory, 'private'))
    with open(os.path.join(directory, 'certs', 'secure.pem'), 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(directory, 'private', 'secure.key'), 'wb') as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def nginx_t(root, name):
    """``(exit status, stderr)`` of nginx -t over golden file ``name`` in a minimal configuration under ``root``."""
    conf_d = os.path.join(root, 'conf.d')
    os.makedirs(conf_d)
    for directory in ('t1', 't2', 't3', 't4', 't5', 'log', 'ssl'):
        os.makedirs(os.path.join(root, directory))
    shutil.copyfile(os.path.join(GOLDEN, name + '.conf'), os.path.join(conf_d, name + '.conf'))
    with open(os.path.join(root, 'nginx.conf'), 'w') as handle:
        if name in STREAM_GOLDENS:
            context = STREAM_CONTEXT.format() if name.startswith('stream_proxy_') else ''
            handle.write(MAIN_STREAM.format(root=root, context=context, load=stream_load_module()))
        else:
            context = VHOST_CONTEXT.format() if name.startswith('vhost_') else ''
            handle.write(MAIN.format(root=root, context=context, load=''))
    with open(os.path.join(root, 'hosts'), 'w') as handle:
        handle.write(HOSTS)
    write_certificate(os.path.join(root, 'ssl'))
    binds = [(os.path.join(root, 'hosts'), '/etc/hosts'), (os.path.join(root, 'ssl'), '/etc/ssl'),
             (os.path.join(root, 'log'), '/var/log/nginx')]
    script = ' && '.join(['mount --bind "$%d" "$%d"' % (2 * i + 1, 2 * i + 2) for i in range(len(binds))]
                         + ['exec "$%d" -t -c "$%d"' % (2 * len(binds) + 1, 2 * len(binds) + 2)])
    namespace = ['unshare', '--mount', '--propagation', 'private']
    if os.geteuid() != 0:
        namespace[1:1] = ['--user', '--map-root-user']
    args = [a for pair in binds for a in pair] + [NGINX, os.path.join(root, 'nginx.conf')]
    run = subprocess.run(namespace + ['sh', '-c', script, 'sh'] + args, capture_output=True, timeout=60,
                         check=False)
    return run.returncode, run.stderr.decode('utf-8', 'replace')


def test_nginx_is_there():
    assert os.access(NGINX, os.X_OK), 'no nginx at %s (make apt installs it)' % NGINX
    assert shutil.which('unshare'), 'unshare (util-linux) runs nginx -t in a private mount namespace'


def test_every_golden_file_is_open_source_or_plus():
    assert sorted(OPEN_SOURCE) == sorted(set(golden_names()) - set(PLUS))
    assert set(STREAM_GOLDENS) <= set(OPEN_SOURCE)
    assert not set(OPEN_SOURCE) & set(PLUS)
    assert set(REFUSED_BEFORE) <= set(OPEN_SOURCE)


@pytest.mark.parametrize('name', sorted(OPEN_SOURCE))
def test_open_source_golden_file_passes_nginx_t(name, tmp_path):
    rc, output = nginx_t(str(tmp_path), name)
    if installed_version() >= OPEN_SOURCE[name]:
        assert rc == 0, output
        assert 'test is successful' in output
    else:
        # this Nginx predates the file: it must refuse exactly what the file needs a newer version for
        expected = REFUSED_BEFORE[name].format(file=os.path.join(str(tmp_path), 'conf.d', name + '.conf'))
        assert rc != 0
        assert '[emerg] ' in output and expected in output, output
