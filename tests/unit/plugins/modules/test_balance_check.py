# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/modules/balance_check.py: main() against a stubbed proxy that balances like Nginx (conftest.py)."""

from __future__ import annotations

import threading

from ansible_collections.balancer.nginx.plugins.modules import balance_check

URL = 'http://127.0.0.1:18080/'
LOG_LINE = ('127.0.0.1 127.0.0.1 GET %s HTTP/1.1 status=%d upstream=%s upstream_status=%d '
            'upstream_response_time=0.001\n')


class Proxy(object):
    """Smooth weighted round robin over (name, port, weight); optionally writes an upstream_debug log."""

    def __init__(self, servers, log=None, status=200):
        self.servers = servers
        self.current = [0] * len(servers)
        self.log = log
        self.status = status
        self.lock = threading.Lock()

    def __call__(self, host, port, target, headers):
        with self.lock:
            total = sum(w for dummy, dummy2, w in self.servers)
            best = None
            for index, (dummy, dummy2, weight) in enumerate(self.servers):
                self.current[index] += weight
                if best is None or self.current[index] > self.current[best]:
                    best = index
            self.current[best] -= total
            name, backend_port = self.servers[best][:2]
            if self.log:
                with open(self.log, 'a') as handle:
                    handle.write(LOG_LINE % (target, self.status, '127.0.0.1:%d' % backend_port, self.status))
        return self.status, {'X-Backend': name}, (name + '\n').encode()


LAB = [('app1', 8081, 3), ('app2', 8082, 2), ('app3', 8083, 1)]
WEIGHTS = {'app1': 3, 'app2': 2, 'app3': 1}


def test_exact_split_by_header(run_module, network):
    net = network(Proxy(LAB))
    result, failed = run_module(balance_check, {'url': URL, 'requests': 600, 'expect_weights': WEIGHTS,
                                                'tolerance': 0})
    assert not failed, result.get('msg')
    assert result['distribution'] == {'app1': 300, 'app2': 200, 'app3': 100}
    assert result['expected'] == {'app1': 300, 'app2': 200, 'app3': 100}
    assert result['statuses'] == {'200': 600}
    assert result['backend_statuses'] == {'app1': {'200': 300}, 'app2': {'200': 200}, 'app3': {'200': 100}}
    assert result['requests'] == 600
    assert result['ok'] is True
    assert result['changed'] is False
    assert result['errors'] == []
    assert set(result['latency_ms']) == {'p50', 'p90', 'p99', 'max'}
    assert len(net.requests) == 600
    assert net.requests[0] == ('127.0.0.1', 18080, 'GET', '/', {'Connection': 'close', 'User-Agent': 'balancer.nginx'})


def test_by_body_with_threads_and_a_host_header(run_module, network):
    net = network(Proxy(LAB))
    result, failed = run_module(balance_check, {'url': URL + 'x?y=1', 'requests': 61, 'identify_by': 'body',
                                                'concurrency': 8, 'host_header': 'www.example.com',
                                                'expect_weights': WEIGHTS, 'tolerance': 0})
    assert not failed, result.get('msg')
    # 61 = 10 rounds of 6 + 1: the extra request goes to the first, heaviest server
    assert result['distribution'] == {'app1': 31, 'app2': 20, 'app3': 10}
    assert set(r[3] for r in net.requests) == {'/x?y=1'}
    assert set(r[4]['Host'] for r in net.requests) == {'www.example.com'}


def test_by_log_counts_only_this_run(run_module, network, tmp_path):
    log = tmp_path / 'upstream.log'
    log.write_text(LOG_LINE % ('/', 200, '127.0.0.1:9999', 200) * 5)
    network(Proxy(LAB, log=str(log)))
    weights = {'127.0.0.1:8081': 3, '127.0.0.1:8082': 2, '127.0.0.1:8083': 1}
    result, failed = run_module(balance_check, {'url': URL, 'requests': 60, 'identify_by': 'log',
                                                'access_log': str(log), 'expect_weights': weights, 'tolerance': 0})
    assert not failed, result.get('msg')
    assert result['distribution'] == {'127.0.0.1:8081': 30, '127.0.0.1:8082': 20, '127.0.0.1:8083': 10}
    assert result['log_lines'] == {'matched': 60, 'foreign': 0}
    assert result['backend_statuses'] == {'127.0.0.1:8081': {'200': 30}, '127.0.0.1:8082': {'200': 20},
                                          '127.0.0.1:8083': {'200': 10}}


