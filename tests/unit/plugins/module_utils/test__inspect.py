# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_inspect.py: the whole configuration, from a snapshot dict only."""

from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect
from ansible_collections.balancer.nginx.plugins.module_utils._errors import InspectError
from ansible_collections.balancer.nginx.plugins.module_utils._inspect import (
    ConfigTree, check_http_context, check_unique_upstream, proxy_pass_upstream)

NGINX_CONF = '/etc/nginx/nginx.conf'

# A Debian-like layout.  These files exist only in this dict: the controller's own /etc/nginx (if any) must
# never be read, so the names are chosen not to exist there.
MAIN = """\
user www-data;
include modules-enabled/*.conf;
events {
    worker_connections 768;
}
http {
    include mime.types;
    include /etc/nginx/conf.d/*.conf;
    include sites-enabled/*;
    server {
        listen 8080;
        include snippets/*.conf;
        location / {
            proxy_pass http://app;
        }
    }
}
"""

FILES = {
    NGINX_CONF: MAIN,
    '/etc/nginx/mime.types': 'types {\n    text/html html;\n}\n',
    '/etc/nginx/modules-enabled/50-mod.conf': 'load_module modules/ngx_stream_module.so;\n',
    '/etc/nginx/conf.d/zz-unit-app.conf': 'upstream app {\n    server 10.0.0.1:80;\n}\n',
    '/etc/nginx/conf.d/zz-unit-other.conf': (
        'upstream other {\n    server 10.0.0.2:80;\n}\n'
        'upstream spare {\n    server 10.0.0.3:80;\n}\n'),
    '/etc/nginx/conf.d/.zz-unit-hidden.conf': 'upstream hidden {\n    server 10.0.0.9:80;\n}\n',
    '/etc/nginx/conf.d/sub/zz-unit-deep.conf': 'upstream deep {\n    server 10.0.0.8:80;\n}\n',
    '/etc/nginx/conf.d/zz-unit-notconf.txt': 'upstream notconf {\n    server 10.0.0.7:80;\n}\n',
    '/etc/nginx/sites-enabled/zz-unit-site': (
        'server {\n'
        '    listen 80;\n'
        '    location /a {\n'
        '        proxy_pass https://app/path;\n'
        '    }\n'
        '    location /b {\n'
        '        proxy_pass http://app:8080;\n'
        '    }\n'
        '    location /c {\n'
        '        proxy_pass http://$backend;\n'
        '    }\n'
        '    location /d {\n'
        '        proxy_pass http://other/;\n'
        '    }\n'
        '    location /e {\n'
        '        proxy_pass http://unix:/run/app.sock;\n'
        '    }\n'
        '    location /f {\n'
        '        proxy_pass http://application;\n'
        '    }\n'
        '}\n'),
    '/etc/nginx/snippets/zz-unit-snippet.conf': 'proxy_set_header Host $host;\n',
    '/etc/nginx/zz-unit-not-included.conf': 'upstream lost {\n    server 10.0.0.6:80;\n}\n',
}


@pytest.fixture(scope='module')
def tree():
    return ConfigTree(FILES, NGINX_CONF)


def test_walk_reads_only_the_snapshot(tree):
    assert sorted(tree.includes) == [
        '/etc/nginx/conf.d/zz-unit-app.conf',
        '/etc/nginx/conf.d/zz-unit-other.conf',
        '/etc/nginx/mime.types',
        '/etc/nginx/modules-enabled/50-mod.conf',
        '/etc/nginx/sites-enabled/zz-unit-site',
        '/etc/nginx/snippets/zz-unit-snippet.conf',
    ]
    assert sorted(tree.upstreams) == ['app', 'other', 'spare']
    assert set(s.file for s in tree.statements) <= set(FILES)
    assert tree.errors == []


def test_files_of_the_controller_are_never_read():
    # an include of the Debian default location, whose files exist only in the dict; whatever the
    # controller has in /etc/nginx/conf.d does not show up
    files = {NGINX_CONF: 'events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
             '/etc/nginx/conf.d/zz-unit-only-in-dict.conf': 'upstream only_in_dict {\n    server 127.0.0.1:1;\n}\n'}
    tree = ConfigTree(files, NGINX_CONF)
    assert list(tree.includes) == ['/etc/nginx/conf.d/zz-unit-only-in-dict.conf']
    assert list(tree.upstreams) == ['only_in_dict']
    # an include of a real system file that is not in the dict finds nothing
    tree = ConfigTree({NGINX_CONF: 'include /etc/passwd;\ninclude /etc/*;\nhttp {\n}\n'}, NGINX_CONF)
    assert tree.includes == {}
    assert [s.file for s in tree.statements] == [NGINX_CONF] * 3


def test_include_contexts(tree):
    def contexts(path):
        return [(ctx, stmt.where()) for ctx, stmt in tree.includes[path]]

    assert contexts('/etc/nginx/modules-enabled/50-mod.conf') == [((), '/etc/nginx/nginx.conf:2')]
    assert contexts('/etc/nginx/conf.d/zz-unit-app.conf') == [(('http',), '/etc/nginx/nginx.conf:8')]
    assert contexts('/etc/nginx/sites-enabled/zz-unit-site') == [(('http',), '/etc/nginx/nginx.conf:9')]
    assert contexts('/etc/nginx/snippets/zz-unit-snippet.conf') == [
        (('http', 'server'), '/etc/nginx/nginx.conf:12')]


def test_statements_know_their_file_line_and_context(tree):
    upstream = tree.upstream_definitions('spare')[0]
    assert (upstream.file, upstream.line, upstream.context) == ('/etc/nginx/conf.d/zz-unit-other.conf', 4, ('http',))
    snippet = [s for s in tree.statements if s.directive == 'proxy_set_header'][0]
    assert snippet.context == ('http', 'server')
    assert snippet.where() == '/etc/nginx/snippets/zz-unit-snippet.conf:1'
    orders = [s.order for s in tree.statements]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


