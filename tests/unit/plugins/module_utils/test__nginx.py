# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_nginx.py: nginx -T dumps, the file reader fallback, nginx -t messages."""

from __future__ import annotations

import os

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _nginx
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import (
    MANAGED_HEADER, is_managed, parse_test_output, read_files, split_dump)

# The files of a Debian proxy, byte for byte.
NGINX_CONF = (
    'user www-data;\n'
    'worker_processes auto;\n'
    'pid /run/nginx.pid;\n'
    'include /etc/nginx/modules-enabled/*.conf;\n'
    '\n'
    'events {\n'
    '\tworker_connections 768;\n'
    '}\n'
    '\n'
    'http {\n'
    '\t# Basic Settings\n'
    '\tsendfile on;\n'
    '\tinclude /etc/nginx/mime.types;\n'
    '\tinclude /etc/nginx/conf.d/*.conf;\n'
    '\tinclude /etc/nginx/sites-enabled/*;\n'
    '}\n'
)
MIME = 'types {\n    text/html html;\n}\n'
APP = MANAGED_HEADER + '\nupstream app {\n    server 10.0.0.1:80;\n}\n'
NO_NEWLINE = 'upstream legacy {\n    server 10.0.0.2:80;\n}'         # written by hand, no final newline
SITE = 'server {\n    listen 80;\n\n    location / {\n        proxy_pass http://app;\n    }\n}\n\n'  # blank line at end

FILES = [
    ('/etc/nginx/nginx.conf', NGINX_CONF),
    ('/etc/nginx/mime.types', MIME),
    ('/etc/nginx/conf.d/app.conf', APP),
    ('/etc/nginx/conf.d/legacy.conf', NO_NEWLINE),
    ('/etc/nginx/sites-enabled/default', SITE),
]


def nginx_dump(files):
    """What ``nginx -T`` prints on stdout: per file a header line, its bytes, one newline (ngx_conf_dump)."""
    return ''.join('# configuration file %s:\n%s\n' % (path, text) for path, text in files)


def test_split_dump_gives_back_every_file_byte_for_byte():
    assert split_dump(nginx_dump(FILES)) == dict(FILES)


@pytest.mark.parametrize('index', range(len(FILES)))
def test_split_dump_any_file_in_any_position(index):
    # every file once in the middle and once last, so that the one newline Nginx adds is handled everywhere
    files = FILES[index:] + FILES[:index]
    assert split_dump(nginx_dump(files)) == dict(files)


def test_split_dump_keeps_the_read_order():
    assert list(split_dump(nginx_dump(FILES))) == [p for p, dummy in FILES]


def test_split_dump_file_without_trailing_newline_last():
    files = [('/etc/nginx/nginx.conf', NGINX_CONF), ('/etc/nginx/conf.d/legacy.conf', NO_NEWLINE)]
    assert split_dump(nginx_dump(files)) == dict(files)


def test_split_dump_empty_file():
    files = [('/etc/nginx/nginx.conf', NGINX_CONF), ('/etc/nginx/conf.d/empty.conf', ''),
             ('/etc/nginx/conf.d/app.conf', APP)]
    assert split_dump(nginx_dump(files)) == dict(files)


def test_split_dump_measured_on_nginx_1_22():
    # stdout of `nginx -T` (nginx 1.22.1), captured: nginx.conf, a.conf (final newline), b.conf (none), c.conf
    output = (
        '# configuration file /tmp/ngxt/nginx.conf:\n'
        'events {}\nhttp {\n    include /tmp/ngxt/conf.d/*.conf;\n}\n'
        '\n'
        '# configuration file /tmp/ngxt/conf.d/a.conf:\n'
        'upstream a {\n    server 127.0.0.1:81;\n}\n'
        '\n'
        '# configuration file /tmp/ngxt/conf.d/b.conf:\n'
        'upstream b {\n    server 127.0.0.1:82;\n}'
        '\n'
        '# configuration file /tmp/ngxt/conf.d/c.conf:\n'
        'upstream c {\n    server 127.0.0.1:83;\n}\n'
        '\n')
    assert split_dump(output) == {
        '/tmp/ngxt/nginx.conf': 'events {}\nhttp {\n    include /tmp/ngxt/conf.d/*.conf;\n}\n',
        '/tmp/ngxt/conf.d/a.conf': 'upstream a {\n    server 127.0.0.1:81;\n}\n',
        '/tmp/ngxt/conf.d/b.conf': 'upstream b {\n    server 127.0.0.1:82;\n}',
        '/tmp/ngxt/conf.d/c.conf': 'upstream c {\n    server 127.0.0.1:83;\n}\n',
    }