def test_a_backend_nginx_skips_is_named(run_module, network):
    network(Proxy([('app1', 8081, 1), ('app2', 8082, 1)]))
    result, failed = run_module(balance_check, {'url': URL, 'requests': 60,
                                                'expect_weights': {'app1': 1, 'app2': 1, 'app3': 1}})
    assert failed
    assert result['ok'] is False
    assert result['distribution'] == {'app1': 30, 'app2': 30}
    assert result['msg'] == (
        "expect_weights['app1']: measured 30 of 60 requests, expected 20 (weight 1 of 3; tolerance 0.1 allows 18 "
        "to 22); check that this backend is up and has weight 1 on the proxy, or raise tolerance. "
        "expect_weights['app2']: measured 30 of 60 requests, expected 20 (weight 1 of 3; tolerance 0.1 allows 18 "
        "to 22); check that this backend is up and has weight 1 on the proxy, or raise tolerance. "
        "expect_weights['app3']: measured 0 of 60 requests, expected 20 (weight 1 of 3; tolerance 0.1 allows 18 "
        "to 22); check that this backend is up and has weight 1 on the proxy, or raise tolerance.")


def test_unexpected_status_fails(run_module, network):
    network(Proxy(LAB, status=502))
    result, failed = run_module(balance_check, {'url': URL, 'requests': 6})
    assert failed
    assert result['statuses'] == {'502': 6}
    assert result['backend_statuses'] == {'app1': {'502': 3}, 'app2': {'502': 2}, 'app3': {'502': 1}}
    assert result['msg'] == ("expect_status: 6 of 6 requests got status 502, expected 200; check the backends and "
                             "the proxy's error log, or add 502 to expect_status.")


def test_no_answer_at_all(run_module, network):
    network(lambda *args: ConnectionRefusedError(111, 'Connection refused'))
    result, failed = run_module(balance_check, {'url': URL, 'requests': 3})
    assert failed
    assert result['statuses'] == {'error': 3}
    assert result['errors'] == ['connection refused']
    assert result['distribution'] == {}
    assert result['backend_statuses'] == {}
    assert result['latency_ms'] == {'p50': None, 'p90': None, 'p99': None, 'max': None}
    assert result['msg'] == ('expect_status: 3 of 3 requests got no HTTP answer (connection refused); check that '
                             'the proxy listens on url.')


def test_without_expect_weights_only_reports(run_module, network):
    network(Proxy(LAB))
    result, failed = run_module(balance_check, {'url': URL, 'requests': 12})
    assert not failed
    assert 'expected' not in result
    assert result['distribution'] == {'app1': 6, 'app2': 4, 'app3': 2}


def test_refusals_before_any_request(run_module, network):
    net = network(Proxy(LAB))
    for args, message in [
        ({'url': URL, 'requests': 10001}, 'requests: 10001 must be from 1 to 10000; give e.g. 600.'),
        ({'url': URL, 'requests': 0}, 'requests: 0 must be from 1 to 10000; give e.g. 600.'),
        ({'url': URL, 'concurrency': 65}, 'concurrency: 65 must be from 1 to 64; give e.g. 4.'),
        ({'url': URL, 'tolerance': 2.0, 'expect_weights': WEIGHTS},
         'tolerance: 2.0 must be a fraction from 0 to 1; give e.g. 0.1 (0: exact counts).'),
        ({'url': URL, 'expect_weights': {'app1': -2}},
         "expect_weights['app1']: -2 must be a whole number of at least 0; give e.g. 1 (0: no request expected)."),
        ({'url': 'ftp://127.0.0.1/'}, "url: 'ftp://127.0.0.1/' must start with http:// (only plain http is "
                                      "supported); give e.g. http://127.0.0.1:80/ (send through a plain http listener "
                                      "of the proxy)."),
        ({'url': URL, 'identify_by': 'log'}, 'identify_by is log but all of the following are missing: access_log'),
    ]:
        result, failed = run_module(balance_check, args)
        assert failed, args
        assert result['msg'] == message
    assert net.requests == []
