# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_engine.py: planning one upstream against a hand-built Snapshot."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _inspect, _options
from ansible_collections.balancer.nginx.plugins.module_utils._engine import FileChange, Plan, Snapshot
from ansible_collections.balancer.nginx.plugins.module_utils._errors import FeatureError, InspectError, ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._features import NginxInfo

NGINX_CONF = '/etc/nginx/nginx.conf'
DEBIAN12 = NginxInfo((1, 22, 1), False)

MAIN = (
    'events {}\n'
    'http {\n'
    '    include /etc/nginx/conf.d/*.conf;\n'
    '    include /etc/nginx/sites-enabled/*;\n'
    '    server {\n'
    '        include /etc/nginx/snippets/*.conf;\n'
    '    }\n'
    '}\n')
SITE = ('server {\n'
        '    listen 80;\n'
        '    location / {\n'
        '        proxy_pass http://app;\n'
        '    }\n'
        '    location /api/ {\n'
        '        proxy_pass http://app:8080/v1/;\n'
        '    }\n'
        '}\n')
OTHER = 'upstream other {\n    server 10.0.0.9:80;\n}\n'
FILES = {NGINX_CONF: MAIN, '/etc/nginx/sites-enabled/default': SITE, '/etc/nginx/conf.d/zz-hand.conf': OTHER}

APP = {'name': 'app', 'servers': [{'address': '10.0.0.1:8080', 'weight': 3}, {'address': '10.0.0.2:8080'}]}
HEADER = '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.\n'
# what the upstream module writes for APP, spelled out
APP_TEXT = (HEADER
            + '# balancer.nginx item: upstream app\n'
            'upstream app {\n'
            '    server 10.0.0.1:8080 weight=3;\n'
            '    server 10.0.0.2:8080;\n'
            '}\n')
APP_PATH = '/etc/nginx/conf.d/app.conf'


def managed(kind, name, text):
    """A file the collection wrote for item ``kind`` ``name``: header, item line, text."""
    return (HEADER + '# balancer.nginx item: %s %s\n' % (kind, name) + text).encode('utf-8')


def params(**kw):
    """What the action plugin has after validating the common options (the parts the engine reads)."""
    result = {'state': 'present', 'conf_dir': '/etc/nginx/conf.d', 'path': None, 'nginx_plus': False,
              'force': False}
    result.update(APP)
    result.update(kw)
    return result


def snapshot(files=None, current=None, info=DEBIAN12):
    return Snapshot(info, NGINX_CONF, dict(FILES if files is None else files),
                    dict((path, {'exists': data is not None, 'content': data})
                         for path, data in (current or {}).items()))


def plan_upstream(p, snap):
    """What the upstream action plugin does with the engine: the item's own options go to describe."""
    conf_dir = _engine.conf_dir_of(p)
    item = dict((key, value) for key, value in p.items() if key in _options.ITEMS['upstream'].by_name)
    items = _engine.describe(conf_dir, prefixed=False, upstreams=[item])
    return _engine.plan_site(items, snap, conf_dir, p.get('nginx_plus', False), p.get('force', False))


def only_change(plan):
    assert isinstance(plan, Plan)
    assert len(plan.changes) == 1
    return plan.changes[0]


def test_new_file_is_a_change():
    plan = plan_upstream(params(), snapshot())
    change = only_change(plan)
    assert (change.path, change.before, change.after) == ('/etc/nginx/conf.d/app.conf', None, APP_TEXT)
    assert change.changed and plan.changed
    assert plan.warnings == []


def test_unchanged_when_current_bytes_equal_the_render():
    current = {'/etc/nginx/conf.d/app.conf': APP_TEXT.encode('utf-8')}
    files = dict(FILES, **{'/etc/nginx/conf.d/app.conf': APP_TEXT})
    plan = plan_upstream(params(), snapshot(files, current))
    change = only_change(plan)
    assert change.before == change.after_bytes
    assert not change.changed and not plan.changed


