# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_nginx.py: nginx -T dumps, the file reader fallback, nginx -t messages."""

from __future__ import annotations

import os
import signal
import subprocess
import time

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
    assert files[root + '/conf.d/b.conf'] == b'upstream b { server 127.0.0.1:2; }\n'
    assert all(isinstance(data, bytes) for data in files.values())
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


def test_read_files_keeps_every_byte(tmp_path):
    # Latin-1, not UTF-8: Nginx accepts it, and the reader gives the bytes as they are
    (tmp_path / 'nginx.conf').write_bytes(b'events {}\n# caf\xe9\ninclude %s/b.conf;\n' % str(tmp_path).encode())
    (tmp_path / 'b.conf').write_bytes(b'# \xff\xfe\x00\n')
    files, missing = read_files(str(tmp_path / 'nginx.conf'))
    assert files == {
        str(tmp_path / 'nginx.conf'): b'events {}\n# caf\xe9\ninclude %s/b.conf;\n' % str(tmp_path).encode(),
        str(tmp_path / 'b.conf'): b'# \xff\xfe\x00\n',
    }
    assert missing == []


def test_read_files_follows_an_include_with_a_non_ascii_name(tmp_path):
    # the file name is UTF-8 on disk ("café.conf"), as written in nginx.conf
    (tmp_path / 'nginx.conf').write_bytes(b'include %s/caf\xc3\xa9.conf;\n' % str(tmp_path).encode())
    (tmp_path / 'café.conf').write_bytes(b'upstream u { server 127.0.0.1:1; }\n')
    files, missing = read_files(str(tmp_path / 'nginx.conf'))
    assert missing == []
    assert files[str(tmp_path / 'café.conf')] == b'upstream u { server 127.0.0.1:1; }\n'


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
    assert MANAGED_HEADER == '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.'


def test_item_line():
    assert _nginx.ITEM_LINE % ('upstream', 'app') == '# balancer.nginx item: upstream app'


HEADER = '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.\n'


@pytest.mark.parametrize('data, item', [
    (HEADER + '# balancer.nginx item: upstream app\nupstream app {}\n', ('upstream', 'app')),
    (HEADER + '# balancer.nginx item: vhost www\n', ('vhost', 'www')),
    (HEADER + '# balancer.nginx item: log_format upstream_debug', ('log_format', 'upstream_debug')),
    (HEADER + '# balancer.nginx item: map websocket\nmap $a $b {}\n', ('map', 'websocket')),
    ((HEADER + '# balancer.nginx item: upstream App\r\nupstream App {}\r\n').replace('\n', '\r\n').encode(),
     ('upstream', 'App')),
    (HEADER.encode() + b'# balancer.nginx item: upstream app\n# caf\xe9\n', ('upstream', 'app')),
    # managed, but written before item lines
    (HEADER + 'upstream app {}\n', None),
    (HEADER, None),
    # the item line without the header, or not on the second line
    ('# balancer.nginx item: upstream app\nupstream app {}\n', None),
    (HEADER + '\n# balancer.nginx item: upstream app\n', None),
    (HEADER + '# balancer.nginx item: upstream\n', None),
    (HEADER + '# balancer.nginx item: upstream a b\n', None),
    ('', None),
    (b'', None),
    (None, None),
], ids=repr)
def test_managed_item(data, item):
    assert _nginx.managed_item(data) == item


# -- the binary ------------------------------------------------------------------

class FakeModule(object):
    def __init__(self, found=None):
        self.calls = []
        self.found = found

    def get_bin_path(self, name, required=False, opt_dirs=None):
        self.calls.append((name, required, opt_dirs))
        return self.found

    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs['msg'])


def stub(tmp_path, body, name='nginx'):
    """An executable shell script standing in for nginx."""
    path = tmp_path / name
    path.write_text('#!/bin/sh\n' + body)
    path.chmod(0o755)
    return str(path)


def test_find_binary_by_name_searches_the_sbin_dirs(tmp_path):
    exe = stub(tmp_path, 'exit 0\n')
    module = FakeModule(found=exe)
    assert _nginx.find_binary(module, 'nginx') == exe
    assert module.calls == [('nginx', False, ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin',
                                              '/opt/nginx/sbin'])]


