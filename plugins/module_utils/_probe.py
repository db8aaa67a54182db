# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP from the proxy host: probing backends, sending requests through the proxy.

Standard library only: ``backend_probe`` and ``balance_check`` run this on
the proxy.  Every request has a timeout; every loop is bounded in count and
in time.  Checks on options raise :class:`ModelError` naming the option, the
value, the rule and the fix.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import time
from urllib.parse import quote, urlsplit

from ansible_collections.balancer.nginx.plugins.module_utils._balance import NO_ID
from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError, ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._options import BACKUP, DOWN
from ansible_collections.balancer.nginx.plugins.module_utils._values import check_address

MAX_BODY = 1024 * 1024          # bytes of an answer read at most
MAX_ID_LENGTH = 200             # characters of a body kept as a backend id
MAX_REQUESTS = 10000
MAX_CONCURRENCY = 64
MAX_TIMEOUT = 300.0
USER_AGENT = 'balancer.nginx'


# -- options ----------------------------------------------------------------

def split_address(option, address):
    """``host:port`` or ``[v6]:port`` -> ``(host, port)``; port 80 when left out, as in Nginx."""
    check_address(option, address)
    if address.startswith('unix:'):
        raise ModelError(option, 'is a unix socket, which cannot be probed over TCP',
                         'give host:port or [v6]:port (ansible.builtin.uri can reach a socket with unix_socket)',
                         value=address)
    if address.startswith('['):
        host, dummy, rest = address[1:].partition(']')
        port = rest[1:]
    else:
        host, dummy, port = address.partition(':')
    return host, int(port) if port else 80


def check_path(option, path):
    """A request target: starts with ``/``, no white space or control characters.

    Characters outside ASCII are percent-encoded as UTF-8, the way a browser
    sends them (``/café`` is requested as ``/caf%C3%A9``).
    """
    if not isinstance(path, str) or not path.startswith('/'):
        raise ModelError(option, 'must start with "/"', 'give e.g. /health', value=path)
    for char in path:
        if char.isspace() or ord(char) < 32 or 127 <= ord(char) < 160 or not char.isprintable():
            raise ModelError(option, 'contains %r, which cannot be sent in a request line' % char,
                             'percent-encode it (e.g. %20 for a space)', value=path)
    return quote(path, safe="/?#[]@!$&'()*+,;=:%~-._") if not path.isascii() else path


def check_host_header(option, value):
    """A Host header value: printable ASCII without white space (a name, an address, a port)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ModelError(option, 'must be a non-empty host name', 'give e.g. www.example.com', value=value)
    for char in value:
        if not ('!' <= char <= '~'):
            raise ModelError(option, 'contains %r, which cannot be sent in a Host header' % char,
                             'give a host name such as www.example.com (IDNA names in their xn-- form)',
                             value=value)
    return value


def check_statuses(option, statuses):
    if not statuses:
        raise ModelError(option, 'must list at least one HTTP status', 'give e.g. [200]')
    for index, status in enumerate(statuses):
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ModelError('%s[%d]' % (option, index), 'is not an HTTP status code', 'give a number from 100 to 599',
                             value=status)
    return list(statuses)


def check_timeout(option, timeout):
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT:
        raise ModelError(option, 'must be more than 0 and at most %d seconds' % MAX_TIMEOUT, 'give e.g. 2',
                         value=timeout)
    return float(timeout)


def parse_url(url):
    """``http://HOST[:PORT]/PATH[?QUERY]`` -> ``(host, port, target)``; only plain http."""
    if not isinstance(url, str) or not url:
        raise ModelError('url', 'is required', 'give e.g. http://127.0.0.1:80/')
    parts = urlsplit(url)
    if parts.scheme != 'http':
        raise ModelError('url', 'must start with http:// (only plain http is supported)',
                         'give e.g. http://127.0.0.1:80/ (send through a plain http listener of the proxy)', value=url)
    if parts.username is not None or parts.password is not None:
        raise ModelError('url', 'must not carry user information', 'remove the "user@" part', value=url)
    try:
        port = parts.port
    except ValueError:
        raise ModelError('url', 'has a port outside 1-65535', 'use a port from 1 to 65535', value=url)
    if not parts.hostname:
        raise ModelError('url', 'has no host', 'give e.g. http://127.0.0.1:80/', value=url)
    host = parts.hostname
    if not host.isascii():
        try:
            host = host.encode('idna').decode('ascii')
        except UnicodeError:
            raise ModelError('url', 'has a host name that is not a valid international domain name',
                             'give the host in its xn-- (IDNA) form, or an address', value=url)
    target = parts.path or '/'
    if parts.query:
        target += '?' + parts.query
    return host, port or 80, check_path('url', target)