@pytest.mark.parametrize('before, force', [
    (managed('upstream', 'app', 'upstream app {\n    server 10.0.0.1:8080 weight=2;\n    server 10.0.0.2:8080;\n}\n'),
     False),
    # written before item lines: the header alone
    ((HEADER + 'upstream app {\n    server 10.0.0.1:8080 weight=3;\n    server 10.0.0.2:8080;\n}\n').encode(), False),
    # the upstream's name in another letter case is the same group for Nginx
    (managed('upstream', 'APP', 'upstream APP {\n    server 10.0.0.1:8080;\n}\n'), False),
    # hand-written files are taken over only with force
    (b'', True),
    (b'upstream app {\n    server 10.0.0.1:8080 weight=3;\n    server 10.0.0.2:8080;\n}\n', True),   # same, no header
    (None, False),
], ids=['other-weight', 'no-item-line', 'other-case', 'empty', 'no-header', 'absent'])
def test_changed_when_current_bytes_differ(before, force):
    current = {'/etc/nginx/conf.d/app.conf': before}
    plan = plan_upstream(params(force=force), snapshot(current=current))
    change = only_change(plan)
    assert change.before == before and change.after == APP_TEXT
    assert change.changed and plan.changed


def test_changed_on_a_trailing_newline_only():
    current = {'/etc/nginx/conf.d/app.conf': APP_TEXT.encode('utf-8').rstrip(b'\n')}
    assert plan_upstream(params(), snapshot(current=current)).changed


def test_duplicate_in_another_file_refused_with_the_default_path():
    with pytest.raises(InspectError) as exc:
        plan_upstream(params(name='other'), snapshot())
    assert str(exc.value) == ("name: 'other' is already defined as an upstream in /etc/nginx/conf.d/zz-hand.conf:1; "
                              'remove it there, or choose another name.')


def test_own_file_defining_the_group_is_not_a_duplicate():
    before = managed('upstream', 'app', 'upstream app {\n    server 10.0.0.7:80;\n}\n')
    files = dict(FILES, **{APP_PATH: before.decode('utf-8')})
    assert plan_upstream(params(), snapshot(files, {APP_PATH: before})).changed


def test_own_file_taken_over_with_force_is_not_a_duplicate():
    before = b'upstream app {\n    server 10.0.0.7:80;\n}\n'
    files = dict(FILES, **{APP_PATH: before.decode('utf-8')})
    change = only_change(plan_upstream(params(force=True), snapshot(files, {APP_PATH: before})))
    assert (change.before, change.after) == (before, APP_TEXT)


# -- where the file goes ------------------------------------------------------

def test_path_defaults_to_conf_dir_name_conf():
    assert _engine.target_path({'conf_dir': '/etc/nginx/conf.d'}, 'app') == '/etc/nginx/conf.d/app.conf'
    assert _engine.target_path({}, 'app') == '/etc/nginx/conf.d/app.conf'
    assert _engine.target_path({'conf_dir': None, 'path': None}, 'app') == '/etc/nginx/conf.d/app.conf'
    assert _engine.target_path({'conf_dir': '/srv/nginx/up', 'path': '/x/y.conf'}, 'app') == '/x/y.conf'


def test_plan_in_another_conf_dir():
    files = dict(FILES)
    files[NGINX_CONF] = MAIN.replace('include /etc/nginx/sites-enabled/*;',
                                     'include /etc/nginx/sites-enabled/*;\n    include upstreams/*.conf;')
    plan = plan_upstream(params(conf_dir='/etc/nginx/upstreams'), snapshot(files))
    assert only_change(plan).path == '/etc/nginx/upstreams/app.conf'


def test_plan_with_path():
    plan = plan_upstream(params(path='/etc/nginx/conf.d/10-app.conf'), snapshot())
    assert only_change(plan).path == '/etc/nginx/conf.d/10-app.conf'


def test_path_not_included_refused():
    with pytest.raises(InspectError) as exc:
        plan_upstream(params(path='/etc/nginx/upstreams/app.conf'), snapshot())
    assert str(exc.value) == (
        'path: /etc/nginx/upstreams/app.conf is not included by /etc/nginx/nginx.conf, so Nginx would never read '
        'it; write it into a directory that the http block includes (conf_dir), or add '
        '"include /etc/nginx/upstreams/*.conf;" inside http {}.')


def test_conf_dir_not_included_refused():
    with pytest.raises(InspectError) as exc:
        plan_upstream(params(conf_dir='/etc/nginx/upstreams'), snapshot())
    assert str(exc.value) == (
        'conf_dir: /etc/nginx/upstreams/app.conf is not included by /etc/nginx/nginx.conf, so Nginx would never '
        'read it; write it into a directory that the http block includes (conf_dir), or add '
        '"include /etc/nginx/upstreams/*.conf;" inside http {}.')


