# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_inspect.py: config_info's view (describe_config, unsupported_features) and the
log-format and pruning checks, on a hand-written configuration in the guide's style."""

from __future__ import annotations

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import InspectError
from ansible_collections.balancer.nginx.plugins.module_utils._features import NginxInfo
from ansible_collections.balancer.nginx.plugins.module_utils._inspect import ConfigTree
from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Upstream

NGINX_CONF = '/etc/nginx/nginx.conf'
UPSTREAM_FILE = '/etc/nginx/conf.d/backend.conf'
SITE_FILE = '/etc/nginx/sites-enabled/app'
PLUS_FILE = '/etc/nginx/conf.d/plus.conf'
OSS_122 = NginxInfo((1, 22, 1), False)
PLUS_131 = NginxInfo((1, 31, 0), True)

MAIN = """\
user www-data;
events {
    worker_connections 768;
}
http {
    log_format upstream_debug '$remote_addr $host $request status=$status upstream=$upstream_addr '
                              'upstream_status=$upstream_status upstream_response_time=$upstream_response_time';
    include /etc/nginx/conf.d/*.conf;
    include /etc/nginx/sites-enabled/*;
}
"""

UPSTREAM = """\
upstream backend {
    server 10.0.0.11:3000 weight=3 max_fails=3 fail_timeout=30s;
    server 10.0.0.12:3000 weight=2;
    server 10.0.0.13:3000 backup;
    keepalive 32;
}
"""

SITE = """\
server {
    listen 80;
    listen [::]:80;
    server_name app.example.com www.app.example.com;
    access_log /var/log/nginx/app.log upstream_debug;

    location / {
        proxy_pass http://backend;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_next_upstream error timeout http_502 http_503 http_504;
    }

    location /old {
        proxy_pass http://retired;
    }

    location /static {
        proxy_pass http://127.0.0.1:8080;
    }
}
"""

PLUS = """\
upstream plus {
    zone plus 64k;
    server app1.internal:80 slow_start=30s resolve;
    ntlm;
    queue 10 timeout=5s;
}
server {
    listen 8081;
    location / {
        proxy_pass http://plus;
        health_check;
    }
}
"""

GUIDE = {NGINX_CONF: MAIN, UPSTREAM_FILE: UPSTREAM, SITE_FILE: SITE}
WITH_PLUS = dict(GUIDE, **{PLUS_FILE: PLUS})

BACKEND_OPTIONS = {
    'context': 'http', 'method': 'round_robin', 'consistent': False, 'random_two': False, 'ntlm': False, 'keepalive': 32,
    'servers': [
        {'address': '10.0.0.11:3000', 'weight': 3, 'max_fails': 3, 'fail_timeout': '30s',
         'backup': False, 'down': False, 'resolve': False, 'drain': False},
        {'address': '10.0.0.12:3000', 'weight': 2, 'backup': False, 'down': False, 'resolve': False, 'drain': False},
        {'address': '10.0.0.13:3000', 'backup': True, 'down': False, 'resolve': False, 'drain': False},
    ],
}
UPSTREAM_DEBUG_PARTS = ['$remote_addr $host $request status=$status upstream=$upstream_addr ',
                        'upstream_status=$upstream_status upstream_response_time=$upstream_response_time']


@pytest.fixture(scope='module')
def guide():
    return ConfigTree(GUIDE, NGINX_CONF)


@pytest.fixture(scope='module')
def with_plus():
    return ConfigTree(WITH_PLUS, NGINX_CONF)


def test_describe_config_on_the_guide(guide):
    assert _inspect.describe_config(guide, OSS_122) == {
        'upstreams': {
            'backend': {'file': UPSTREAM_FILE, 'line': 1, 'options': BACKEND_OPTIONS, 'unknown': [],
                        'references': [{'file': SITE_FILE, 'line': 8}]},
        },
        'stream_upstreams': {},
        'vhosts': [{
            'file': SITE_FILE, 'line': 1, 'server_name': ['app.example.com', 'www.app.example.com'],
            'listen': ['80', '[::]:80'],
            'locations': [{'path': '/', 'proxy_pass': 'http://backend'},
                          {'path': '/old', 'proxy_pass': 'http://retired'},
                          {'path': '/static', 'proxy_pass': 'http://127.0.0.1:8080'}],
        }],
        'log_formats': {
            'upstream_debug': {'file': NGINX_CONF, 'line': 6, 'format': UPSTREAM_DEBUG_PARTS, 'escape': None},
        },
        'undefined_upstreams': [{'name': 'retired', 'file': SITE_FILE, 'line': 19}],
        'unsupported': [],
        'nginx': {'version': '1.22.1', 'plus': False},
    }