def test_read_order_follows_includes(tree):
    upstreams = [s.args[0] for s in tree.statements if s.directive == 'upstream']
    assert upstreams == ['app', 'other', 'spare']
    files = []
    for stmt in tree.statements:
        if not files or files[-1] != stmt.file:
            files.append(stmt.file)
    assert files == [
        NGINX_CONF, '/etc/nginx/modules-enabled/50-mod.conf', NGINX_CONF, '/etc/nginx/mime.types', NGINX_CONF,
        '/etc/nginx/conf.d/zz-unit-app.conf', '/etc/nginx/conf.d/zz-unit-other.conf', NGINX_CONF,
        '/etc/nginx/sites-enabled/zz-unit-site', NGINX_CONF, '/etc/nginx/snippets/zz-unit-snippet.conf', NGINX_CONF]


def test_http_level_servers(tree):
    # sites-enabled is included (line 9) before the server block of nginx.conf (line 10)
    assert [s.where() for s in tree.servers] == ['/etc/nginx/sites-enabled/zz-unit-site:1', '/etc/nginx/nginx.conf:10']


# -- globs --------------------------------------------------------------------

@pytest.mark.parametrize('path, expected', [
    ('/etc/nginx/conf.d/new.conf', [(('http',), '/etc/nginx/nginx.conf:8')]),
    ('/etc/nginx/conf.d/zz-unit-app.conf', [(('http',), '/etc/nginx/nginx.conf:8')]),
    ('/etc/nginx/conf.d/.new.conf', []),              # * does not match a leading dot
    ('/etc/nginx/conf.d/sub/new.conf', []),           # * does not cross /
    ('/etc/nginx/conf.d/new.txt', []),
    ('/etc/nginx/conf.d/new.conf.bak', []),
    ('/etc/nginx/sites-enabled/anything', [(('http',), '/etc/nginx/nginx.conf:9')]),
    ('/etc/nginx/snippets/x.conf', [(('http', 'server'), '/etc/nginx/nginx.conf:12')]),
    ('/etc/nginx/modules-enabled/x.conf', [((), '/etc/nginx/nginx.conf:2')]),
    ('/etc/nginx/mime.types', [(('http',), '/etc/nginx/nginx.conf:7')]),
    ('/etc/nginx/elsewhere/x.conf', []),
    ('/etc/nginx/zz-unit-not-included.conf', []),
])
def test_contexts_for_files_that_do_not_exist_yet(tree, path, expected):
    assert [(ctx, stmt.where()) for ctx, stmt in tree.contexts_for(path)] == expected


@pytest.mark.parametrize('pattern, path, matches', [
    ('/a/*.conf', '/a/x.conf', True),
    ('/a/*.conf', '/a/.x.conf', False),
    ('/a/.*.conf', '/a/.x.conf', True),
    ('/a/*.conf', '/a/b/x.conf', False),
    ('/a/*/x.conf', '/a/b/x.conf', True),
    ('/a/*/x.conf', '/a/.b/x.conf', False),
    ('/a/*', '/a/x', True),
    ('/a/x?.conf', '/a/x1.conf', True),
    ('/a/x[0-9].conf', '/a/x1.conf', True),
    ('/a/x[0-9].conf', '/a/xa.conf', False),
    ('/a/*.conf', '/b/x.conf', False),
])
def test_segments_match(pattern, path, matches):
    assert _inspect._segments_match(pattern, path) is matches


def test_relative_includes_resolve_against_the_directory_of_nginx_conf():
    files = {
        '/opt/ngx/conf/nginx.conf': 'events {}\nhttp {\n    include vhosts/*.conf;\n}\n',
        # relative include inside an included file: still against /opt/ngx/conf, as Nginx does
        '/opt/ngx/conf/vhosts/a.conf': 'include upstreams/pool.conf;\n',
        '/opt/ngx/conf/upstreams/pool.conf': 'upstream pool {\n    server 127.0.0.1:81;\n}\n',
        '/opt/ngx/conf/vhosts/upstreams/pool.conf': 'upstream wrong {\n    server 127.0.0.1:82;\n}\n',
    }
    tree = ConfigTree(files, '/opt/ngx/conf/nginx.conf')
    assert sorted(tree.upstreams) == ['pool']
    assert [(c, s.where()) for c, s in tree.includes['/opt/ngx/conf/upstreams/pool.conf']] == [
        (('http',), '/opt/ngx/conf/vhosts/a.conf:1')]
    assert [c for c, s in tree.contexts_for('/opt/ngx/conf/vhosts/new.conf')] == [('http',)]
    assert tree.include_patterns()[0][0] == '/opt/ngx/conf/vhosts/*.conf'


def test_include_cycle_terminates():
    files = {NGINX_CONF: 'http {\n    include /etc/nginx/a.conf;\n}\n',
             '/etc/nginx/a.conf': 'include /etc/nginx/b.conf;\n',
             '/etc/nginx/b.conf': 'include /etc/nginx/a.conf;\nupstream b {\n    server 127.0.0.1:1;\n}\n'}
    tree = ConfigTree(files, NGINX_CONF)
    assert [s.where() for s in tree.upstream_definitions('b')] == ['/etc/nginx/b.conf:2']


def test_syntax_errors_are_collected_with_the_file():
    files = {NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
             '/etc/nginx/conf.d/broken.conf': 'upstream x {\n    server 127.0.0.1:1;\n'}
    tree = ConfigTree(files, NGINX_CONF)
    assert len(tree.errors) == 1
    assert tree.errors[0]['file'] == '/etc/nginx/conf.d/broken.conf'
    assert tree.errors[0]['error'].startswith('unexpected end of file, expecting "}" in ')


