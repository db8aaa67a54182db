# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_render.py: log formats, vhosts and the websocket map.

Golden files live in ``golden/vhost_*.conf`` (see conftest.py for updating them).
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._model import LogFormat, Vhost
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import MANAGED_HEADER, is_managed, managed_item
from ansible_collections.balancer.nginx.tests.unit import nginx_reader

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')
HEADER_LINE = MANAGED_HEADER + '\n'


def lines_of(text):
    return text.split('\n')


# --------------------------------------------------------------------------
# log_format
# --------------------------------------------------------------------------

def test_upstream_debug_log_format_text():
    text = _render.render_log_format(LogFormat.from_options({'name': 'upstream_debug'}))
    assert text == (
        HEADER_LINE
        + '# balancer.nginx item: log_format upstream_debug\n'
        + "log_format upstream_debug '$remote_addr $host $request status=$status upstream=$upstream_addr "
          "upstream_status=$upstream_status upstream_response_time=$upstream_response_time';\n")


def test_json_log_format_text_and_round_trip():
    parts = ['{"addr":"$remote_addr",', '"up":"$upstream_addr",', '"status":"$status"}']
    model = LogFormat.from_options({'name': 'json_up', 'escape': 'json', 'format': parts})
    text = _render.render_log_format(model)
    assert text == (
        HEADER_LINE
        + '# balancer.nginx item: log_format json_up\n'
        + 'log_format json_up escape=json \'{"addr":"$remote_addr",\' \'"up":"$upstream_addr",\' '
          '\'"status":"$status"}\';\n')
    parsed = _inspect.parse_text(text)
    assert [(s['directive'], s['args']) for s in parsed] == [('log_format', ['json_up', 'escape=json'] + parts)]


@pytest.mark.parametrize('escape', ['default', 'none'])
def test_escape_argument(escape):
    text = _render.render_log_format(LogFormat.from_options({'name': 'm', 'format': '$status', 'escape': escape}))
    assert lines_of(text)[1:] == ['# balancer.nginx item: log_format m', 'log_format m escape=%s $status;' % escape,
                                  '']


def test_log_format_payload_shape():
    model = LogFormat.from_options({'name': 'm', 'format': ['$a ', '$b']})
    assert _render.log_format_payload(model) == {'directive': 'log_format', 'args': ['m', '$a ', '$b'], 'line': 1}


@pytest.mark.parametrize('fmt', [
    'a;b', 'a{b}', "it's", 'say "hi"', '', ' lead', "both ' and \"", 'a #b', 'a#b', '$a $b',
    'C:\\logs\\', 'a\\nb', 'a\\tb', '\\\\', 'é 日本',
], ids=repr)
def test_log_format_round_trips(fmt):
    # crossplane reads back the payload, and Nginx (the independent reader) reads exactly the value.
    model = LogFormat.from_options({'name': 'm', 'format': fmt})
    payload = _render.file_payload([lambda lines: _render.log_format_payload(model, lines)])
    text = _render.build(payload)
    _inspect.check_roundtrip(text, payload)
    assert nginx_reader.statements(text, 'log_format') == [['m', fmt]]


# A format the model accepts must render to text that Nginx reads as written; otherwise the model must refuse
# it (naming format), never plan_site's check_roundtrip with "report this as a bug in balancer.nginx".
@pytest.mark.parametrize('fmt', ['#$remote_addr', 'C:\\logs\\', '$remote_addr\t$status', 'a\xa0b', 'a\u2028b'],
                         ids=repr)
def test_log_format_accepted_only_if_nginx_reads_it_as_written(fmt):
    try:
        model = LogFormat.from_options({'name': 'm', 'format': fmt})
    except ModelError as exc:
        assert exc.option == 'format'
        return
    payload = _render.file_payload([lambda lines: _render.log_format_payload(model, lines)])
    text = _render.build(payload)
    _inspect.check_roundtrip(text, payload)
    assert nginx_reader.statements(text, 'log_format') == [['m', fmt]]


# --------------------------------------------------------------------------
# websocket map
# --------------------------------------------------------------------------