STREAM_MAIN = ('events {}\n'
               'http {\n'
               '    include /etc/nginx/conf.d/*.conf;\n'
               '}\n'
               'stream {\n'
               '    include /etc/nginx/stream.d/*.conf;\n'
               '}\n')
MIXED = {
    NGINX_CONF: STREAM_MAIN,
    '/etc/nginx/conf.d/shop.conf': ('upstream Shop {\n'
                                    '    server 10.0.0.1:80 foo=1;\n'
                                    '    health_check interval=5;\n'
                                    '    include /etc/nginx/more.conf;\n'
                                    '}\n'
                                    'server {\n'
                                    '    location / {\n'
                                    '        proxy_pass http://shop;\n'
                                    '    }\n'
                                    '}\n'),
    '/etc/nginx/stream.d/db.conf': ('upstream db {\n'
                                    '    least_conn;\n'
                                    '    server 10.0.0.2:5432;\n'
                                    '}\n'
                                    'server {\n'
                                    '    listen 5432;\n'
                                    '    proxy_pass db;\n'
                                    '}\n'),
}


def test_describe_config_unknown_and_stream_upstreams():
    result = _inspect.describe_config(ConfigTree(MIXED, NGINX_CONF), OSS_122)
    assert result['upstreams'] == {
        'Shop': {
            'file': '/etc/nginx/conf.d/shop.conf', 'line': 1,
            'options': {'context': 'http', 'method': 'round_robin', 'consistent': False, 'random_two': False,
                        'ntlm': False,
                        'servers': [{'address': '10.0.0.1:80', 'backup': False, 'down': False, 'resolve': False,
                                     'drain': False}]},
            'unknown': [{'directive': 'server', 'args': ['10.0.0.1:80', 'foo=1'], 'line': 2},
                        {'directive': 'health_check', 'args': ['interval=5'], 'line': 3},
                        {'directive': 'include', 'args': ['/etc/nginx/more.conf'], 'line': 4}],
            # proxy_pass http://shop refers to Shop: Nginx compares the names ignoring case
            'references': [{'file': '/etc/nginx/conf.d/shop.conf', 'line': 8}],
        },
    }
    assert result['stream_upstreams'] == {
        'db': {
            'file': '/etc/nginx/stream.d/db.conf', 'line': 1,
            'options': {'context': 'stream', 'method': 'least_conn', 'consistent': False, 'random_two': False,
                        'ntlm': False,
                        'servers': [{'address': '10.0.0.2:5432', 'backup': False, 'down': False, 'resolve': False,
                                     'drain': False}]},
            'unknown': [],
            # the stream proxy that passes to it (issue 12: references of stream groups too)
            'references': [{'file': '/etc/nginx/stream.d/db.conf', 'line': 7}],
        },
    }
    assert result['undefined_upstreams'] == []


def test_describe_config_only_upstream_ignores_case():
    tree = ConfigTree(MIXED, NGINX_CONF)
    result = _inspect.describe_config(tree, OSS_122, only_upstream='SHOP')
    assert (list(result['upstreams']), result['stream_upstreams']) == (['Shop'], {})
    result = _inspect.describe_config(tree, OSS_122, only_upstream='db')
    assert (result['upstreams'], list(result['stream_upstreams'])) == ({}, ['db'])


def test_stream_options_feed_back_into_the_upstream_model_in_the_stream_context():
    options = _inspect.describe_config(ConfigTree(MIXED, NGINX_CONF), OSS_122)['stream_upstreams']['db']['options']
    model = Upstream.from_options(dict(options, name='db'))
    assert model.context == 'stream'
    assert _render.render_file(model.payload, ('upstream', 'db')).split('\n')[2:] == [
        'upstream db {', '    least_conn;', '    server 10.0.0.2:5432;', '}', '']


