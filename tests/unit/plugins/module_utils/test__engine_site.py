# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_engine.py: describe() and plan_site() on hand-built snapshots."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _engine
from ansible_collections.balancer.nginx.plugins.module_utils._errors import FeatureError, InspectError, ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._features import NginxInfo
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import MANAGED_HEADER

NGINX_CONF = '/etc/nginx/nginx.conf'
CD = '/etc/nginx/conf.d'
MAIN = ('events {\n}\n'
        'http {\n'
        '    include /etc/nginx/conf.d/*.conf;\n'
        '    include /etc/nginx/sites-enabled/*;\n'
        '}\n')


def snapshot(files=None, current=None, dirs=None, version=(1, 22, 1)):
    all_files = {NGINX_CONF: MAIN}
    all_files.update(files or {})
    return _engine.Snapshot(NginxInfo(version, False), NGINX_CONF, all_files, current or {}, dirs=dirs)


def managed(text):
    return MANAGED_HEADER + '\n' + text


# the file every websocket location needs, spelled out
WS_MAP_TEXT = (MANAGED_HEADER + '\n'
               '# balancer.nginx item: map websocket\n'
               'map $http_upgrade $balancer_connection_upgrade {\n'
               '    default upgrade;\n'
               "    '' '';\n"
               '}\n')
# what the upstream module writes for up('app')
APP_TEXT = (MANAGED_HEADER + '\n'
            '# balancer.nginx item: upstream app\n'
            'upstream app {\n'
            '    server 10.0.0.1:80;\n'
            '}\n')


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


def dir_entry(text, is_managed=True):
    return {'managed': is_managed, 'content_b64': b64(text) if is_managed else None}


def plan(snap=None, exclusive=False, force=False, nginx_plus=False, **groups):
    items = _engine.describe(CD, **groups)
    return _engine.plan_site(items, snap or snapshot(), CD, nginx_plus=nginx_plus, force=force, exclusive=exclusive)


def refusal(error, **kwargs):
    with pytest.raises(error) as info:
        plan(**kwargs)
    return str(info.value)


def files_of(result):
    return dict((c.path, c.after) for c in result.changes)


def up(name, *addresses, **options):
    return dict(options, name=name, servers=[{'address': a} for a in (addresses or ['10.0.0.1:80'])])


# --------------------------------------------------------------------------
# describe
# --------------------------------------------------------------------------

def test_describe_orders_log_formats_upstreams_vhosts():
    items = _engine.describe(CD, upstreams=[up('app')], vhosts=[{'name': 'shop', 'upstream': 'app'}],
                             log_formats=[{'name': 'upstream_debug'}])
    assert [(i.kind, i.prefix, i.path, i.state) for i in items] == [
        ('log_format', 'log_formats[0].', CD + '/00-log-format-upstream_debug.conf', 'present'),
        ('upstream', 'upstreams[0].', CD + '/app.conf', 'present'),
        ('vhost', 'vhosts[0].', CD + '/shop.vhost.conf', 'present'),
    ]


def test_describe_same_name_different_kinds_is_fine():
    items = _engine.describe(CD, upstreams=[up('a')], vhosts=[{'name': 'a', 'upstream': 'a'}],
                             log_formats=[{'name': 'a', 'format': '$status'}])
    assert sorted(i.path for i in items) == [CD + '/00-log-format-a.conf', CD + '/a.conf', CD + '/a.vhost.conf']


def test_describe_refuses_two_items_writing_the_same_file():
    with pytest.raises(ModelError) as info:
        _engine.describe(CD, upstreams=[up('a'), dict(up('b'), path=CD + '/a.conf')])
    assert str(info.value) == ("upstreams[1].name: 'b' writes the same file /etc/nginx/conf.d/a.conf as "
                               "upstreams[0].name; give each item its own name or path.")


def test_describe_refuses_same_file_across_kinds():
    with pytest.raises(ModelError) as info:
        _engine.describe(CD, upstreams=[dict(up('a'), path=CD + '/x.conf')],
                         vhosts=[{'name': 'b', 'path': CD + '/x.conf', 'upstream': 'a'}])
    assert str(info.value) == ("vhosts[0].name: 'b' writes the same file /etc/nginx/conf.d/x.conf as "
                               "upstreams[0].name; give each item its own name or path.")


def test_describe_refuses_repeated_names():
    with pytest.raises(ModelError) as info:
        _engine.describe(CD, vhosts=[{'name': 'shop', 'upstream': 'a'},
                                     {'name': 'shop', 'path': '/etc/nginx/sites-enabled/shop', 'upstream': 'a'}])
    assert str(info.value) == "vhosts[1].name: 'shop' repeats vhosts[0].name; describe each vhost once."


UPSTREAM_NAMES = ('name, state, context, method, hash_key, consistent, random_two, least_time, servers, keepalive, '
                  'keepalive_requests, keepalive_time, keepalive_timeout, zone, resolver, resolver_timeout, sticky, '
                  'ntlm, queue, queue_timeout')


@pytest.mark.parametrize('groups, message', [
    # one message for an unknown option, present or absent: the item's options, its own path included
    ({'upstreams': [dict(up('a'), bogus=1)]},
     'upstreams[0]: has unknown option(s) bogus; use only ' + UPSTREAM_NAMES + ', path.'),
    ({'upstreams': [dict(up('a'), force=True)]},
     'upstreams[0]: has unknown option(s) force; use only ' + UPSTREAM_NAMES + ', path.'),
    ({'vhosts': [{'name': 'v', 'upstream': 'a', 'websocket': True}]},
     'vhosts[0]: has unknown option(s) websocket; use only name, state, server_name, listen, upstream, locations, '
     'proxy_headers, access_log, ssl_certificate, ssl_certificate_key, path.'),
    ({'log_formats': [{'name': 'm', 'format': '$status', 'escape': 'json', 'x': 1, 'a': 2}]},
     'log_formats[0]: has unknown option(s) a, x; use only name, state, format, escape, path.'),
    ({'stream_proxies': [{'name': 'p', 'listen': '5432', 'upstream': 'pg', 'read_timeout': '1s'}]},
     'stream_proxies[0]: has unknown option(s) read_timeout; use only name, state, listen, upstream, proxy_timeout, '
     'connect_timeout, next_upstream, next_upstream_tries, next_upstream_timeout, path.'),
    ({'stream_proxies': [{'name': 'p', 'state': 'absent', 'context': 'stream'}]},
     'stream_proxies[0]: has unknown option(s) context; use only name, state, listen, upstream, proxy_timeout, '
     'connect_timeout, next_upstream, next_upstream_tries, next_upstream_timeout, path.'),
    ({'upstreams': [{'name': 'gone', 'state': 'absent', 'bogus': 1}]},
     'upstreams[0]: has unknown option(s) bogus; use only ' + UPSTREAM_NAMES + ', path.'),
    ({'upstreams': ['app']},
     'upstreams[0]: must be a dict of upstream options; write {name: ..., ...} as for balancer.nginx.upstream.'),
    ({'upstreams': [dict(up('a'), state='gone')]},
     "upstreams[0].state: 'gone' is not a state; use one of present, absent."),
    ({'upstreams': [dict(up('a'), path=['/x'])]},
     "upstreams[0].path: ['/x'] must be a single value, not a list; give one value."),
    ({'upstreams': [up('ok'), {'servers': ['10.0.0.1:80']}]},
     'upstreams[1].name: is required and must be a non-empty string; give a name such as backend_pool.'),
    ({'upstreams': [up('ok'), {'name': 'b', 'servers': [{'address': '10.0.0.1:80', 'weight': 0}]}]},
     'upstreams[1].servers[0].weight: 0 must be from 1 to 1000000; give a value from 1 to 1000000.'),
    ({'vhosts': [{'name': 'v', 'locations': [{'path': '/', 'upstream': 'a', 'next_upstream': ['nope']}]}]},
     "vhosts[0].locations[0].next_upstream[0]: 'nope' is not a proxy_next_upstream condition; use error, timeout, "
     "invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, off."),
    ({'log_formats': [{'name': 'main'}]},
     'log_formats[0].format: is required (only upstream_debug has a ready format); give the format string, '
     'e.g. "$remote_addr $status $upstream_addr".'),
])
def test_describe_refusals(groups, message):
    with pytest.raises(ModelError) as info:
        _engine.describe(CD, **groups)
    assert str(info.value) == message


def test_describe_absent_items_need_no_model():
    items = _engine.describe(CD, upstreams=[{'name': 'old', 'state': 'absent'}],
                             vhosts=[{'name': 'gone', 'state': 'absent'}])
    assert [(i.path, i.model) for i in items] == [(CD + '/old.conf', None), (CD + '/gone.vhost.conf', None)]


def test_paths_to_read_include_the_websocket_map_with_vhosts():
    items = _engine.describe(CD, upstreams=[up('app')], vhosts=[{'name': 'shop', 'upstream': 'app'}])
    assert _engine.paths_to_read(items, CD) == [CD + '/00-balancer-websocket-map.conf', CD + '/app.conf',
                                                CD + '/shop.vhost.conf']
    assert _engine.paths_to_read(_engine.describe(CD, upstreams=[up('app')]), CD) == [CD + '/app.conf']


# --------------------------------------------------------------------------
# plan_site: the file set
# --------------------------------------------------------------------------

WS_MAP = CD + '/00-balancer-websocket-map.conf'


def test_full_site_file_set():
    result = plan(
        log_formats=[{'name': 'upstream_debug'}],
        upstreams=[up('app', '10.0.0.1:80', '10.0.0.2:80', keepalive=16), up('chat', '10.0.1.1:80')],
        vhosts=[
            {'name': 'shop', 'upstream': 'app', 'access_log': {'path': '/var/log/nginx/shop.log',
                                                               'format': 'upstream_debug'}},
            {'name': 'chat', 'locations': [{'path': '/', 'upstream': 'chat', 'websocket': True}]},
            {'name': 'chat2', 'locations': [{'path': '/ws', 'upstream': 'chat', 'websocket': True}]},
        ])
    assert [(c.path, c.before, c.changed) for c in result.changes] == [
        (CD + '/00-log-format-upstream_debug.conf', None, True),
        (CD + '/app.conf', None, True),
        (CD + '/chat.conf', None, True),
        (CD + '/shop.vhost.conf', None, True),
        (CD + '/chat.vhost.conf', None, True),
        (CD + '/chat2.vhost.conf', None, True),
        (WS_MAP, None, True),
    ]
    assert result.changed is True
    assert result.warnings == []
    files = files_of(result)
    assert files[WS_MAP] == WS_MAP_TEXT
    assert all(text.startswith(MANAGED_HEADER + '\n') for text in files.values())
    # the vhost to the keepalive upstream gets HTTP/1.1, the one to chat does only for its websocket
    assert 'proxy_http_version 1.1;' in files[CD + '/shop.vhost.conf']
    assert "proxy_set_header Connection '';" in files[CD + '/shop.vhost.conf']
    assert 'proxy_set_header Connection $balancer_connection_upgrade;' in files[CD + '/chat.vhost.conf']


def test_no_websocket_map_without_websocket_location():
    result = plan(upstreams=[up('app')], vhosts=[{'name': 'shop', 'upstream': 'app'}])
    assert sorted(files_of(result)) == [CD + '/app.conf', CD + '/shop.vhost.conf']