def test_split_dump_ignores_what_comes_before_the_first_file():
    output = 'nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n' + nginx_dump(FILES[:1])
    assert split_dump(output) == {'/etc/nginx/nginx.conf': NGINX_CONF}


def test_split_dump_of_nothing():
    assert split_dump('') == {}
    assert split_dump('nginx: [emerg] unexpected "}" in /etc/nginx/nginx.conf:3\n') == {}


# -- read_files: the fallback when nginx -T fails ------------------------------

@pytest.fixture
def conf_tree(tmp_path):
    root = tmp_path / 'nginx'
    (root / 'conf.d').mkdir(parents=True)
    (root / 'sites-enabled').mkdir()
    (root / 'snippets').mkdir()
    main = root / 'nginx.conf'
    main.write_text(
        'events {}\n'
        '# include %(root)s/commented-out/*.conf;\n'
        'http {\n'
        '    include mime.types;  # relative to the directory of nginx.conf\n'
        '    include %(root)s/conf.d/*.conf;\n'
        '    include "%(root)s/sites-enabled/*";\n'
        '    log_format x \'$host#$uri\'; include %(root)s/after-quote.conf;  # a "#" in quotes is no comment\n'
        '    include %(root)s/missing.conf;\n'
        '}\n' % {'root': root})
    (root / 'mime.types').write_text('types {}\n')
    (root / 'conf.d' / 'b.conf').write_text('upstream b { server 127.0.0.1:2; }\n')
    (root / 'conf.d' / 'a.conf').write_text('upstream a { server 127.0.0.1:1; } include snippets/x.conf;\n')
    (root / 'conf.d' / '.hidden.conf').write_text('upstream hidden { server 127.0.0.1:3; }\n')
    (root / 'conf.d' / 'notes.txt').write_text('not included\n')
    (root / 'sites-enabled' / 'default').write_text('server { listen 80; }\n')
    (root / 'snippets' / 'x.conf').write_text('# snippet\n')
    (root / 'commented-out').mkdir()
    (root / 'commented-out' / 'c.conf').write_text('upstream c {}\n')
    (root / 'after-quote.conf').write_text('upstream q { server 127.0.0.1:4; }\n')
    return root


def test_read_files_follows_includes_globs_and_skips_comments(conf_tree):
    root = str(conf_tree)
    files, missing = read_files(os.path.join(root, 'nginx.conf'))
    assert list(files) == [
        root + '/nginx.conf',
        root + '/mime.types',
        root + '/conf.d/a.conf',
        root + '/conf.d/b.conf',
        root + '/sites-enabled/default',
        root + '/after-quote.conf',
        root + '/snippets/x.conf',
    ]
    assert files[root + '/conf.d/b.conf'] == 'upstream b { server 127.0.0.1:2; }\n'
    assert missing == [root + '/missing.conf']


def test_read_files_reads_a_cycle_once(tmp_path):
    (tmp_path / 'nginx.conf').write_text('include %s/a.conf;\n' % tmp_path)
    (tmp_path / 'a.conf').write_text('include %s/nginx.conf;\n' % tmp_path)
    files, missing = read_files(str(tmp_path / 'nginx.conf'))
    assert list(files) == [str(tmp_path / 'nginx.conf'), str(tmp_path / 'a.conf')]
    assert missing == []


def test_read_files_limit(tmp_path):
    for index in range(5):
        (tmp_path / ('%d.conf' % index)).write_text('')
    (tmp_path / 'nginx.conf').write_text('include %s/*.conf;\n' % tmp_path)
    files, missing = read_files(str(tmp_path / 'nginx.conf'), limit=3)
    assert len(files) == 3


def test_read_files_main_config_missing(tmp_path):
    assert read_files(str(tmp_path / 'nginx.conf')) == ({}, [str(tmp_path / 'nginx.conf')])


def test_read_files_undecodable_bytes_are_replaced(tmp_path):
    (tmp_path / 'nginx.conf').write_bytes(b'events {}\n# caf\xe9\n')
    files, missing = read_files(str(tmp_path / 'nginx.conf'))
    assert files[str(tmp_path / 'nginx.conf')] == 'events {}\n# caf\ufffd\n'


# -- nginx -t output -----------------------------------------------------------