def test_same_named_http_and_stream_groups_are_listed_apart():
    files = {NGINX_CONF: STREAM_MAIN,
             '/etc/nginx/conf.d/app.conf': ('upstream app {\n    server 10.0.0.1:80;\n}\n'
                                            'server {\n    location / {\n        proxy_pass http://app;\n    }\n}\n'),
             '/etc/nginx/stream.d/app.conf': ('upstream APP {\n    server 10.0.0.1:5432;\n}\n'
                                              'server {\n    listen 5432;\n    proxy_pass app;\n}\n')}
    result = _inspect.describe_config(ConfigTree(files, NGINX_CONF), OSS_122)
    assert (result['upstreams']['app']['references'], result['stream_upstreams']['APP']['references']) == (
        [{'file': '/etc/nginx/conf.d/app.conf', 'line': 6}], [{'file': '/etc/nginx/stream.d/app.conf', 'line': 6}])
    assert (result['upstreams']['app']['options']['context'],
            result['stream_upstreams']['APP']['options']['context']) == ('http', 'stream')
    assert result['undefined_upstreams'] == []


def test_a_split_counts_as_a_reference_of_each_group():
    files = {NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
             '/etc/nginx/conf.d/v1.conf': 'upstream v1 {\n    server 10.0.0.1:80;\n}\n',
             '/etc/nginx/conf.d/v2.conf': 'upstream v2 {\n    server 10.0.0.2:80;\n}\n',
             '/etc/nginx/conf.d/shop.vhost.conf': ('split_clients $request_id $canary {\n    90% v1;\n    * V2;\n}\n'
                                                   'server {\n    location / {\n'
                                                   '        proxy_pass http://$canary;\n    }\n}\n')}
    result = _inspect.describe_config(ConfigTree(files, NGINX_CONF), OSS_122)
    assert (result['upstreams']['v1']['references'], result['upstreams']['v2']['references']) == (
        [{'file': '/etc/nginx/conf.d/shop.vhost.conf', 'line': 2}],
        [{'file': '/etc/nginx/conf.d/shop.vhost.conf', 'line': 3}])
    assert result['undefined_upstreams'] == []


def test_options_feed_back_into_the_upstream_model(guide):
    options = _inspect.describe_config(guide, OSS_122)['upstreams']['backend']['options']
    model = Upstream.from_options(dict(options, name='backend'))
    rendered = _inspect.parse_text(_render.render_file(model.payload, ('upstream', model.name)))
    hand_written = _inspect.parse_text(UPSTREAM)
    assert _render.strip_lines(rendered) == _render.strip_lines(hand_written)
    model.check_features(OSS_122)


def test_plus_options_feed_back_on_plus(with_plus):
    options = _inspect.describe_config(with_plus, PLUS_131)['upstreams']['plus']['options']
    assert options == {'context': 'http', 'method': 'round_robin', 'consistent': False, 'random_two': False,
                       'ntlm': True,
                       'queue': 10, 'queue_timeout': '5s', 'zone': 'plus 64k',
                       'servers': [{'address': 'app1.internal:80', 'slow_start': '30s', 'resolve': True,
                                    'backup': False, 'down': False, 'drain': False}]}
    model = Upstream.from_options(dict(options, name='plus'))
    assert (_render.strip_lines(_inspect.parse_text(_render.render_file(model.payload, ('upstream', model.name))))
            == _render.strip_lines(_inspect.parse_text(PLUS)[:1]))


def test_log_format_escape_split_off():
    tree = ConfigTree({NGINX_CONF: "http {\n    log_format j escape=json '{\"s\":\"$status\"}';\n}\n"}, NGINX_CONF)
    assert _inspect.describe_config(tree, OSS_122)['log_formats'] == {
        'j': {'file': NGINX_CONF, 'line': 2, 'format': ['{"s":"$status"}'], 'escape': 'json'}}


def test_unsupported_on_oss_122(with_plus):
    assert _inspect.describe_config(with_plus, OSS_122)['unsupported'] == [
        {'directive': 'server slow_start', 'file': PLUS_FILE, 'line': 3},
        {'directive': 'server resolve', 'file': PLUS_FILE, 'line': 3},
        {'directive': 'ntlm', 'file': PLUS_FILE, 'line': 4},
        {'directive': 'queue', 'file': PLUS_FILE, 'line': 5},
        {'directive': 'health_check', 'file': PLUS_FILE, 'line': 11},
    ]


def test_nothing_unsupported_on_plus(with_plus):
    result = _inspect.describe_config(with_plus, PLUS_131)
    assert result['unsupported'] == []
    assert result['nginx'] == {'version': '1.31.0', 'plus': True}