def test_websocket_map_unchanged_when_present():
    text = WS_MAP_TEXT
    snap = snapshot({WS_MAP: text}, {WS_MAP: {'content': text.encode('utf-8')}})
    result = plan(snap, upstreams=[up('chat')],
                  vhosts=[{'name': 'chat', 'locations': [{'path': '/', 'upstream': 'chat', 'websocket': True}]}])
    assert [(c.path, c.changed) for c in result.changes if c.path == WS_MAP] == [(WS_MAP, False)]


def test_vhost_to_upstream_defined_in_same_call_accepted():
    result = plan(upstreams=[up('app')], vhosts=[{'name': 'shop', 'upstream': 'app'}])
    assert files_of(result)[CD + '/shop.vhost.conf'].count('proxy_pass http://app;') == 1


def test_vhost_to_upstream_defined_by_hand_accepted_and_keepalive_seen():
    hand = 'upstream legacy {\n    server 10.0.0.5:80;\n    keepalive 8;\n}\n'
    result = plan(snapshot({'/etc/nginx/sites-enabled/legacy': hand}), vhosts=[{'name': 'shop', 'upstream': 'legacy'}])
    text = files_of(result)[CD + '/shop.vhost.conf']
    assert 'proxy_http_version 1.1;' in text


def test_vhost_to_non_keepalive_upstream_speaks_http11_too():
    # Turning keepalive on later through the upstream module alone must not leave the vhost stale.
    result = plan(upstreams=[up('app')], vhosts=[{'name': 'shop', 'upstream': 'app'}])
    text = files_of(result)[CD + '/shop.vhost.conf']
    assert "proxy_http_version 1.1;\n        proxy_set_header Connection '';\n" in text


def test_literal_pass_is_not_checked_against_upstreams():
    result = plan(vhosts=[{'name': 'shop', 'locations': [{'path': '/', 'pass': 'http://nowhere:8080'}]}])
    assert sorted(files_of(result)) == [CD + '/shop.vhost.conf']


def test_vhost_to_undefined_upstream_refused():
    assert refusal(InspectError, vhosts=[{'name': 'shop', 'upstream': 'nope'}]) == (
        "vhosts[0].upstream: 'nope' is not defined as an upstream in the proxy's configuration; define it first "
        "(balancer.nginx.upstream, or in the same site call), or use pass for a literal URL.")


def test_vhost_location_to_undefined_upstream_refused():
    assert refusal(InspectError, upstreams=[up('app')], vhosts=[
        {'name': 'ok', 'upstream': 'app'},
        {'name': 'shop', 'locations': [{'path': '/a', 'pass': 'http://x'}, {'path': '/', 'upstream': 'nope'}]},
    ]) == ("vhosts[1].locations[1].upstream: 'nope' is not defined as an upstream in the proxy's configuration; "
           "define it first (balancer.nginx.upstream, or in the same site call), or use pass for a literal URL.")


def test_vhost_to_upstream_removed_in_same_call_refused():
    snap = snapshot({CD + '/app.conf': managed('upstream app {\n    server 1.1.1.1;\n}\n')})
    assert refusal(InspectError, snap=snap,
                   upstreams=[{'name': 'app', 'state': 'absent'}], vhosts=[{'name': 'shop', 'upstream': 'app'}]) == (
        "upstreams[0].state: 'absent' cannot remove upstream 'app': proxy_pass still refers to it at "
        "/etc/nginx/conf.d/shop.vhost.conf:7; change those proxy_pass lines first, or set force: true.")


def test_access_log_with_undefined_format_refused():
    assert refusal(InspectError, upstreams=[up('app')], vhosts=[
        {'name': 'shop', 'upstream': 'app', 'access_log': {'path': '/var/log/x.log', 'format': 'nope'}}]) == (
        "vhosts[0].access_log.format: 'nope' is not defined as a log format in the proxy's configuration; define "
        "it first (balancer.nginx.log_format, or log_formats in the same site call).")


def test_access_log_with_format_of_same_call_accepted():
    result = plan(log_formats=[{'name': 'main', 'format': '$remote_addr $status'}], upstreams=[up('app')],
                  vhosts=[{'name': 'shop', 'upstream': 'app', 'access_log': {'path': '/var/log/x', 'format': 'main'}}])
    assert 'access_log /var/log/x main;' in files_of(result)[CD + '/shop.vhost.conf']


def test_access_log_builtin_combined_needs_no_definition():
    result = plan(upstreams=[up('app')], vhosts=[
        {'name': 'shop', 'upstream': 'app', 'access_log': {'path': '/var/log/x', 'format': 'combined'}}])
    assert 'access_log /var/log/x combined;' in files_of(result)[CD + '/shop.vhost.conf']


def test_access_log_format_read_later_refused():
    snap = snapshot({CD + '/zz-formats.conf': "log_format late '$remote_addr';\n"})
    assert refusal(InspectError, snap=snap, upstreams=[up('app')], vhosts=[
        {'name': 'shop', 'upstream': 'app', 'access_log': {'path': '/var/log/x.log', 'format': 'late'}}]) == (
        "vhosts[0].access_log.format: 'late' is defined in /etc/nginx/conf.d/zz-formats.conf:1, "
        "which Nginx reads after its use at /etc/nginx/conf.d/shop.vhost.conf:6; put the log_format in a file that "
        "sorts before the vhost (log_format writes 00-log-format-NAME.conf).")


def test_access_log_format_defined_in_main_config_accepted():
    main = MAIN.replace('http {\n', "http {\n    log_format early '$status';\n")
    snap = snapshot({NGINX_CONF: main})
    result = plan(snap, upstreams=[up('app')],
                  vhosts=[{'name': 'shop', 'upstream': 'app', 'access_log': {'path': '/l', 'format': 'early'}}])
    assert result.changed


def test_duplicate_log_format_in_another_file_refused():
    snap = snapshot({CD + '/zz-formats.conf': "log_format main '$remote_addr';\n"})
    assert refusal(InspectError, snap=snap, log_formats=[{'name': 'main', 'format': '$status'}]) == (
        "log_formats[0].name: 'main' is already defined as a log format in /etc/nginx/conf.d/zz-formats.conf:1; "
        "remove it there, or choose another name.")


def test_log_format_rewrite_of_its_own_file_accepted():
    path = CD + '/00-log-format-main.conf'
    old = managed("log_format main '$remote_addr';\n")
    result = plan(snapshot({path: old}, {path: {'content': old.encode('utf-8')}}),
                  log_formats=[{'name': 'main', 'format': '$status'}])
    assert [(c.path, c.changed) for c in result.changes] == [(path, True)]


def test_duplicate_upstream_in_another_file_refused():
    snap = snapshot({'/etc/nginx/sites-enabled/hand': 'upstream app {\n    server 1.2.3.4;\n}\n'})
    assert refusal(InspectError, snap=snap, upstreams=[up('app')]) == (
        "upstreams[0].name: 'app' is already defined as an upstream in /etc/nginx/sites-enabled/hand:1; remove it "
        "there, or choose another name.")


def test_feature_gate_names_the_item():
    assert refusal(FeatureError, upstreams=[up('ok'), dict(up('app'), zone='app 64k', resolver=['127.0.0.53'])]) == (
        'upstreams[1].resolver: needs Nginx 1.27.3 or newer (resolver in upstream) and the proxy runs open source '
        'Nginx 1.22.1; upgrade Nginx to 1.27.3 or newer, remove the option, or set nginx_plus: true if the proxy '
        'runs NGINX Plus.')


def test_retry_warning_carries_the_item_prefix():
    result = plan(upstreams=[up('app')], vhosts=[
        {'name': 'a', 'upstream': 'app'},
        {'name': 'b', 'locations': [{'path': '/', 'upstream': 'app', 'next_upstream': ['error', 'non_idempotent']}]}])
    assert result.warnings == ['vhosts[1].locations[0].next_upstream: includes non_idempotent, so POST, LOCK and '
                               'PATCH requests may be sent to more than one server']


def test_file_outside_http_refused():
    assert refusal(InspectError, upstreams=[dict(up('app'), path='/etc/nginx/elsewhere/app.conf')]) == (
        'upstreams[0].path: /etc/nginx/elsewhere/app.conf is not included by /etc/nginx/nginx.conf, so Nginx would '
        'never read it; write it into a directory that the http block includes (conf_dir), or add '
        '"include /etc/nginx/elsewhere/*.conf;" inside http {}.')


# --------------------------------------------------------------------------
# absent and force
# --------------------------------------------------------------------------

APP = managed('upstream app {\n    server 10.0.0.1:80;\n}\n')
SITE = ('server {\n'
        '    listen 80;\n'
        '    location / {\n'
        '        proxy_pass http://app;\n'
        '    }\n'
        '}\n')


def test_upstream_absent_with_references_refused():
    snap = snapshot({CD + '/app.conf': APP, '/etc/nginx/sites-enabled/site': SITE},
                    {CD + '/app.conf': {'content': APP.encode('utf-8')}})
    assert refusal(InspectError, snap=snap, upstreams=[{'name': 'app', 'state': 'absent'}]) == (
        "upstreams[0].state: 'absent' cannot remove upstream 'app': proxy_pass still refers to it at "
        "/etc/nginx/sites-enabled/site:4; change those proxy_pass lines first, or set force: true.")


def test_upstream_absent_with_references_and_force():
    snap = snapshot({CD + '/app.conf': APP, '/etc/nginx/sites-enabled/site': SITE},
                    {CD + '/app.conf': {'content': APP.encode('utf-8')}})
    result = plan(snap, force=True, upstreams=[{'name': 'app', 'state': 'absent'}])
    assert [(c.path, c.after, c.changed) for c in result.changes] == [(CD + '/app.conf', None, True)]


def test_upstream_absent_without_file_is_unchanged():
    result = plan(upstreams=[{'name': 'app', 'state': 'absent'}])
    assert [(c.path, c.before, c.after, c.changed) for c in result.changes] == [(CD + '/app.conf', None, None, False)]
    assert result.changed is False


# --------------------------------------------------------------------------
# exclusive
# --------------------------------------------------------------------------

OLD = managed('upstream old {\n    server 10.9.9.9:80;\n}\n')
HAND = 'upstream hand {\n    server 10.9.9.7:80;\n}\n'


def test_exclusive_removes_undescribed_managed_files_only():
    snap = snapshot({CD + '/old.conf': OLD, CD + '/hand.conf': HAND},
                    dirs={CD: {CD + '/old.conf': dir_entry(OLD), CD + '/hand.conf': dir_entry(HAND, False)}})
    result = plan(snap, exclusive=True, upstreams=[up('app')])
    assert [(c.path, c.before, c.after is None, c.changed) for c in result.changes] == [
        (CD + '/app.conf', None, False, True),
        (CD + '/old.conf', OLD.encode('utf-8'), True, True),
    ]


def test_without_exclusive_nothing_is_removed():
    snap = snapshot({CD + '/old.conf': OLD}, dirs={CD: {CD + '/old.conf': dir_entry(OLD)}})
    result = plan(snap, upstreams=[up('app')])
    assert [c.path for c in result.changes] == [CD + '/app.conf']


def test_exclusive_keeps_described_files_and_other_directories():
    other = '/etc/nginx/sites-enabled/old.conf'
    app = APP_TEXT
    snap = snapshot({CD + '/app.conf': app, other: OLD}, {CD + '/app.conf': {'content': app.encode('utf-8')}},
                    dirs={CD: {CD + '/app.conf': dir_entry(app)}, '/etc/nginx/sites-enabled': {other: dir_entry(OLD)}})
    result = plan(snap, exclusive=True, upstreams=[up('app')])
    assert [(c.path, c.changed) for c in result.changes] == [(CD + '/app.conf', False)]
    assert result.changed is False


