# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/modules/snapshot.py: main() against a stub nginx in tmp_path (fixtures in conftest.py).

The stub answers ``-V`` with a version line on stderr and ``-T`` with a dump
file written by the test, byte for byte.  The state directory (lock, journal)
is under tmp_path.
"""

from __future__ import annotations

import base64
import grp
import json
import os
import pwd

import time

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _commit
from ansible_collections.balancer.nginx.plugins.modules import snapshot

HEADER = b'# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.\n'


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    directory = tmp_path / 'state'
    monkeypatch.setattr(_commit, 'STATE_DIR', str(directory))
    monkeypatch.setattr(_commit, 'state_dir', lambda: str(directory))
    return directory


class Proxy(object):
    """A configuration tree and a stub nginx under tmp_path."""

    def __init__(self, tmp_path, version='nginx version: nginx/1.22.1', dump_rc=0, dump_err=''):
        self.root = tmp_path / 'etc' / 'nginx'
        (self.root / 'conf.d').mkdir(parents=True)
        self.conf = str(self.root / 'nginx.conf')
        self.dump = tmp_path / 'dump'
        self.dump.write_bytes(b'')
        (tmp_path / 'dump-stderr').write_text(dump_err)
        self.binary = str(tmp_path / 'nginx')
        with open(self.binary, 'w') as handle:
            handle.write('#!/bin/sh\n'
                         'case "$1" in\n'
                         '  -V) echo "%s" >&2; exit 0 ;;\n'
                         '  -T) cat %s; cat %s >&2; exit %d ;;\n'
                         'esac\n'
                         'exit 2\n' % (version, self.dump, tmp_path / 'dump-stderr', dump_rc))
        os.chmod(self.binary, 0o755)

    def write(self, name, data):
        path = self.root / name
        path.write_bytes(data)
        return str(path)

    def set_dump(self, files):
        """``nginx -T``'s stdout for ``[(path, bytes)]``: per file a header line, its bytes, one newline."""
        self.dump.write_bytes(b''.join(b'# configuration file ' + p.encode('utf-8', 'surrogateescape') + b':\n'
                                       + data + b'\n' for p, data in files))

    def args(self, **kw):
        args = {'nginx_binary': self.binary, 'nginx_conf': self.conf}
        args.update(kw)
        return args


def test_version_paths_dirs_and_the_dump(run_module, tmp_path):
    proxy = Proxy(tmp_path)
    main = b'events {}\nhttp {\n    include %s/conf.d/*.conf;\n}\n' % str(proxy.root).encode()
    managed = HEADER + b'# balancer.nginx item: upstream app\nupstream app {\n    server 10.0.0.1:80;\n}\n'
    proxy.write('nginx.conf', main)
    app = proxy.write('conf.d/app.conf', managed)
    hand = proxy.write('conf.d/hand.conf', b'# caf\xe9\nupstream hand {\n    server 10.0.0.2:80;\n}\n')
    proxy.set_dump([(proxy.conf, main), (app, managed),
                    (hand, b'# caf\xe9\nupstream hand {\n    server 10.0.0.2:80;\n}\n')])
    os.chmod(app, 0o640)
    missing = str(proxy.root / 'conf.d' / 'new.conf')
    result, failed = run_module(snapshot, proxy.args(_paths=[app, missing], _dirs=[str(proxy.root / 'conf.d')]))
    assert not failed, result
    assert result['changed'] is False
    assert result['recovered'] == []
    assert result['nginx'] == {'binary': proxy.binary, 'output': 'nginx version: nginx/1.22.1', 'version': '1.22.1',
                               'plus': False}
    assert result['paths'][missing] == {'exists': False, 'content_b64': None, 'sha1': None}
    assert result['paths'][app] == {
        'exists': True, 'content_b64': base64.b64encode(managed).decode(),
        'sha1': '7b34873797bcec910ed2f69c86fdde7be5ca38c6', 'mode': '0640',
        'owner': pwd.getpwuid(os.getuid()).pw_name, 'group': grp.getgrgid(os.getgid()).gr_name}
    assert result['dirs'] == {str(proxy.root / 'conf.d'): {
        app: {'managed': True, 'content_b64': base64.b64encode(managed).decode()},
        hand: {'managed': False, 'content_b64': None}}}
    # every byte as the Latin-1 character of the same number
    assert result['config'] == {
        'ok': True, 'source': 'nginx -T', 'error': None, 'encoding': 'latin-1', 'real': {},
        'files': {proxy.conf: main.decode('latin-1'), app: managed.decode('latin-1'),
                  hand: '# caf\xe9\nupstream hand {\n    server 10.0.0.2:80;\n}\n'}}
    assert sorted(result['read_set']['files']) == sorted([proxy.conf, app, hand, missing])
    assert result['read_set']['files'][missing] is None
    st = os.stat(app)
    assert result['read_set']['files'][app] == '%d:%d:%d' % (st.st_ino, st.st_size, st.st_mtime_ns)
    assert sorted(result['read_set']['dirs']) == [str(proxy.root), str(proxy.root / 'conf.d')]
    # what goes over the wire is JSON
    assert json.loads(json.dumps(result)) == result


