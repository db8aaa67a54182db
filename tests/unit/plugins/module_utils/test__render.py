# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_render.py: golden files, byte stability, round trip.

Golden files live in ``golden/upstream_*.conf``; after a deliberate change to the rendering,
rewrite them with ``BALANCER_UPDATE_GOLDEN=1 pytest tests/unit/...`` and review
the diff.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._model import Upstream
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import MANAGED_HEADER, is_managed, managed_item

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')

# golden file name (without .conf) -> upstream module options
CASES = {
    'round_robin_weights': {
        'name': 'app',
        'servers': [{'address': '10.0.0.11:8080', 'weight': 3}, {'address': '10.0.0.12:8080', 'weight': 2},
                    {'address': '10.0.0.13:8080'}],
    },
    'least_conn': {
        'name': 'api', 'method': 'least_conn',
        'servers': [{'address': 'api1.internal:9000'}, {'address': 'api2.internal:9000'}],
        'keepalive': 16,
    },
    'ip_hash': {
        'name': 'sessions', 'method': 'ip_hash',
        'servers': [{'address': '10.0.1.1:80'}, {'address': '10.0.1.2:80', 'down': True}],
    },
    'hash_consistent': {
        'name': 'cache', 'method': 'hash', 'hash_key': '$request_uri', 'consistent': True,
        'servers': [{'address': '10.0.2.1:80'}, {'address': '10.0.2.2:80'}, {'address': '10.0.2.3:80'}],
    },
    'random_two': {
        'name': 'pool', 'method': 'random', 'random_two': True,
        'servers': [{'address': '10.0.3.1:80'}, {'address': '10.0.3.2:80'}, {'address': '10.0.3.3:80'}],
    },
    'keepalive': {
        'name': 'kept', 'method': 'least_conn',
        'servers': [{'address': '127.0.0.1:8081'}, {'address': '127.0.0.1:8082'}],
        'keepalive': 32, 'keepalive_requests': 1000, 'keepalive_time': '1h', 'keepalive_timeout': '60s',
    },
    'server_parameters': {
        'name': 'params',
        'servers': [
            {'address': '10.0.4.1:80', 'weight': 5, 'max_fails': 3, 'fail_timeout': '10s', 'max_conns': 100},
            {'address': '10.0.4.2:80', 'max_fails': 0},
            {'address': '10.0.4.3:80', 'down': True},
            {'address': '10.0.4.4:80', 'backup': True, 'fail_timeout': '1m30s'},
        ],
    },
    'zone_resolve_resolver': {
        'name': 'dynamic', 'zone': 'dynamic 64k', 'resolver': ['10.0.0.2', 'valid=30s', 'ipv6=off'],
        'resolver_timeout': '5s',
        'servers': [{'address': 'app.service.internal:8080', 'resolve': True, 'max_fails': 2},
                    {'address': '10.0.5.2:8080'}],
    },
    'unix_and_v6': {
        'name': 'local',
        'servers': [{'address': 'unix:/run/app.sock', 'weight': 2}, {'address': '[2001:db8::10]:8080'},
                    {'address': '[::1]:8080', 'backup': True}],
    },
    'plus_features': {
        'name': 'plus', 'method': 'least_time', 'least_time': 'last_byte inflight', 'zone': 'plus',
        'sticky': ['cookie', 'srv_id', 'expires=1h', 'path=/'],
        'servers': [{'address': '10.0.6.1:80', 'slow_start': '30s', 'route': 'a'},
                    {'address': '10.0.6.2:80', 'route': 'b', 'drain': True}],
        'keepalive': 8, 'ntlm': True, 'queue': 100, 'queue_timeout': '70s',
    },
    'random_two_least_time': {
        'name': 'rnd', 'method': 'random', 'random_two': True, 'least_time': 'last_byte',
        'servers': [{'address': '10.0.7.1:80'}, {'address': '10.0.7.2:80'}],
    },
}


def model(case):
    return Upstream.from_options(CASES[case])


def golden_path(case):
    return os.path.join(GOLDEN, 'upstream_' + case + '.conf')


@pytest.mark.parametrize('case', sorted(CASES))
def test_golden(case, golden):
    golden('upstream_' + case, _render.render_upstream(model(case)))


def test_every_golden_file_has_a_case():
    names = [f for f in os.listdir(GOLDEN) if f.startswith('upstream_') and f.endswith('.conf')]
    assert sorted(f[len('upstream_'):-len('.conf')] for f in names) == sorted(CASES)


def test_golden_literal_round_robin():
    # one golden file spelled out here, so that a reader sees the format without opening golden/
    assert _render.render_upstream(model('round_robin_weights')) == (
        '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.\n'
        '# balancer.nginx item: upstream app\n'
        'upstream app {\n'
        '    server 10.0.0.11:8080 weight=3;\n'
        '    server 10.0.0.12:8080 weight=2;\n'
        '    server 10.0.0.13:8080;\n'
        '}\n')