def test_exclusive_removes_a_stale_websocket_map():
    ws = WS_MAP_TEXT
    snap = snapshot({WS_MAP: ws}, dirs={CD: {WS_MAP: dir_entry(ws)}})
    result = plan(snap, exclusive=True, upstreams=[up('app')], vhosts=[{'name': 'shop', 'upstream': 'app'}])
    assert [(c.path, c.after is None) for c in result.changes if c.path == WS_MAP] == [(WS_MAP, True)]


def test_exclusive_refuses_to_remove_upstream_still_used_by_hand_written_vhost():
    legacy = managed('upstream legacy {\n    server 10.9.9.8:80;\n}\n')
    snap = snapshot({CD + '/legacy.conf': legacy, CD + '/site.conf': SITE.replace('app', 'legacy')},
                    dirs={CD: {CD + '/legacy.conf': dir_entry(legacy), CD + '/site.conf': dir_entry(SITE, False)}})
    assert refusal(InspectError, snap=snap, exclusive=True, upstreams=[up('app')]) == (
        "exclusive: would remove /etc/nginx/conf.d/legacy.conf, which defines upstream 'legacy' still used at "
        "/etc/nginx/conf.d/site.conf:4; describe that upstream in this call too, or set exclusive: false.")


def test_exclusive_refuses_to_remove_log_format_still_used():
    fmt = managed("log_format old '$status';\n")
    site = 'server {\n    listen 80;\n    access_log /var/log/x old;\n}\n'
    snap = snapshot({CD + '/00-log-format-old.conf': fmt, CD + '/site.conf': site},
                    dirs={CD: {CD + '/00-log-format-old.conf': dir_entry(fmt)}})
    assert refusal(InspectError, snap=snap, exclusive=True, upstreams=[up('app')]) == (
        "exclusive: would remove /etc/nginx/conf.d/00-log-format-old.conf, which defines log format 'old' still "
        "used at /etc/nginx/conf.d/site.conf:3; describe that log format in this call too, or set exclusive: false.")


def test_exclusive_removes_a_managed_upstream_and_its_managed_vhost_together():
    legacy = managed('upstream legacy {\n    server 10.9.9.8:80;\n}\n')
    vhost = managed(SITE.replace('app', 'legacy'))
    snap = snapshot({CD + '/legacy.conf': legacy, CD + '/legacy.vhost.conf': vhost},
                    dirs={CD: {CD + '/legacy.conf': dir_entry(legacy), CD + '/legacy.vhost.conf': dir_entry(vhost)}})
    result = plan(snap, exclusive=True, upstreams=[up('app')])
    assert [(c.path, c.after is None) for c in result.changes] == [
        (CD + '/app.conf', False), (CD + '/legacy.conf', True), (CD + '/legacy.vhost.conf', True)]


def test_exclusive_with_the_upstream_described_again_is_fine():
    legacy = managed('upstream legacy {\n    server 10.9.9.8:80;\n}\n')
    snap = snapshot({CD + '/legacy.conf': legacy, CD + '/site.conf': SITE.replace('app', 'legacy')},
                    {CD + '/legacy.conf': {'content': legacy.encode('utf-8')}},
                    dirs={CD: {CD + '/legacy.conf': dir_entry(legacy)}})
    result = plan(snap, exclusive=True, upstreams=[up('legacy', '10.9.9.8:80')])
    assert [(c.path, c.after is None) for c in result.changes] == [(CD + '/legacy.conf', False)]


# --------------------------------------------------------------------------
# idempotence
# --------------------------------------------------------------------------

SITE_GROUPS = dict(
    log_formats=[{'name': 'upstream_debug'}],
    upstreams=[up('app', '10.0.0.1:80', '10.0.0.2:80', keepalive=8), up('chat')],
    vhosts=[{'name': 'shop', 'upstream': 'app', 'access_log': {'path': '/var/log/x', 'format': 'upstream_debug'}},
            {'name': 'chat', 'locations': [{'path': '/', 'upstream': 'chat', 'websocket': True}]}],
)


def applied(result):
    """The snapshot of a proxy on which ``result`` was committed."""
    files = dict((c.path, c.after) for c in result.changes if c.after is not None)
    current = dict((c.path, {'content': c.after_bytes}) for c in result.changes)
    return snapshot(files, current)


def test_second_run_changes_nothing():
    first = plan(**SITE_GROUPS)
    assert first.changed is True
    second = plan(applied(first), **SITE_GROUPS)
    assert second.changed is False
    assert [c.changed for c in second.changes] == [False] * len(second.changes)
    assert files_of(second) == files_of(first)


def test_one_byte_different_is_a_change():
    first = plan(**SITE_GROUPS)
    snap = applied(first)
    path = CD + '/app.conf'
    snap.current[path] = {'content': snap.current[path]['content'] + b'\n'}
    second = plan(snap, **SITE_GROUPS)
    assert [c.path for c in second.changes if c.changed] == [path]


def test_rendering_is_byte_stable_across_plans():
    assert files_of(plan(**SITE_GROUPS)) == files_of(plan(**SITE_GROUPS))


def test_removing_a_log_format_still_used_by_an_access_log_is_refused():
    snap = snapshot({
        '/etc/nginx/conf.d/00-log-format-main.conf': 'log_format main $remote_addr;\n',
        '/etc/nginx/conf.d/hand.conf': 'server {\n    listen 80;\n    access_log /var/log/x.log main;\n}\n',
    })
    items = _engine.describe(CD, log_formats=[{'name': 'main', 'state': 'absent'}])
    with pytest.raises(InspectError) as exc:
        _engine.plan_site(items, snap, CD)
    assert str(exc.value) == (
        "log_formats[0].state: 'absent' cannot remove log format 'main': access_log still uses it at "
        "/etc/nginx/conf.d/hand.conf:3; change those access_log lines first.")


def test_websocket_map_must_be_read_in_http():
    files = {NGINX_CONF: 'events {}\nhttp {\n    include /etc/nginx/sites/*.conf;\n}\n'}
    items = _engine.describe(CD, upstreams=[{'name': 'app', 'servers': [{'address': '10.0.0.1:80'}],
                                             'path': '/etc/nginx/sites/app.conf'}],
                             vhosts=[{'name': 'ws', 'path': '/etc/nginx/sites/ws.conf',
                                      'locations': [{'path': '/', 'upstream': 'app', 'websocket': True}]}])
    snap = _engine.Snapshot(NginxInfo((1, 22, 1), False), NGINX_CONF, files, {})
    with pytest.raises(InspectError) as exc:
        _engine.plan_site(items, snap, CD)
    assert str(exc.value).startswith(
        'conf_dir: /etc/nginx/conf.d/00-balancer-websocket-map.conf is not included by /etc/nginx/nginx.conf')


# --------------------------------------------------------------------------
# ownership: a file without the header is never replaced or removed without force
# --------------------------------------------------------------------------

HEADER = '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.\n'
HAND_APP = b'upstream app {\n    server 10.0.0.1:80;\n}\n'
NOT_OURS = ('which balancer.nginx did not write (it does not start with the "# Managed by balancer.nginx" header '
            'comment), so nothing was changed')


def owned(kind, name, text):
    """Bytes of a file the collection wrote for item ``kind`` ``name``."""
    return (HEADER + '# balancer.nginx item: %s %s\n' % (kind, name) + text).encode('utf-8')


def on_proxy(files, real=None, main=MAIN):
    """A snapshot where ``files`` ({path: bytes}) exist, are read by Nginx and were asked for."""
    all_files = {NGINX_CONF: main}
    all_files.update((path, data.decode('utf-8')) for path, data in files.items())
    current = dict((path, {'exists': True, 'content': data}) for path, data in files.items())
    return _engine.Snapshot(NginxInfo((1, 22, 1), False), NGINX_CONF, all_files, current, real=real)


def test_hand_written_file_is_not_replaced_without_force():
    assert refusal(InspectError, snap=on_proxy({CD + '/app.conf': HAND_APP}), upstreams=[up('app')]) == (
        'upstreams[0].name: would replace /etc/nginx/conf.d/app.conf, ' + NOT_OURS + '; leave that file alone by '
        'giving the item another name or path, or set force: true to take it over.')


def test_hand_written_file_at_an_explicit_path_is_not_replaced_without_force():
    path = '/etc/nginx/sites-enabled/shop'
    snap = on_proxy({path: b'server {\n    listen 80;\n}\n'})
    literal = [{'path': '/', 'pass': 'http://127.0.0.1:8080'}]
    assert refusal(InspectError, snap=snap, vhosts=[{'name': 'shop', 'path': path, 'locations': literal}]) == (
        'vhosts[0].path: would replace /etc/nginx/sites-enabled/shop, ' + NOT_OURS + '; leave that file alone by '
        'giving the item another name or path, or set force: true to take it over.')


def test_hand_written_file_is_not_removed_without_force():
    snap = on_proxy({CD + '/app.conf': HAND_APP})
    assert refusal(InspectError, snap=snap, upstreams=[{'name': 'app', 'state': 'absent'}]) == (
        'upstreams[0].state: would remove /etc/nginx/conf.d/app.conf, ' + NOT_OURS + '; leave that file alone by '
        'giving the item another name, or set force: true to remove it.')
    assert refusal(InspectError, snap=on_proxy({CD + '/shop.vhost.conf': b'server {\n}\n'}),
                   vhosts=[{'name': 'shop', 'state': 'absent'}]) == (
        'vhosts[0].state: would remove /etc/nginx/conf.d/shop.vhost.conf, ' + NOT_OURS + '; leave that file alone '
        'by giving the item another name, or set force: true to remove it.')


def test_one_hand_written_file_refuses_the_whole_site():
    # the first items are fine; nothing at all is planned
    snap = on_proxy({CD + '/shop.vhost.conf': b'server {\n    listen 80;\n}\n'})
    assert refusal(InspectError, snap=snap, upstreams=[up('app'), up('api')],
                   vhosts=[{'name': 'api', 'upstream': 'api'}, {'name': 'shop', 'upstream': 'app'}]) == (
        'vhosts[1].name: would replace /etc/nginx/conf.d/shop.vhost.conf, ' + NOT_OURS + '; leave that file alone '
        'by giving the item another name or path, or set force: true to take it over.')


def test_hand_written_websocket_map_is_not_replaced_without_force():
    snap = on_proxy({WS_MAP: b'map $http_upgrade $connection_upgrade {\n    default upgrade;\n}\n'})
    assert refusal(InspectError, snap=snap, upstreams=[up('chat')],
                   vhosts=[{'name': 'chat', 'locations': [{'path': '/', 'upstream': 'chat', 'websocket': True}]}]) == (
        'conf_dir: would replace /etc/nginx/conf.d/00-balancer-websocket-map.conf, ' + NOT_OURS + '; move that '
        'file out of conf_dir (the map shared by websocket locations lives there), or set force: true to take it '
        'over.')


@pytest.mark.parametrize('before', [
    HAND_APP,
    b'',
    b'# written by hand\nupstream APP {\n    least_conn;\n    server 10.0.0.1:80 weight=2 max_fails=0;\n}\n',
], ids=['plain', 'empty', 'comment-case-method'])
def test_force_takes_over_a_plain_hand_written_upstream(before):
    result = plan(on_proxy({CD + '/app.conf': before}), force=True, upstreams=[up('app')])
    assert [(c.path, c.before, c.after) for c in result.changes] == [
        (CD + '/app.conf', before,
         HEADER + '# balancer.nginx item: upstream app\nupstream app {\n    server 10.0.0.1:80;\n}\n')]