def test_unsupported_resolve_is_fine_on_newer_oss(with_plus):
    found = _inspect.unsupported_features(with_plus, NginxInfo((1, 27, 3), False))
    assert [f['directive'] for f in found] == ['server slow_start', 'ntlm', 'queue', 'health_check']


def test_unsupported_nginx_plus_flag_lifts_the_gate(with_plus):
    assert _inspect.unsupported_features(with_plus, OSS_122, nginx_plus=True) == []


def test_only_upstream_keeps_that_group(with_plus):
    result = _inspect.describe_config(with_plus, OSS_122, only_upstream='backend')
    assert list(result['upstreams']) == ['backend']
    assert _inspect.describe_config(with_plus, OSS_122, only_upstream='plus')['upstreams']['plus']['references'] == [
        {'file': PLUS_FILE, 'line': 10}]
    assert _inspect.describe_config(with_plus, OSS_122, only_upstream='nope')['upstreams'] == {}


def test_vhosts_listed_in_read_order(with_plus):
    assert [(v['file'], v['line']) for v in _inspect.describe_config(with_plus, OSS_122)['vhosts']] == [
        (PLUS_FILE, 7), (SITE_FILE, 1)]


def test_proxy_pass_directly_in_server_is_a_location_without_path():
    tree = ConfigTree({NGINX_CONF: 'http {\n    upstream u {\n        server 1.1.1.1;\n    }\n'
                                   '    server {\n        proxy_pass http://u;\n    }\n}\n'}, NGINX_CONF)
    vhost = _inspect.describe_config(tree, OSS_122)['vhosts'][0]
    assert vhost == {'file': NGINX_CONF, 'line': 5, 'server_name': [], 'listen': [],
                     'locations': [{'path': None, 'proxy_pass': 'http://u'}]}


@pytest.mark.parametrize('target, undefined', [
    ('http://retired', ['retired']),
    ('http://retired:8080', []),
    ('http://localhost', []),
    ('http://api.example.com', []),
    ('http://$backend', []),
    ('http://unix:/run/a.sock', []),
    ('https://retired/path', ['retired']),
])
def test_undefined_upstreams_only_for_names(target, undefined):
    text = 'http {\n    server {\n        location / {\n            proxy_pass %s;\n        }\n    }\n}\n' % target
    tree = ConfigTree({NGINX_CONF: text}, NGINX_CONF)
    assert [u['name'] for u in _inspect.describe_config(tree, OSS_122)['undefined_upstreams']] == undefined


# --------------------------------------------------------------------------
# log formats: check_access_log_formats, check_unique_log_format
# --------------------------------------------------------------------------

VHOST = '/etc/nginx/conf.d/shop.vhost.conf'