def test_parse_text_raises_on_a_syntax_error():
    with pytest.raises(ValueError) as exc:
        _inspect.parse_text('upstream x {\n')
    assert str(exc.value).startswith('unexpected end of file, expecting "}" in ')


def test_same_text_in_two_files_parsed_once_and_kept_apart():
    text = 'upstream same {\n    server 127.0.0.1:1;\n}\n'
    files = {NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
             '/etc/nginx/conf.d/a.conf': text, '/etc/nginx/conf.d/b.conf': text}
    tree = ConfigTree(files, NGINX_CONF)
    assert [s.where() for s in tree.upstream_definitions('same')] == [
        '/etc/nginx/conf.d/a.conf:1', '/etc/nginx/conf.d/b.conf:1']


# -- checks -------------------------------------------------------------------

def test_check_http_context_accepts_conf_d(tree):
    assert check_http_context(tree, '/etc/nginx/conf.d/new.conf') is None
    assert check_http_context(tree, '/etc/nginx/sites-enabled/new') is None


def test_check_http_context_refuses_an_include_inside_server(tree):
    with pytest.raises(InspectError) as exc:
        check_http_context(tree, '/etc/nginx/snippets/up.conf')
    assert str(exc.value) == (
        'path: /etc/nginx/snippets/up.conf is included inside http > server at /etc/nginx/nginx.conf:12, '
        'where "upstream" is not allowed (Nginx: "upstream directive is not allowed here"); '
        'write it into a directory included directly in http {} (conf_dir).')


def test_check_http_context_refuses_the_main_context(tree):
    with pytest.raises(InspectError) as exc:
        check_http_context(tree, '/etc/nginx/modules-enabled/up.conf')
    assert str(exc.value) == (
        'path: /etc/nginx/modules-enabled/up.conf is included inside the main context at '
        '/etc/nginx/nginx.conf:2, where "upstream" is not allowed (Nginx: "upstream directive is not allowed '
        'here"); write it into a directory included directly in http {} (conf_dir).')