def test_force_removes_a_hand_written_file_whatever_it_holds():
    before = HAND_APP + b'upstream other {\n    server 10.0.0.2:80;\n    health_check;\n}\n'
    result = plan(on_proxy({CD + '/app.conf': before}), force=True, upstreams=[{'name': 'app', 'state': 'absent'}])
    assert [(c.path, c.before, c.after, c.changed) for c in result.changes] == [(CD + '/app.conf', before, None, True)]


@pytest.mark.parametrize('before, lost', [
    (b'upstream app {\n    server 10.0.0.1:80;\n    health_check;\n}\n', '"health_check" at line 3'),
    (b'upstream app {\n    server 10.0.0.1:80;\n}\nupstream other {\n    server 10.0.0.2:80;\n}\n',
     '"upstream other" at line 4'),
    (b'upstream app {\n    server 10.0.0.1:80 foo=1;\n    include /etc/nginx/more.conf;\n}\n',
     '"server 10.0.0.1:80 foo=1" at line 2, "include /etc/nginx/more.conf" at line 3'),
], ids=['health_check', 'second-upstream', 'server-param-and-include'])
def test_force_refuses_a_takeover_that_would_drop_directives(before, lost):
    assert refusal(InspectError, snap=on_proxy({CD + '/app.conf': before}), force=True, upstreams=[up('app')]) == (
        'upstreams[0].name: cannot take over /etc/nginx/conf.d/app.conf: it holds what the upstream options cannot '
        'express, which would be dropped: %s; move those lines to a file of their own (or delete them) first; '
        'nothing was changed.' % lost)


def test_force_refuses_a_vhost_takeover_with_root():
    before = (b'server {\n'
              b'    listen 80;\n'
              b'    root /var/www;\n'
              b'    location / {\n'
              b'        proxy_pass http://app;\n'
              b'    }\n'
              b'}\n')
    assert refusal(InspectError, snap=on_proxy({CD + '/www.vhost.conf': before}), force=True,
                   upstreams=[up('app')], vhosts=[{'name': 'www', 'upstream': 'app'}]) == (
        'vhosts[0].name: cannot take over /etc/nginx/conf.d/www.vhost.conf: it holds what the vhost options cannot '
        'express, which would be dropped: "root /var/www" at line 3; move those lines to a file of their own (or '
        'delete them) first; nothing was changed.')


def test_force_takes_over_a_vhost_the_options_express():
    before = (b'server {\n'
              b'    listen 80;\n'
              b'    server_name www.example.com;\n'
              b'    location / {\n'
              b'        proxy_pass http://app;\n'
              b'        proxy_set_header Host $host;\n'
              b'    }\n'
              b'}\n')
    result = plan(on_proxy({CD + '/www.vhost.conf': before}), force=True, upstreams=[up('app')],
                  vhosts=[{'name': 'www', 'upstream': 'app', 'server_name': 'www.example.com'}])
    change = [c for c in result.changes if c.path == CD + '/www.vhost.conf'][0]
    assert change.before == before
    assert change.after.startswith(HEADER + '# balancer.nginx item: vhost www\nserver {\n')


def test_force_refuses_a_log_format_takeover_with_another_directive():
    path = CD + '/00-log-format-main.conf'
    before = b"log_format main '$status';\naccess_log off;\n"
    assert refusal(InspectError, snap=on_proxy({path: before}), force=True,
                   log_formats=[{'name': 'main', 'format': '$status'}]) == (
        'log_formats[0].name: cannot take over /etc/nginx/conf.d/00-log-format-main.conf: it holds what the log '
        'format options cannot express, which would be dropped: "access_log off" at line 2; move those lines to a '
        'file of their own (or delete them) first; nothing was changed.')


# -- identity: a managed file names the item it holds --------------------------------

WWW_VHOST = owned('vhost', 'www', 'server {\n    listen 80;\n}\n')


def test_an_upstream_never_replaces_the_vhost_of_the_same_file():
    # upstream "www.vhost" and vhost "www" both map to www.vhost.conf
    assert refusal(InspectError, snap=on_proxy({CD + '/www.vhost.conf': WWW_VHOST}),
                   upstreams=[up('www.vhost')]) == (
        "upstreams[0].name: would replace /etc/nginx/conf.d/www.vhost.conf, which holds the vhost 'www'; two items "
        "never share a file, so nothing was changed; rename one of them or give it its own path (or set force: true "
        "to replace it).")


def test_an_upstream_never_removes_the_vhost_of_the_same_file():
    assert refusal(InspectError, snap=on_proxy({CD + '/www.vhost.conf': WWW_VHOST}),
                   upstreams=[{'name': 'www.vhost', 'state': 'absent'}]) == (
        "upstreams[0].state: would remove /etc/nginx/conf.d/www.vhost.conf, which holds the vhost 'www'; two items "
        "never share a file, so nothing was changed; rename one of them or give it its own path (or set force: true "
        "to remove it).")


@pytest.mark.parametrize('owner, label', [
    (('upstream', 'other'), "the upstream 'other'"),
    (('log_format', 'app'), "the log format 'app'"),
    (('map', 'websocket'), "the websocket map 'websocket'"),
    (('widget', 'x'), "the widget 'x'"),
])
def test_a_managed_file_of_another_item_is_refused(owner, label):
    snap = on_proxy({CD + '/app.conf': owned(owner[0], owner[1], 'upstream app {\n    server 10.0.0.1:80;\n}\n')})
    assert refusal(InspectError, snap=snap, upstreams=[up('app')]) == (
        "upstreams[0].name: would replace /etc/nginx/conf.d/app.conf, which holds %s; two items never share a file, "
        "so nothing was changed; rename one of them or give it its own path (or set force: true to replace it)."
        % label)


def test_force_replaces_a_managed_file_of_another_item():
    result = plan(on_proxy({CD + '/www.vhost.conf': WWW_VHOST}), force=True, upstreams=[up('www.vhost')])
    assert [(c.path, c.before, c.after) for c in result.changes] == [
        (CD + '/www.vhost.conf', WWW_VHOST,
         HEADER + '# balancer.nginx item: upstream www.vhost\nupstream www.vhost {\n    server 10.0.0.1:80;\n}\n')]


@pytest.mark.parametrize('before', [
    owned('upstream', 'app', 'upstream app {\n    server 10.0.0.9:80;\n}\n'),
    owned('upstream', 'APP', 'upstream APP {\n    server 10.0.0.9:80;\n}\n'),       # names ignore case
    (HEADER + 'upstream app {\n    server 10.0.0.9:80;\n}\n').encode(),             # written before item lines
], ids=['same', 'other-case', 'no-item-line'])
def test_the_item_s_own_managed_file_is_replaced(before):
    result = plan(on_proxy({CD + '/app.conf': before}), upstreams=[up('app')])
    assert [(c.path, c.before, c.changed) for c in result.changes] == [(CD + '/app.conf', before, True)]


def test_vhost_names_do_not_ignore_case():
    before = owned('vhost', 'WWW', 'server {\n    listen 80;\n}\n')
    assert refusal(InspectError, snap=on_proxy({CD + '/www.vhost.conf': before}), upstreams=[up('app')],
                   vhosts=[{'name': 'www', 'upstream': 'app'}]) == (
        "vhosts[0].name: would replace /etc/nginx/conf.d/www.vhost.conf, which holds the vhost 'WWW'; two items "
        "never share a file, so nothing was changed; rename one of them or give it its own path (or set force: true "
        "to replace it).")


def test_upstream_names_repeated_in_another_case_are_refused():
    with pytest.raises(ModelError) as info:
        _engine.describe(CD, upstreams=[up('app'), up('APP')])
    assert str(info.value) == ("upstreams[1].name: 'APP' repeats upstreams[0].name (Nginx compares upstream names "
                               "ignoring letter case); describe each upstream once.")


def test_upstream_defined_by_hand_in_another_case_is_a_duplicate():
    snap = snapshot({'/etc/nginx/sites-enabled/hand': 'upstream APP {\n    server 1.2.3.4;\n}\n'})
    assert refusal(InspectError, snap=snap, upstreams=[up('app')]) == (
        "upstreams[0].name: 'app' is already defined as an upstream in /etc/nginx/sites-enabled/hand:1; remove it "
        "there, or choose another name.")


def test_vhost_to_an_upstream_in_another_case_is_accepted():
    result = plan(upstreams=[up('App')], vhosts=[{'name': 'shop', 'upstream': 'app'}])
    assert 'proxy_pass http://app;' in files_of(result)[CD + '/shop.vhost.conf']


# --------------------------------------------------------------------------
# symbolic links, staging and backup files
# --------------------------------------------------------------------------

def test_two_items_writing_one_file_through_a_link_are_refused():
    snap = _engine.Snapshot(NginxInfo((1, 22, 1), False), NGINX_CONF, {NGINX_CONF: MAIN}, {
        '/etc/nginx/sites-enabled/a': {'exists': True, 'content': None, 'real': '/etc/nginx/sites-available/a'},
        '/etc/nginx/sites-available/a': {'exists': False, 'content': None}})
    literal = [{'path': '/', 'pass': 'http://127.0.0.1:8080'}]
    assert refusal(InspectError, snap=snap, vhosts=[
        {'name': 'a', 'path': '/etc/nginx/sites-enabled/a', 'locations': literal},
        {'name': 'b', 'path': '/etc/nginx/sites-available/a', 'locations': literal}]) == (
        "vhosts[1].path: 'b' writes /etc/nginx/sites-available/a, the same file as vhosts[0].name (through a "
        "symbolic link); give each item its own file.")


def test_a_file_written_through_a_link_counts_as_included():
    # Debian: sites-enabled/shop -> sites-available/shop; the vhost writes the target, which Nginx reads via the link
    target = '/etc/nginx/sites-available/shop'
    before = owned('vhost', 'shop', 'server {\n    listen 80;\n}\n')
    snap = _engine.Snapshot(NginxInfo((1, 22, 1), False), NGINX_CONF,
                            {NGINX_CONF: MAIN, '/etc/nginx/sites-enabled/shop': before.decode()},
                            {target: {'exists': True, 'content': before}},
                            real={'/etc/nginx/sites-enabled/shop': target})
    result = plan(snap, upstreams=[up('app')], vhosts=[{'name': 'shop', 'upstream': 'app', 'path': target}])
    assert [(c.path, c.changed) for c in result.changes] == [(CD + '/app.conf', True), (target, True)]
    # without the link Nginx would never read it
    snap.real = {}
    assert refusal(InspectError, snap=snap, upstreams=[up('app')],
                   vhosts=[{'name': 'shop', 'upstream': 'app', 'path': target}]).startswith(
        'vhosts[0].path: /etc/nginx/sites-available/shop is not included by /etc/nginx/nginx.conf')


