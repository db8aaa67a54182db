# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/modules/backend_probe.py: main() with HTTP stubbed (fixtures in conftest.py).

Named *_module: tests/unit/plugins/action/test_backend_probe.py tests the action plugin.
"""

from __future__ import annotations

from ansible_collections.balancer.nginx.plugins.modules import backend_probe

BACKENDS = ['127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8083']


def lab(down=(), refused=()):
    def answer(host, port, target, headers):
        if port in refused:
            return ConnectionRefusedError(111, 'Connection refused')
        if port in down:
            return 503, {'X-Backend': 'app%d' % (port - 8080)}, b'app 503\n'
        if target == '/health':
            return 200, {'X-Backend': 'app%d' % (port - 8080)}, b'ok\n'
        return 200, {}, b'app%d\n' % (port - 8080)
    return answer


def test_all_healthy(run_module, network):
    net = network(lab())
    result, failed = run_module(backend_probe, {'backends': BACKENDS, 'expect_body': 'ok'})
    assert not failed
    assert result['changed'] is False
    assert result['healthy'] == 3
    assert result['unhealthy'] == []
    assert result['min_healthy'] == 3
    assert [(b['address'], b['healthy'], b['status'], b['error']) for b in result['backends']] == [
        (a, True, 200, None) for a in BACKENDS]
    assert all(isinstance(b['latency_ms'], float) for b in result['backends'])
    assert [(r[1], r[2], r[3]) for r in net.requests] == [(8081, 'GET', '/health'), (8082, 'GET', '/health'),
                                                          (8083, 'GET', '/health')]


def test_one_503_fails_naming_it(run_module, network):
    network(lab(down=(8082,)))
    result, failed = run_module(backend_probe, {'backends': BACKENDS})
    assert failed
    assert result['msg'] == ('min_healthy: 3 not met: 2 of 3 backends healthy; unhealthy: 127.0.0.1:8082 '
                             '(status 503, expected 200); fix those backends or lower min_healthy.')
    assert result['unhealthy'] == ['127.0.0.1:8082']
    assert result['healthy'] == 2
    assert result['backends'][1]['status'] == 503


def test_min_healthy_lets_it_pass(run_module, network):
    network(lab(down=(8082,), refused=(8083,)))
    result, failed = run_module(backend_probe, {'backends': BACKENDS, 'min_healthy': 1})
    assert not failed
    assert result['unhealthy'] == ['127.0.0.1:8082', '127.0.0.1:8083']
    assert result['backends'][2]['error'] == 'connection refused'
    assert result['backends'][2]['status'] is None


def test_body_expectation(run_module, network):
    network(lab())
    result, failed = run_module(backend_probe, {'backends': BACKENDS[:1], 'path': '/', 'expect_body': 'ok'})
    assert failed
    assert result['backends'][0]['error'] == "body does not contain 'ok'"


def test_unix_socket_refused_before_any_request(run_module, network):
    net = network(lab())
    result, failed = run_module(backend_probe, {'backends': ['127.0.0.1:8081', 'unix:/run/app.sock']})
    assert failed
    assert result['msg'] == ("backends[1]: 'unix:/run/app.sock' is a unix socket, which cannot be probed over TCP; "
                             "give host:port or [v6]:port (ansible.builtin.uri can reach a socket with "
                             "unix_socket).")
    assert net.requests == []


def test_upstream_needs_the_action_plugin(run_module, network):
    network(lab())
    result, failed = run_module(backend_probe, {'upstream': 'app'})
    assert failed
    assert result['msg'].startswith("upstream: 'app' is read from the configuration by the action plugin")


def test_exclusive_options(run_module, network):
    network(lab())
    result, failed = run_module(backend_probe, {'upstream': 'app', 'backends': BACKENDS})
    assert failed
    assert 'mutually exclusive' in result['msg']
    result, failed = run_module(backend_probe, {})
    assert failed
    assert 'one of the following is required: backends, upstream' in result['msg']
