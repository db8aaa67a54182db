# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_probe.py over TLS: backend_probe's ``tls`` against a real HTTPS server on 127.0.0.1.

The certificates come from the lab's own script (lab/backend/lab-tls.sh), so
the unit tests meet the same chain the lab's HTTPS backends serve: app1's
certificate names app1.lab.test, backend.lab.test, localhost and 127.0.0.1,
signed by the lab CA; the other CA signed nothing the server sends.  The
openssl program is one of the packages scripts/setup-apt.sh installs.
"""

from __future__ import annotations

import http.server
import os
import ssl
import subprocess
import threading

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _probe
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError

LAB_TLS = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'lab', 'backend', 'lab-tls.sh')


@pytest.fixture(scope='module')
def material(tmp_path_factory):
    directory = tmp_path_factory.mktemp('tls')
    subprocess.run(['sh', LAB_TLS, str(directory)], check=True, capture_output=True)
    return directory


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server calls)
        body = b'ok\n'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('X-SNI', getattr(self.server, 'sni', '') or '')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def https_port(material):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(material / 'app1.crt'), str(material / 'app1.key'))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)

    def remember(sock, name, dummy):
        server.sni = name

    context.sni_callback = remember
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def probe(port, **tls):
    options = dict({'verify': True, 'trusted_certificate': None, 'name': None}, **tls)
    return _probe.probe_backend('127.0.0.1:%d' % port, '/health', 5.0, [200],
                                tls=(_probe.tls_context(options), options['name']))


def test_a_certificate_of_the_trusted_ca_for_the_name_is_healthy(material, https_port):
    result = probe(https_port, trusted_certificate=str(material / 'ca.crt'), name='backend.lab.test')
    assert result['healthy'] is True, result
    assert result['status'] == 200


def test_without_a_name_the_address_host_is_verified(material, https_port):
    # the certificate carries IP 127.0.0.1, so the address itself verifies
    assert probe(https_port, trusted_certificate=str(material / 'ca.crt'))['healthy'] is True


def test_the_name_is_sent_as_sni(material, https_port):
    answer = _probe.http_get('127.0.0.1', https_port, '/', 5.0, tls=(_probe.tls_context(
        {'verify': True, 'trusted_certificate': str(material / 'ca.crt')}), 'app1.lab.test'))
    assert answer.error is None
    assert answer.headers.get('X-SNI') == 'app1.lab.test'


def test_another_ca_is_refused_naming_the_reason(material, https_port):
    result = probe(https_port, trusted_certificate=str(material / 'other-ca.crt'), name='backend.lab.test')
    assert result['healthy'] is False
    assert result['status'] is None
    assert result['error'].startswith('TLS certificate not accepted (')
    assert 'issuer' in result['error']


def test_a_name_the_certificate_lacks_is_refused(material, https_port):
    result = probe(https_port, trusted_certificate=str(material / 'ca.crt'), name='wrong.lab.test')
    assert result['healthy'] is False
    assert 'wrong.lab.test' in result['error']


def test_verify_false_accepts_any_certificate(material, https_port):
    assert probe(https_port, verify=False, trusted_certificate=str(material / 'other-ca.crt'))['healthy'] is True


def test_plain_http_to_a_tls_port_is_unhealthy(https_port):
    result = _probe.probe_backend('127.0.0.1:%d' % https_port, '/health', 5.0, [200])
    assert result['healthy'] is False
    assert result['status'] is None


def test_an_unreadable_ca_file_names_the_option(tmp_path):
    missing = str(tmp_path / 'missing.pem')
    with pytest.raises(ModelError) as info:
        _probe.tls_context({'verify': True, 'trusted_certificate': missing})
    assert str(info.value) == ("tls.trusted_certificate: %r cannot be read as PEM certificates on the proxy "
                               "(No such file or directory); give the file of the CA that signed the backends' "
                               "certificates." % missing)


def test_a_file_that_is_no_certificate_names_the_option(tmp_path):
    junk = tmp_path / 'junk.pem'
    junk.write_text('not a certificate\n')
    with pytest.raises(ModelError) as info:
        _probe.tls_context({'verify': True, 'trusted_certificate': str(junk)})
    assert str(info.value).startswith('tls.trusted_certificate: %r cannot be read as PEM certificates' % str(junk))