# -- one request ------------------------------------------------------------

class Answer(object):
    """One request's outcome: an HTTP answer (``status``) or a failure (``error``)."""

    __slots__ = ('status', 'headers', 'body', 'latency_ms', 'error')

    def __init__(self, status=None, headers=None, body=b'', latency_ms=None, error=None):
        self.status = status
        self.headers = headers if headers is not None else {}
        self.body = body
        self.latency_ms = latency_ms
        self.error = error

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')


def describe_error(exc, timeout):
    """A short reason for a failed request."""
    if isinstance(exc, ConnectionRefusedError):
        return 'connection refused'
    if isinstance(exc, socket.timeout):
        return 'no answer within %s s' % timeout
    if isinstance(exc, http.client.RemoteDisconnected):
        return 'connection closed without an answer'
    if isinstance(exc, socket.gaierror):
        return 'cannot look up the host (%s)' % (exc.strerror or exc)
    if isinstance(exc, ConnectionResetError):
        return 'connection reset'
    if isinstance(exc, ssl.SSLCertVerificationError):
        return 'TLS certificate not accepted (%s)' % (exc.verify_message or exc.reason)
    if isinstance(exc, ssl.SSLError):
        return 'TLS handshake failed (%s)' % (exc.reason or exc)
    return '%s: %s' % (type(exc).__name__, exc)


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS to ``host`` that verifies (and sends as SNI) ``sni``, the name that backend_tls verifies."""

    def __init__(self, host, port, timeout, context, sni):
        super().__init__(host, port, timeout=timeout, context=context)
        self._sni = sni

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._sni)


def http_get(host, port, target, timeout, host_header=None, tls=None):
    """One ``GET`` on a new connection; latency from connect to the last byte of the body, in ms.

    ``tls``: ``(ssl_context, sni)`` to speak HTTPS instead of HTTP.
    """
    start = time.monotonic()
    if tls is None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    else:
        conn = _TLSConnection(host, port, timeout, tls[0], tls[1])
    headers = {'Connection': 'close', 'User-Agent': USER_AGENT}
    if host_header:
        headers['Host'] = host_header
    try:
        conn.request('GET', target, headers=headers)
        response = conn.getresponse()
        body = response.read(MAX_BODY)
        return Answer(status=response.status, headers=response.headers, body=body,
                      latency_ms=round((time.monotonic() - start) * 1000.0, 1))
    except (OSError, http.client.HTTPException) as exc:
        return Answer(error=describe_error(exc, timeout), latency_ms=round((time.monotonic() - start) * 1000.0, 1))
    finally:
        conn.close()


# -- backend_probe ----------------------------------------------------------

def judge(answer, expect_status, expect_body=None):
    """``(healthy, reason)`` of a probe's answer."""
    if answer.error is not None:
        return False, answer.error
    if answer.status not in expect_status:
        return False, 'status %d, expected %s' % (answer.status, ' or '.join(str(s) for s in expect_status))
    if expect_body is not None and expect_body not in answer.text:
        return False, 'body does not contain %r' % expect_body
    return True, None


def tls_context(tls):
    """The ``ssl.SSLContext`` of backend_probe's ``tls`` options (``verify``, ``trusted_certificate``)."""
    if not tls['verify']:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    trusted = tls.get('trusted_certificate')
    try:
        return ssl.create_default_context(cafile=trusted)
    except (OSError, ssl.SSLError) as exc:
        raise ModelError('tls.trusted_certificate', 'cannot be read as PEM certificates on the proxy (%s)'
                         % (getattr(exc, 'strerror', None) or exc),
                         'give the file of the CA that signed the backends\' certificates', value=trusted)


def probe_backend(address, path, timeout, expect_status, expect_body=None, getter=http_get, tls=None):
    """Probe one backend; ``tls``: ``(ssl_context, sni or None for the address's host)`` for HTTPS."""
    host, port = split_address('backends', address)
    if tls is None:
        answer = getter(host, port, path, timeout)
    else:
        answer = getter(host, port, path, timeout, tls=(tls[0], tls[1] or host))
    healthy, reason = judge(answer, expect_status, expect_body)
    return {'address': address, 'healthy': healthy, 'status': answer.status, 'latency_ms': answer.latency_ms,
            'error': reason}