def test_find_binary_by_name_not_found():
    assert _nginx.find_binary(FakeModule(found=None), 'nginx') is None


def test_find_binary_by_name_refuses_a_directory(tmp_path):
    (tmp_path / 'nginx').mkdir()
    assert _nginx.find_binary(FakeModule(found=str(tmp_path / 'nginx')), 'nginx') is None


def test_find_binary_absolute_path(tmp_path):
    exe = tmp_path / 'nginx'
    exe.write_text('#!/bin/sh\n')
    module = FakeModule()
    assert _nginx.find_binary(module, str(exe)) is None
    exe.chmod(0o755)
    assert _nginx.find_binary(module, str(exe)) == str(exe)
    assert module.calls == []


def test_find_binary_absolute_path_refuses_a_directory(tmp_path):
    # a directory is "executable" (searchable) too
    assert os.access(str(tmp_path), os.X_OK)
    assert _nginx.find_binary(FakeModule(), str(tmp_path)) is None


def test_require_binary_fails_with_the_name():
    with pytest.raises(RuntimeError) as exc:
        _nginx.require_binary(FakeModule(), 'openresty')
    assert str(exc.value) == ("nginx_binary: 'openresty' was not found as an executable file on the host; "
                              'install nginx or set nginx_binary to the path of the nginx executable.')


def test_require_binary_names_a_directory(tmp_path):
    with pytest.raises(RuntimeError) as exc:
        _nginx.require_binary(FakeModule(), str(tmp_path))
    assert str(exc.value) == ("nginx_binary: '%s' is a directory, not an executable file on the host; "
                              'install nginx or set nginx_binary to the path of the nginx executable.' % tmp_path)


def test_require_binary_returns_the_path(tmp_path):
    exe = stub(tmp_path, 'exit 0\n')
    assert _nginx.require_binary(FakeModule(), exe) == exe


# -- run: a stub nginx in tmp_path -------------------------------------------------

def test_run_passes_the_arguments_and_returns_bytes(tmp_path):
    exe = stub(tmp_path, 'printf "%s|" "$@"\nprintf "nginx: [emerg] caf\\351\\n" >&2\nexit 1\n')
    assert _nginx.run(exe, ['-t', '-c', '/etc/nginx/nginx.conf'], 10) == (
        1, b'-t|-c|/etc/nginx/nginx.conf|', b'nginx: [emerg] caf\xe9\n')


def test_run_exit_status(tmp_path):
    exe = stub(tmp_path, 'echo "nginx version: nginx/1.22.1" >&2\nexit 0\n')
    assert _nginx.run(exe, ['-V'], 10) == (0, b'', b'nginx version: nginx/1.22.1\n')
    exe = stub(tmp_path, 'exit 7\n', name='other')
    assert _nginx.run(exe, ['-t']) == (7, b'', b'')


def test_run_gives_nginx_no_stdin(tmp_path):
    exe = stub(tmp_path, 'cat\necho done\n')
    assert _nginx.run(exe, [], 10) == (0, b'done\n', b'')


def test_run_runs_nginx_in_a_session_of_its_own(tmp_path):
    exe = stub(tmp_path, 'cut -d " " -f 6 /proc/$$/stat\n')   # the session id (comm is "(nginx)": no space)
    rc, out, err = _nginx.run(exe, [], 10)
    assert rc == 0
    assert int(out) != os.getsid(0)


def test_run_timeout_kills_nginx_and_what_it_started(tmp_path):
    pids = tmp_path / 'pids'
    exe = stub(tmp_path, 'sleep 30 &\necho $! > %s\nsleep 30\n' % pids)
    started = time.monotonic()
    with pytest.raises(_nginx.NginxTimeout) as exc:
        _nginx.run(exe, ['-t', '-c', '/etc/nginx/nginx.conf'], 1)
    assert time.monotonic() - started < 10
    assert str(exc.value) == (
        'nginx_timeout: "nginx -t -c /etc/nginx/nginx.conf" did not finish within 1 s and was stopped; find out '
        'why Nginx hangs (a name lookup or a file on a slow mount?) or raise nginx_timeout')
    assert exc.value.timeout == 1
    child = int(pids.read_text())
    # the background sleep was in nginx's session: killed with it (a zombie at most, until init reaps it)
    assert gone(child)