def test_candidate_tree_replaces_a_file_under_every_name_nginx_reads_it_by():
    target = '/etc/nginx/sites-available/app'
    old = owned('upstream', 'app', 'upstream app {\n    server 10.0.0.9:80;\n}\n')
    snap = _engine.Snapshot(NginxInfo((1, 22, 1), False), NGINX_CONF,
                            {NGINX_CONF: MAIN, '/etc/nginx/sites-enabled/app': old.decode()},
                            {target: {'exists': True, 'content': old}}, real={'/etc/nginx/sites-enabled/app': target})
    # removing the target removes what Nginx read through the link: the group is gone
    tree = _engine.candidate_tree(snap, [_engine.FileChange(target, old, None)])
    assert tree.upstream_definitions('app') == []
    new = 'upstream app {\n    server 10.0.0.1:80;\n}\n'
    tree = _engine.candidate_tree(snap, [_engine.FileChange(target, old, new)])
    assert [s.where() for s in tree.upstream_definitions('app')] == ['/etc/nginx/sites-enabled/app:1']
    assert tree.upstream_definitions('app')[0].block[0]['args'] == ['10.0.0.1:80']


def test_staging_files_read_by_an_include_are_refused():
    main = MAIN.replace('    include /etc/nginx/sites-enabled/*;\n', '    include /etc/nginx/conf.d/.*;\n')
    assert refusal(InspectError, snap=snapshot({NGINX_CONF: main}), upstreams=[up('app')]) == (
        'conf_dir: hidden staging files such as /etc/nginx/conf.d/.balancer-staging.tmp would be read by "include '
        '/etc/nginx/conf.d/.*" at /etc/nginx/nginx.conf:5; narrow that include to the files it means (e.g. *.conf): '
        'balancer.nginx stages each file as a hidden file next to it before the atomic rename.')


def plan_with_backup(snap, backup_dir, **groups):
    items = _engine.describe(CD, **groups)
    return _engine.plan_site(items, snap, CD, backup_dir=backup_dir)


def test_backup_dir_read_by_an_include_is_refused():
    path = '/etc/nginx/sites-enabled/shop'
    before = owned('vhost', 'shop', 'server {\n    listen 80;\n}\n')
    snap = on_proxy({path: before})
    groups = dict(upstreams=[up('app')], vhosts=[{'name': 'shop', 'upstream': 'app', 'path': path}])
    with pytest.raises(InspectError) as info:
        plan_with_backup(snap, '/', **groups)
    assert str(info.value) == (
        'backup_dir: backup copies such as /etc/nginx/sites-enabled/shop.20260101-000000.1~ would be read by '
        '"include /etc/nginx/sites-enabled/*" at /etc/nginx/nginx.conf:5; choose a backup_dir that no include of '
        'the configuration reads, such as /var/backups/balancer-nginx.')
    assert plan_with_backup(snap, '/var/backups/balancer-nginx', **groups).changed
    # nothing is backed up when nothing is replaced: no check
    assert plan_with_backup(on_proxy({}), '/', **groups).changed


# --------------------------------------------------------------------------
# bytes: a hand-written file that is not UTF-8
# --------------------------------------------------------------------------

LATIN1_APP = b'# caf\xe9\nupstream app {\n    server 10.0.0.1:80;\n}\n'


def latin1_proxy(before):
    """The snapshot as Snapshot.from_result makes it: any byte that is not UTF-8 kept as a surrogate."""
    return _engine.Snapshot(NginxInfo((1, 22, 1), False), NGINX_CONF,
                            {NGINX_CONF: MAIN, CD + '/app.conf': before.decode('utf-8', 'surrogateescape')},
                            {CD + '/app.conf': {'exists': True, 'content': before}})


def test_a_latin_1_file_is_refused_naming_it_and_taken_over_with_force():
    assert refusal(InspectError, snap=latin1_proxy(LATIN1_APP), upstreams=[up('app')]) == (
        'upstreams[0].name: would replace /etc/nginx/conf.d/app.conf, ' + NOT_OURS + '; leave that file alone by '
        'giving the item another name or path, or set force: true to take it over.')
    result = plan(latin1_proxy(LATIN1_APP), force=True, upstreams=[up('app')])
    assert [(c.path, c.before, c.before_text) for c in result.changes] == [
        (CD + '/app.conf', LATIN1_APP, '# caf\ufffd\nupstream app {\n    server 10.0.0.1:80;\n}\n')]


def test_a_latin_1_directive_that_would_be_dropped_is_named_in_text_json_can_carry():
    before = b'upstream app {\n    server 10.0.0.1:80;\n    health_check uri=/caf\xe9;\n}\n'
    assert refusal(InspectError, snap=latin1_proxy(before), force=True, upstreams=[up('app')]) == (
        'upstreams[0].name: cannot take over /etc/nginx/conf.d/app.conf: it holds what the upstream options cannot '
        'express, which would be dropped: "health_check uri=/caf\ufffd" at line 3; move those lines to a file of '
        'their own (or delete them) first; nothing was changed.')


# --------------------------------------------------------------------------
# issue 12: the stream context, splits and TLS to the backends, planned as one site
# --------------------------------------------------------------------------

SD = '/etc/nginx/stream.d'
STREAM_MAIN = MAIN + 'stream {\n    include /etc/nginx/stream.d/*.conf;\n}\n'
STREAM_BLOCK = ('\n'
                '# BEGIN balancer.nginx: the stream context of the TCP/UDP proxies (the rest of this file is not '
                'managed)\n'
                'stream {\n'
                '    include /etc/nginx/stream.d/*.conf;\n'
                '}\n'
                '# END balancer.nginx\n')
DEBIAN_V = ('nginx version: nginx/1.22.1\n'
            'configure arguments: --prefix=/usr/share/nginx --with-http_ssl_module --with-stream=dynamic '
            '--with-stream_ssl_module')
LOAD_STREAM = {'/etc/nginx/modules-enabled/50-mod-stream.conf': 'load_module modules/ngx_stream_module.so;\n'}
# what the upstream module writes for sup('pg') and the stream_proxy module for sp('pg'), spelled out
PG_TEXT = (MANAGED_HEADER + '\n'
           '# balancer.nginx item: upstream pg\n'
           'upstream pg {\n'
           '    server 10.0.0.31:5432;\n'
           '}\n')
PG_PROXY_TEXT = (MANAGED_HEADER + '\n'
                 '# balancer.nginx item: stream_proxy pg\n'
                 'server {\n'
                 '    listen 5432;\n'
                 '    proxy_pass pg;\n'
                 '}\n')


def sup(name, *addresses, **options):
    """A group of the stream context."""
    return dict(up(name, *(addresses or ['10.0.0.31:5432']), **options), context='stream')


def sp(name, upstream=None, listen='5432', **options):
    """A stream proxy."""
    return dict(options, name=name, listen=listen, upstream=upstream or name)


def stream_snapshot(files=None, main=MAIN, build=None, dirs=None, current=None):
    """A proxy whose nginx.conf (``main``) was read as bytes too, as a plan with stream items asks for it."""
    all_files = {NGINX_CONF: main}
    all_files.update(files or {})
    found = {NGINX_CONF: {'exists': True, 'content': main.encode('utf-8')}}
    found.update(current or {})
    return _engine.Snapshot(NginxInfo((1, 22, 1), False), NGINX_CONF, all_files, found, dirs=dirs, build=build)


def stream_plan(snap=None, stream_conf_dir=None, **kwargs):
    exclusive = kwargs.pop('exclusive', False)
    force = kwargs.pop('force', False)
    items = _engine.describe(CD, stream_conf_dir=stream_conf_dir, **kwargs)
    return _engine.plan_site(items, snap or stream_snapshot(), CD, force=force, exclusive=exclusive,
                             stream_conf_dir=stream_conf_dir)


def stream_refusal(error, **kwargs):
    with pytest.raises(error) as info:
        stream_plan(**kwargs)
    return str(info.value)


# -- describe: where stream items go ------------------------------------------------------

def test_describe_puts_stream_items_into_stream_conf_dir():
    items = _engine.describe(CD, stream_conf_dir='/etc/nginx/tcp', upstreams=[up('app'), sup('pg')],
                             vhosts=[{'name': 'shop', 'upstream': 'app'}], stream_proxies=[sp('pg')],
                             log_formats=[{'name': 'upstream_debug'}])
    assert [(i.kind, i.context, i.prefix, i.path) for i in items] == [
        ('log_format', 'http', 'log_formats[0].', CD + '/00-log-format-upstream_debug.conf'),
        ('upstream', 'http', 'upstreams[0].', CD + '/app.conf'),
        ('upstream', 'stream', 'upstreams[1].', '/etc/nginx/tcp/pg.conf'),
        ('vhost', 'http', 'vhosts[0].', CD + '/shop.vhost.conf'),
        ('stream_proxy', 'stream', 'stream_proxies[0].', '/etc/nginx/tcp/pg.stream.conf'),
    ]
    assert [i.check_kind for i in items] == ['log_format', 'upstream', 'stream_upstream', 'vhost', 'stream_proxy']


def test_describe_default_stream_conf_dir_and_explicit_paths():
    items = _engine.describe(CD, upstreams=[sup('pg'), sup('db', path='/etc/nginx/tcp/db.conf')],
                             stream_proxies=[sp('pg'), {'name': 'old', 'state': 'absent'}])
    assert [(i.context, i.path, i.state) for i in items] == [
        ('stream', SD + '/pg.conf', 'present'), ('stream', '/etc/nginx/tcp/db.conf', 'present'),
        ('stream', SD + '/pg.stream.conf', 'present'), ('stream', SD + '/old.stream.conf', 'absent')]


def test_paths_to_read_include_nginx_conf_only_with_a_present_stream_item():
    def paths(**groups):
        return _engine.paths_to_read(_engine.describe(CD, **groups), CD, NGINX_CONF)

    assert paths(upstreams=[sup('pg')]) == [NGINX_CONF, SD + '/pg.conf']
    assert paths(stream_proxies=[sp('pg')]) == [NGINX_CONF, SD + '/pg.stream.conf']
    assert paths(upstreams=[up('app')]) == [CD + '/app.conf']
    assert paths(upstreams=[{'name': 'pg', 'context': 'stream', 'state': 'absent'}]) == [SD + '/pg.conf']


# -- the file set, nginx.conf's one edit, mkdirs ------------------------------------------------

def test_stream_items_and_the_stream_block_in_one_plan():
    result = stream_plan(upstreams=[sup('pg')], stream_proxies=[sp('pg')])
    assert [(c.path, c.before, c.after) for c in result.changes] == [
        (SD + '/pg.conf', None, PG_TEXT),
        (SD + '/pg.stream.conf', None, PG_PROXY_TEXT),
        (NGINX_CONF, MAIN.encode(), MAIN + STREAM_BLOCK),
    ]
    assert result.mkdirs == [SD]
    assert result.changed


def test_a_site_of_both_contexts_in_one_plan():
    result = stream_plan(upstreams=[up('app'), sup('pg')], vhosts=[{'name': 'shop', 'upstream': 'app'}],
                         stream_proxies=[sp('pg')])
    assert [c.path for c in result.changes] == [CD + '/app.conf', SD + '/pg.conf', CD + '/shop.vhost.conf',
                                                SD + '/pg.stream.conf', NGINX_CONF]
    assert result.mkdirs == [SD]


def test_a_stream_conf_dir_of_its_own():
    result = stream_plan(stream_conf_dir='/etc/nginx/tcp', upstreams=[sup('pg')])
    assert [(c.path, c.after) for c in result.changes] == [
        ('/etc/nginx/tcp/pg.conf', PG_TEXT),
        (NGINX_CONF, MAIN + STREAM_BLOCK.replace('/etc/nginx/stream.d/', '/etc/nginx/tcp/'))]
    assert result.mkdirs == ['/etc/nginx/tcp']