def test_path_included_inside_server_refused():
    with pytest.raises(InspectError) as exc:
        plan_upstream(params(path='/etc/nginx/snippets/app.conf'), snapshot())
    assert str(exc.value) == (
        'path: /etc/nginx/snippets/app.conf is included inside http > server at /etc/nginx/nginx.conf:6, '
        'where "upstream" is not allowed (Nginx: "upstream directive is not allowed here"); '
        'write it into a directory included directly in http {} (conf_dir).')


def test_duplicate_in_another_file_refused():
    with pytest.raises(InspectError) as exc:
        plan_upstream(params(name='other', path='/etc/nginx/conf.d/10-other.conf'), snapshot())
    assert str(exc.value) == ("name: 'other' is already defined as an upstream in /etc/nginx/conf.d/zz-hand.conf:1; "
                              'remove it there, or choose another name.')


# -- refusals come before anything is planned -----------------------------------

def test_model_error_from_the_engine():
    with pytest.raises(ModelError) as exc:
        plan_upstream(params(method='ip_hash', servers=[{'address': 'a:80', 'backup': True}]), snapshot())
    assert str(exc.value) == (
        'servers[0].backup: is not allowed with method=ip_hash (Nginx rejects it or silently ignores it, depending '
        'on the order of the lines); remove backup from the server, or use method round_robin or least_conn.')


def test_injection_never_reaches_a_plan():
    with pytest.raises(ModelError) as exc:
        plan_upstream(params(servers=[{'address': '10.0.0.1:80; } server { listen 81'}]), snapshot())
    assert str(exc.value) == ("servers[0].address: '10.0.0.1:80; } server { listen 81' contains ';', which Nginx "
                              'would read as syntax, not as part of an address; remove it.')


def test_feature_gate_uses_the_snapshot_info():
    options = dict(zone='app 64k', servers=[{'address': 'app.internal:80', 'resolve': True}])
    with pytest.raises(FeatureError) as exc:
        plan_upstream(params(**options), snapshot())
    assert str(exc.value) == (
        'servers[0].resolve: needs Nginx 1.27.3 or newer (server parameter resolve) and the proxy runs open source '
        'Nginx 1.22.1; upgrade Nginx to 1.27.3 or newer, remove the option, or set nginx_plus: true if the proxy '
        'runs NGINX Plus.')
    assert plan_upstream(params(**options), snapshot(info=NginxInfo((1, 27, 3), False))).changed
    assert plan_upstream(params(nginx_plus=True, **options), snapshot()).changed


# -- state: absent --------------------------------------------------------------

def test_absent_refused_while_referenced():
    current = {'/etc/nginx/conf.d/app.conf': APP_TEXT.encode('utf-8')}
    files = dict(FILES, **{'/etc/nginx/conf.d/app.conf': APP_TEXT})
    with pytest.raises(InspectError) as exc:
        plan_upstream(params(state='absent', servers=None), snapshot(files, current))
    assert str(exc.value) == (
        "state: 'absent' cannot remove upstream 'app': proxy_pass still refers to it at "
        '/etc/nginx/sites-enabled/default:4, /etc/nginx/sites-enabled/default:7; '
        'change those proxy_pass lines first, or set force: true.')


def test_absent_with_force_removes():
    current = {'/etc/nginx/conf.d/app.conf': APP_TEXT.encode('utf-8')}
    files = dict(FILES, **{'/etc/nginx/conf.d/app.conf': APP_TEXT})
    plan = plan_upstream(params(state='absent', servers=None, force=True), snapshot(files, current))
    change = only_change(plan)
    assert (change.path, change.before, change.after) == (
        '/etc/nginx/conf.d/app.conf', APP_TEXT.encode('utf-8'), None)
    assert change.changed and change.after_bytes is None


def test_absent_when_defined_elsewhere_too():
    # the group stays defined in legacy.conf, so the references still resolve: no refusal
    legacy = 'upstream app {\n    server 10.0.0.5:80;\n}\n'
    current = {'/etc/nginx/conf.d/app.conf': managed('upstream', 'app', 'upstream app {\n    server 10.0.0.1:80;\n}\n')}
    files = dict(FILES, **{'/etc/nginx/conf.d/app.conf': current['/etc/nginx/conf.d/app.conf'].decode(),
                           '/etc/nginx/conf.d/legacy.conf': legacy})
    plan = plan_upstream(params(state='absent', servers=None), snapshot(files, current))
    assert only_change(plan).after is None and plan.changed