@pytest.mark.parametrize('case', sorted(CASES))
def test_byte_stable(case):
    first = _render.render_upstream(model(case))
    second = _render.render_upstream(model(case))
    third = _render.render_upstream(Upstream.from_options(model(case).to_options()))
    assert first.encode('utf-8') == second.encode('utf-8') == third.encode('utf-8')


@pytest.mark.parametrize('case', sorted(CASES))
def test_header_line_first_and_one_final_newline(case):
    text = _render.render_upstream(model(case))
    assert text.split('\n', 1)[0] == MANAGED_HEADER
    assert text.split('\n')[1] == '# balancer.nginx item: upstream ' + CASES[case]['name']
    assert managed_item(text) == ('upstream', CASES[case]['name'])
    assert is_managed(text)
    assert is_managed(text.encode('utf-8'))
    assert text.endswith('}\n') and not text.endswith('\n\n')
    assert '\t' not in text


@pytest.mark.parametrize('case', sorted(CASES))
def test_round_trip(case):
    upstream = model(case)
    text = _render.render_upstream(upstream)
    parsed = _inspect.parse_text(text)
    assert [s['directive'] for s in parsed] == ['upstream']
    assert parsed[0]['args'] == [upstream.name]
    options, unknown = _render.upstream_options_from_block(upstream.name, parsed[0]['block'])
    assert unknown == []
    assert options == upstream.to_options()
    assert Upstream.from_options(options) == upstream


@pytest.mark.parametrize('case', sorted(CASES))
def test_payload_parses_back_to_itself(case):
    upstream = model(case)
    payload = _render.file_payload([lambda lines: _render.upstream_payload(upstream, lines)],
                                   ('upstream', CASES[case]['name']))
    text = _render.build(payload)
    assert text == _render.render_upstream(upstream)
    assert _inspect.check_roundtrip(text, payload) is None
    assert _render.strip_lines(_inspect.parse_text(text)) == _render.strip_lines(payload)


@pytest.mark.parametrize('case', sorted(CASES))
def test_line_numbers_increase(case):
    upstream = model(case)
    payload = _render.file_payload([lambda lines: _render.upstream_payload(upstream, lines)],
                                   ('upstream', upstream.name))
    assert [s['directive'] for s in payload] == ['#', '#', 'upstream']
    numbers = [payload[0]['line'], payload[1]['line'], payload[2]['line']] + [s['line'] for s in payload[2]['block']]
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(isinstance(a, str) for s in payload[2]['block'] for a in s['args'])


METHOD_DIRECTIVES = ('least_conn', 'ip_hash', 'hash', 'random', 'least_time')


@pytest.mark.parametrize('case', sorted(CASES))
def test_method_before_servers_and_keepalive_after_method(case):
    upstream = model(case)
    directives = [s['directive'] for s in _inspect.parse_text(_render.render_upstream(upstream))[0]['block']]
    servers = [i for i, d in enumerate(directives) if d == 'server']
    assert len(servers) == len(upstream.servers)
    methods = [i for i, d in enumerate(directives) if d in METHOD_DIRECTIVES]
    if upstream.method == 'round_robin':
        assert methods == []
    else:
        assert len(methods) == 1
        assert methods[0] < min(servers)
        if 'keepalive' in directives:
            assert methods[0] < directives.index('keepalive')
    if 'keepalive' in directives:
        assert directives.index('keepalive') > max(servers)
        for key in ('keepalive_requests', 'keepalive_time', 'keepalive_timeout'):
            if key in directives:
                assert directives.index(key) > directives.index('keepalive')


@pytest.mark.parametrize('options, line', [
    ({'method': 'least_conn'}, 'least_conn;'),
    ({'method': 'ip_hash'}, 'ip_hash;'),
    ({'method': 'hash', 'hash_key': '$remote_addr'}, 'hash $remote_addr;'),
    ({'method': 'hash', 'hash_key': '$remote_addr', 'consistent': True}, 'hash $remote_addr consistent;'),
    ({'method': 'hash', 'hash_key': '$host $request_uri'}, "hash '$host $request_uri';"),
    ({'method': 'random'}, 'random;'),
    ({'method': 'random', 'random_two': True}, 'random two;'),
    ({'method': 'random', 'random_two': True, 'least_time': 'header'}, 'random two least_time=header;'),
    ({'method': 'least_time', 'least_time': 'header'}, 'least_time header;'),
    ({'method': 'least_time', 'least_time': 'header inflight'}, 'least_time header inflight;'),
])
def test_method_lines(options, line):
    opts = {'name': 'g', 'servers': [{'address': 'a:80'}]}
    opts.update(options)
    upstream = Upstream.from_options(opts)
    text = _render.render_upstream(upstream)
    assert text.split('\n')[:3] == [MANAGED_HEADER, '# balancer.nginx item: upstream g', 'upstream g {']
    assert text.split('\n')[3] == '    ' + line
    options_back, unknown = _render.upstream_options_from_block('g', _inspect.parse_text(text)[0]['block'])
    assert unknown == [] and options_back == upstream.to_options()