def test_non_ascii_file_names_travel_as_latin_1(run_module, tmp_path):
    proxy = Proxy(tmp_path)
    main = b'http {\n    include %s/conf.d/*.conf;\n}\n' % str(proxy.root).encode()
    proxy.write('nginx.conf', main)
    cafe = proxy.write('conf.d/caf\u00e9.conf', b'upstream cafe {}\n')     # UTF-8 bytes c3 a9 on disk
    proxy.set_dump([(proxy.conf, main), (cafe, b'upstream cafe {}\n')])
    result, failed = run_module(snapshot, proxy.args())
    assert not failed, result
    name = cafe.encode('utf-8').decode('latin-1')
    assert name.endswith('/caf\xc3\xa9.conf')
    assert result['config']['files'][name] == 'upstream cafe {}\n'
    assert cafe in result['read_set']['files']


def test_links_are_reported_with_their_target(run_module, tmp_path):
    proxy = Proxy(tmp_path)
    (proxy.root / 'sites-available').mkdir()
    (proxy.root / 'sites-enabled').mkdir()
    target = proxy.write('sites-available/shop', b'server {}\n')
    link = str(proxy.root / 'sites-enabled' / 'shop')
    os.symlink(target, link)
    new_link = str(proxy.root / 'sites-enabled' / 'new')
    os.symlink(str(proxy.root / 'sites-available' / 'new'), new_link)
    main = b'http {\n    include %s/sites-enabled/*;\n}\n' % str(proxy.root).encode()
    proxy.write('nginx.conf', main)
    proxy.set_dump([(proxy.conf, main), (link, b'server {}\n')])
    result, failed = run_module(snapshot, proxy.args(_paths=[link, new_link]))
    assert not failed, result
    assert result['config']['real'] == {link: target}
    assert result['paths'][link]['real'] == target
    assert result['paths'][link]['exists'] is True
    assert result['paths'][new_link] == {'exists': False, 'content_b64': None, 'sha1': None,
                                         'real': str(proxy.root / 'sites-available' / 'new')}


def test_a_failing_dump_falls_back_to_the_files(run_module, tmp_path):
    error = 'nginx: [emerg] unexpected "}" in %s/conf.d/bad.conf:3' % (tmp_path / 'etc' / 'nginx')
    proxy = Proxy(tmp_path, dump_rc=1, dump_err=error)
    main = (b'http {\n    include %s/conf.d/*.conf;\n    include %s/missing.conf;\n}\n'
            % (str(proxy.root).encode(), str(proxy.root).encode()))
    proxy.write('nginx.conf', main)
    bad = proxy.write('conf.d/bad.conf', b'# \xff\nupstream bad {\n}\n}\n')
    result, failed = run_module(snapshot, proxy.args())
    assert not failed, result
    assert result['config'] == {
        'ok': False, 'source': 'files', 'error': error, 'unreadable': [str(proxy.root / 'missing.conf')],
        'encoding': 'latin-1', 'real': {},
        'files': {proxy.conf: main.decode('latin-1'), bad: '# \xff\nupstream bad {\n}\n}\n'}}


def test_no_dump(run_module, tmp_path):
    proxy = Proxy(tmp_path)
    result, failed = run_module(snapshot, proxy.args(_dump=False))
    assert not failed, result
    assert 'config' not in result
    assert result['read_set'] == {'files': {}, 'dirs': {}}


def test_missing_nginx_conf(run_module, tmp_path):
    proxy = Proxy(tmp_path)
    result, failed = run_module(snapshot, proxy.args())
    assert failed
    assert result['msg'] == ("nginx_conf: '%s' does not exist on the host; give the path of the main Nginx "
                             'configuration file.' % proxy.conf)