def test_absent_without_references():
    current = {'/etc/nginx/conf.d/spare.conf': managed('upstream', 'spare',
                                                       'upstream spare {\n    server 10.0.0.1:80;\n}\n')}
    files = dict(FILES, **{'/etc/nginx/conf.d/spare.conf': current['/etc/nginx/conf.d/spare.conf'].decode()})
    plan = plan_upstream(params(name='spare', state='absent', servers=None), snapshot(files, current))
    assert only_change(plan).after is None and plan.changed


def test_absent_of_a_missing_file_is_unchanged():
    plan = plan_upstream(params(name='spare', state='absent', servers=None), snapshot())
    change = only_change(plan)
    assert (change.before, change.after, change.changed, plan.changed) == (None, None, False, False)


def test_absent_still_checks_the_name():
    with pytest.raises(ModelError) as exc:
        plan_upstream(params(name='a;b', state='absent', servers=None), snapshot())
    assert str(exc.value) == ("name: 'a;b' contains ';', which Nginx would read as syntax, not as part of a name; "
                              'remove it.')


# -- the data types -------------------------------------------------------------

def test_snapshot_from_result():
    content = b'upstream app {\n    server 10.0.0.1:80;\n}\n'
    result = {
        'changed': False,
        'nginx': {'version': '1.26.3', 'plus': False, 'output': 'nginx version: nginx/1.26.3'},
        'config': {'ok': True, 'source': 'nginx -T', 'files': FILES, 'error': None},
        'paths': {
            '/etc/nginx/conf.d/app.conf': {'exists': True, 'content_b64': base64.b64encode(content).decode(),
                                           'sha1': 'x', 'mode': '0644'},
            '/etc/nginx/conf.d/new.conf': {'exists': False, 'content_b64': None, 'sha1': None},
        },
    }
    snap = Snapshot.from_result(result, NGINX_CONF)
    assert snap.info == NginxInfo((1, 26, 3), False)
    assert snap.build == 'nginx version: nginx/1.26.3'      # what nginx -V said, for the stream module check
    assert snap.nginx_conf == NGINX_CONF
    assert snap.files == FILES
    assert snap.config_ok is True and snap.config_error is None
    assert snap.before('/etc/nginx/conf.d/app.conf') == content
    assert snap.before('/etc/nginx/conf.d/new.conf') is None
    assert snap.before('/etc/nginx/conf.d/unasked.conf') is None


def test_snapshot_from_result_takes_a_file_sent_once_from_the_configuration():
    # _once: the bytes of app.conf came as its Latin-1 text in config.files (a non-UTF-8 byte included)
    content = b'# caf\xe9\nupstream app {\n    server 10.0.0.1:80;\n}\n'
    path = '/etc/nginx/conf.d/app.conf'
    result = {
        'nginx': {'version': '1.26.3', 'plus': False},
        'config': {'ok': True, 'encoding': 'latin-1',
                   'files': {NGINX_CONF: 'events {}\n', path: content.decode('latin-1')}},
        'paths': {path: {'exists': True, 'content_b64': None, 'in_config': True, 'sha1': 'x'},
                  '/etc/nginx/conf.d/b.conf': {'exists': True, 'content_b64': base64.b64encode(b'x').decode()}},
    }
    snap = Snapshot.from_result(result, NGINX_CONF)
    assert snap.before(path) == content
    assert snap.before('/etc/nginx/conf.d/b.conf') == b'x'
    assert snap.files[path] == content.decode('utf-8', 'surrogateescape')


def test_snapshot_from_result_of_a_broken_config():
    result = {'nginx': {'version': '1.25.5', 'plus': True},
              'config': {'ok': False, 'source': 'files', 'files': {NGINX_CONF: 'http {'},
                         'error': 'nginx: [emerg] unexpected end of file'}}
    snap = Snapshot.from_result(result, NGINX_CONF)
    assert snap.info == NginxInfo((1, 25, 5), True)
    assert snap.build is None
    assert (snap.config_ok, snap.config_error) == (False, 'nginx: [emerg] unexpected end of file')
    assert snap.current == {}


@pytest.mark.parametrize('before, after, changed, before_text', [
    (None, None, False, ''),
    (None, 'x\n', True, ''),
    (b'x\n', 'x\n', False, 'x\n'),
    (b'x\n', None, True, 'x\n'),
    (b'caf\xc3\xa9\n', 'caf\u00e9\n', False, 'caf\u00e9\n'),
    (b'\xff\n', 'x\n', True, '\ufffd\n'),
])
def test_file_change(before, after, changed, before_text):
    change = FileChange('/p', before, after)
    assert change.changed is changed
    assert change.before_text == before_text
    assert Plan([change]).changed is changed