def test_check_http_context_refuses_a_file_included_twice_once_in_server():
    files = {NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n    server {\n'
                         '        include /etc/nginx/conf.d/*.conf;\n    }\n}\n'}
    tree = ConfigTree(files, NGINX_CONF)
    with pytest.raises(InspectError) as exc:
        check_http_context(tree, '/etc/nginx/conf.d/up.conf')
    assert str(exc.value) == (
        'path: /etc/nginx/conf.d/up.conf is included inside http > server at /etc/nginx/nginx.conf:4, '
        'where "upstream" is not allowed (Nginx: "upstream directive is not allowed here"); '
        'write it into a directory included directly in http {} (conf_dir).')


@pytest.mark.parametrize('path', ['/etc/nginx/other/app.conf', '/etc/nginx/conf.d/.app.conf',
                                  '/etc/nginx/conf.d/sub/app.conf'])
def test_check_http_context_refuses_a_file_not_included(tree, path):
    with pytest.raises(InspectError) as exc:
        check_http_context(tree, path, option='upstreams[0].path')
    directory = path.rsplit('/', 1)[0]
    assert str(exc.value) == (
        'upstreams[0].path: %s is not included by /etc/nginx/nginx.conf, so Nginx would never read it; '
        'write it into a directory that the http block includes (conf_dir), or add '
        '"include %s/*.conf;" inside http {}.' % (path, directory))


def test_check_unique_upstream(tree):
    with pytest.raises(InspectError) as exc:
        check_unique_upstream(tree, 'spare', '/etc/nginx/conf.d/new.conf')
    assert str(exc.value) == (
        "name: 'spare' is already defined as an upstream in /etc/nginx/conf.d/zz-unit-other.conf:4; "
        'remove it there, or choose another name.')
    # the group's own file is not a duplicate
    assert check_unique_upstream(tree, 'app', '/etc/nginx/conf.d/zz-unit-app.conf') is None
    assert check_unique_upstream(tree, 'fresh', '/etc/nginx/conf.d/fresh.conf') is None


def test_definitions_in_files_that_are_not_included_do_not_count(tree):
    assert tree.upstream_definitions('lost') == []
    assert tree.upstream_definitions('hidden') == []
    assert tree.upstream_definitions('deep') == []
    assert tree.upstream_definitions('notconf') == []


# -- references ---------------------------------------------------------------

def test_references(tree):
    # in read order: sites-enabled (included at nginx.conf:9) before nginx.conf:14
    assert [r.where() for r in tree.references('app')] == [
        '/etc/nginx/sites-enabled/zz-unit-site:4',
        '/etc/nginx/sites-enabled/zz-unit-site:7',
        '/etc/nginx/nginx.conf:14',
    ]
    assert [r.where() for r in tree.references('other')] == ['/etc/nginx/sites-enabled/zz-unit-site:13']
    assert tree.references('spare') == []
    assert tree.references('backend') == []
    assert [r.where() for r in tree.references('application')] == ['/etc/nginx/sites-enabled/zz-unit-site:19']


@pytest.mark.parametrize('target, name', [
    ('http://app', 'app'),
    ('http://app/', 'app'),
    ('https://app/path/x', 'app'),
    ('http://app:8080', 'app'),
    ('http://app:8080/x', 'app'),
    ('http://$backend', None),
    ('http://$backend/x', None),
    ('http://app$request_uri', None),
    ('http://unix:/run/app.sock', None),
    ('http://[::1]:8080', None),
    ('grpc://app', None),
    ('app', None),
    ('http://', None),
])
def test_proxy_pass_upstream(target, name):
    assert proxy_pass_upstream(target) == name


# -- check_roundtrip ------------------------------------------------------------

def test_check_roundtrip_accepts_what_the_renderer_writes():
    from ansible_collections.balancer.nginx.plugins.module_utils import _render
    from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Upstream
    upstream = Upstream.from_options({'name': 'app', 'method': 'hash', 'hash_key': '$host $uri', 'zone': 'app 64k',
                                      'servers': [{'address': 'unix:/run/a.sock'}, {'address': '[::1]:80'}]})
    payload = _render.file_payload([upstream.payload])
    assert _inspect.check_roundtrip(_render.build(payload), payload) is None


def test_check_roundtrip_refuses_text_that_does_not_parse():
    from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
    payload = [{'directive': 'upstream', 'args': ['api'], 'line': 1,
                'block': [{'directive': 'least_conn', 'args': [], 'line': 2}]}]
    with pytest.raises(ModelError) as exc:
        _inspect.check_roundtrip('upstream api {\n    least_conn;\n', payload)
    # the controller's temporary path is not shown, only the line
    assert str(exc.value) == ('content: the rendered file does not parse back (unexpected end of file, '
                              'expecting "}" at line 2); report this as a bug in balancer.nginx.')


def test_check_roundtrip_refuses_a_different_text():
    from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
    payload = [{'directive': 'upstream', 'args': ['a'], 'line': 1,
                'block': [{'directive': 'server', 'args': ['a:80'], 'line': 2}]}]
    with pytest.raises(ModelError) as exc:
        _inspect.check_roundtrip('upstream a {\n    server b:80;\n}\n', payload)
    assert str(exc.value) == ('content: the rendered file parses back to something else than the model; '
                              'report this as a bug in balancer.nginx.')


# -- upstream names: letter case, http and stream ----------------------------------

CASES_MAIN = ('events {}\n'
              'http {\n'
              '    include /etc/nginx/conf.d/*.conf;\n'
              '}\n'
              'stream {\n'
              '    include /etc/nginx/stream.d/*.conf;\n'
              '}\n')
CASES_FILES = {
    NGINX_CONF: CASES_MAIN,
    '/etc/nginx/conf.d/shop.conf': ('upstream Shop {\n    server 10.0.0.1:80;\n}\n'
                                    'server {\n    location / {\n        proxy_pass http://SHOP/;\n    }\n}\n'),
    '/etc/nginx/stream.d/db.conf': ('upstream shop {\n    server 10.0.0.2:5432;\n}\n'
                                    'upstream db {\n    server 10.0.0.3:5432;\n}\n'
                                    'server {\n    listen 5432;\n    proxy_pass db;\n}\n'),
}


def test_upstream_names_ignore_letter_case():
    tree = ConfigTree(CASES_FILES, NGINX_CONF)
    assert sorted(tree.upstreams) == ['shop']
    for name in ('shop', 'Shop', 'SHOP'):
        assert [s.where() for s in tree.upstream_definitions(name)] == ['/etc/nginx/conf.d/shop.conf:1']
        assert [s.where() for s in tree.references(name)] == ['/etc/nginx/conf.d/shop.conf:6']


def test_http_and_stream_upstreams_are_separate_namespaces():
    tree = ConfigTree(CASES_FILES, NGINX_CONF)
    assert sorted(tree.stream_upstreams) == ['db', 'shop']
    assert [s.where() for s in tree.stream_upstreams['shop']] == ['/etc/nginx/stream.d/db.conf:1']
    # a stream group is no http group, and a stream proxy_pass is no reference of an http group
    assert tree.upstream_definitions('db') == []
    assert tree.references('db') == []
    assert [p.where() for p in tree.proxy_passes] == ['/etc/nginx/conf.d/shop.conf:6']
    # the same name in both contexts is no duplicate
    assert check_unique_upstream(tree, 'shop', '/etc/nginx/conf.d/shop.conf') is None


def test_check_unique_upstream_in_another_letter_case():
    tree = ConfigTree(CASES_FILES, NGINX_CONF)
    with pytest.raises(InspectError) as exc:
        check_unique_upstream(tree, 'SHOP', '/etc/nginx/conf.d/other.conf')
    assert str(exc.value) == ("name: 'SHOP' is already defined as an upstream in /etc/nginx/conf.d/shop.conf:1; "
                              'remove it there, or choose another name.')


# -- symbolic links: a file included through a link counts as included -----------

LINK_FILES = {
    NGINX_CONF: 'events {}\nhttp {\n    include /etc/nginx/sites-enabled/*;\n}\n',
    '/etc/nginx/sites-enabled/shop': 'upstream shop {\n    server 10.0.0.1:80;\n}\n',
}
LINK_REAL = {'/etc/nginx/sites-enabled/shop': '/etc/nginx/sites-available/shop'}


def test_aliases_of_a_linked_file():
    tree = ConfigTree(LINK_FILES, NGINX_CONF, LINK_REAL)
    assert tree.aliases('/etc/nginx/sites-available/shop') == ['/etc/nginx/sites-available/shop',
                                                               '/etc/nginx/sites-enabled/shop']
    assert tree.aliases('/etc/nginx/sites-enabled/shop') == ['/etc/nginx/sites-enabled/shop']
    assert tree.aliases('/etc/nginx/sites-available/other') == ['/etc/nginx/sites-available/other']


def test_a_file_included_through_a_link_is_included():
    tree = ConfigTree(LINK_FILES, NGINX_CONF, LINK_REAL)
    assert [(c, s.where()) for c, s in tree.contexts_for('/etc/nginx/sites-available/shop')] == [
        (('http',), '/etc/nginx/nginx.conf:3')]
    assert check_http_context(tree, '/etc/nginx/sites-available/shop') is None
    # without the link it is not
    with pytest.raises(InspectError) as exc:
        check_http_context(ConfigTree(LINK_FILES, NGINX_CONF), '/etc/nginx/sites-available/shop')
    assert str(exc.value) == (
        'path: /etc/nginx/sites-available/shop is not included by /etc/nginx/nginx.conf, so Nginx would never '
        'read it; write it into a directory that the http block includes (conf_dir), or add '
        '"include /etc/nginx/sites-available/*.conf;" inside http {}.')


def test_check_http_context_with_the_real_path_of_a_file_that_does_not_exist_yet():
    tree = ConfigTree(LINK_FILES, NGINX_CONF, dict(LINK_REAL, **{
        '/etc/nginx/sites-enabled/new': '/etc/nginx/sites-available/new'}))
    assert check_http_context(tree, '/etc/nginx/sites-available/new', real='/etc/nginx/sites-available/new') is None


def test_the_group_in_its_own_file_reached_through_a_link_is_not_a_duplicate():
    tree = ConfigTree(LINK_FILES, NGINX_CONF, LINK_REAL)
    assert check_unique_upstream(tree, 'shop', '/etc/nginx/sites-available/shop') is None
    with pytest.raises(InspectError) as exc:
        check_unique_upstream(ConfigTree(LINK_FILES, NGINX_CONF), 'shop', '/etc/nginx/sites-available/shop')
    assert str(exc.value) == ("name: 'shop' is already defined as an upstream in /etc/nginx/sites-enabled/shop:1; "
                              'remove it there, or choose another name.')


# -- files no include may read (staging, backups) ---------------------------------

def test_check_included_nowhere():
    files = {NGINX_CONF: 'events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n    include /srv/*;\n}\n'}
    tree = ConfigTree(files, NGINX_CONF)
    # '*' matches no leading dot, as Nginx's glob: hidden staging files are never read
    assert _inspect.check_included_nowhere(tree, '/etc/nginx/conf.d/.balancer-staging.tmp', 'conf_dir',
                                           'hidden staging files', 'narrow it') is None
    assert _inspect.check_included_nowhere(tree, '/var/backups/x.conf~', 'backup_dir', 'backup copies',
                                           'move it') is None
    with pytest.raises(InspectError) as exc:
        _inspect.check_included_nowhere(tree, '/srv/app.conf.20260101-000000.1~', 'backup_dir', 'backup copies',
                                        'choose another backup_dir')
    assert str(exc.value) == ('backup_dir: backup copies such as /srv/app.conf.20260101-000000.1~ would be read by '
                              '"include /srv/*" at /etc/nginx/nginx.conf:4; choose another backup_dir.')


# -- what a takeover (force) would drop -----------------------------------------------

@pytest.mark.parametrize('kind, name, text, lost', [
    # what the options express: nothing lost (comments are no directives)
    ('upstream', 'app', 'upstream app {\n    server 10.0.0.1:80 weight=2;\n    keepalive 8;\n}\n', []),
    ('upstream', 'app', '# by hand\nupstream APP {\n    least_conn;\n    server a:80;\n}\n', []),
    ('upstream', 'app', '', []),
    ('log_format', 'main', "log_format main escape=json '$status';\n", []),
    ('vhost', 'www', ('server {\n    listen 80;\n    server_name www.example.com;\n    access_log /l main;\n'
                      '    location / {\n        proxy_pass http://app;\n        proxy_set_header Host $host;\n'
                      '        proxy_read_timeout 30s;\n    }\n}\n'), []),
    # what they cannot
    ('upstream', 'app', 'upstream app {\n    server 10.0.0.1:80;\n    health_check;\n}\n',
     ['"health_check" at line 3']),
    ('upstream', 'app', 'upstream app {\n    server 10.0.0.1:80 foo=1;\n}\n', ['"server 10.0.0.1:80 foo=1" at line 2']),
    ('upstream', 'app', 'upstream app {\n    server 10.0.0.1:80;\n    include /etc/nginx/more.conf;\n}\n',
     ['"include /etc/nginx/more.conf" at line 3']),
    ('upstream', 'app', 'upstream app {\n    server a:80;\n}\nupstream other {\n    server b:80;\n}\n',
     ['"upstream other" at line 4']),
    ('upstream', 'app', 'upstream app {\n    server a:80;\n}\nupstream app {\n    server b:80;\n}\n',
     ['"upstream app" at line 4']),
    ('upstream', 'app', 'upstream other {\n    server a:80;\n}\n', ['"upstream other" at line 1']),
    ('upstream', 'app',
     'upstream app {\n    server a:80;\n    zone app 64k;\n    hash $a;\n    server_tokens off;\n}\n',
     ['"server_tokens off" at line 5']),
    ('vhost', 'www', 'server {\n    listen 80;\n    root /var/www;\n}\n', ['"root /var/www" at line 3']),
    ('vhost', 'www', ('server {\n    location / {\n        proxy_pass http://a;\n        proxy_buffering off;\n'
                      '        location /x {\n        }\n    }\n}\nserver {\n}\n'),
     ['"proxy_buffering off" at line 4', '"location /x" at line 5', '"server" at line 9']),
    ('log_format', 'main', "log_format main '$a';\naccess_log off;\n", ['"access_log off" at line 2']),
    ('log_format', 'main', "log_format other '$a';\n", ['"log_format other $a" at line 1']),
    ('upstream', 'app', 'upstream app {\n    server %s:80;\n    fancy %s;\n}\n' % ('a' * 10, 'x' * 70),
     ['"fancy %s..." at line 3' % ('x' * 51)]),
], ids=lambda value: value if isinstance(value, str) and len(value) < 12 else None)
def test_unexpressed(kind, name, text, lost):
    assert _inspect.unexpressed(kind, name, text) == lost


def test_unexpressed_syntax_error_is_named_by_its_line():
    # as check_roundtrip does: the controller's temporary file is not shown, only the line
    assert _inspect.unexpressed('upstream', 'app', 'upstream app {\n    server a:80;\n') == [
        'a syntax error (unexpected end of file, expecting "}" at line 2)']


# -- issue 12: stream references, split references, TLS per group ----------------------------

STREAM_FILES = {
    NGINX_CONF: ('events {}\n'
                 'http {\n'
                 '    include /etc/nginx/conf.d/*.conf;\n'
                 '}\n'
                 'stream {\n'
                 '    include /etc/nginx/stream.d/*.conf;\n'
                 '}\n'),
    '/etc/nginx/conf.d/v.conf': 'upstream v1 {\n    server 10.0.0.1:80;\n}\nupstream V2 {\n    server 10.0.0.2:80;\n}\n',
    '/etc/nginx/conf.d/shop.vhost.conf': ('split_clients $request_id $canary {\n'
                                          '    90% v1;\n'
                                          '    * v2;\n'
                                          '}\n'
                                          'server {\n'
                                          '    location / {\n'
                                          '        proxy_pass http://$canary;\n'
                                          '    }\n'
                                          '    location /direct {\n'
                                          '        proxy_pass http://v1;\n'
                                          '    }\n'
                                          '}\n'),
    '/etc/nginx/stream.d/db.conf': ('upstream db {\n    server 10.0.0.3:5432;\n}\n'
                                    'server {\n    listen 5432;\n    proxy_pass DB;\n}\n'
                                    'server {\n    listen 5433;\n    proxy_pass 10.0.0.4:5432;\n}\n'),
}


@pytest.fixture(scope='module')
def stream_tree():
    return ConfigTree(STREAM_FILES, NGINX_CONF)


def test_a_split_counts_as_a_reference_of_each_of_its_groups(stream_tree):
    assert [s.where() for s in stream_tree.split_values] == ['/etc/nginx/conf.d/shop.vhost.conf:2',
                                                             '/etc/nginx/conf.d/shop.vhost.conf:3']
    assert [s.where() for s in stream_tree.references('v1')] == ['/etc/nginx/conf.d/shop.vhost.conf:10',
                                                                 '/etc/nginx/conf.d/shop.vhost.conf:2']
    assert [s.where() for s in stream_tree.references('V2')] == ['/etc/nginx/conf.d/shop.vhost.conf:3']
    # the proxy_pass to the split's variable names no group
    assert [s.where() for s in stream_tree.proxy_passes] == ['/etc/nginx/conf.d/shop.vhost.conf:7',
                                                             '/etc/nginx/conf.d/shop.vhost.conf:10']


def test_stream_references(stream_tree):
    assert [s.where() for s in stream_tree.stream_proxy_passes] == ['/etc/nginx/stream.d/db.conf:6',
                                                                    '/etc/nginx/stream.d/db.conf:10']
    assert [s.where() for s in stream_tree.stream_references('db')] == ['/etc/nginx/stream.d/db.conf:6']
    # a stream proxy is no reference of an http group, nor a split of a stream group
    assert stream_tree.references('db') == [] and stream_tree.stream_references('v1') == []


def test_definitions_per_context(stream_tree):
    assert [s.where() for s in stream_tree.upstream_definitions('DB', 'stream')] == ['/etc/nginx/stream.d/db.conf:1']
    assert stream_tree.upstream_definitions('db') == stream_tree.upstream_definitions('db', 'http') == []
    assert stream_tree.upstream_definitions('v1', 'stream') == []


def test_orphaned_uses_and_removal_per_context():
    files = dict(STREAM_FILES)
    files['/etc/nginx/stream.d/db.conf'] = 'server {\n    listen 5432;\n    proxy_pass db;\n}\n'
    tree = ConfigTree(files, NGINX_CONF)
    assert [s.where() for s in tree.orphaned_uses(_inspect.STREAM_UPSTREAM, 'db')] == ['/etc/nginx/stream.d/db.conf:3']
    assert tree.orphaned_uses('upstream', 'db') == []
    with pytest.raises(InspectError) as exc:
        _inspect.check_removal(tree, _inspect.STREAM_UPSTREAM, 'db', 'upstreams[0].state')
    assert str(exc.value) == ("upstreams[0].state: 'absent' cannot remove stream upstream 'db': a stream proxy still "
                              "passes to it at /etc/nginx/stream.d/db.conf:3; change those stream proxies first, or "
                              "set force: true.")


def test_check_nothing_lost_in_the_stream_context():
    files = dict(STREAM_FILES)
    files['/etc/nginx/stream.d/db.conf'] = 'server {\n    listen 5432;\n    proxy_pass db;\n}\n'
    tree = ConfigTree(files, NGINX_CONF)
    removed = 'upstream db {\n    server 10.0.0.3:5432;\n}\n'
    with pytest.raises(InspectError) as exc:
        _inspect.check_nothing_lost(tree, '/etc/nginx/stream.d/old.conf', removed, context='stream')
    assert str(exc.value) == ("exclusive: would remove /etc/nginx/stream.d/old.conf, which defines stream upstream "
                              "'db' still used at /etc/nginx/stream.d/db.conf:3; describe that stream upstream in "
                              "this call too, or set exclusive: false.")
    # read as an http group, nothing uses it
    assert _inspect.check_nothing_lost(tree, '/etc/nginx/conf.d/old.conf', removed) is None


def test_check_unique_upstream_per_context(stream_tree):
    assert check_unique_upstream(stream_tree, 'db', '/etc/nginx/conf.d/db.conf') is None
    with pytest.raises(InspectError) as exc:
        check_unique_upstream(stream_tree, 'DB', '/etc/nginx/stream.d/other.conf', 'upstreams[1].name', 'stream')
    assert str(exc.value) == ("upstreams[1].name: 'DB' is already defined as an upstream in "
                              "/etc/nginx/stream.d/db.conf:1; remove it there, or choose another name.")
    assert check_unique_upstream(stream_tree, 'db', '/etc/nginx/stream.d/db.conf', 'name', 'stream') is None


def test_check_http_context_of_the_stream_context(stream_tree):
    assert check_http_context(stream_tree, '/etc/nginx/stream.d/pg.stream.conf', 'stream_conf_dir', 'stream_proxy',
                              context='stream') is None
    with pytest.raises(InspectError) as exc:
        check_http_context(stream_tree, '/etc/nginx/tcp/pg.conf', 'stream_conf_dir', 'stream_proxy',
                           context='stream')
    assert str(exc.value) == (
        'stream_conf_dir: /etc/nginx/tcp/pg.conf is not included by /etc/nginx/nginx.conf, so Nginx would never read '
        'it; write it into a directory that the stream block includes (stream_conf_dir), or add '
        '"include /etc/nginx/tcp/*.conf;" inside stream {}.')


TLS_LOCATION = ('    location %s {\n'
                '        proxy_pass https://app;\n'
                '        proxy_ssl_verify on;\n'
                '        proxy_ssl_trusted_certificate /etc/ssl/ca.pem;\n'
                '        proxy_ssl_name backend.internal;\n'
                '    }\n')
PLAIN_LOCATION = '    location %s {\n        proxy_pass http://app;\n    }\n'
CLIENT_CERTIFICATE = '        proxy_ssl_certificate /c.pem;\n        proxy_ssl_certificate_key /c.key;\n'


def tls_tree(**vhosts):
    files = {NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
             '/etc/nginx/conf.d/app.conf': 'upstream app {\n    server 10.0.0.1:443;\n}\n'}
    files.update(('/etc/nginx/conf.d/%s.conf' % name, 'server {\n%s}\n' % text) for name, text in vhosts.items())
    return ConfigTree(files, NGINX_CONF)


def test_check_backend_tls_accepts_one_tls_per_group():
    tree = tls_tree(a=TLS_LOCATION % '/' + TLS_LOCATION % '/x', b=TLS_LOCATION % '/')
    assert _inspect.check_backend_tls(tree, {'/etc/nginx/conf.d/a.conf'}, 'locations.backend_tls') is None
    # the order of the statements does not matter
    reordered = ('    location / {\n        proxy_ssl_name backend.internal;\n        proxy_pass https://app;\n'
                 '        proxy_ssl_trusted_certificate /etc/ssl/ca.pem;\n        proxy_ssl_verify on;\n    }\n')
    tree = tls_tree(a=TLS_LOCATION % '/', b=reordered)
    assert _inspect.check_backend_tls(tree, {'/etc/nginx/conf.d/a.conf'}, 'locations.backend_tls') is None


@pytest.mark.parametrize('other', [
    PLAIN_LOCATION % '/',
    TLS_LOCATION.replace('on;', 'off;') % '/',
    TLS_LOCATION.replace('https', 'http') % '/',
    TLS_LOCATION.replace('    }\n', CLIENT_CERTIFICATE + '    }\n') % '/',
], ids=['plain', 'unverified', 'http-scheme', 'client-certificate'])
def test_check_backend_tls_refuses_a_mix_where_a_written_file_takes_part(other):
    tree = tls_tree(a=TLS_LOCATION % '/', b=other)
    with pytest.raises(InspectError) as exc:
        _inspect.check_backend_tls(tree, {'/etc/nginx/conf.d/b.conf'}, 'vhosts.backend_tls')
    assert str(exc.value) == (
        "vhosts.backend_tls: gives the locations that proxy to group 'app' different TLS settings "
        "(/etc/nginx/conf.d/a.conf:2 and /etc/nginx/conf.d/b.conf:2); Nginx resumes TLS sessions per group, and a "
        "resumed session skips verification and the client certificate; give every location of that group the same "
        "backend_tls.")
    # files this call does not write are not its to judge
    assert _inspect.check_backend_tls(tree, {'/etc/nginx/conf.d/c.conf'}, 'vhosts.backend_tls') is None


def test_check_backend_tls_compares_groups_ignoring_letter_case():
    tree = tls_tree(a=TLS_LOCATION % '/', b=(PLAIN_LOCATION % '/').replace('http://app', 'http://APP'))
    with pytest.raises(InspectError):
        _inspect.check_backend_tls(tree, {'/etc/nginx/conf.d/a.conf'}, 'locations.backend_tls')


def test_unexpressed_vhost_keeps_its_own_split_clients():
    split = 'split_clients $request_id $c {\n    90% a;\n    * b;\n}\n'
    server = 'server {\n    location / {\n        proxy_pass http://$c;\n        proxy_ssl_verify off;\n    }\n}\n'
    assert _inspect.unexpressed('vhost', 'www', split + server) == []
    # after the server it is none of the vhost's
    assert _inspect.unexpressed('vhost', 'www', server + split) == ['"split_clients $request_id $c" at line 7']


# -- the parse cache kept between runs --------------------------------------

def test_parse_cache_reuses_only_the_parse_of_the_same_text(tmp_path, monkeypatch):
    monkeypatch.setattr(_inspect, '_PARSE_CACHE', {})
    path = str(tmp_path / 'cache' / 'proxy.json')
    good = 'upstream app {\n    server 10.0.0.1:80;\n}\n'
    broken = 'upstream b {\n'
    assert _inspect.use_parse_cache(path) == 0          # no file yet
    ConfigTree({NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
                '/etc/nginx/conf.d/app.conf': good, '/etc/nginx/conf.d/b.conf': broken}, NGINX_CONF)
    assert _inspect.save_parse_cache() is True
    assert oct(os_stat_mode(tmp_path / 'cache')) == '0o700'
    # a later run (a new process): what parsed cleanly comes from the file, a broken text is parsed again
    monkeypatch.setattr(_inspect, '_PARSE_CACHE', {})
    assert _inspect.use_parse_cache(path) == 2
    calls = []
    parse = _inspect._render.crossplane.parse
    monkeypatch.setattr(_inspect._render.crossplane, 'parse', lambda *a, **k: calls.append(a) or parse(*a, **k))
    tree = ConfigTree({NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
                       '/etc/nginx/conf.d/app.conf': good, '/etc/nginx/conf.d/b.conf': broken}, NGINX_CONF)
    assert len(calls) == 1                                # the broken one only
    assert tree.upstream_definitions('app')[0].file == '/etc/nginx/conf.d/app.conf'
    assert tree.errors
    assert _inspect.save_parse_cache() is False          # nothing new parsed that could be kept
    # a changed text is a new key: parsed, never matched with the old parse
    tree = ConfigTree({NGINX_CONF: 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n',
                       '/etc/nginx/conf.d/app.conf': good.replace('app', 'other')}, NGINX_CONF)
    assert tree.upstream_definitions('other') and not tree.upstream_definitions('app')
    assert _inspect.save_parse_cache() is True
    _inspect.use_parse_cache(None)


def test_parse_cache_ignores_a_foreign_or_broken_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_inspect, '_PARSE_CACHE', {})
    path = tmp_path / 'proxy.json'
    path.write_text('{"format": 1, "crossplane": "0.0.0", "entries": {"x": []}}')
    assert _inspect.use_parse_cache(str(path)) == 0
    path.write_text('{not json')
    assert _inspect.use_parse_cache(str(path)) == 0
    _inspect.use_parse_cache(None)
    assert _inspect.save_parse_cache() is False          # no file in use: nothing written