def check_backends(backends):
    """Validate every address before the first request; refuse duplicates."""
    if not backends:
        raise ModelError('backends', 'must list at least one backend', 'give e.g. [127.0.0.1:8081]')
    seen = set()
    for index, address in enumerate(backends):
        split_address('backends[%d]' % index, address)
        if address in seen:
            raise ModelError('backends[%d]' % index, 'is listed twice', 'list each backend once', value=address)
        seen.add(address)
    return list(backends)


def check_min_healthy(min_healthy, count):
    """``min_healthy`` as a number (``None``: every backend)."""
    if min_healthy is None:
        return count
    if isinstance(min_healthy, bool) or not isinstance(min_healthy, int) or not 0 <= min_healthy <= count:
        raise ModelError('min_healthy', 'must be from 0 to the number of backends probed (%d)' % count,
                         'give at most %d, or leave it out to require every backend' % count, value=min_healthy)
    return min_healthy


def health_verdict(results, min_healthy):
    """``None`` when at least ``min_healthy`` backends are healthy, else the error naming the unhealthy ones."""
    healthy = sum(1 for r in results if r['healthy'])
    if healthy >= min_healthy:
        return None
    unhealthy = ', '.join('%s (%s)' % (r['address'], r['error']) for r in results if not r['healthy'])
    return BalancerError('min_healthy', 'not met: %d of %d backends healthy; unhealthy: %s'
                         % (healthy, len(results), unhealthy),
                         'fix those backends or lower min_healthy', value=min_healthy)


def probe_targets(servers):
    """An upstream's ``servers`` (as ``config_info`` gives them) -> ``(targets, skipped)``.

    ``targets``: ``{address, backup}`` of each server to probe, in order;
    ``skipped``: ``{address, reason}`` of servers marked ``down`` and of unix
    sockets, which cannot be probed over TCP.
    """
    targets, skipped, seen = [], [], set()
    for server in servers:
        address = server['address']
        if server.get(DOWN.name):
            skipped.append({'address': address, 'reason': 'marked down'})
        elif address.startswith('unix:'):
            skipped.append({'address': address, 'reason': 'unix socket, cannot be probed over TCP'})
        elif address not in seen:
            seen.add(address)
            targets.append({'address': address, BACKUP.name: bool(server.get(BACKUP.name))})
    return targets, skipped


# -- balance_check ----------------------------------------------------------

def backend_id(identify_by, answer, header='X-Backend'):
    """Which backend sent ``answer``: a response header's value or the body, stripped; ``-`` when it does not say."""
    if identify_by == 'header':
        value = answer.headers.get(header)
        value = value.strip() if value else ''
    elif identify_by == 'body':
        value = answer.text.strip()[:MAX_ID_LENGTH]
    else:
        raise ValueError('identify_by %r has no answer-side id' % identify_by)
    return value or NO_ID


def send_requests(host, port, target, count, timeout, host_header=None, concurrency=1, max_duration=300.0,
                  getter=http_get, clock=time.monotonic):
    """Send ``count`` GETs, ``concurrency`` at a time; stop starting new ones after ``max_duration`` s.

    Returns the answers in the order the requests were started; requests that
    were never started (time ran out) are left out.
    """
    deadline = clock() + max_duration
    answers = [None] * count
    lock = threading.Lock()
    state = {'next': 0}

    def worker():
        while True:
            with lock:
                index = state['next']
                if index >= count or clock() > deadline:
                    return
                state['next'] += 1
            answers[index] = getter(host, port, target, timeout, host_header)

    workers = min(max(1, concurrency), count) if count else 0
    if workers <= 1:
        worker()
    else:
        threads = [threading.Thread(target=worker) for dummy in range(workers)]
        for thread in threads:
            thread.daemon = True
            thread.start()
        for thread in threads:
            thread.join()
    return [a for a in answers if a is not None]


class LogTail(object):
    """The lines appended to a log file after :meth:`start`, whole lines only (a rotated file is read anew)."""

    def __init__(self, path):
        self.path = path
        self.inode = None
        self.offset = 0

    def start(self):
        try:
            st = os.stat(self.path)
        except OSError:
            self.inode, self.offset = None, 0
            return
        self.inode, self.offset = st.st_ino, st.st_size

    def lines(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return []
        offset = self.offset if st.st_ino == self.inode and st.st_size >= self.offset else 0
        with open(self.path, 'rb') as handle:
            handle.seek(offset)
            data = handle.read()
        complete = data[:data.rfind(b'\n') + 1]
        return complete.decode('utf-8', 'replace').splitlines()