def test_snapshot_from_the_latin_1_transport():
    # snapshot.py sends every byte as the Latin-1 character of the same number; the engine reads UTF-8 and keeps
    # any other byte as a surrogate, for crossplane
    result = {
        'nginx': {'version': '1.22.1', 'plus': False},
        'config': {'ok': True, 'source': 'nginx -T', 'error': None, 'encoding': 'latin-1',
                   'files': {NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
                             '/etc/nginx/conf.d/caf\xc3\xa9.conf': '# caf\xc3\xa9\nupstream app {\n}\n',
                             '/etc/nginx/conf.d/latin1.conf': '# caf\xe9\n'},
                   'real': {'/etc/nginx/sites-enabled/caf\xc3\xa9': '/etc/nginx/sites-available/caf\xc3\xa9'}},
        'read_set': {'files': {NGINX_CONF: '1:2:3'}, 'dirs': {}},
        'recovered': ['an interrupted balancer.nginx run had left unvalidated changes'],
    }
    snap = Snapshot.from_result(result, NGINX_CONF)
    assert snap.files == {NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
                          '/etc/nginx/conf.d/caf\u00e9.conf': '# caf\u00e9\nupstream app {\n}\n',
                          '/etc/nginx/conf.d/latin1.conf': '# caf\udce9\n'}
    assert snap.real == {'/etc/nginx/sites-enabled/caf\u00e9': '/etc/nginx/sites-available/caf\u00e9'}
    assert snap.read_set == {'files': {NGINX_CONF: '1:2:3'}, 'dirs': {}}
    assert snap.recovered == ['an interrupted balancer.nginx run had left unvalidated changes']
    # the tree parses every file, whatever its bytes
    assert [s.where() for s in snap.tree().upstream_definitions('app')] == ['/etc/nginx/conf.d/caf\u00e9.conf:2']
    assert snap.tree().errors == []


def test_snapshot_without_transport_encoding_is_taken_as_it_is():
    snap = Snapshot.from_result({'nginx': {'version': '1.22.1', 'plus': False},
                                 'config': {'files': {NGINX_CONF: 'caf\xc3\xa9'}}}, NGINX_CONF)
    assert snap.files == {NGINX_CONF: 'caf\xc3\xa9'}
    assert (snap.real, snap.read_set, snap.recovered) == ({}, None, [])


def test_snapshot_realpath():
    result = {
        'nginx': {'version': '1.22.1', 'plus': False},
        'config': {'ok': True, 'files': {}, 'encoding': 'latin-1',
                   'real': {'/etc/nginx/sites-enabled/b': '/etc/nginx/sites-available/b'}},
        'paths': {'/etc/nginx/sites-enabled/a': {'exists': True, 'content_b64': 'eA==', 'sha1': 'x',
                                                 'real': '/srv/a'},
                  '/etc/nginx/conf.d/c.conf': {'exists': False, 'content_b64': None, 'sha1': None}},
    }
    snap = Snapshot.from_result(result, NGINX_CONF)
    assert snap.realpath('/etc/nginx/sites-enabled/a') == '/srv/a'
    assert snap.realpath('/etc/nginx/sites-enabled/b') == '/etc/nginx/sites-available/b'
    assert snap.realpath('/etc/nginx/conf.d/c.conf') == '/etc/nginx/conf.d/c.conf'
    assert snap.realpath('/etc/nginx/other') == '/etc/nginx/other'
    assert snap.before('/etc/nginx/sites-enabled/a') == b'x'


def test_snapshot_tree_of_other_files_keeps_the_links():
    snap = Snapshot(DEBIAN12, NGINX_CONF, {NGINX_CONF: 'http {\n    include /etc/nginx/sites-enabled/*;\n}\n'}, {},
                    real={'/etc/nginx/sites-enabled/a': '/etc/nginx/sites-available/a'})
    tree = snap.tree({NGINX_CONF: 'http {\n    include /etc/nginx/sites-enabled/*;\n}\n',
                      '/etc/nginx/sites-enabled/a': 'upstream a {\n    server 10.0.0.1:80;\n}\n'})
    assert sorted(tree.upstreams) == ['a']
    assert tree.aliases('/etc/nginx/sites-available/a') == ['/etc/nginx/sites-available/a',
                                                            '/etc/nginx/sites-enabled/a']
    assert snap.tree().upstreams == {}