@pytest.mark.parametrize('output, expected', [
    ('nginx: [emerg] host not found in upstream "x:80" in /etc/nginx/conf.d/a.conf:3\n'
     'nginx: configuration file /etc/nginx/nginx.conf test failed\n',
     ('/etc/nginx/conf.d/a.conf', 3, 'host not found in upstream "x:80"')),
    ('nginx: [emerg] "upstream" directive is not allowed here in /etc/nginx/snippets/up.conf:1\n'
     'nginx: configuration file /etc/nginx/nginx.conf test failed\n',
     ('/etc/nginx/snippets/up.conf', 1,
      '"upstream" directive is not allowed here')),
    ('nginx: [emerg] invalid parameter "backup" in /etc/nginx/conf.d/app.conf:4\n'
     'nginx: configuration file /etc/nginx/nginx.conf test failed\n',
     ('/etc/nginx/conf.d/app.conf', 4, 'invalid parameter "backup"')),
    ('nginx: [emerg] duplicate upstream "app" in /etc/nginx/conf.d/other.conf:1\n',
     ('/etc/nginx/conf.d/other.conf', 1, 'duplicate upstream "app"')),
    # error_log to stderr: timestamp, pid#tid prefix
    ('2026/11/24 21:15:54 [emerg] 13076#13076: host not found in upstream "api1.internal:9000" in '
     '/tmp/ngxt/conf.d/least_conn.conf:4\nnginx: configuration file /tmp/ngxt/nginx.conf test failed\n',
     ('/tmp/ngxt/conf.d/least_conn.conf', 4,
      'host not found in upstream "api1.internal:9000"')),
    # warnings before the error are skipped
    ('nginx: [warn] could not build optimal proxy_headers_hash\n'
     'nginx: [emerg] unexpected "}" in /etc/nginx/conf.d/app.conf:7\n',
     ('/etc/nginx/conf.d/app.conf', 7, 'unexpected "}"')),
    # no file:line
    ('nginx: [emerg] open() "/run/nginx.pid" failed (13: Permission denied)\n',
     (None, None, 'open() "/run/nginx.pid" failed (13: Permission denied)')),
    ('nginx: [crit] pread() "/etc/nginx/nginx.conf" failed (21: Is a directory)\n',
     (None, None, 'pread() "/etc/nginx/nginx.conf" failed (21: Is a directory)')),
    # nothing recognizable: the whole output
    ('Segmentation fault\n', (None, None, 'Segmentation fault')),
    ('', (None, None, None)),
    (None, (None, None, None)),
])
def test_parse_test_output(output, expected):
    assert parse_test_output(output) == expected


# -- managed header --------------------------------------------------------------

@pytest.mark.parametrize('text, managed', [
    (MANAGED_HEADER + '\nupstream a {}\n', True),
    ((MANAGED_HEADER + '\r\nupstream a {}\r\n').encode('utf-8'), True),
    (MANAGED_HEADER, True),
    ('upstream a {}\n' + MANAGED_HEADER + '\n', False),
    ('# Managed by someone else\n', False),
    (' ' + MANAGED_HEADER + '\n', False),
    ('', False),
    (b'', False),
    (None, False),
])
def test_is_managed(text, managed):
    assert is_managed(text) is managed


def test_managed_header_is_one_comment_line():
    assert MANAGED_HEADER.startswith('# ') and '\n' not in MANAGED_HEADER


# -- the binary ------------------------------------------------------------------

class FakeModule(object):
    def __init__(self):
        self.calls = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        self.calls.append((name, required, opt_dirs))
        return '/usr/sbin/' + name if name == 'nginx' else None

    def run_command(self, args, errors=None):
        self.calls.append((args, errors))
        return 0, '', 'nginx version: nginx/1.22.1\n'

    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs['msg'])


def test_find_binary_by_name_searches_the_sbin_dirs():
    module = FakeModule()
    assert _nginx.find_binary(module, 'nginx') == '/usr/sbin/nginx'
    assert module.calls == [('nginx', False, ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin',
                                              '/opt/nginx/sbin'])]


def test_find_binary_absolute_path(tmp_path):
    exe = tmp_path / 'nginx'
    exe.write_text('#!/bin/sh\n')
    assert _nginx.find_binary(FakeModule(), str(exe)) is None
    exe.chmod(0o755)
    assert _nginx.find_binary(FakeModule(), str(exe)) == str(exe)


def test_require_binary_fails_with_the_name():
    with pytest.raises(RuntimeError) as exc:
        _nginx.require_binary(FakeModule(), 'openresty')
    assert str(exc.value) == ("nginx_binary: 'openresty' was not found (or is not executable) on the host; "
                              'install nginx or set nginx_binary to the path of the nginx executable.')


def test_run_goes_through_the_binary():
    module = FakeModule()
    assert _nginx.run(module, '/opt/nginx/sbin/nginx', ['-t', '-c', '/etc/nginx/nginx.conf']) == (
        0, '', 'nginx version: nginx/1.22.1\n')
    assert module.calls == [(['/opt/nginx/sbin/nginx', '-t', '-c', '/etc/nginx/nginx.conf'], 'surrogate_or_replace')]
