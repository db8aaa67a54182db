# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_probe.py: options, judging answers, backend ids, bounded request loops, the log tail.

No network: requests go to stub getters (or a stubbed http.client connection).
"""

from __future__ import annotations

import http.client
import socket
import threading

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _probe
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._probe import (
    Answer, LogTail, backend_id, check_backends, check_min_healthy, check_path, check_statuses, check_timeout,
    describe_error, health_verdict, judge, parse_url, probe_backend, probe_targets, send_requests, split_address)


def refused(option, call, *args):
    with pytest.raises(ModelError) as info:
        call(*args)
    assert str(info.value).startswith(option + ': ')
    return str(info.value)


# -- addresses ----------------------------------------------------------------

@pytest.mark.parametrize('address, expected', [
    ('127.0.0.1:8081', ('127.0.0.1', 8081)),
    ('backend.internal:8080', ('backend.internal', 8080)),
    ('10.0.0.1', ('10.0.0.1', 80)),
    ('[::1]:8081', ('::1', 8081)),
    ('[::1]', ('::1', 80)),
    ('[fe80::1%eth0]:80', ('fe80::1%eth0', 80)),
])
def test_split_address(address, expected):
    assert split_address('backends[0]', address) == expected


def test_unix_socket_refused_with_the_way_out():
    assert refused('backends[1]', split_address, 'backends[1]', 'unix:/run/app.sock') == (
        "backends[1]: 'unix:/run/app.sock' is a unix socket, which cannot be probed over TCP; give host:port or "
        "[v6]:port (ansible.builtin.uri can reach a socket with unix_socket).")


@pytest.mark.parametrize('address, message', [
    ('http://127.0.0.1:8081', "backends[0]: 'http://127.0.0.1:8081' is not an address Nginx accepts in an upstream; "
                              "give host:port, [v6]:port or unix:/path (no scheme, no path)."),
    ('127.0.0.1:99999', "backends[0]: '127.0.0.1:99999' has port 99999 outside 1-65535; use a port from 1 to 65535."),
    ('a;b:80', "backends[0]: 'a;b:80' contains ';', which Nginx would read as syntax, not as part of an address; "
               "remove it."),
    ('', 'backends[0]: is required; give host:port, [v6]:port or unix:/path.'),
])
def test_bad_addresses(address, message):
    assert refused('backends[0]', split_address, 'backends[0]', address) == message


def test_check_backends():
    assert check_backends(['127.0.0.1:8081', '[::1]:8082']) == ['127.0.0.1:8081', '[::1]:8082']
    assert refused('backends', check_backends, []) == (
        'backends: must list at least one backend; give e.g. [127.0.0.1:8081].')
    assert refused('backends[1]', check_backends, ['127.0.0.1:8081', '127.0.0.1:8081']) == (
        "backends[1]: '127.0.0.1:8081' is listed twice; list each backend once.")
    assert refused('backends[2]', check_backends, ['a:1', 'b:2', 'unix:/x']).startswith(
        "backends[2]: 'unix:/x' is a unix socket")


# -- other options ------------------------------------------------------------

def test_check_path():
    assert check_path('path', '/health?full=1') == '/health?full=1'
    assert refused('path', check_path, 'path', 'health') == "path: 'health' must start with \"/\"; give e.g. /health."
    assert refused('path', check_path, 'path', '/a b') == (
        "path: '/a b' contains ' ', which cannot be sent in a request line; percent-encode it (e.g. %20 for a "
        "space).")
    assert refused('path', check_path, 'path', '/a\r\nX: y').startswith("path: '/a\\r\\nX: y' contains '\\r'")


def test_check_statuses_and_timeout():
    assert check_statuses('expect_status', [200, 204]) == [200, 204]
    assert refused('expect_status', check_statuses, 'expect_status', []) == (
        'expect_status: must list at least one HTTP status; give e.g. [200].')
    assert refused('expect_status[1]', check_statuses, 'expect_status', [200, 42]) == (
        'expect_status[1]: 42 is not an HTTP status code; give a number from 100 to 599.')
    assert check_timeout('timeout', 2) == 2.0
    assert refused('timeout', check_timeout, 'timeout', 0) == (
        'timeout: 0 must be more than 0 and at most 300 seconds; give e.g. 2.')
    refused('timeout', check_timeout, 'timeout', 301)


def test_check_min_healthy():
    assert check_min_healthy(None, 3) == 3
    assert check_min_healthy(0, 3) == 0
    assert check_min_healthy(2, 3) == 2
    assert refused('min_healthy', check_min_healthy, 4, 3) == (
        'min_healthy: 4 must be from 0 to the number of backends probed (3); give at most 3, or leave it out to '
        'require every backend.')
    refused('min_healthy', check_min_healthy, -1, 3)


@pytest.mark.parametrize('url, expected', [
    ('http://127.0.0.1:18080/', ('127.0.0.1', 18080, '/')),
    ('http://127.0.0.1:18080', ('127.0.0.1', 18080, '/')),
    ('http://127.0.0.1/x?a=1&b=2#frag', ('127.0.0.1', 80, '/x?a=1&b=2')),
    ('http://[::1]:8080/health', ('::1', 8080, '/health')),
    ('http://www.example.com/', ('www.example.com', 80, '/')),
])
def test_parse_url(url, expected):
    assert parse_url(url) == expected


@pytest.mark.parametrize('url, message', [
    ('https://127.0.0.1/', "url: 'https://127.0.0.1/' must start with http:// (only plain http is supported); give "
                           "e.g. http://127.0.0.1:80/ (send through a plain http listener of the proxy)."),
    ('127.0.0.1:8080/', "url: '127.0.0.1:8080/' must start with http:// (only plain http is supported); give e.g. "
                        "http://127.0.0.1:80/ (send through a plain http listener of the proxy)."),
    ('http://user:pw@127.0.0.1/', "url: 'http://user:pw@127.0.0.1/' must not carry user information; remove the "
                                  "\"user@\" part."),
    ('http://127.0.0.1:70000/', "url: 'http://127.0.0.1:70000/' has a port outside 1-65535; use a port from 1 to "
                                "65535."),
    ('http:///x', "url: 'http:///x' has no host; give e.g. http://127.0.0.1:80/."),
    ('', 'url: is required; give e.g. http://127.0.0.1:80/.'),
])
def test_bad_urls(url, message):
    assert refused('url', parse_url, url) == message


# -- judging a probe ------------------------------------------------------------

@pytest.mark.parametrize('answer, expect_status, expect_body, verdict', [
    (Answer(200, body=b'ok\n', latency_ms=1.0), [200], None, (True, None)),
    (Answer(200, body=b'ok\n', latency_ms=1.0), [200], 'ok', (True, None)),
    (Answer(200, body=b'starting\n'), [200], 'ok', (False, "body does not contain 'ok'")),
    (Answer(503, body=b'app2 503\n'), [200], None, (False, 'status 503, expected 200')),
    (Answer(503), [200, 204], None, (False, 'status 503, expected 200 or 204')),
    (Answer(503), [200, 503], None, (True, None)),
    (Answer(error='connection refused'), [200], None, (False, 'connection refused')),
])
def test_judge(answer, expect_status, expect_body, verdict):
    assert judge(answer, expect_status, expect_body) == verdict


def test_probe_backend_reports_what_it_saw():
    seen = []

    def getter(host, port, target, timeout):
        seen.append((host, port, target, timeout))
        return Answer(503, body=b'app2 503\n', latency_ms=1.3)

    assert probe_backend('[::1]:8082', '/health', 1.5, [200], getter=getter) == {
        'address': '[::1]:8082', 'healthy': False, 'status': 503, 'latency_ms': 1.3,
        'error': 'status 503, expected 200'}
    assert seen == [('::1', 8082, '/health', 1.5)]


def results(*health):
    return [{'address': '127.0.0.1:808%d' % (i + 1), 'healthy': h, 'status': 200 if h else 503,
             'latency_ms': 1.0, 'error': None if h else 'status 503, expected 200'} for i, h in enumerate(health)]


def test_health_verdict():
    assert health_verdict(results(True, True, True), 3) is None
    assert health_verdict(results(True, False, True), 2) is None
    assert health_verdict(results(False, False), 0) is None
    assert str(health_verdict(results(True, False, True), 3)) == (
        'min_healthy: 3 not met: 2 of 3 backends healthy; unhealthy: 127.0.0.1:8082 (status 503, expected 200); '
        'fix those backends or lower min_healthy.')
    assert str(health_verdict(results(False, False, True), 2)) == (
        'min_healthy: 2 not met: 1 of 3 backends healthy; unhealthy: 127.0.0.1:8081 (status 503, expected 200), '
        '127.0.0.1:8082 (status 503, expected 200); fix those backends or lower min_healthy.')


def test_probe_targets_skips_down_and_unix_and_flags_backups():
    servers = [{'address': '10.0.0.1:80', 'weight': 3},
               {'address': '10.0.0.2:80', 'down': True},
               {'address': 'unix:/run/app.sock'},
               {'address': '10.0.0.3:80', 'backup': True},
               {'address': '10.0.0.1:80', 'weight': 1}]
    assert probe_targets(servers) == (
        [{'address': '10.0.0.1:80', 'backup': False}, {'address': '10.0.0.3:80', 'backup': True}],
        [{'address': '10.0.0.2:80', 'reason': 'marked down'},
         {'address': 'unix:/run/app.sock', 'reason': 'unix socket, cannot be probed over TCP'}])
    assert probe_targets([]) == ([], [])


# -- errors -------------------------------------------------------------------------

@pytest.mark.parametrize('exc, text', [
    (ConnectionRefusedError(111, 'Connection refused'), 'connection refused'),
    (socket.timeout('timed out'), 'no answer within 2.0 s'),
    (http.client.RemoteDisconnected('Remote end closed connection without response'),
     'connection closed without an answer'),
    (ConnectionResetError(104, 'Connection reset by peer'), 'connection reset'),
    (socket.gaierror(-2, 'Name or service not known'), 'cannot look up the host (Name or service not known)'),
    (http.client.HTTPException('bad answer'), 'HTTPException: bad answer'),
])
def test_describe_error(exc, text):
    assert describe_error(exc, 2.0) == text


class FakeResponse(object):
    status = 200
    headers = {'X-Backend': 'app1'}

    def read(self, limit):
        return b'app1\n'


class FakeConnection(object):
    made = []

    def __init__(self, host, port, timeout):
        self.args = (host, port, timeout)
        self.requests = []
        self.closed = False
        FakeConnection.made.append(self)

    def request(self, method, target, headers):
        self.requests.append((method, target, headers))
        if self.args[0] == 'refused':
            raise ConnectionRefusedError(111, 'Connection refused')

    def getresponse(self):
        return FakeResponse()

    def close(self):
        self.closed = True


def test_http_get_sends_host_header_and_closes(monkeypatch):
    monkeypatch.setattr(http.client, 'HTTPConnection', FakeConnection)
    FakeConnection.made = []
    answer = _probe.http_get('127.0.0.1', 18080, '/x', 2.0, 'www.example.com')
    assert (answer.status, answer.body, answer.error) == (200, b'app1\n', None)
    assert answer.latency_ms >= 0
    conn = FakeConnection.made[0]
    assert conn.args == ('127.0.0.1', 18080, 2.0)
    headers = {'Connection': 'close', 'User-Agent': 'balancer.nginx', 'Host': 'www.example.com'}
    assert conn.requests == [('GET', '/x', headers)]
    assert conn.closed
    answer = _probe.http_get('refused', 1, '/', 2.0)
    assert (answer.status, answer.error) == (None, 'connection refused')
    assert 'Host' not in FakeConnection.made[1].requests[0][2]
    assert FakeConnection.made[1].closed


# -- backend ids ----------------------------------------------------------------------

@pytest.mark.parametrize('identify_by, answer, header, expected', [
    ('header', Answer(200, headers={'X-Backend': 'app1'}), 'X-Backend', 'app1'),
    ('header', Answer(200, headers={'X-Backend': ' app1 '}), 'X-Backend', 'app1'),
    ('header', Answer(200, headers={'X-Upstream': '127.0.0.1:8081'}), 'X-Upstream', '127.0.0.1:8081'),
    ('header', Answer(200, headers={}), 'X-Backend', '-'),
    ('header', Answer(200, headers={'X-Backend': ''}), 'X-Backend', '-'),
    ('body', Answer(200, body=b'app2\n'), 'X-Backend', 'app2'),
    ('body', Answer(200, body=b'  \n'), 'X-Backend', '-'),
    ('body', Answer(200, body=b'\xffapp3\n'), 'X-Backend', u'\ufffdapp3'),
    ('body', Answer(200, body=b'x' * 500), 'X-Backend', 'x' * 200),
])
def test_backend_id(identify_by, answer, header, expected):
    assert backend_id(identify_by, answer, header) == expected


def test_backend_id_header_is_case_insensitive_with_http_headers():
    message = http.client.HTTPMessage()
    message['x-backend'] = 'app3'
    assert backend_id('header', Answer(200, headers=message), 'X-Backend') == 'app3'


# -- bounded request loops ----------------------------------------------------------------

def counting_getter(calls, lock=None):
    def getter(host, port, target, timeout, host_header=None):
        if lock:
            with lock:
                calls.append((host, port, target, timeout, host_header))
        else:
            calls.append((host, port, target, timeout, host_header))
        return Answer(200, headers={'X-Backend': 'app%d' % (len(calls) % 3 + 1)}, latency_ms=1.0)
    return getter


def test_send_requests_sequential():
    calls = []
    answers = send_requests('127.0.0.1', 18080, '/', 7, 2.0, host_header='h', getter=counting_getter(calls))
    assert len(answers) == 7
    assert calls == [('127.0.0.1', 18080, '/', 2.0, 'h')] * 7


def test_send_requests_with_threads_sends_exactly_count():
    calls = []
    answers = send_requests('127.0.0.1', 18080, '/', 500, 2.0, concurrency=8,
                            getter=counting_getter(calls, threading.Lock()))
    assert len(answers) == 500
    assert len(calls) == 500


def test_send_requests_stops_starting_requests_after_max_duration():
    now = [0.0]

    def clock():
        return now[0]

    def getter(*args):
        now[0] += 1.0
        return Answer(200, latency_ms=1000.0)

    answers = send_requests('127.0.0.1', 1, '/', 100, 2.0, max_duration=5, getter=getter, clock=clock)
    assert len(answers) == 6      # started at t=0..5, none after the deadline


def test_send_requests_none():
    assert send_requests('127.0.0.1', 1, '/', 0, 2.0, getter=None) == []


# -- the log tail ----------------------------------------------------------------------------

def test_log_tail_reads_only_new_whole_lines(tmp_path):
    log = tmp_path / 'access.log'
    log.write_text('old line\n')
    tail = LogTail(str(log))
    tail.start()
    assert tail.lines() == []
    with open(str(log), 'a') as handle:
        handle.write('new 1\nnew 2\npartial')
    assert tail.lines() == ['new 1', 'new 2']
    with open(str(log), 'a') as handle:
        handle.write(' line\n')
    assert tail.lines() == ['new 1', 'new 2', 'partial line']


def test_log_tail_of_a_missing_then_created_file(tmp_path):
    log = tmp_path / 'access.log'
    tail = LogTail(str(log))
    tail.start()
    assert tail.lines() == []
    log.write_text('first\n')
    assert tail.lines() == ['first']


def test_log_tail_after_rotation_reads_the_new_file(tmp_path):
    log = tmp_path / 'access.log'
    log.write_text('a long old line that makes the file bigger\n')
    tail = LogTail(str(log))
    tail.start()
    log.rename(tmp_path / 'access.log.1')
    log.write_text('after rotation\n')
    assert tail.lines() == ['after rotation']