def tree_with(vhost_text, extra=None):
    files = {NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n', VHOST: vhost_text}
    files.update(extra or {})
    return ConfigTree(files, NGINX_CONF)


@pytest.mark.parametrize('access_log', ['off', '/var/log/x', '/var/log/x combined', '/var/log/x buffer=32k'])
def test_access_logs_without_a_named_format_pass(access_log):
    _inspect.check_access_log_formats(tree_with('server {\n    access_log %s;\n}\n' % access_log), VHOST,
                                      'access_log.format')


def test_access_log_format_defined_earlier_passes():
    tree = tree_with('server {\n    access_log /l main;\n}\n',
                     {'/etc/nginx/conf.d/00-log-format-main.conf': "log_format main '$status';\n"})
    _inspect.check_access_log_formats(tree, VHOST, 'access_log.format')


def test_access_log_format_undefined():
    with pytest.raises(InspectError) as info:
        _inspect.check_access_log_formats(tree_with('server {\n    access_log /l main;\n}\n'), VHOST, 'x.format')
    assert str(info.value) == ("x.format: 'main' is not defined as a log format in the proxy's configuration; "
                               "define it first (balancer.nginx.log_format, or log_formats in the same site call).")


def test_access_log_format_defined_in_a_server_block_does_not_count():
    tree = tree_with('server {\n    access_log /l main;\n}\n',
                     {'/etc/nginx/conf.d/00-x.conf': "server {\n    log_format main '$status';\n}\n"})
    with pytest.raises(InspectError) as info:
        _inspect.check_access_log_formats(tree, VHOST, 'access_log.format')
    assert str(info.value) == ("access_log.format: 'main' is not defined as a log format in the proxy's "
                               "configuration; define it first (balancer.nginx.log_format, or log_formats in the "
                               "same site call).")


def test_access_log_format_read_later():
    tree = tree_with('server {\n    listen 80;\n    access_log /l main;\n}\n',
                     {'/etc/nginx/conf.d/zz-formats.conf': "log_format main '$status';\n"})
    with pytest.raises(InspectError) as info:
        _inspect.check_access_log_formats(tree, VHOST, 'access_log.format')
    assert str(info.value) == (
        "access_log.format: 'main' is defined in /etc/nginx/conf.d/zz-formats.conf:1, which Nginx "
        "reads after its use at /etc/nginx/conf.d/shop.vhost.conf:3; put the log_format in a file that sorts before "
        "the vhost (log_format writes 00-log-format-NAME.conf).")


def test_access_logs_of_other_files_are_not_checked():
    tree = tree_with('server {\n}\n', {'/etc/nginx/conf.d/other.conf': 'server {\n    access_log /l nope;\n}\n'})
    _inspect.check_access_log_formats(tree, VHOST, 'access_log.format')


def test_unique_log_format():
    path = '/etc/nginx/conf.d/00-log-format-main.conf'
    tree = tree_with('server {\n}\n', {path: "log_format main '$status';\n",
                                       '/etc/nginx/conf.d/zz.conf': "log_format other '$status';\n"})
    _inspect.check_unique_log_format(tree, 'main', path)
    _inspect.check_unique_log_format(tree, 'new', path)
    with pytest.raises(InspectError) as info:
        _inspect.check_unique_log_format(tree, 'other', path, 'log_formats[0].name')
    assert str(info.value) == ("log_formats[0].name: 'other' is already defined as a log format in "
                               "/etc/nginx/conf.d/zz.conf:1; remove it there, or choose another name.")


# --------------------------------------------------------------------------
# check_nothing_lost
# --------------------------------------------------------------------------

def test_nothing_lost_when_the_upstream_is_defined_elsewhere():
    tree = tree_with('server {\n    location / {\n        proxy_pass http://app;\n    }\n}\n',
                     {'/etc/nginx/conf.d/app2.conf': 'upstream app {\n    server 1.1.1.1;\n}\n'})
    _inspect.check_nothing_lost(tree, '/etc/nginx/conf.d/app.conf', 'upstream app {\n    server 1.1.1.1;\n}\n')


def test_nothing_lost_unused_upstream():
    _inspect.check_nothing_lost(tree_with('server {\n}\n'), '/etc/nginx/conf.d/app.conf',
                                'upstream app {\n    server 1.1.1.1;\n}\n')


def test_nothing_lost_ignores_unparsable_text():
    _inspect.check_nothing_lost(tree_with('server {\n}\n'), '/etc/nginx/conf.d/x.conf', 'upstream app {')


def test_nothing_lost_refuses_a_used_upstream():
    tree = tree_with('server {\n    location / {\n        proxy_pass http://app;\n    }\n}\n')
    with pytest.raises(InspectError) as info:
        _inspect.check_nothing_lost(tree, '/etc/nginx/conf.d/app.conf', 'upstream app {\n    server 1.1.1.1;\n}\n')
    assert str(info.value) == (
        "exclusive: would remove /etc/nginx/conf.d/app.conf, which defines upstream 'app' still used at "
        "/etc/nginx/conf.d/shop.vhost.conf:3; describe that upstream in this call too, or set exclusive: false.")


def test_locations_from_includes_inside_a_server_and_nested_locations_are_listed():
    files = {
        NGINX_CONF: 'http {\n    server {\n        listen 80;\n        include /etc/nginx/snippets/loc.conf;\n'
                    '        location / {\n            proxy_pass http://a;\n'
                    '            location /inner/ {\n                proxy_pass http://b;\n            }\n'
                    '        }\n    }\n}\n',
        '/etc/nginx/snippets/loc.conf': 'location = /status {\n    proxy_pass http://127.0.0.1:9000;\n}\n',
    }
    tree = ConfigTree(files, NGINX_CONF)
    vhost = _inspect.describe_config(tree, OSS_122)['vhosts'][0]
    assert vhost['locations'] == [
        {'path': '= /status', 'proxy_pass': 'http://127.0.0.1:9000'},
        {'path': '/', 'proxy_pass': 'http://a'},
        {'path': '/inner/', 'proxy_pass': 'http://b'},
    ]