def test_websocket_map_text():
    assert _render.render_websocket_map() == (
        HEADER_LINE
        + '# balancer.nginx item: map websocket\n'
        + 'map $http_upgrade $balancer_connection_upgrade {\n'
          '    default upgrade;\n'
          "    '' '';\n"
          '}\n')


def test_websocket_map_round_trip():
    payload = _render.file_payload([_render.websocket_map_payload])
    assert _render.strip_lines(_inspect.parse_text(_render.build(payload))) == _render.strip_lines(payload)


# --------------------------------------------------------------------------
# vhosts
# --------------------------------------------------------------------------

# golden name -> vhost options
CASES = {
    'vhost_simple': {'name': 'shop', 'server_name': 'shop.example.com www.shop.example.com', 'upstream': 'app'},
    'vhost_keepalive': {'name': 'api', 'server_name': ['api.example.com'], 'upstream': 'api'},
    'vhost_locations': {
        'name': 'portal',
        'server_name': 'portal.example.com',
        'access_log': {'path': '/var/log/nginx/portal.log', 'format': 'upstream_debug'},
        'locations': [
            {'path': '/', 'upstream': 'app', 'next_upstream': ['error', 'timeout', 'http_502'],
             'next_upstream_tries': 2, 'next_upstream_timeout': '5s', 'connect_timeout': '2s',
             'read_timeout': '30s', 'send_timeout': '30s', 'headers': {'X-Request-Id': '$request_id'}},
            {'path': '/ws', 'upstream': 'plain', 'websocket': True},
            {'path': '= /health', 'pass': 'http://127.0.0.1:8080/healthz'},
            {'path': '/legacy', 'upstream': 'plain'},
        ],
    },
    'vhost_tls': {
        'name': 'secure', 'server_name': 'secure.example.com', 'listen': ['443 ssl', '[::]:443 ssl'],
        'ssl_certificate': '/etc/ssl/certs/secure.pem', 'ssl_certificate_key': '/etc/ssl/private/secure.key',
        'access_log': '/var/log/nginx/secure.log',
        'proxy_headers': {'Host': '$host', 'X-Empty': ''},
        'upstream': 'app',
    },
}


def render_case(name):
    return _render.render_vhost(Vhost.from_options(dict(CASES[name])))


def payload_of(name):
    model = Vhost.from_options(dict(CASES[name]))
    return _render.file_payload([lambda lines: _render.vhost_payload(model, lines)], ('vhost', CASES[name]['name']))


@pytest.mark.parametrize('name', sorted(CASES))
def test_golden(name, golden):
    golden(name, render_case(name))


@pytest.mark.parametrize('name', sorted(CASES))
def test_byte_stable(name):
    assert render_case(name).encode('utf-8') == render_case(name).encode('utf-8')
    assert _render.build(payload_of(name)) == render_case(name)


@pytest.mark.parametrize('name', sorted(CASES))
def test_round_trip(name):
    payload = payload_of(name)
    text = _render.build(payload)
    assert _render.strip_lines(_inspect.parse_text(text)) == _render.strip_lines(payload)
    _inspect.check_roundtrip(text, payload)
    assert is_managed(text)
    assert lines_of(text)[1] == '# balancer.nginx item: vhost ' + CASES[name]['name']
    assert managed_item(text) == ('vhost', CASES[name]['name'])


def location_block(text, path):
    """Statements (directive, args) of ``location <path>``, as Nginx reads the rendered text."""
    server = [s for s in nginx_reader.read(text) if s['directive'] == 'server'][0]
    for stmt in server['block']:
        if stmt['directive'] == 'location' and ' '.join(stmt['args']) == path:
            return [(s['directive'], s['args']) for s in stmt['block']]
    raise AssertionError('no location %s' % path)


def headers_of(block):
    return [args for directive, args in block if directive == 'proxy_set_header']


DEFAULT_SORTED = [['Host', '$host'], ['X-Forwarded-For', '$proxy_add_x_forwarded_for'],
                  ['X-Forwarded-Proto', '$scheme'], ['X-Real-IP', '$remote_addr']]
# What a location that proxies to an upstream group adds: HTTP/1.1 without "Connection: close".
UPSTREAM_SORTED = [['Connection', '']] + DEFAULT_SORTED