def test_running_gives_the_whole_output_of_a_call_nobody_reads_meanwhile(tmp_path):
    # 2 MB on stdout: through a pipe Nginx would wait for a reader; to a file it finishes on its own
    exe = stub(tmp_path, 'head -c 2000000 /dev/zero\necho oops >&2\nexit 3\n')
    running = _nginx.Running(exe, ['-T'], 10)
    deadline = time.monotonic() + 10
    while running.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.process.returncode == 3      # over before anything was read
    rc, out, err = running.wait()
    assert (rc, len(out), out.count(b'\0'), err) == (3, 2000000, 2000000, b'oops\n')


def test_running_times_out_from_its_start_and_kills_the_session(tmp_path):
    pids = tmp_path / 'pids'
    exe = stub(tmp_path, 'sleep 30 &\necho $! > %s\nsleep 30\n' % pids)
    started = time.monotonic()
    running = _nginx.Running(exe, ['-T', '-c', '/etc/nginx/nginx.conf'], 2)
    time.sleep(1)
    with pytest.raises(_nginx.NginxTimeout) as exc:
        running.wait()
    assert 1.8 < time.monotonic() - started < 10
    assert str(exc.value).startswith('nginx_timeout: "nginx -T -c /etc/nginx/nginx.conf" did not finish within 2 s')
    child = int(pids.read_text())
    assert gone(child)


def test_running_stopped_before_waiting_leaves_nothing_behind(tmp_path):
    pids = tmp_path / 'pids'
    exe = stub(tmp_path, 'echo $$ > %s\nsleep 30\n' % pids)
    running = _nginx.Running(exe, [], 60)
    deadline = time.monotonic() + 5
    while not pids.exists() or not pids.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    running.stop()
    assert running.process.returncode is not None
    assert all(handle.closed for handle in running.outputs)
    assert gone(int(pids.read_text()))


def gone(pid, within=5):
    """The process ``pid`` is over (a zombie at most) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    return not alive(pid)


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().split(') ', 1)[1][0] != 'Z'
    except (IOError, OSError):
        return False


def test_run_interrupted_while_waiting_kills_nginx(tmp_path):
    pids = tmp_path / 'pids'
    exe = stub(tmp_path, 'echo $$ > %s\nsleep 30\n' % pids)

    class Stop(BaseException):
        pass

    def interrupt(signum, frame):
        raise Stop()

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.alarm(1)
        with pytest.raises(Stop):
            _nginx.run(exe, [], 60)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not alive(int(pids.read_text()))


def test_run_interrupted_before_communicate_has_set_up_still_kills_nginx_and_keeps_the_interruption(
        tmp_path, monkeypatch):
    # a signal handled at the very start of Popen.communicate leaves it marked as started with no output map: a
    # second communicate would fail with an AttributeError; the interruption itself must come out, and Nginx die
    pids = tmp_path / 'pids'
    exe = stub(tmp_path, 'echo $$ > %s\nsleep 30\n' % pids)

    class Stop(BaseException):
        pass

    original = subprocess.Popen._communicate
    calls = []

    def interrupted_once(self, *args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            return original(self, *args, **kwargs)
        deadline = time.monotonic() + 5
        while not pids.exists() or not pids.read_text().strip():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        raise Stop()

    monkeypatch.setattr(subprocess.Popen, '_communicate', interrupted_once)
    started = time.monotonic()
    with pytest.raises(Stop):
        _nginx.run(exe, [], 60)
    assert time.monotonic() - started < 10
    assert gone(int(pids.read_text()))


def test_text_of_nginx_output():
    assert _nginx.text(b'caf\xc3\xa9 \xff') == 'caf\xe9 \ufffd'
    assert _nginx.text('already text') == 'already text'
    assert _nginx.text(None) == ''