def os_stat_mode(path):
    import stat
    return stat.S_IMODE(path.stat().st_mode)


def test_a_plain_built_file_is_known_without_parsing_and_any_other_is_parsed(monkeypatch):
    from ansible_collections.balancer.nginx.plugins.module_utils import _render
    plain = _render.file_payload([lambda lines: {'directive': 'upstream', 'args': ['plainapp'], 'line': lines.next(),
                                                 'block': [{'directive': 'server', 'args': ['10.9.9.9:80', 'weight=2'],
                                                            'line': lines.next()}]}])
    quoted = _render.file_payload([lambda lines: {'directive': 'upstream', 'args': ['quotedapp'],
                                                  'line': lines.next(),
                                                  'block': [{'directive': 'hash', 'args': ['$host $uri'],
                                                             'line': lines.next()}]}])
    parses = []
    real_parse = _render.crossplane.parse
    monkeypatch.setattr(_render.crossplane, 'parse', lambda *a, **k: parses.append(a) or real_parse(*a, **k))
    for payload in (plain, quoted):
        text = _render.build(payload)
        _inspect.remember_built(text, payload)
        assert _inspect.check_roundtrip(text, payload) is None
    assert len(parses) == 1     # the quoted one only
    # and the parse kept for the plain one is the one crossplane gives
    monkeypatch.setattr(_render.crossplane, 'parse', real_parse)
    _inspect._PARSE_CACHE.clear()
    assert _inspect.parse_text(_render.build(plain)) == _render.parsed_form(plain)