def test_http_items_alone_leave_nginx_conf_and_mkdirs_alone():
    result = stream_plan(upstreams=[up('app')])
    assert ([c.path for c in result.changes], result.mkdirs) == ([CD + '/app.conf'], [])


def test_a_hand_written_stream_block_gets_the_include():
    main = MAIN + 'stream {\n    server {\n        listen 6000;\n        proxy_pass 127.0.0.1:6001;\n    }\n}\n'
    result = stream_plan(stream_snapshot(main=main), upstreams=[sup('pg')])
    assert [(c.path, c.after) for c in result.changes] == [
        (SD + '/pg.conf', PG_TEXT),
        (NGINX_CONF, MAIN + 'stream {\n'
                            '    include /etc/nginx/stream.d/*.conf;  # balancer.nginx: stream_conf_dir\n'
                            '    server {\n'
                            '        listen 6000;\n'
                            '        proxy_pass 127.0.0.1:6001;\n'
                            '    }\n'
                            '}\n')]


@pytest.mark.parametrize('main', [STREAM_MAIN, MAIN + STREAM_BLOCK], ids=['hand-written', 'marked'])
def test_an_included_stream_conf_dir_changes_nothing_in_nginx_conf(main):
    result = stream_plan(stream_snapshot(main=main), upstreams=[sup('pg')])
    assert [c.path for c in result.changes] == [SD + '/pg.conf']
    assert result.mkdirs == [SD]


def test_a_second_run_changes_nothing_in_either_context():
    groups = dict(upstreams=[up('app'), sup('pg')], vhosts=[{'name': 'shop', 'upstream': 'app'}],
                  stream_proxies=[sp('pg')])
    first = stream_plan(**groups)
    files = dict((c.path, c.after) for c in first.changes)
    snap = stream_snapshot(dict((p, t) for p, t in files.items() if p != NGINX_CONF), main=files[NGINX_CONF],
                           current=dict((p, {'content': t.encode('utf-8')}) for p, t in files.items()
                                        if p != NGINX_CONF))
    second = stream_plan(snap, **groups)
    assert [(c.path, c.changed) for c in second.changes] == [
        (CD + '/app.conf', False), (SD + '/pg.conf', False), (CD + '/shop.vhost.conf', False),
        (SD + '/pg.stream.conf', False)]
    assert second.changed is False


def test_a_stream_block_in_another_file_is_refused_naming_it():
    main = MAIN + 'include /etc/nginx/streams.conf;\n'
    snap = stream_snapshot({'/etc/nginx/streams.conf': 'stream {\n    server {\n        listen 6000;\n'
                                                       '        proxy_pass 127.0.0.1:6001;\n    }\n}\n'}, main=main)
    assert stream_refusal(InspectError, snap=snap, upstreams=[sup('pg')]) == (
        "stream_conf_dir: '/etc/nginx/stream.d' is not included by the stream {} block at "
        '/etc/nginx/streams.conf:1; add "include /etc/nginx/stream.d/*.conf;" inside that block.')


def test_a_stream_item_that_removes_nothing_but_its_file_needs_no_stream_block():
    snap = stream_snapshot({SD + '/pg.conf': managed('upstream pg {\n    server 10.0.0.31:5432;\n}\n')},
                           current={SD + '/pg.conf': {'content': managed('upstream pg {\n    server '
                                                                         '10.0.0.31:5432;\n}\n').encode()}})
    result = stream_plan(snap, upstreams=[{'name': 'pg', 'context': 'stream', 'state': 'absent'}])
    assert [(c.path, c.after) for c in result.changes] == [(SD + '/pg.conf', None)]
    assert result.mkdirs == []


# -- the stream module ----------------------------------------------------------------

def test_a_dynamic_stream_module_that_is_not_loaded_is_refused():
    assert stream_refusal(InspectError, snap=stream_snapshot(build=DEBIAN_V), upstreams=[sup('pg')]) == (
        'stream_conf_dir: needs the stream module, which this Nginx has as a dynamic module that its configuration '
        "does not load; install it (Debian: libnginx-mod-stream, which the role installs) or add "
        "'load_module modules/ngx_stream_module.so;' at the top of nginx.conf.")


def test_no_stream_module_is_refused():
    build = 'nginx version: nginx/1.22.1\nconfigure arguments: --with-http_ssl_module'
    assert stream_refusal(InspectError, snap=stream_snapshot(build=build), stream_proxies=[sp('pg')],
                          upstreams=[sup('pg')]) == (
        'stream_conf_dir: needs the stream module, which this Nginx was built without; install an Nginx built with '
        'it (Debian: nginx with libnginx-mod-stream).')


def test_debian_s_modules_enabled_load_module_is_accepted():
    main = 'user www-data;\ninclude /etc/nginx/modules-enabled/*.conf;\n' + MAIN
    result = stream_plan(stream_snapshot(LOAD_STREAM, main=main, build=DEBIAN_V), upstreams=[sup('pg')])
    assert [(c.path, c.after) for c in result.changes] == [(SD + '/pg.conf', PG_TEXT),
                                                           (NGINX_CONF, main + STREAM_BLOCK)]


def test_http_items_need_no_stream_module():
    result = stream_plan(stream_snapshot(build='nginx version: nginx/1.22.1\nconfigure arguments: --without-stream'),
                         upstreams=[up('app')])
    assert [c.path for c in result.changes] == [CD + '/app.conf']


# -- two namespaces ---------------------------------------------------------------------

NAMESPACES = 'and http and stream groups are separate namespaces'


@pytest.mark.parametrize('vhost, option', [
    ({'name': 'shop', 'upstream': 'pg'}, 'vhosts[0].upstream'),
    ({'name': 'shop', 'locations': [{'path': '/', 'upstream': 'pg'}]}, 'vhosts[0].locations[0].upstream'),
    ({'name': 'shop', 'locations': [{'path': '/', 'split': [{'upstream': 'app', 'percent': 90},
                                                            {'upstream': 'pg'}]}]},
     'vhosts[0].locations[0].split'),
], ids=['upstream', 'location', 'split'])
def test_a_vhost_naming_a_stream_group_is_refused_naming_the_other_context(vhost, option):
    assert stream_refusal(InspectError, snap=stream_snapshot(main=STREAM_MAIN), upstreams=[up('app'), sup('pg')],
                          vhosts=[vhost]) == (
        "%s: 'pg' is an upstream of the stream context (/etc/nginx/stream.d/pg.conf:3), %s; give a group with "
        "context: http." % (option, NAMESPACES))


def test_a_stream_proxy_naming_an_http_group_is_refused_naming_the_other_context():
    assert stream_refusal(InspectError, snap=stream_snapshot(main=STREAM_MAIN), upstreams=[up('app')],
                          stream_proxies=[sp('db', 'app')]) == (
        "stream_proxies[0].upstream: 'app' is an upstream of the http context (/etc/nginx/conf.d/app.conf:3), %s; "
        "give a group with context: stream." % NAMESPACES)


def test_a_stream_proxy_naming_an_undefined_group_is_refused():
    assert stream_refusal(InspectError, snap=stream_snapshot(main=STREAM_MAIN), stream_proxies=[sp('db', 'nope')]) == (
        "stream_proxies[0].upstream: 'nope' is not defined as an upstream in the proxy's configuration; define it "
        "first (balancer.nginx.upstream with context: stream, or in the same site call).")


def test_a_stream_proxy_to_a_hand_written_stream_group_is_accepted():
    main = MAIN + 'stream {\n    include /etc/nginx/stream.d/*.conf;\n    upstream DB {\n        server 10.0.0.9:5432;\n' \
                  '    }\n}\n'
    result = stream_plan(stream_snapshot(main=main), stream_proxies=[sp('db')])
    assert [(c.path, c.after) for c in result.changes] == [
        (SD + '/db.stream.conf', PG_PROXY_TEXT.replace('stream_proxy pg', 'stream_proxy db').replace('pg;', 'db;'))]


def test_same_named_http_and_stream_groups_are_allowed():
    result = stream_plan(stream_snapshot(main=STREAM_MAIN), upstreams=[up('app'), sup('APP')],
                         vhosts=[{'name': 'shop', 'upstream': 'app'}], stream_proxies=[sp('app')])
    assert [c.path for c in result.changes] == [CD + '/app.conf', SD + '/APP.conf', CD + '/shop.vhost.conf',
                                                SD + '/app.stream.conf']


def test_a_stream_group_named_like_a_hand_written_http_group_is_no_duplicate():
    snap = stream_snapshot({CD + '/hand.conf': 'upstream pg {\n    server 10.0.0.9:80;\n}\n'}, main=STREAM_MAIN)
    assert [c.path for c in stream_plan(snap, upstreams=[sup('pg')]).changes] == [SD + '/pg.conf']
    # nor the other way round
    main = STREAM_MAIN.replace('    include /etc/nginx/stream.d/*.conf;\n',
                               '    include /etc/nginx/stream.d/*.conf;\n    upstream app {\n'
                               '        server 10.0.0.9:5432;\n    }\n')
    assert [c.path for c in stream_plan(stream_snapshot(main=main), upstreams=[up('app')]).changes] == [
        CD + '/app.conf']


# -- duplicates, per namespace ------------------------------------------------------------

def test_a_stream_group_repeated_in_another_case_is_refused():
    with pytest.raises(ModelError) as info:
        _engine.describe(CD, upstreams=[sup('pg'), sup('PG', path=SD + '/other.conf')])
    assert str(info.value) == ("upstreams[1].name: 'PG' repeats upstreams[0].name (Nginx compares upstream names "
                               "ignoring letter case); describe each upstream once.")


def test_a_stream_proxy_repeated_is_refused():
    with pytest.raises(ModelError) as info:
        _engine.describe(CD, stream_proxies=[sp('pg'), sp('pg', listen='5433')])
    assert str(info.value) == ("stream_proxies[1].name: 'pg' writes the same file /etc/nginx/stream.d/pg.stream.conf "
                               "as stream_proxies[0].name; give each item its own name or path.")
    with pytest.raises(ModelError) as info:
        _engine.describe(CD, stream_proxies=[sp('pg'), sp('pg', listen='5433', path=SD + '/other.conf')])
    assert str(info.value) == "stream_proxies[1].name: 'pg' repeats stream_proxies[0].name; describe each stream_proxy once."


def test_a_stream_group_defined_by_hand_in_the_stream_context_is_a_duplicate():
    main = STREAM_MAIN.replace('    include /etc/nginx/stream.d/*.conf;\n',
                               '    include /etc/nginx/stream.d/*.conf;\n    upstream PG {\n'
                               '        server 10.0.0.9:5432;\n    }\n')
    assert stream_refusal(InspectError, snap=stream_snapshot(main=main), upstreams=[sup('pg')]) == (
        "upstreams[0].name: 'pg' is already defined as an upstream in /etc/nginx/nginx.conf:9; remove it there, or "
        "choose another name.")


# -- removing a stream group ------------------------------------------------------------------

OLD_PG = managed('upstream old {\n    server 10.9.9.9:5432;\n}\n')
HAND_PROXY = 'server {\n    listen 6000;\n    proxy_pass old;\n}\n'