@pytest.mark.parametrize('options, kind, name, path', [
    ({'conf_dir': '/etc/nginx/conf.d/'}, 'upstream', 'app', '/etc/nginx/conf.d/app.conf'),
    ({'conf_dir': '/etc/nginx//conf.d/./'}, 'vhost', 'shop', '/etc/nginx/conf.d/shop.vhost.conf'),
    ({'path': '/etc/nginx/sites-enabled/../sites-available/shop'}, 'vhost', 'shop',
     '/etc/nginx/sites-available/shop'),
    ({'conf_dir': '/srv/ngx/'}, 'log_format', 'main', '/srv/ngx/00-log-format-main.conf'),
    # the stream context: stream proxies and (below) stream groups go to stream_conf_dir
    ({}, 'stream_proxy', 'pg', '/etc/nginx/stream.d/pg.stream.conf'),
    ({'stream_conf_dir': '/etc/nginx//tcp/'}, 'stream_proxy', 'pg', '/etc/nginx/tcp/pg.stream.conf'),
    ({'conf_dir': '/srv/ngx', 'path': '/etc/nginx/tcp/../stream.d/x.conf'}, 'stream_proxy', 'pg',
     '/etc/nginx/stream.d/x.conf'),
])
def test_target_path_is_normalized(options, kind, name, path):
    assert _engine.target_path(options, name, kind) == path


@pytest.mark.parametrize('options, context, path', [
    ({}, 'stream', '/etc/nginx/stream.d/pg.conf'),
    ({'stream_conf_dir': '/etc/nginx/tcp/'}, 'stream', '/etc/nginx/tcp/pg.conf'),
    ({'stream_conf_dir': '/etc/nginx/tcp/'}, 'http', '/etc/nginx/conf.d/pg.conf'),
    ({'conf_dir': '/srv/http.d'}, 'stream', '/etc/nginx/stream.d/pg.conf'),
])
def test_target_path_of_a_group_follows_its_context(options, context, path):
    assert _engine.target_path(options, 'pg', 'upstream', context=context) == path
    assert _engine.stream_conf_dir_of({}) == '/etc/nginx/stream.d'


# -- the stream {} block of nginx.conf: stream_include -------------------------------

STREAM_D = '/etc/nginx/stream.d'
PLAIN_MAIN = 'events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n'
STREAM_BLOCK = ('\n'
                '# BEGIN balancer.nginx: the stream context of the TCP/UDP proxies (the rest of this file is not '
                'managed)\n'
                'stream {\n'
                '    include /etc/nginx/stream.d/*.conf;\n'
                '}\n'
                '# END balancer.nginx\n')


def main_snapshot(text, extra=None, data=None):
    """nginx.conf as the proxy has it: parsed (``text``) and read as bytes (``data``, default its UTF-8)."""
    files = {NGINX_CONF: text}
    files.update(extra or {})
    return Snapshot(DEBIAN12, NGINX_CONF, files,
                    {NGINX_CONF: {'exists': True, 'content': text.encode('utf-8') if data is None else data}})


def stream_include(snap, stream_conf_dir=STREAM_D):
    return _engine.stream_include(snap, snap.tree(), stream_conf_dir)


def test_stream_include_appends_a_marked_block_when_there_is_no_stream_block():
    change = stream_include(main_snapshot(PLAIN_MAIN))
    assert (change.path, change.before, change.after) == (NGINX_CONF, PLAIN_MAIN.encode(), PLAIN_MAIN + STREAM_BLOCK)
    assert change.changed


def test_stream_include_appends_after_a_last_line_without_newline():
    text = 'events {}\nhttp {\n}'
    assert stream_include(main_snapshot(text)).after == text + '\n' + STREAM_BLOCK


def test_stream_include_of_another_directory():
    change = stream_include(main_snapshot(PLAIN_MAIN), '/etc/nginx/tcp')
    assert change.after == PLAIN_MAIN + STREAM_BLOCK.replace('/etc/nginx/stream.d/', '/etc/nginx/tcp/')


HAND_STREAM = ('user www-data;\n'
               'events {}\n'
               'http {\n'
               '    include /etc/nginx/conf.d/*.conf;\n'
               '}\n'
               '# TCP and UDP\n'
               'stream {   # written by hand\n'
               '    server {\n'
               '        listen 53 udp;\n'
               '        proxy_pass 10.0.0.53:53;\n'
               '    }\n'
               '}\n'
               '# the end\n')