@pytest.mark.parametrize('server, line', [
    ({'address': 'a:80'}, 'server a:80;'),
    ({'address': 'a:80', 'weight': 2, 'max_conns': 5, 'max_fails': 1, 'fail_timeout': '5s', 'slow_start': '1m',
      'route': 'r1', 'backup': True, 'down': True, 'drain': True, 'resolve': True},
     'server a:80 weight=2 max_conns=5 max_fails=1 fail_timeout=5s slow_start=1m route=r1 backup down drain '
     'resolve;'),
    ({'address': 'unix:/run/a.sock', 'max_fails': 0}, 'server unix:/run/a.sock max_fails=0;'),
    ({'address': '[::1]:80', 'fail_timeout': 10}, 'server [::1]:80 fail_timeout=10;'),
])
def test_server_lines(server, line):
    upstream = Upstream.from_options({'name': 'g', 'zone': 'g', 'servers': [server]})
    assert _render.server_args(upstream.servers[0]) == line[len('server '):-1].split(' ')
    assert '    ' + line in _render.render_upstream(upstream).split('\n')


# -- reading hand-written groups back ------------------------------------------

def test_options_from_hand_written_block():
    text = (
        'upstream legacy {\n'
        '    # a comment\n'
        '    server 10.0.0.1:80 weight=2 max_fails=3 fail_timeout=10s;\n'
        '    server 10.0.0.2:80 backup;\n'
        '    server 10.0.0.3:80 unknown_param=1;\n'
        '    keepalive 8;\n'
        '    health_check interval=5;\n'
        '    queue 10 timeout=30s;\n'
        '}\n')
    parsed = _inspect.parse_text(text)
    options, unknown = _render.upstream_options_from_block('legacy', parsed[0]['block'])
    assert unknown == [{'directive': 'server', 'args': ['10.0.0.3:80', 'unknown_param=1'], 'line': 5},
                       {'directive': 'health_check', 'args': ['interval=5'], 'line': 7}]
    assert options['servers'] == [
        {'address': '10.0.0.1:80', 'weight': 2, 'max_fails': 3, 'fail_timeout': '10s',
         'backup': False, 'down': False, 'resolve': False, 'drain': False},
        {'address': '10.0.0.2:80', 'backup': True, 'down': False, 'resolve': False, 'drain': False},
        {'address': '10.0.0.3:80', 'backup': False, 'down': False, 'resolve': False, 'drain': False},
    ]
    assert options['keepalive'] == 8
    assert (options['queue'], options['queue_timeout']) == (10, '30s')
    assert options['method'] == 'round_robin'


def test_strip_lines_drops_comments_and_line_numbers():
    payload = [{'directive': '#', 'args': [], 'line': 1, 'comment': 'x'},
               {'directive': 'upstream', 'args': ['a'], 'line': 2,
                'block': [{'directive': 'server', 'args': ['a:80'], 'line': 3}]}]
    assert _render.strip_lines(payload) == [
        {'directive': 'upstream', 'args': ['a'], 'block': [{'directive': 'server', 'args': ['a:80']}]}]


def test_check_roundtrip_refuses_text_that_differs_from_the_payload():
    upstream = model('least_conn')
    payload = _render.file_payload([lambda lines: _render.upstream_payload(upstream, lines)])
    text = _render.build(payload).replace('least_conn;', 'ip_hash;')
    with pytest.raises(ModelError) as exc:
        _inspect.check_roundtrip(text, payload)
    assert str(exc.value) == ('content: the rendered file parses back to something else than the model; '
                              'report this as a bug in balancer.nginx.')


def test_check_roundtrip_refuses_text_that_does_not_parse():
    upstream = model('least_conn')
    payload = _render.file_payload([lambda lines: _render.upstream_payload(upstream, lines)])
    with pytest.raises(ModelError) as exc:
        _inspect.check_roundtrip('upstream api {\n    least_conn;\n', payload)
    message = str(exc.value)
    # the controller's temporary path is not shown, only the line
    assert message.startswith('content: the rendered file does not parse back (unexpected end of file, '
                              'expecting "}" at line 2)')
    assert message.endswith('); report this as a bug in balancer.nginx.')