def test_not_nginx(run_module, tmp_path):
    proxy = Proxy(tmp_path, version='openresty/1.2.3')
    proxy.write('nginx.conf', b'')
    result, failed = run_module(snapshot, proxy.args())
    assert failed
    assert result['msg'] == ("nginx_binary: '%s' -V did not report a version (rc=0): openresty/1.2.3; check that "
                             'it is the nginx executable.' % proxy.binary)
    assert result['recovered'] == []


def test_a_hanging_nginx_is_stopped(run_module, tmp_path):
    binary = tmp_path / 'nginx'
    binary.write_text('#!/bin/sh\nsleep 30\n')
    binary.chmod(0o755)
    result, failed = run_module(snapshot, {'nginx_binary': str(binary), 'nginx_conf': str(tmp_path / 'nginx.conf'),
                                           'nginx_timeout': 1})
    assert failed
    assert result['msg'] == ('nginx_timeout: "nginx -V" did not finish within 1 s and was stopped; find out why '
                             'Nginx hangs (a name lookup or a file on a slow mount?) or raise nginx_timeout.')


def test_a_hanging_nginx_dump_is_stopped(run_module, tmp_path):
    binary = tmp_path / 'nginx'
    binary.write_text('#!/bin/sh\ncase "$1" in -V) echo "nginx version: nginx/1.22.1" >&2 ;; *) sleep 30 ;; esac\n')
    binary.chmod(0o755)
    (tmp_path / 'nginx.conf').write_text('events {}\n')
    started = time.monotonic()
    result, failed = run_module(snapshot, {'nginx_binary': str(binary), 'nginx_conf': str(tmp_path / 'nginx.conf'),
                                           'nginx_timeout': 1, '_paths': [str(tmp_path / 'conf.d' / 'app.conf')]})
    assert failed
    assert time.monotonic() - started < 10
    assert result['msg'] == ('nginx_timeout: "nginx -T -c %s" did not finish within 1 s and was stopped; find out '
                             'why Nginx hangs (a name lookup or a file on a slow mount?) or raise nginx_timeout.'
                             % (tmp_path / 'nginx.conf'))


def test_a_busy_proxy(run_module, tmp_path, monkeypatch):
    proxy = Proxy(tmp_path)
    proxy.write('nginx.conf', b'')
    monkeypatch.setattr(_commit, 'lock_wait', lambda timeout: 0)
    with _commit.ProxyLock(proxy.conf, 5):
        result, failed = run_module(snapshot, proxy.args())
    assert failed
    assert result['msg'] == ('another balancer.nginx run (pid %d) has held the lock on %s for more than 0 s; run '
                             'the task again when it has finished.' % (os.getpid(), proxy.conf))


def test_what_an_interrupted_run_left_is_rolled_back_first(run_module, tmp_path):
    proxy = Proxy(tmp_path)
    main = b'http {\n}\n'
    proxy.write('nginx.conf', main)
    proxy.set_dump([(proxy.conf, main)])
    created = proxy.write('conf.d/new.conf', b'y\n')
    journal = _commit.Journal(proxy.conf)
    os.makedirs(journal.directory)
    with open(journal.path, 'w') as handle:
        json.dump({'version': 1, 'pid': 4242, 'started': '2026-12-01T10:00:00+0000', 'entries': [
            {'path': created, 'link': None, 'old': None, 'new_sha1': '9063a9f0e032b6239403b719cbbba56ac4e4e45f'}]},
            handle)
    result, failed = run_module(snapshot, proxy.args(_paths=[created]))
    assert not failed, result
    assert result['recovered'] == [
        'an interrupted balancer.nginx run (pid 4242, started 2026-12-01T10:00:00+0000) had left unvalidated '
        'changes; they were rolled back before this run: removed %s (the interrupted run had created it)' % created]
    # read after the rollback
    assert result['paths'][created] == {'exists': False, 'content_b64': None, 'sha1': None}
    assert not os.path.exists(journal.path)