def test_stream_include_goes_into_a_hand_written_stream_block_every_other_byte_kept():
    change = stream_include(main_snapshot(HAND_STREAM))
    assert change.after == (
        'user www-data;\n'
        'events {}\n'
        'http {\n'
        '    include /etc/nginx/conf.d/*.conf;\n'
        '}\n'
        '# TCP and UDP\n'
        'stream {\n'
        '    include /etc/nginx/stream.d/*.conf;  # balancer.nginx: stream_conf_dir   # written by hand\n'
        '    server {\n'
        '        listen 53 udp;\n'
        '        proxy_pass 10.0.0.53:53;\n'
        '    }\n'
        '}\n'
        '# the end\n')
    # nothing else: take the added text out and the bytes are the same
    added = '\n    include /etc/nginx/stream.d/*.conf;  # balancer.nginx: stream_conf_dir'
    assert change.after.replace(added, '', 1) == HAND_STREAM


def test_stream_include_with_the_brace_of_the_block_on_the_next_line():
    text = 'events {}\nstream\n{\n    server {\n        listen 1;\n        proxy_pass 127.0.0.1:2;\n    }\n}\n'
    assert stream_include(main_snapshot(text)).after == (
        'events {}\nstream\n{\n    include /etc/nginx/stream.d/*.conf;  # balancer.nginx: stream_conf_dir\n'
        '    server {\n        listen 1;\n        proxy_pass 127.0.0.1:2;\n    }\n}\n')


@pytest.mark.parametrize('text', [
    'events {}\nstream {}\n',
    'events {}\nstream { server { listen 1; proxy_pass 127.0.0.1:2; } }\n',
], ids=['empty-block', 'one-line-block'])
def test_stream_include_into_a_block_that_goes_on_after_its_brace(text):
    # the include's comment must not swallow the rest of the line (the block's closing brace among it)
    change = stream_include(main_snapshot(text))
    original = _inspect.parse_text(text)
    parsed = _inspect.parse_text(change.after)
    stream = [s for s in parsed if s['directive'] == 'stream'][0]
    assert [(s['directive'], s['args']) for s in stream['block']] == (
        [('include', ['/etc/nginx/stream.d/*.conf'])]
        + [(s['directive'], s['args']) for s in [t for t in original if t['directive'] == 'stream'][0]['block']])


@pytest.mark.parametrize('text', [
    PLAIN_MAIN + 'stream {\n    include /etc/nginx/stream.d/*.conf;\n}\n',
    PLAIN_MAIN + 'stream {\n    include stream.d/*.conf;\n}\n',               # relative to nginx.conf
    PLAIN_MAIN + 'stream {\n    include /etc/nginx/stream.d/*;\n}\n',
    PLAIN_MAIN + STREAM_BLOCK,                                                 # what a first run appended
], ids=['absolute', 'relative', 'every-file', 'marked'])
def test_an_included_stream_conf_dir_gives_no_change(text):
    assert stream_include(main_snapshot(text)) is None


def test_a_stream_block_in_another_file_is_refused_naming_it():
    text = PLAIN_MAIN + 'include /etc/nginx/streams.conf;\n'
    streams = 'stream {\n    server {\n        listen 1;\n        proxy_pass 127.0.0.1:2;\n    }\n}\n'
    snap = main_snapshot(text, {'/etc/nginx/streams.conf': streams})
    with pytest.raises(InspectError) as info:
        stream_include(snap)
    assert str(info.value) == (
        "stream_conf_dir: '/etc/nginx/stream.d' is not included by the stream {} block at "
        '/etc/nginx/streams.conf:1; add "include /etc/nginx/stream.d/*.conf;" inside that block.')


def test_nginx_conf_that_could_not_be_read_is_refused():
    snap = Snapshot(DEBIAN12, NGINX_CONF, {NGINX_CONF: PLAIN_MAIN}, {})
    with pytest.raises(InspectError) as info:
        stream_include(snap)
    assert str(info.value) == "nginx_conf: '/etc/nginx/nginx.conf' could not be read from the proxy; check nginx_conf."


def test_stream_include_keeps_bytes_that_are_not_utf_8():
    # a hand-edited nginx.conf with a Latin-1 comment: every byte of it is kept, the block appended
    data = b'# caf\xe9\n' + PLAIN_MAIN.encode()
    change = stream_include(main_snapshot(data.decode('utf-8', 'surrogateescape'), data=data))
    assert change.before == data
    assert change.after_bytes == data + STREAM_BLOCK.encode()
    assert change.changed