def test_every_location_carries_all_headers_sorted():
    model = Vhost.from_options({'name': 'v', 'proxy_headers': {'X-B': '2', 'a-first': '1', 'Host': '$host'},
                                'locations': [{'path': '/', 'upstream': 'app'},
                                              {'path': '/x', 'upstream': 'app', 'headers': {'X-Extra': 'e'}},
                                              {'path': '/y', 'pass': 'http://127.0.0.1:81'}]})
    text = _render.render_vhost(model)
    assert headers_of(location_block(text, '/')) == [['a-first', '1'], ['Connection', ''], ['Host', '$host'],
                                                     ['X-B', '2']]
    assert headers_of(location_block(text, '/x')) == [['a-first', '1'], ['Connection', ''], ['Host', '$host'],
                                                      ['X-B', '2'], ['X-Extra', 'e']]
    assert headers_of(location_block(text, '/y')) == [['a-first', '1'], ['Host', '$host'], ['X-B', '2']]


@pytest.mark.parametrize('path, expected', [('/', UPSTREAM_SORTED), ('/a', UPSTREAM_SORTED),
                                            ('= /b', DEFAULT_SORTED)])
def test_default_headers_in_each_location(path, expected):
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'app'}, {'path': '/a', 'upstream': 'other'}, {'path': '= /b', 'pass': 'http://x'}]})
    assert headers_of(location_block(_render.render_vhost(model), path)) == expected


def test_location_header_overrides_vhost_header():
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'app', 'headers': {'Host': 'backend.internal'}}]})
    assert headers_of(location_block(_render.render_vhost(model), '/'))[1] == ['Host', 'backend.internal']


@pytest.mark.parametrize('name', ['host', 'HOST', 'Host'])
def test_location_header_replaces_the_vhost_header_whatever_its_case(name):
    # Header names ignore case: two lines would send the backend two Host headers.
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'app', 'headers': {name: 'backend.internal'}}]})
    headers = headers_of(location_block(_render.render_vhost(model), '/'))
    assert [h for h in headers if h[0].lower() == 'host'] == [[name, 'backend.internal']]
    assert len(headers) == len(UPSTREAM_SORTED)


def test_every_upstream_location_speaks_http11_without_connection_close():
    # Whether or not the group keeps connections alive: turning keepalive on through the upstream module
    # alone can never leave the vhost sending HTTP/1.0.
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'kept'}, {'path': '/b', 'upstream': 'plain'}]})
    text = _render.render_vhost(model)
    for path, group in (('/', 'kept'), ('/b', 'plain')):
        block = location_block(text, path)
        assert block[:3] == [('proxy_pass', ['http://' + group]), ('proxy_http_version', ['1.1']),
                             ('proxy_set_header', ['Connection', ''])]
        assert headers_of(block) == UPSTREAM_SORTED


@pytest.mark.parametrize('name', ['Connection', 'connection'])
def test_a_connection_header_of_the_location_is_kept(name):
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'kept', 'headers': {name: 'close'}}]})
    block = location_block(_render.render_vhost(model), '/')
    assert ('proxy_http_version', ['1.1']) in block
    assert [h for h in headers_of(block) if h[0].lower() == 'connection'] == [[name, 'close']]


def test_literal_pass_is_left_to_nginx_defaults():
    model = Vhost.from_options({'name': 'v', 'locations': [{'path': '/', 'pass': 'http://kept'}]})
    block = location_block(_render.render_vhost(model), '/')
    assert block[0] == ('proxy_pass', ['http://kept'])
    assert ('proxy_http_version', ['1.1']) not in block
    assert headers_of(block) == DEFAULT_SORTED


def test_websocket_location():
    model = Vhost.from_options({'name': 'v', 'locations': [{'path': '/ws', 'upstream': 'chat', 'websocket': True}]})
    block = location_block(_render.render_vhost(model), '/ws')
    assert block[:2] == [('proxy_pass', ['http://chat']), ('proxy_http_version', ['1.1'])]
    assert headers_of(block) == [
        ['Connection', '$balancer_connection_upgrade'], ['Host', '$host'], ['Upgrade', '$http_upgrade'],
        ['X-Forwarded-For', '$proxy_add_x_forwarded_for'], ['X-Forwarded-Proto', '$scheme'],
        ['X-Real-IP', '$remote_addr']]
    assert block.count(('proxy_http_version', ['1.1'])) == 1