def test_a_stream_group_still_used_by_a_stream_proxy_is_not_removed():
    snap = stream_snapshot({SD + '/old.conf': OLD_PG, SD + '/hand.conf': HAND_PROXY}, main=STREAM_MAIN,
                           current={SD + '/old.conf': {'content': OLD_PG.encode()}})
    assert stream_refusal(InspectError, snap=snap, upstreams=[{'name': 'old', 'context': 'stream',
                                                               'state': 'absent'}]) == (
        "upstreams[0].state: 'absent' cannot remove stream upstream 'old': a stream proxy still passes to it at "
        "/etc/nginx/stream.d/hand.conf:3; change those stream proxies first, or set force: true.")
    result = stream_plan(snap, force=True, upstreams=[{'name': 'old', 'context': 'stream', 'state': 'absent'}])
    assert [(c.path, c.after, c.changed) for c in result.changes] == [(SD + '/old.conf', None, True)]


def test_removing_an_http_group_ignores_stream_proxies_of_that_name():
    app = managed('upstream old {\n    server 10.0.0.1:80;\n}\n')
    snap = stream_snapshot({CD + '/old.conf': app, SD + '/old.conf': 'upstream old {\n    server 1.1.1.1:5432;\n}\n',
                            SD + '/hand.conf': HAND_PROXY}, main=STREAM_MAIN,
                           current={CD + '/old.conf': {'content': app.encode()}})
    result = stream_plan(snap, upstreams=[{'name': 'old', 'state': 'absent'}])
    assert [(c.path, c.after) for c in result.changes] == [(CD + '/old.conf', None)]


# -- exclusive, in stream_conf_dir ----------------------------------------------------------

OLD_PROXY = managed('server {\n    listen 6000;\n    proxy_pass old;\n}\n')


def test_exclusive_prunes_managed_files_in_stream_conf_dir():
    hand = 'upstream hand {\n    server 10.9.9.7:5432;\n}\n'
    snap = stream_snapshot({SD + '/old.conf': OLD_PG, SD + '/old.stream.conf': OLD_PROXY, SD + '/hand.conf': hand},
                           main=STREAM_MAIN,
                           dirs={SD: {SD + '/old.conf': dir_entry(OLD_PG), SD + '/old.stream.conf': dir_entry(OLD_PROXY),
                                      SD + '/hand.conf': dir_entry(hand, False)},
                                 CD: {CD + '/stale.conf': dir_entry(OLD)}})
    result = stream_plan(snap, exclusive=True, upstreams=[sup('pg')])
    # the directories the call writes to: stream_conf_dir only (conf_dir's stale file stays)
    assert [(c.path, c.after is None) for c in result.changes] == [
        (SD + '/pg.conf', False), (SD + '/old.conf', True), (SD + '/old.stream.conf', True)]


def test_exclusive_refuses_to_prune_a_stream_group_a_hand_written_proxy_uses():
    snap = stream_snapshot({SD + '/old.conf': OLD_PG, SD + '/hand.conf': HAND_PROXY}, main=STREAM_MAIN,
                           dirs={SD: {SD + '/old.conf': dir_entry(OLD_PG), SD + '/hand.conf': dir_entry(HAND_PROXY,
                                                                                                        False)}})
    assert stream_refusal(InspectError, snap=snap, exclusive=True, upstreams=[sup('pg')]) == (
        "exclusive: would remove /etc/nginx/stream.d/old.conf, which defines stream upstream 'old' still used at "
        "/etc/nginx/stream.d/hand.conf:3; describe that stream upstream in this call too, or set exclusive: false.")


def test_exclusive_prunes_an_http_group_a_stream_proxy_names_without_complaint():
    # a stream proxy naming "old" passes to the stream group "old", never to the http one
    snap = stream_snapshot({CD + '/old.conf': OLD, SD + '/old2.conf': 'upstream old {\n    server 1.1.1.1:5432;\n}\n',
                            SD + '/hand.conf': HAND_PROXY}, main=STREAM_MAIN, dirs={CD: {CD + '/old.conf': dir_entry(OLD)}})
    result = stream_plan(snap, exclusive=True, upstreams=[up('app')])
    assert [(c.path, c.after is None) for c in result.changes] == [(CD + '/app.conf', False), (CD + '/old.conf', True)]


# -- split: its groups exist and count as references -------------------------------------------

SPLIT_VHOST = {'name': 'shop', 'locations': [{'path': '/', 'split': [{'upstream': 'v1', 'percent': 90},
                                                                     {'upstream': 'v2'}]}]}


def test_a_split_to_groups_of_the_same_call_is_accepted():
    result = plan(upstreams=[up('v1'), up('v2', '10.0.0.2:80')], vhosts=[SPLIT_VHOST])
    text = files_of(result)[CD + '/shop.vhost.conf']
    assert text.split('\n')[2:6] == ['split_clients $request_id $balancer_split_shop_0 {', '    90% v1;',
                                     '    * v2;', '}']


def test_a_split_to_an_undefined_group_is_refused_naming_it():
    assert refusal(InspectError, upstreams=[up('v1')], vhosts=[SPLIT_VHOST]) == (
        "vhosts[0].locations[0].split: 'v2' is not defined as an upstream in the proxy's configuration; define it "
        "first (balancer.nginx.upstream, or in the same site call), or use pass for a literal URL.")


V2 = managed('upstream v2 {\n    server 10.0.0.2:80;\n}\n')
HAND_SPLIT = ('split_clients $request_id $canary {\n'
              '    90% v1;\n'
              '    * v2;\n'
              '}\n'
              'server {\n'
              '    location / {\n'
              '        proxy_pass http://$canary;\n'
              '    }\n'
              '}\n')


def test_a_group_a_split_uses_is_not_removed():
    # the reference named is the split's line (the proxy_pass goes through its variable), and the message says so
    snap = snapshot({CD + '/v1.conf': 'upstream v1 {\n    server 10.0.0.1:80;\n}\n', CD + '/v2.conf': V2,
                     CD + '/site.conf': HAND_SPLIT}, {CD + '/v2.conf': {'content': V2.encode()}})
    assert refusal(InspectError, snap=snap, upstreams=[{'name': 'v2', 'state': 'absent'}]) == (
        "upstreams[0].state: 'absent' cannot remove upstream 'v2': split_clients still refers to it at "
        "/etc/nginx/conf.d/site.conf:3; change those split_clients lines first, or set force: true.")


def test_a_group_removed_in_the_call_that_splits_to_it_is_refused():
    assert refusal(InspectError, upstreams=[up('v1'), {'name': 'v2', 'state': 'absent'}], vhosts=[SPLIT_VHOST]) == (
        "upstreams[1].state: 'absent' cannot remove upstream 'v2': split_clients still refers to it at "
        "/etc/nginx/conf.d/shop.vhost.conf:5; change those split_clients lines first, or set force: true.")


def test_exclusive_refuses_to_prune_a_group_a_split_uses():
    snap = snapshot({CD + '/v1.conf': 'upstream v1 {\n    server 10.0.0.1:80;\n}\n', CD + '/v2.conf': V2,
                     CD + '/site.conf': HAND_SPLIT}, dirs={CD: {CD + '/v2.conf': dir_entry(V2)}})
    assert refusal(InspectError, snap=snap, exclusive=True, upstreams=[up('app')]) == (
        "exclusive: would remove /etc/nginx/conf.d/v2.conf, which defines upstream 'v2' still used at "
        "/etc/nginx/conf.d/site.conf:3; describe that upstream in this call too, or set exclusive: false.")


def test_a_vhost_with_a_split_can_be_taken_over():
    before = ('server {\n    listen 80;\n    location / {\n        proxy_pass http://$c;\n    }\n}\n').encode()
    result = plan(on_proxy({CD + '/shop.vhost.conf': before}), force=True, upstreams=[up('v1'), up('v2')],
                  vhosts=[SPLIT_VHOST])
    assert [c.path for c in result.changes if c.changed] == [CD + '/v1.conf', CD + '/v2.conf', CD + '/shop.vhost.conf']
    # a hand-written split_clients before the server is the vhost's own canary, which its options express
    before = HAND_SPLIT.encode()
    result = plan(on_proxy({CD + '/shop.vhost.conf': before}), force=True, upstreams=[up('v1'), up('v2')],
                  vhosts=[SPLIT_VHOST])
    assert [c.before for c in result.changes if c.path == CD + '/shop.vhost.conf'] == [before]


# -- backend_tls: one TLS per group ------------------------------------------------------------

TLS = {'name': 'backend.internal', 'trusted_certificate': '/etc/ssl/certs/ca.pem'}
# the option names the vhost item when one vhost is written (vhosts[0]. through site)
TLS_MIX = ("vhosts[0].locations.backend_tls: gives the locations that proxy to group 'app' different TLS settings (%s and %s); "
           "Nginx resumes TLS sessions per group, and a resumed session skips verification and the client "
           "certificate; give every location of that group the same backend_tls.")


def test_every_location_of_a_group_with_the_same_tls_is_accepted():
    result = plan(upstreams=[up('app')], vhosts=[
        {'name': 'a', 'locations': [{'path': '/', 'upstream': 'app', 'backend_tls': TLS},
                                    {'path': '/x', 'upstream': 'app', 'backend_tls': dict(TLS)}]},
        {'name': 'b', 'locations': [{'path': '/', 'upstream': 'app', 'backend_tls': dict(TLS)}]}])
    assert result.changed


def test_a_tls_mix_in_one_vhost_is_refused():
    assert refusal(InspectError, upstreams=[up('app')], vhosts=[
        {'name': 'a', 'locations': [{'path': '/', 'upstream': 'app', 'backend_tls': TLS},
                                    {'path': '/x', 'upstream': 'app'}]}]) == TLS_MIX % (
        CD + '/a.vhost.conf:6', CD + '/a.vhost.conf:19')


def test_a_tls_mix_across_vhosts_is_refused():
    assert refusal(InspectError, upstreams=[up('app')], vhosts=[
        {'name': 'a', 'locations': [{'path': '/', 'upstream': 'app', 'backend_tls': TLS}]},
        {'name': 'b', 'upstream': 'app'}]) == TLS_MIX % (CD + '/a.vhost.conf:6', CD + '/b.vhost.conf:6')


def test_a_tls_mix_of_other_settings_is_refused():
    assert refusal(InspectError, upstreams=[up('app')], vhosts=[
        {'name': 'a', 'locations': [{'path': '/', 'upstream': 'app', 'backend_tls': TLS},
                                    {'path': '/x', 'upstream': 'app',
                                     'backend_tls': dict(TLS, certificate='/c.pem', certificate_key='/c.key')}]}]) == (
        TLS_MIX % (CD + '/a.vhost.conf:6', CD + '/a.vhost.conf:19'))


HAND_PLAIN = 'server {\n    location / {\n        proxy_pass http://app;\n    }\n}\n'


def test_a_tls_mix_with_a_hand_written_location_is_refused_when_a_written_file_takes_part():
    assert refusal(InspectError, snap=snapshot({CD + '/hand.conf': HAND_PLAIN}), upstreams=[up('app')], vhosts=[
        {'name': 'a', 'locations': [{'path': '/', 'upstream': 'app', 'backend_tls': TLS}]}]) == TLS_MIX % (
        CD + '/a.vhost.conf:6', CD + '/hand.conf:2')


def test_a_tls_mix_among_hand_written_files_alone_is_not_this_call_s():
    hand_tls = 'server {\n    location / {\n        proxy_pass https://app;\n        proxy_ssl_verify off;\n    }\n}\n'
    snap = snapshot({CD + '/hand.conf': HAND_PLAIN, CD + '/hand2.conf': hand_tls,
                     CD + '/app.conf': 'upstream app {\n    server 10.0.0.1:80;\n}\n'})
    result = plan(snap, upstreams=[up('api')], vhosts=[{'name': 'b', 'upstream': 'api'}])
    assert [c.path for c in result.changes] == [CD + '/api.conf', CD + '/b.vhost.conf']