def test_the_parse_cache_file_keeps_only_what_had_to_be_parsed(tmp_path, monkeypatch):
    from ansible_collections.balancer.nginx.plugins.module_utils import _render
    monkeypatch.setattr(_inspect, '_PARSE_CACHE', {})
    monkeypatch.setattr(_inspect, '_BUILT_KEYS', set())
    path = str(tmp_path / 'proxy.json')
    assert _inspect.use_parse_cache(path) == 0
    plain = _render.file_payload([lambda lines: {'directive': 'upstream', 'args': ['builtapp'], 'line': lines.next(),
                                                 'block': [{'directive': 'server', 'args': ['10.9.9.9:80'],
                                                            'line': lines.next()}]}])
    built = _render.build(plain)
    main = 'http {\n    include /etc/nginx/conf.d/*.conf;\n}\n'
    _inspect.remember_built(built, plain)
    assert _inspect.save_parse_cache() is False          # known from its model only: nothing to keep
    ConfigTree({NGINX_CONF: main, '/etc/nginx/conf.d/app.conf': built}, NGINX_CONF)
    assert _inspect.save_parse_cache() is True           # nginx.conf had to be parsed
    with open(path) as handle:
        kept = json.load(handle)['entries']
    assert list(kept) == [hashlib.sha1(main.encode()).hexdigest()]
    # the next run: nginx.conf from the file, the rendered file from its model again, crossplane not at all
    monkeypatch.setattr(_inspect, '_PARSE_CACHE', {})
    monkeypatch.setattr(_inspect, '_BUILT_KEYS', set())
    assert _inspect.use_parse_cache(path) == 1
    parses = []
    monkeypatch.setattr(_render.crossplane, 'parse', lambda *a, **k: parses.append(a))
    _inspect.remember_built(built, plain)
    tree = ConfigTree({NGINX_CONF: main, '/etc/nginx/conf.d/app.conf': built}, NGINX_CONF)
    assert parses == []
    assert tree.upstream_definitions('builtapp')[0].file == '/etc/nginx/conf.d/app.conf'
    assert _inspect.save_parse_cache() is False
    _inspect.use_parse_cache(None)