def test_once_sends_a_file_the_dump_holds_byte_for_byte_only_there(run_module, tmp_path):
    proxy = Proxy(tmp_path)
    main = b'events {}\nhttp {\n    include %s/conf.d/*.conf;\n}\n' % str(proxy.root).encode()
    managed = HEADER + b'# balancer.nginx item: upstream app\nupstream app {\n    server 10.0.0.1:80;\n}\n'
    other = HEADER + b'# balancer.nginx item: upstream b\nupstream b {\n    server 10.0.0.2:80;\n}\n'
    proxy.write('nginx.conf', main)
    app = proxy.write('conf.d/app.conf', managed)
    changed = proxy.write('conf.d/b.conf', other)
    # the dump says something else for b.conf (it changed after nginx -T read it): its own bytes are sent
    stale = other.replace(b'10.0.0.2', b'10.0.0.3')
    proxy.set_dump([(proxy.conf, main), (app, managed), (changed, stale)])
    missing = str(proxy.root / 'conf.d' / 'new.conf')
    result, failed = run_module(snapshot, proxy.args(_paths=[app, changed, missing], _once=True))
    assert not failed, result
    assert result['paths'][app]['content_b64'] is None and result['paths'][app]['in_config'] is True
    assert result['paths'][app]['sha1'] == _commit.sha1(managed)
    assert result['config']['files'][app] == managed.decode('latin-1')
    assert result['paths'][changed]['content_b64'] == base64.b64encode(other).decode()
    assert 'in_config' not in result['paths'][changed]
    assert result['paths'][missing] == {'exists': False, 'content_b64': None, 'sha1': None}
    # without it (a task's own call) every file comes with its bytes
    result, failed = run_module(snapshot, proxy.args(_paths=[app]))
    assert result['paths'][app]['content_b64'] == base64.b64encode(managed).decode()


def test_the_resolver_finds_what_realpath_finds(tmp_path, monkeypatch):
    root = tmp_path / 'r'
    (root / 'real' / 'sub').mkdir(parents=True)
    (root / 'real' / 'file.conf').write_text('x')
    (root / 'real' / 'sub' / 'deep.conf').write_text('x')
    os.symlink(str(root / 'real'), str(root / 'dirlink'))
    os.symlink(str(root / 'real' / 'file.conf'), str(root / 'real' / 'filelink.conf'))
    os.symlink('filelink.conf', str(root / 'real' / 'chain.conf'))
    os.symlink(str(root / 'nowhere'), str(root / 'real' / 'dangling.conf'))
    os.symlink(str(root / 'real' / 'sub'), str(root / 'sublink'))
    paths = [
        root / 'real' / 'file.conf',
        root / 'dirlink' / 'file.conf',             # a file in a linked directory
        root / 'dirlink' / 'missing.conf',          # a file that does not exist, in a linked directory
        root / 'real' / 'filelink.conf',            # a link
        root / 'dirlink' / 'chain.conf',            # a relative link to a link, in a linked directory
        root / 'real' / 'dangling.conf',
        root / 'sublink' / 'deep.conf',
        str(root / 'sublink') + '/../file.conf',    # ".." after a link: the link's parent, not sublink's
        str(root / 'dirlink') + '/./file.conf',
        str(root / 'sublink') + '/..',              # ending in ".." or "." after a link
        str(root / 'dirlink') + '/.',
        root / 'missing-dir' / 'x.conf',
        root / 'dirlink',
    ]
    resolver = snapshot.Resolver()
    for path in paths * 2:                          # the second round comes from the directory cache
        assert resolver.realpath(str(path)) == os.path.realpath(str(path)), path
    monkeypatch.chdir(root)
    assert resolver.realpath('dirlink/file.conf') == os.path.realpath('dirlink/file.conf')
    assert resolver.realpath('real/../dirlink/file.conf') == str(root / 'real' / 'file.conf')


def test_the_resolver_looks_each_owner_up_once(monkeypatch):
    calls = []
    real_getpwuid, real_getgrgid = pwd.getpwuid, grp.getgrgid
    monkeypatch.setattr(pwd, 'getpwuid', lambda uid: calls.append(('user', uid)) or real_getpwuid(uid))
    monkeypatch.setattr(grp, 'getgrgid', lambda gid: calls.append(('group', gid)) or real_getgrgid(gid))
    resolver = snapshot.Resolver()
    uid, gid = os.getuid(), os.getgid()
    assert [resolver.owner(uid) for dummy in range(3)] == [real_getpwuid(uid).pw_name] * 3
    assert [resolver.group(gid) for dummy in range(3)] == [real_getgrgid(gid).gr_name] * 3
    assert resolver.owner(4242424) == '4242424' and resolver.group(4242424) == '4242424'
    assert calls == [('user', uid), ('group', gid), ('user', 4242424), ('group', 4242424)]