def test_stream_include_keeps_crlf_line_ends():
    text = 'events {}\r\nstream {\r\n    server {\r\n        listen 1;\r\n        proxy_pass 127.0.0.1:2;\r\n    }\r\n}\r\n'
    assert stream_include(main_snapshot(text)).after == (
        'events {}\r\nstream {\n    include /etc/nginx/stream.d/*.conf;  # balancer.nginx: stream_conf_dir\r\n'
        '    server {\r\n        listen 1;\r\n        proxy_pass 127.0.0.1:2;\r\n    }\r\n}\r\n')


# -- the stream module: check_stream_module -------------------------------------------

DEBIAN_V = ('nginx version: nginx/1.22.1\n'
            'built with OpenSSL 3.0.9 30 May 2023\n'
            'TLS SNI support enabled\n'
            'configure arguments: --with-cc-opt=-O2 --prefix=/usr/share/nginx --with-http_ssl_module '
            '--with-stream_ssl_module --with-stream_ssl_preread_module --with-stream_realip_module '
            '--with-http_geoip_module=dynamic --with-stream=dynamic --with-stream_geoip_module=dynamic')
STATIC_V = ('nginx version: nginx/1.26.3\n'
            'configure arguments: --prefix=/etc/nginx --with-http_ssl_module --with-stream '
            '--with-stream_realip_module --with-stream_ssl_module')
WITHOUT_V = 'nginx version: nginx/1.26.3\nconfigure arguments: --prefix=/etc/nginx --with-http_ssl_module'
DEBIAN_MAIN = 'user www-data;\ninclude /etc/nginx/modules-enabled/*.conf;\nevents {}\nhttp {\n}\n'
NOT_LOADED = ("stream_conf_dir: needs the stream module, which this Nginx has as a dynamic module that its "
              "configuration does not load; install it (Debian: libnginx-mod-stream, which the role installs) or add "
              "'load_module modules/ngx_stream_module.so;' at the top of nginx.conf.")
BUILT_WITHOUT = ('stream_conf_dir: needs the stream module, which this Nginx was built without; install an Nginx '
                 'built with it (Debian: nginx with libnginx-mod-stream).')


def module_check(build, files):
    snap = Snapshot(DEBIAN12, NGINX_CONF, files, {}, build=build)
    _engine.check_stream_module(snap, snap.tree())


@pytest.mark.parametrize('build, files', [
    # Debian: libnginx-mod-stream puts the load_module line into modules-enabled
    (DEBIAN_V, {NGINX_CONF: DEBIAN_MAIN,
                '/etc/nginx/modules-enabled/50-mod-stream.conf': 'load_module modules/ngx_stream_module.so;\n'}),
    (DEBIAN_V, {NGINX_CONF: 'load_module /usr/lib/nginx/modules/ngx_stream_module.so;\nevents {}\n'}),
    (STATIC_V, {NGINX_CONF: 'events {}\n'}),
    # nothing known of the build: nothing to check
    (None, {NGINX_CONF: 'events {}\n'}),
], ids=['debian-modules-enabled', 'load_module', 'static', 'unknown-build'])
def test_the_stream_module_is_there(build, files):
    module_check(build, files)


@pytest.mark.parametrize('build, files, message', [
    (DEBIAN_V, {NGINX_CONF: DEBIAN_MAIN}, NOT_LOADED),
    (DEBIAN_V, {NGINX_CONF: DEBIAN_MAIN,
                '/etc/nginx/modules-enabled/50-mod-http-echo.conf': 'load_module modules/ngx_http_echo_module.so;\n',
                '/etc/nginx/modules-enabled/70-mod-stream-geoip.conf':
                    'load_module modules/ngx_stream_geoip_module.so;\n'},
     NOT_LOADED),
    (DEBIAN_V, {NGINX_CONF: '# load_module modules/ngx_stream_module.so;\nevents {}\n'}, NOT_LOADED),
    (WITHOUT_V, {NGINX_CONF: 'events {}\n'}, BUILT_WITHOUT),
], ids=['dynamic-not-loaded', 'other-modules-loaded', 'commented-out', 'built-without'])
def test_no_stream_module_is_refused(build, files, message):
    with pytest.raises(InspectError) as info:
        module_check(build, files)
    assert str(info.value) == message
