# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_engine.py: planning one upstream against a hand-built Snapshot."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _options
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
    assert snap.nginx_conf == NGINX_CONF
    assert snap.files == FILES
    assert snap.config_ok is True and snap.config_error is None
    assert snap.before('/etc/nginx/conf.d/app.conf') == content
    assert snap.before('/etc/nginx/conf.d/new.conf') is None
    assert snap.before('/etc/nginx/conf.d/unasked.conf') is None


def test_snapshot_from_result_of_a_broken_config():
    result = {'nginx': {'version': '1.25.5', 'plus': True},
              'config': {'ok': False, 'source': 'files', 'files': {NGINX_CONF: 'http {'},
                         'error': 'nginx: [emerg] unexpected end of file'}}
    snap = Snapshot.from_result(result, NGINX_CONF)
    assert snap.info == NginxInfo((1, 25, 5), True)
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
])
def test_target_path_is_normalized(options, kind, name, path):
    assert _engine.target_path(options, name, kind) == path