@pytest.mark.parametrize('url', ['http://127.0.0.1:8080', 'https://api.example.com/v1/', 'http://unix:/run/a.sock:/'])
def test_literal_pass_rendered_as_given(url):
    model = Vhost.from_options({'name': 'v', 'locations': [{'path': '/', 'pass': url}]})
    text = _render.render_vhost(model)
    assert location_block(text, '/')[0] == ('proxy_pass', [url])
    assert '        proxy_pass %s;\n' % url in text


def test_next_upstream_and_timeouts_order():
    model = Vhost.from_options({'name': 'v', 'locations': [{
        'path': '/', 'upstream': 'app', 'send_timeout': '3s', 'read_timeout': '2s', 'connect_timeout': '1s',
        'next_upstream_timeout': '4s', 'next_upstream_tries': 0, 'next_upstream': 'error timeout'}]})
    block = location_block(_render.render_vhost(model), '/')
    assert [b for b in block if b[0] != 'proxy_set_header'] == [
        ('proxy_pass', ['http://app']),
        ('proxy_http_version', ['1.1']),
        ('proxy_next_upstream', ['error', 'timeout']),
        ('proxy_next_upstream_tries', ['0']),
        ('proxy_next_upstream_timeout', ['4s']),
        ('proxy_connect_timeout', ['1s']),
        ('proxy_read_timeout', ['2s']),
        ('proxy_send_timeout', ['3s']),
    ]


def test_server_level_order():
    model = Vhost.from_options({
        'name': 'v', 'server_name': 'a.example.com', 'listen': ['443 ssl http2', '80'], 'upstream': 'app',
        'ssl_certificate': '/c.pem', 'ssl_certificate_key': '/k.pem', 'access_log': 'off'})
    server = _inspect.parse_text(_render.render_vhost(model))[0]
    assert [(s['directive'], s['args']) for s in server['block'] if s['directive'] != 'location'] == [
        ('listen', ['443', 'ssl', 'http2']), ('listen', ['80']), ('server_name', ['a.example.com']),
        ('ssl_certificate', ['/c.pem']), ('ssl_certificate_key', ['/k.pem']), ('access_log', ['off'])]


def test_no_server_name_line_without_names():
    text = _render.render_vhost(Vhost.from_options({'name': 'v', 'upstream': 'app'}))
    assert 'server_name' not in text


def test_regex_server_name_and_location_render_and_round_trip():
    # The renderer can write regex names and paths (crossplane quotes them); see test__model_vhost.py for the
    # model side.
    lines = _render._Lines()
    payload = [{'directive': 'server', 'args': [], 'line': lines.next(), 'block': [
        {'directive': 'server_name', 'args': ['~^(www\\.)?example\\.com$'], 'line': lines.next()},
        {'directive': 'location', 'args': ['~*', '\\.(png|jpg)$'], 'line': lines.next(), 'block': []},
    ]}]
    text = _render.build(payload)
    assert _render.strip_lines(_inspect.parse_text(text)) == _render.strip_lines(payload)


# Same rule for header values: accepted by the model means Nginx reads it as written.
@pytest.mark.parametrize('value', ['say "hi"', "it's", '$a $b', '', 'C:\\', 'a\tb', 'hello\\r\\nX-Injected: yes',
                                   'for=$remote_addr;proto=$scheme', '${host}x', 'a\xa0b'], ids=repr)
def test_header_value_accepted_only_if_nginx_reads_it_as_written(value):
    try:
        model = Vhost.from_options({'name': 'v', 'locations': [{'path': '/', 'pass': 'http://x',
                                                                'headers': {'X-A': value}}]})
    except ModelError as exc:
        assert exc.option == 'locations[0].headers.X-A'
        return
    payload = _render.file_payload([lambda lines: _render.vhost_payload(model, lines)])
    text = _render.build(payload)
    _inspect.check_roundtrip(text, payload)
    assert ['X-A', value] in nginx_reader.statements(text, 'proxy_set_header')