def test_a_split_location_with_tls_and_a_plain_location_to_one_of_its_groups_is_a_mix():
    # the split location proxies to app (and api) with TLS, /x to app without: Nginx would resume one's sessions
    # in the other
    vhost = {'name': 'a', 'locations': [
        {'path': '/', 'split': [{'upstream': 'app', 'percent': 90}, {'upstream': 'api'}], 'backend_tls': TLS},
        {'path': '/x', 'upstream': 'app'}]}
    assert refusal(InspectError, upstreams=[up('app'), up('api')], vhosts=[vhost]) == TLS_MIX % (
        CD + '/a.vhost.conf:10', CD + '/a.vhost.conf:23')


# -- a stream item in the wrong context ------------------------------------------------------

@pytest.mark.parametrize('groups, option, path, where, kind', [
    ({'upstreams': [sup('pg')], 'stream_proxies': [sp('pg', path=CD + '/pg.conf')]}, 'stream_proxies[0].path',
     CD + '/pg.conf', 'http at /etc/nginx/nginx.conf:4', 'stream {} (stream_conf_dir)'),
    ({'upstreams': [sup('pg', path=CD + '/pg.conf')]}, 'upstreams[0].path', CD + '/pg.conf',
     'http at /etc/nginx/nginx.conf:4', 'stream {} (stream_conf_dir)'),
    ({'upstreams': [up('app', path=SD + '/app.conf')]}, 'upstreams[0].path', SD + '/app.conf',
     'stream at /etc/nginx/nginx.conf:8', 'http {} (conf_dir)'),
], ids=['stream-proxy-in-http', 'stream-group-in-http', 'http-group-in-stream'])
def test_a_file_in_the_other_context_is_refused_without_claiming_what_nginx_would_say(
        groups, option, path, where, kind):
    # Nginx takes a server {} or an upstream {} in either context (it reads them as that context's): the refusal
    # is right, but "<directive> directive is not allowed here" is not what Nginx would say
    with pytest.raises(InspectError) as info:
        stream_plan(stream_snapshot(main=STREAM_MAIN), **groups)
    message = str(info.value)
    assert info.value.option == option
    assert message.startswith('%s: %s is included inside %s, where ' % (option, path, where))
    assert message.endswith('; write it into a directory included directly in %s.' % kind)
    assert 'directive is not allowed here' not in message


def test_a_stream_file_nginx_never_reads_is_refused():
    assert stream_refusal(InspectError, snap=stream_snapshot(main=STREAM_MAIN), upstreams=[sup('pg')],
                          stream_proxies=[sp('pg', path='/srv/pg.conf')]) == (
        'stream_proxies[0].path: /srv/pg.conf is not included by /etc/nginx/nginx.conf, so Nginx would never read '
        'it; write it into a directory that the stream block includes (stream_conf_dir), or add '
        '"include /srv/*.conf;" inside stream {}.')


# --------------------------------------------------------------------------
# the render memo: an item given as in an earlier run of the same code is neither rendered nor parsed again
# --------------------------------------------------------------------------

MEMO_SITE = dict(
    log_formats=[{'name': 'upstream_debug'}],
    upstreams=[up('app', '10.0.0.1:80', '10.0.0.2:80', keepalive=16), up('chat', '10.0.1.1:80', method='ip_hash')],
    vhosts=[{'name': 'shop', 'upstream': 'app', 'access_log': {'path': '/var/log/nginx/shop.log',
                                                               'format': 'upstream_debug'}},
            {'name': 'chat', 'locations': [{'path': '/', 'upstream': 'chat', 'websocket': True}]}])


@pytest.fixture
def new_run(monkeypatch, tmp_path):
    """``start()`` begins a run in a new process (nothing in memory, the cache file on disk); ``finish()`` saves."""
    from ansible_collections.balancer.nginx.plugins.module_utils import _inspect
    path = str(tmp_path / 'cache' / 'proxy.json')

    class Run(object):
        inspect = _inspect
        file = path

        @staticmethod
        def start():
            for name in ('_PARSE_CACHE', '_RENDERED', '_RENDER_USED'):
                monkeypatch.setattr(_inspect, name, {})
            monkeypatch.setattr(_inspect, '_BUILT_KEYS', set())
            _inspect.use_parse_cache(path)

        @staticmethod
        def finish():
            saved = _inspect.save_parse_cache()
            _inspect.use_parse_cache(None)
            return saved

    yield Run
    _inspect.use_parse_cache(None)


def counting(monkeypatch):
    """Count the renders and crossplane parses of what follows."""
    from ansible_collections.balancer.nginx.plugins.module_utils import _render
    calls = {'render': 0, 'parse': 0}
    payload, parse = _render.file_payload, _render.crossplane.parse

    def render(*a, **k):
        calls['render'] += 1
        return payload(*a, **k)

    def parsed(*a, **k):
        calls['parse'] += 1
        return parse(*a, **k)
    monkeypatch.setattr(_render, 'file_payload', render)
    monkeypatch.setattr(_render.crossplane, 'parse', parsed)
    return calls


def test_a_second_run_takes_every_rendered_file_from_the_memo(new_run, monkeypatch):
    new_run.start()
    first = files_of(plan(**MEMO_SITE))
    assert new_run.finish() is True
    new_run.start()
    calls = counting(monkeypatch)
    second = plan(**MEMO_SITE)
    assert files_of(second) == first
    # only the websocket map (not an item of the call) is rendered; nginx.conf's parse is in the file too
    assert calls == {'render': 1, 'parse': 0}
    assert second.warnings == []
    assert new_run.finish() is False        # nothing new to keep


def test_the_same_files_as_an_earlier_run_of_the_proxy_change_nothing(new_run):
    new_run.start()
    first = files_of(plan(**MEMO_SITE))
    new_run.finish()
    new_run.start()
    current = dict((path, {'exists': True, 'content': text.encode('utf-8')}) for path, text in first.items())
    files = dict((path, text) for path, text in first.items())
    again = plan(snapshot(files=files, current=current), **MEMO_SITE)
    assert again.changed is False


def test_only_the_item_given_otherwise_is_rendered_again(new_run, monkeypatch):
    new_run.start()
    plan(**MEMO_SITE)
    new_run.finish()
    new_run.start()
    calls = counting(monkeypatch)
    other = dict(MEMO_SITE)
    other['upstreams'] = [up('app', '10.0.0.1:80', '10.0.0.2:80', keepalive=32), MEMO_SITE['upstreams'][1]]
    files = files_of(plan(**other))
    assert 'keepalive 32;' in files[CD + '/app.conf']
    assert calls['render'] == 2             # app and the websocket map
    assert new_run.finish() is True
    new_run.start()
    calls = counting(monkeypatch)
    assert files_of(plan(**other)) == files
    assert calls['render'] == 1


@pytest.mark.parametrize('one, other', [
    (1, True), (1, 1.0), (1, '1'), ({'a': 1}, {'b': 1}), ([1, 2], [2, 1]),
    ({'a': 1, 'b': 2}, {'b': 2, 'a': 1}),      # the order is kept: two keys, never one for two renders
])
def test_memo_keys_tell_values_apart(new_run, one, other):
    new_run.start()
    key = new_run.inspect.render_key('upstream', {'name': 'app', 'x': one})
    assert key is not None
    assert key != new_run.inspect.render_key('upstream', {'name': 'app', 'x': other})
    assert key != new_run.inspect.render_key('vhost', {'name': 'app', 'x': one})


@pytest.mark.parametrize('value', [(1, 2), {1: 'a'}, object(), b'bytes', {'a': [set()]}])
def test_no_memo_for_what_is_not_plain_data(new_run, value):
    new_run.start()
    assert new_run.inspect.render_key('upstream', {'name': 'app', 'x': value}) is None


def test_no_memo_without_a_cache_file():
    from ansible_collections.balancer.nginx.plugins.module_utils import _inspect
    _inspect.use_parse_cache(None)
    assert _inspect.render_key('upstream', {'name': 'app'}) is None


def test_ansible_tagged_values_have_the_key_of_the_plain_ones(new_run):
    # ansible-core 2.19 and later tag what it hands an action (with where each value came from); the tag of
    # module_utils, the one tag both the controller's and the target's tests can import, stands for them here
    datatag = pytest.importorskip('ansible.module_utils._internal._datatag')
    tags = pytest.importorskip('ansible.module_utils._internal._datatag._tags')
    tag = tags.Deprecated(msg='a tag for the test').tag
    plain = {'name': 'app', 'servers': [{'address': '10.0.0.1:80', 'weight': 2}]}
    tagged = tag({'name': tag('app'), 'servers': tag([tag({'address': tag('10.0.0.1:80'), 'weight': tag(2)})])})
    assert isinstance(tagged['name'], datatag._AnsibleTaggedStr)
    assert isinstance(tagged['servers'][0]['weight'], datatag._AnsibleTaggedInt)
    new_run.start()
    assert new_run.inspect.render_key('upstream', tagged) == new_run.inspect.render_key('upstream', plain)


def test_a_memo_of_other_code_is_not_used(new_run, monkeypatch):
    new_run.start()
    first = files_of(plan(**MEMO_SITE))
    new_run.finish()
    monkeypatch.setattr(new_run.inspect, '_CODE', ['the stamp of another version'])
    new_run.start()
    calls = counting(monkeypatch)
    assert files_of(plan(**MEMO_SITE)) == first
    assert calls['render'] == 6             # five items and the websocket map


def test_a_remembered_text_without_its_parse_is_rendered_again(new_run, monkeypatch):
    import hashlib
    import json
    new_run.start()
    first = files_of(plan(**MEMO_SITE))
    new_run.finish()
    with open(new_run.file) as handle:
        data = json.load(handle)
    app = hashlib.sha1(first[CD + '/app.conf'].encode('utf-8')).hexdigest()
    assert app in data['entries'] and first[CD + '/app.conf'] in data['rendered']['items'].values()
    del data['entries'][app]
    with open(new_run.file, 'w') as handle:
        json.dump(data, handle)
    new_run.start()
    calls = counting(monkeypatch)
    assert files_of(plan(**MEMO_SITE)) == first
    assert calls['render'] == 2             # app and the websocket map
    assert new_run.finish() is True         # and its parse is kept again
    with open(new_run.file) as handle:
        assert app in json.load(handle)['entries']


def test_a_failed_round_trip_is_not_remembered(new_run, monkeypatch):
    from ansible_collections.balancer.nginx.plugins.module_utils import _inspect
    new_run.start()

    def refuse(rendered):
        if rendered:
            raise ModelError('content', 'the rendered file parses back to something else than the model', 'x')
    monkeypatch.setattr(_inspect, 'check_roundtrips', refuse)
    with pytest.raises(ModelError):
        plan(**MEMO_SITE)
    assert _inspect._RENDER_USED == {}


def test_a_rendered_file_above_the_size_limit_is_not_kept(new_run, monkeypatch):
    import json
    monkeypatch.setattr(new_run.inspect, 'PARSE_CACHE_MAX_TEXT', 200)
    new_run.start()
    first = files_of(plan(**MEMO_SITE))
    assert new_run.finish() is True
    with open(new_run.file) as handle:
        kept = json.load(handle)['rendered']['items'].values()
    assert kept and all(len(text) <= 200 for text in kept)
    assert any(len(text) > 200 for text in first.values())
