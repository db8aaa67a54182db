# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_commit.py: lock, journal, stage, one nginx -t, keep or restore, recover.

Everything happens under ``tmp_path``: the configuration, the state directory
(``_commit.state_dir`` is patched, so /var/lib/balancer-nginx is never
touched) and the Nginx binary, a small shell script that records its
arguments and does what the test needs (exit 1 with Nginx's message, sleep,
send a signal to the module, copy the journal while it runs).
"""

from __future__ import annotations

import base64
import gc
import glob
import json
import os
import pwd
import signal
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _commit
from ansible_collections.balancer.nginx.plugins.module_utils._commit import (
    Busy, Failure, Journal, ProxyLock, Transaction, read_set, read_set_changes, recover, run_transaction, sha1)

APP_BEFORE = b'upstream app { server 10.0.0.1:80; }\n'
OLD_BEFORE = b'upstream old { server 10.0.0.9:80; }\n'
TEST_OK = 'nginx: the configuration file %s syntax is ok\nnginx: configuration file %s test is successful\n'
STAMP = '20261201-120000'
STATE_DIR, STATE_DIR_OF = _commit.STATE_DIR, _commit.state_dir     # before any test patches them


class Exit(SystemExit):
    """AnsibleModule.exit_json/fail_json end the process: SystemExit, never caught as an Exception."""

    def __init__(self, kind, kwargs):
        super(Exit, self).__init__(kwargs.get('msg'))
        self.kind = kind
        self.kwargs = kwargs


class FakeModule(object):
    """The AnsibleModule methods the transaction uses, behaving like Ansible's, with failures on request.

    ``broken`` maps a file name to what ``atomic_move`` does when that file is
    the destination: ``'fail_json'`` (Ansible's own way to fail a move) or an
    ``OSError``; ``broken_after`` moves succeed before it applies, and it
    applies ``broken_times`` times (default: always).
    """

    def __init__(self, check_mode=False, broken=None, broken_after=0, broken_times=None):
        self.check_mode = check_mode
        self.broken = dict(broken or {})
        self.broken_after = broken_after
        self.broken_times = broken_times
        self.moves = []
        self.refused = []       # the source files of the moves that failed
        self.attrs = []

    def atomic_move(self, src, dest, unsafe_writes=False, keep_dest_attrs=True):
        self.moves.append(dest)
        what = self.broken.get(os.path.basename(dest))
        if (what is not None and len([d for d in self.moves if d == dest]) > self.broken_after
                and (self.broken_times is None or len(self.refused) < self.broken_times)):
            self.refused.append(src)
            if what == 'fail_json':
                self.fail_json(msg='Could not replace file: %s to %s: [Errno 28] No space left on device' % (src, dest),
                               exception='Traceback (most recent call last): ...')
            raise what
        # Ansible: an existing destination keeps its owner and mode; a new file gets 0666 & ~umask
        creating = not os.path.exists(dest)
        if not creating and keep_dest_attrs:
            st = os.stat(dest)
            os.chmod(src, stat.S_IMODE(st.st_mode))
            os.chown(src, st.st_uid, st.st_gid)
        os.replace(src, dest)
        if creating:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(dest, 0o666 & ~umask)

    def set_fs_attributes_if_different(self, file_args, changed, diff=None, expand=True):
        self.attrs.append(dict(file_args))
        path = file_args['path']
        if file_args.get('mode') is not None:
            mode = int(file_args['mode'], 8)
            if stat.S_IMODE(os.stat(path).st_mode) != mode:
                if not self.check_mode:
                    os.chmod(path, mode)
                changed = True
        if file_args.get('owner') is not None:
            try:
                uid = pwd.getpwnam(file_args['owner']).pw_uid
            except KeyError:
                self.fail_json(path=path, msg='chown failed: failed to look up user %s' % file_args['owner'])
            if os.stat(path).st_uid != uid:
                if not self.check_mode:
                    os.chown(path, uid, -1)
                changed = True
        return changed

    def fail_json(self, msg=None, **kwargs):
        raise Exit('fail', dict(kwargs, msg=msg))

    def exit_json(self, **kwargs):
        raise Exit('exit', kwargs)


class FakeTime(object):
    """``time`` for _commit with a fixed wall clock (backup names, journal dates); monotonic and sleep are real."""

    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)

    @staticmethod
    def strftime(fmt):
        return {'%Y%m%d-%H%M%S': STAMP, '%Y-%m-%dT%H:%M:%S%z': '2026-12-01T12:00:00+0000'}[fmt]


def write(path, data, mode=0o644):
    with open(str(path), 'wb') as handle:
        handle.write(data)
    os.chmod(str(path), mode)


def read(path):
    with open(str(path), 'rb') as handle:
        return handle.read()


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def listing(directory):
    return sorted(os.listdir(str(directory)))


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The lock and journal directory, under tmp_path; and a fixed clock."""
    directory = tmp_path / 'state'
    monkeypatch.setattr(_commit, 'STATE_DIR', str(directory))
    monkeypatch.setattr(_commit, 'state_dir', lambda: str(directory))
    monkeypatch.setattr(_commit, 'time', FakeTime)
    return directory


@pytest.fixture
def signals():
    """SIGTERM/SIGHUP/SIGINT never end pytest, even if the transaction failed to catch them."""
    class Escaped(BaseException):
        pass

    def escaped(signum, frame):
        raise Escaped(signum)

    previous = dict((s, signal.signal(s, escaped)) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT))
    yield escaped
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.fixture
def conf(tmp_path):
    directory = tmp_path / 'etc' / 'nginx' / 'conf.d'
    directory.mkdir(parents=True)
    write(directory / 'app.conf', APP_BEFORE, 0o640)
    write(directory / 'old.conf', OLD_BEFORE, 0o600)
    write(tmp_path / 'etc' / 'nginx' / 'nginx.conf', b'events {}\nhttp {\n    include conf.d/*.conf;\n}\n')
    return directory


class Nginx(object):
    """A stub nginx in tmp_path: records its arguments (one line per call), then runs ``body``."""

    def __init__(self, tmp_path, body='exit 0\n'):
        (tmp_path / 'bin').mkdir(exist_ok=True)
        self.path = str(tmp_path / 'bin' / 'nginx')
        self.log = tmp_path / 'nginx-calls'
        with open(self.path, 'w') as handle:
            handle.write('#!/bin/sh\necho "$@" >> %s\n%s' % (self.log, body))
        os.chmod(self.path, 0o755)

    def calls(self):
        return read(self.log).decode().splitlines() if self.log.exists() else []


def nginx_conf(conf):
    return str(conf.parent / 'nginx.conf')


def run(module, files, nginx, conf, **kw):
    with pytest.raises(Exit) as exc:
        run_transaction(module, files, nginx.path, nginx_conf(conf), **kw)
    return exc.value


def journals(state):
    return sorted(glob.glob(str(state / 'journal-*')))


def staging_files(directory):
    return [name for name in listing(directory) if name.startswith('.balancer-')]


# --------------------------------------------------------------------------
# run_transaction: one nginx -t, keep or restore
# --------------------------------------------------------------------------

def test_ok_keeps_the_files_with_exactly_one_nginx_call(tmp_path, conf, state):
    nginx = Nginx(tmp_path, 'echo "nginx: configuration file test is successful" >&2\nexit 0\n')
    files = [{'path': str(conf / 'app.conf'), 'content': 'upstream app { server 10.0.0.2:80; }\n'},
             {'path': str(conf / 'new.conf'), 'content': 'upstream new { server 10.0.0.3:80; }\n'},
             {'path': str(conf / 'old.conf'), 'content': None}]
    result = run(FakeModule(), files, nginx, conf)
    assert result.kind == 'exit'
    assert result.kwargs == {
        'changed': True,
        'files': [{'path': str(conf / 'app.conf'), 'changed': True, 'state': 'present', 'backup_file': None},
                  {'path': str(conf / 'new.conf'), 'changed': True, 'state': 'present', 'backup_file': None},
                  {'path': str(conf / 'old.conf'), 'changed': True, 'state': 'absent', 'backup_file': None}],
        'nginx_test': {'ok': True, 'file': None, 'line': None, 'message': None,
                       'output': 'nginx: configuration file test is successful\n'},
        'recovered': [],
    }
    assert nginx.calls() == ['-t -c %s' % nginx_conf(conf)]
    assert read(conf / 'app.conf') == b'upstream app { server 10.0.0.2:80; }\n'
    assert read(conf / 'new.conf') == b'upstream new { server 10.0.0.3:80; }\n'
    assert mode_of(conf / 'app.conf') == 0o640          # the replaced file keeps its mode
    assert listing(conf) == ['app.conf', 'new.conf']    # no staging file left behind
    assert journals(state) == []


def test_rejected_nginx_t_restores_every_byte_and_mode_and_removes_new_files(tmp_path, conf, state):
    output = ('nginx: [emerg] host not found in upstream "x:80" in %s:3\n'
              'nginx: configuration file %s test failed\n' % (conf / 'app.conf', nginx_conf(conf)))
    nginx = Nginx(tmp_path, "printf '%s' >&2\nexit 1\n" % output)
    before = dict((name, os.stat(str(conf / name))) for name in ('app.conf', 'old.conf'))
    files = [{'path': str(conf / 'app.conf'), 'content': 'upstream app { server x:80; }\n'},
             {'path': str(conf / 'new.conf'), 'content': 'upstream new { server 10.0.0.3:80; }\n'},
             {'path': str(conf / 'old.conf'), 'content': None}]
    result = run(FakeModule(), files, nginx, conf, file_args_for=lambda path: {'path': path, 'mode': '0644'})
    restored = ['restored %s' % (conf / 'old.conf'), 'removed %s (it did not exist before)' % (conf / 'new.conf'),
                'restored %s' % (conf / 'app.conf')]
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == (
        'nginx -t rejected the change, so nothing was kept: nginx: [emerg] host not found in upstream "x:80" in '
        '%s:3\nnginx: configuration file %s test failed -- Restored: %s.'
        % (conf / 'app.conf', nginx_conf(conf), '; '.join(restored)))
    assert result.kwargs['restored'] == restored
    assert result.kwargs['nginx_test'] == {'ok': False, 'file': str(conf / 'app.conf'), 'line': 3,
                                           'message': 'host not found in upstream "x:80"', 'output': output}
    assert result.kwargs['recovered'] == []
    assert 'exception' not in result.kwargs
    assert nginx.calls() == ['-t -c %s' % nginx_conf(conf)]
    assert read(conf / 'app.conf') == APP_BEFORE
    assert read(conf / 'old.conf') == OLD_BEFORE
    assert (mode_of(conf / 'app.conf'), mode_of(conf / 'old.conf')) == (0o640, 0o600)
    for name, st in before.items():
        assert (os.stat(str(conf / name)).st_uid, os.stat(str(conf / name)).st_gid) == (st.st_uid, st.st_gid)
    assert listing(conf) == ['app.conf', 'old.conf']
    assert journals(state) == []


def test_a_missing_directory_writes_nothing(tmp_path, conf, state):
    nginx = Nginx(tmp_path)
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                {'path': str(conf / 'nodir' / 'new.conf'), 'content': 'y\n'}], nginx, conf)
    assert result.kind == 'fail'
    assert result.kwargs == {
        'msg': '%s: the directory %s does not exist; create it or choose another conf_dir/path.'
               % (conf / 'nodir' / 'new.conf', conf / 'nodir'),
        'recovered': []}
    assert read(conf / 'app.conf') == APP_BEFORE
    assert listing(conf) == ['app.conf', 'old.conf']
    assert nginx.calls() == []
    assert journals(state) == []


def test_a_removal_in_a_missing_directory_is_no_change(tmp_path, conf):
    nginx = Nginx(tmp_path)
    result = run(FakeModule(), [{'path': str(conf / 'nodir' / 'gone.conf'), 'content': None}], nginx, conf)
    assert (result.kind, result.kwargs['changed'], nginx.calls()) == ('exit', False, [])


@pytest.mark.parametrize('name, expected, message', [
    ('app.conf', 'e5fa44f2b31c1fb553b6021e7360d07d5d91ff5e',
     '%(dir)s/app.conf: the file changed on the proxy after it was read (expected '
     'e5fa44f2b31c1fb553b6021e7360d07d5d91ff5e, found b8cbdd9ec3029d0842ffeeb3a6138c30994f0b75); nothing was '
     'written, run the task again.'),
    ('app.conf', None,
     '%(dir)s/app.conf: the file changed on the proxy after it was read (expected absent, found '
     'b8cbdd9ec3029d0842ffeeb3a6138c30994f0b75); nothing was written, run the task again.'),
    ('gone.conf', 'abc',
     '%(dir)s/gone.conf: the file changed on the proxy after it was read (expected abc, found absent); nothing was '
     'written, run the task again.'),
], ids=['other-bytes', 'appeared', 'disappeared'])
def test_expected_sha_mismatch_writes_nothing(tmp_path, conf, state, name, expected, message):
    assert sha1(APP_BEFORE) == 'b8cbdd9ec3029d0842ffeeb3a6138c30994f0b75'
    nginx = Nginx(tmp_path)
    result = run(FakeModule(), [{'path': str(conf / 'new.conf'), 'content': 'y\n'},
                                {'path': str(conf / name), 'content': 'x\n'}], nginx, conf,
                 expected={str(conf / name): expected, str(conf / 'new.conf'): None})
    assert result.kind == 'fail'
    assert result.kwargs == {'msg': message % {'dir': conf}, 'recovered': []}
    assert read(conf / 'app.conf') == APP_BEFORE
    assert listing(conf) == ['app.conf', 'old.conf']
    assert nginx.calls() == []
    assert journals(state) == []


def test_expected_sha_match_is_accepted(tmp_path, conf):
    nginx = Nginx(tmp_path)
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                {'path': str(conf / 'new.conf'), 'content': 'y\n'}], nginx, conf,
                 expected={str(conf / 'app.conf'): 'b8cbdd9ec3029d0842ffeeb3a6138c30994f0b75',
                           str(conf / 'new.conf'): None})
    assert (result.kind, result.kwargs['changed']) == ('exit', True)
    assert (read(conf / 'app.conf'), read(conf / 'new.conf')) == (b'x\n', b'y\n')


def test_nothing_changed_runs_no_nginx_t(tmp_path, conf, state):
    nginx = Nginx(tmp_path, 'exit 1\n')
    before = os.stat(str(conf / 'app.conf'))
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': APP_BEFORE.decode()},
                                {'path': str(conf / 'gone.conf'), 'content': None}], nginx, conf)
    assert result.kwargs == {'changed': False, 'nginx_test': None, 'recovered': [], 'files': [
        {'path': str(conf / 'app.conf'), 'changed': False, 'state': 'present', 'backup_file': None},
        {'path': str(conf / 'gone.conf'), 'changed': False, 'state': 'absent', 'backup_file': None}]}
    assert nginx.calls() == []
    assert os.stat(str(conf / 'app.conf')).st_ino == before.st_ino      # not even rewritten
    assert journals(state) == []


def test_validate_false_runs_no_nginx(tmp_path, conf):
    nginx = Nginx(tmp_path, 'exit 1\n')
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'}], nginx, conf, validate=False)
    assert (result.kind, result.kwargs['changed'], result.kwargs['nginx_test']) == ('exit', True, None)
    assert nginx.calls() == []
    assert read(conf / 'app.conf') == b'x\n'


def test_validate_false_needs_no_binary(tmp_path, conf):
    with pytest.raises(Exit) as exc:
        run_transaction(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'}],
                        str(tmp_path / 'no-nginx'), nginx_conf(conf), validate=False)
    assert (exc.value.kind, exc.value.kwargs['changed']) == ('exit', True)


def test_a_missing_binary_is_refused_before_anything(tmp_path, conf, state):
    with pytest.raises(Exit) as exc:
        run_transaction(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'}],
                        str(tmp_path / 'no-nginx'), nginx_conf(conf))
    assert exc.value.kwargs['msg'] == (
        "nginx_binary: '%s' was not found as an executable file on the host; install nginx or set nginx_binary "
        'to the path of the nginx executable.' % (tmp_path / 'no-nginx'))
    assert read(conf / 'app.conf') == APP_BEFORE
    assert not state.exists()


def test_check_mode_writes_nothing(tmp_path, conf, state):
    nginx = Nginx(tmp_path)
    result = run(FakeModule(check_mode=True), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                               {'path': str(conf / 'old.conf'), 'content': None}], nginx, conf)
    assert (result.kind, result.kwargs['changed'], result.kwargs['nginx_test']) == ('exit', True, None)
    assert nginx.calls() == []
    assert listing(conf) == ['app.conf', 'old.conf']
    assert read(conf / 'app.conf') == APP_BEFORE
    assert journals(state) == []


def test_attributes_only_change(tmp_path, conf):
    nginx = Nginx(tmp_path)
    module = FakeModule()
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': APP_BEFORE.decode()}], nginx, conf,
                 file_args_for=lambda path: {'path': path, 'mode': '0644'})
    assert (result.kind, result.kwargs['changed']) == ('exit', True)
    assert module.attrs == [{'path': str(conf / 'app.conf'), 'mode': '0644'}]
    assert mode_of(conf / 'app.conf') == 0o644
    assert nginx.calls() == []          # same bytes: no nginx -t


def test_check_mode_reports_an_attributes_only_change_like_the_real_run(tmp_path, conf):
    nginx = Nginx(tmp_path)
    result = run(FakeModule(check_mode=True), [{'path': str(conf / 'app.conf'), 'content': APP_BEFORE.decode()}],
                 nginx, conf, file_args_for=lambda path: {'path': path, 'mode': '0644'})
    assert (result.kind, result.kwargs['changed']) == ('exit', True)
    assert mode_of(conf / 'app.conf') == 0o640


def test_a_rejected_change_puts_back_the_modification_times(tmp_path, conf):
    os.utime(str(conf / 'app.conf'), ns=(1764590000000000000, 1764590000123456789))
    os.utime(str(conf / 'old.conf'), ns=(1764590000000000000, 1764580000987654321))
    nginx = Nginx(tmp_path, 'exit 1\n')
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                {'path': str(conf / 'old.conf'), 'content': None}], nginx, conf)
    assert result.kind == 'fail'
    assert (read(conf / 'app.conf'), read(conf / 'old.conf')) == (APP_BEFORE, OLD_BEFORE)
    assert (os.stat(str(conf / 'app.conf')).st_mtime_ns, os.stat(str(conf / 'old.conf')).st_mtime_ns) == (
        1764590000123456789, 1764580000987654321)


# -- directories the plan may create (stream_conf_dir), files whose attributes stay ---------------

def test_mkdirs_creates_a_missing_directory_for_a_new_file(tmp_path, conf, state):
    stream_d = conf.parent / 'stream.d'
    nginx = Nginx(tmp_path)
    result = run(FakeModule(), [{'path': str(stream_d / 'pg.conf'), 'content': 'upstream pg { server a:1; }\n'}],
                 nginx, conf, mkdirs=[str(stream_d) + '/'])
    assert (result.kind, result.kwargs['changed']) == ('exit', True)
    assert os.path.isdir(str(stream_d))
    assert read(stream_d / 'pg.conf') == b'upstream pg { server a:1; }\n'
    assert nginx.calls() == ['-t -c %s' % nginx_conf(conf)]
    assert journals(state) == []


def test_a_rejected_change_removes_the_directory_it_created(tmp_path, conf, state):
    stream_d = conf.parent / 'stream.d'
    nginx = Nginx(tmp_path, 'exit 1\n')
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                {'path': str(stream_d / 'pg.conf'), 'content': 'y\n'},
                                {'path': str(stream_d / 'pg.stream.conf'), 'content': 'z\n'}],
                 nginx, conf, mkdirs=[str(stream_d)])
    restored = ['removed %s (it did not exist before)' % (stream_d / 'pg.stream.conf'),
                'removed %s (it did not exist before)' % (stream_d / 'pg.conf'),
                'restored %s' % (conf / 'app.conf'),
                'removed the directory %s (it did not exist before)' % stream_d]
    assert result.kind == 'fail'
    assert result.kwargs['restored'] == restored
    assert result.kwargs['msg'] == 'nginx -t rejected the change, so nothing was kept:  -- Restored: %s.' % (
        '; '.join(restored))
    assert not os.path.lexists(str(stream_d))
    assert read(conf / 'app.conf') == APP_BEFORE
    assert listing(conf.parent) == ['conf.d', 'nginx.conf']
    assert journals(state) == []


def test_a_rejected_change_removes_every_directory_it_created(tmp_path, conf, state):
    # stream_conf_dir two levels below what exists: a refused change leaves no trace, the parent included
    stream_d = conf.parent / 'tcp' / 'stream.d'
    nginx = Nginx(tmp_path, 'exit 1\n')
    result = run(FakeModule(), [{'path': str(stream_d / 'pg.conf'), 'content': 'y\n'}], nginx, conf,
                 mkdirs=[str(stream_d)])
    assert result.kind == 'fail'
    assert not os.path.lexists(str(stream_d))
    assert listing(conf.parent) == ['conf.d', 'nginx.conf']


def test_a_directory_that_existed_is_kept_on_failure(tmp_path, conf, state):
    stream_d = conf.parent / 'stream.d'
    stream_d.mkdir()
    nginx = Nginx(tmp_path, 'exit 1\n')
    result = run(FakeModule(), [{'path': str(stream_d / 'pg.conf'), 'content': 'y\n'}], nginx, conf,
                 mkdirs=[str(stream_d)])
    assert result.kwargs['restored'] == ['removed %s (it did not exist before)' % (stream_d / 'pg.conf')]
    assert (os.path.isdir(str(stream_d)), listing(stream_d)) == (True, [])


def test_mkdirs_creates_nothing_that_no_written_file_needs(tmp_path, conf, state):
    stream_d = conf.parent / 'stream.d'
    nginx = Nginx(tmp_path)
    # a removal there, and a file elsewhere
    result = run(FakeModule(), [{'path': str(stream_d / 'gone.conf'), 'content': None},
                                {'path': str(conf / 'app.conf'), 'content': 'x\n'}], nginx, conf,
                 mkdirs=[str(stream_d)])
    assert (result.kind, result.kwargs['changed']) == ('exit', True)
    assert not os.path.lexists(str(stream_d))


def test_mkdirs_in_check_mode_creates_nothing_and_reports_the_change(tmp_path, conf, state):
    stream_d = conf.parent / 'stream.d'
    nginx = Nginx(tmp_path)
    result = run(FakeModule(check_mode=True), [{'path': str(stream_d / 'pg.conf'), 'content': 'y\n'}], nginx,
                 conf, mkdirs=[str(stream_d)])
    assert (result.kind, result.kwargs['changed'], result.kwargs['nginx_test']) == ('exit', True, None)
    assert not os.path.lexists(str(stream_d))
    assert nginx.calls() == []


def test_without_mkdirs_the_missing_stream_directory_is_refused(tmp_path, conf, state):
    stream_d = conf.parent / 'stream.d'
    nginx = Nginx(tmp_path)
    result = run(FakeModule(), [{'path': str(stream_d / 'pg.conf'), 'content': 'y\n'}], nginx, conf,
                 mkdirs=[str(conf.parent / 'other.d')])
    assert result.kwargs == {
        'msg': '%s: the directory %s does not exist; create it or choose another conf_dir/path.'
               % (stream_d / 'pg.conf', stream_d),
        'recovered': []}
    assert not os.path.lexists(str(stream_d))


def test_keep_attributes_skips_the_owner_and_mode_of_nginx_conf(tmp_path, conf, state):
    main = nginx_conf(conf)
    os.chmod(main, 0o600)
    nginx = Nginx(tmp_path)
    module = FakeModule()
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                          {'path': main, 'content': 'events {}\nhttp {\n}\nstream {\n}\n'}], nginx, conf,
                 file_args_for=lambda path: {'path': path, 'mode': '0644'}, keep_attributes=[main])
    assert (result.kind, result.kwargs['changed']) == ('exit', True)
    assert module.attrs == [{'path': str(conf / 'app.conf'), 'mode': '0644'}]
    assert (mode_of(conf / 'app.conf'), mode_of(main)) == (0o644, 0o600)
    assert read(main) == b'events {}\nhttp {\n}\nstream {\n}\n'


def test_keep_attributes_makes_no_attributes_only_change(tmp_path, conf, state):
    main = nginx_conf(conf)
    os.chmod(main, 0o600)
    for check_mode in (True, False):
        module = FakeModule(check_mode=check_mode)
        result = run(module, [{'path': main, 'content': read(main).decode()}], Nginx(tmp_path), conf,
                     file_args_for=lambda path: {'path': path, 'mode': '0644'}, keep_attributes=[main])
        assert (result.kind, result.kwargs['changed'], module.attrs) == ('exit', False, [])
        assert mode_of(main) == 0o600
    # without it, the same call changes the mode
    module = FakeModule()
    result = run(module, [{'path': main, 'content': read(main).decode()}], Nginx(tmp_path), conf,
                 file_args_for=lambda path: {'path': path, 'mode': '0644'})
    assert (result.kwargs['changed'], mode_of(main)) == (True, 0o644)


# -- backups ---------------------------------------------------------------

def test_backups_go_to_backup_dir_mirroring_the_path(tmp_path, conf):
    nginx = Nginx(tmp_path)
    backup_dir = tmp_path / 'backups'
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                {'path': str(conf / 'new.conf'), 'content': 'y\n'},
                                {'path': str(conf / 'old.conf'), 'content': None}], nginx, conf,
                 backup=True, backup_dir=str(backup_dir))
    mirrored = str(backup_dir) + str(conf)
    app_backup = '%s/app.conf.%s.%d~' % (mirrored, STAMP, os.getpid())
    old_backup = '%s/old.conf.%s.%d~' % (mirrored, STAMP, os.getpid())
    assert [f['backup_file'] for f in result.kwargs['files']] == [app_backup, None, old_backup]
    assert listing(mirrored) == sorted([os.path.basename(app_backup), os.path.basename(old_backup)])
    assert (read(app_backup), mode_of(app_backup)) == (APP_BEFORE, 0o640)
    assert (read(old_backup), mode_of(old_backup)) == (OLD_BEFORE, 0o600)
    # never next to the file, where an include glob could read it
    assert listing(conf) == ['app.conf', 'new.conf']


def test_backups_are_discarded_when_the_change_is_not_kept(tmp_path, conf):
    nginx = Nginx(tmp_path, 'exit 1\n')
    backup_dir = tmp_path / 'backups'
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                {'path': str(conf / 'old.conf'), 'content': None}], nginx, conf,
                 backup=True, backup_dir=str(backup_dir))
    assert result.kind == 'fail'
    assert [f['backup_file'] for f in result.kwargs['files']] == [None, None]
    assert listing(str(backup_dir) + str(conf)) == []
    assert listing(conf) == ['app.conf', 'old.conf']


def test_no_backup_without_backup(tmp_path, conf):
    nginx = Nginx(tmp_path)
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'}], nginx, conf,
                 backup_dir=str(tmp_path / 'backups'))
    assert result.kwargs['files'][0]['backup_file'] is None
    assert not (tmp_path / 'backups').exists()


# -- failures in the middle: every earlier file is put back --------------------

def test_fail_json_from_atomic_move_in_the_middle_restores_the_earlier_files(tmp_path, conf, state):
    nginx = Nginx(tmp_path)
    module = FakeModule(broken={'b.conf': 'fail_json'})
    files = [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
             {'path': str(conf / 'a.conf'), 'content': 'a\n'},
             {'path': str(conf / 'b.conf'), 'content': 'b\n'},
             {'path': str(conf / 'old.conf'), 'content': 'z\n'}]
    result = run(module, files, nginx, conf)
    # b.conf was never created (its move failed): nothing to say about it
    restored = ['removed %s (it did not exist before)' % (conf / 'a.conf'), 'restored %s' % (conf / 'app.conf')]
    assert result.kind == 'fail'
    assert result.kwargs['msg'] is not None
    assert result.kwargs['msg'] == (
        'Writing the configuration failed while writing the files: Could not replace file: %s to %s: [Errno 28] No '
        'space left on device -- Restored: %s.' % (module.refused[0], conf / 'b.conf', '; '.join(restored)))
    # the staging file: hidden, in the destination directory, and gone
    assert os.path.dirname(module.refused[0]) == str(conf)
    assert os.path.basename(module.refused[0]).startswith('.balancer-')
    assert result.kwargs['restored'] == restored
    assert result.kwargs['exception'] == 'Traceback (most recent call last): ...'
    assert read(conf / 'app.conf') == APP_BEFORE and mode_of(conf / 'app.conf') == 0o640
    assert read(conf / 'old.conf') == OLD_BEFORE
    assert listing(conf) == ['app.conf', 'old.conf']
    assert nginx.calls() == []
    assert journals(state) == []
    # the module's own fail_json is back
    assert 'fail_json' not in vars(module)


def test_a_write_that_fails_on_the_second_file_restores_the_first(tmp_path, conf, state):
    nginx = Nginx(tmp_path)
    # the disk is full while old.conf is written, and has room again when it is written back
    module = FakeModule(broken={'old.conf': OSError(28, 'No space left on device')}, broken_times=1)
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                          {'path': str(conf / 'old.conf'), 'content': 'z\n'}], nginx, conf)
    restored = ['restored %s' % (conf / 'old.conf'), 'restored %s' % (conf / 'app.conf')]
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == ('Writing the configuration failed while writing the files: [Errno 28] No space '
                                    'left on device -- Restored: %s.' % '; '.join(restored))
    assert result.kwargs['restored'] == restored
    assert 'OSError: [Errno 28] No space left on device' in result.kwargs['exception']
    assert (read(conf / 'app.conf'), read(conf / 'old.conf')) == (APP_BEFORE, OLD_BEFORE)
    assert (mode_of(conf / 'app.conf'), mode_of(conf / 'old.conf')) == (0o640, 0o600)
    assert listing(conf) == ['app.conf', 'old.conf']
    assert nginx.calls() == []


def test_an_invalid_owner_restores_every_file_and_mode(tmp_path, conf, state):
    nginx = Nginx(tmp_path)
    module = FakeModule()
    files = [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
             {'path': str(conf / 'old.conf'), 'content': OLD_BEFORE.decode()},       # same bytes: mode only
             {'path': str(conf / 'new.conf'), 'content': 'y\n'}]
    result = run(module, files, nginx, conf,
                 file_args_for=lambda path: {'path': path, 'mode': '0644', 'owner': 'no-such-user-balancer'})
    restored = ['removed %s (it did not exist before)' % (conf / 'new.conf'), 'restored %s' % (conf / 'app.conf')]
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == (
        'Writing the configuration failed while applying owner, group and mode: chown failed: failed to look up '
        'user no-such-user-balancer -- Restored: %s.' % '; '.join(restored))
    assert result.kwargs['path'] == str(conf / 'app.conf')
    assert (read(conf / 'app.conf'), mode_of(conf / 'app.conf')) == (APP_BEFORE, 0o640)
    assert (read(conf / 'old.conf'), mode_of(conf / 'old.conf')) == (OLD_BEFORE, 0o600)
    assert listing(conf) == ['app.conf', 'old.conf']
    assert nginx.calls() == []
    assert journals(state) == []


def test_an_invalid_owner_after_a_mode_change_puts_the_mode_back(tmp_path, conf):
    # the first file gets its new mode, the second file's owner fails: both modes are as before
    nginx = Nginx(tmp_path)

    def file_args_for(path):
        if path.endswith('old.conf'):
            return {'path': path, 'owner': 'no-such-user-balancer'}
        return {'path': path, 'mode': '0604'}

    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': APP_BEFORE.decode()},
                                {'path': str(conf / 'old.conf'), 'content': OLD_BEFORE.decode()}], nginx, conf,
                 file_args_for=file_args_for)
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == (
        'Writing the configuration failed while applying owner, group and mode: chown failed: failed to look up '
        'user no-such-user-balancer -- Restored: nothing had been written.')
    assert (mode_of(conf / 'app.conf'), mode_of(conf / 'old.conf')) == (0o640, 0o600)


def test_a_timeout_restores_and_names_nginx_timeout(tmp_path, conf, state):
    nginx = Nginx(tmp_path, 'sleep 30\n')
    started = time.monotonic()
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                {'path': str(conf / 'new.conf'), 'content': 'y\n'}], nginx, conf, timeout=1)
    assert time.monotonic() - started < 10
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == (
        'nginx_timeout: "nginx -t -c %s" did not finish within 1 s and was stopped; find out why Nginx hangs (a '
        'name lookup or a file on a slow mount?) or raise nginx_timeout -- Restored: removed %s (it did not exist '
        'before); restored %s.' % (nginx_conf(conf), conf / 'new.conf', conf / 'app.conf'))
    assert 'exception' not in result.kwargs
    assert read(conf / 'app.conf') == APP_BEFORE
    assert listing(conf) == ['app.conf', 'old.conf']
    assert journals(state) == []


@pytest.mark.parametrize('signame', ['TERM', 'INT', 'HUP'])
def test_a_signal_while_nginx_runs_restores(tmp_path, conf, state, signals, signame):
    # the stub sends the signal to the module (its parent) and waits to be stopped
    nginx = Nginx(tmp_path, 'kill -%s $PPID\nsleep 30\n' % signame)
    gc.collect()    # no finalizer of an earlier test's garbage may run when the signal comes (see the next test)
    started = time.monotonic()
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                {'path': str(conf / 'old.conf'), 'content': None}], nginx, conf)
    assert time.monotonic() - started < 10
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == (
        'Interrupted by SIG%s while running nginx -t -- Restored: restored %s; restored %s.'
        % (signame, conf / 'old.conf', conf / 'app.conf'))
    assert (read(conf / 'app.conf'), read(conf / 'old.conf')) == (APP_BEFORE, OLD_BEFORE)
    assert listing(conf) == ['app.conf', 'old.conf']
    assert journals(state) == []
    # the handlers in place before the transaction are back
    assert signal.getsignal(signal.SIGTERM) is signals


def test_a_signal_that_comes_while_a_finalizer_runs_still_restores(tmp_path, conf, state, signals):
    # Python drops an exception raised in __del__ ("Exception ignored in ..."): a signal handled while garbage
    # is finalized (in the full suite: an old Popen's __del__ during nginx -t) must still stop the transaction
    nginx = Nginx(tmp_path)

    class Garbage(object):
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)

    class Module(FakeModule):
        def atomic_move(self, src, dest, unsafe_writes=False, keep_dest_attrs=True):
            Garbage()
            return FakeModule.atomic_move(self, src, dest, unsafe_writes, keep_dest_attrs)

    result = run(Module(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'}], nginx, conf)
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == ('Interrupted by SIGTERM while writing the files -- Restored: restored %s.'
                                    % (conf / 'app.conf'))
    assert read(conf / 'app.conf') == APP_BEFORE
    assert nginx.calls() == []


def test_the_journal_exists_while_nginx_runs_and_is_gone_afterwards(tmp_path, conf, state):
    copy = tmp_path / 'journal-seen-by-nginx'
    nginx = Nginx(tmp_path, 'cat %s/journal-* > %s\nexit 0\n' % (state, copy))
    # the modification times the files had, which a rollback puts back with their bytes
    os.utime(str(conf / 'app.conf'), ns=(1764590000000000000, 1764590000123456789))
    os.utime(str(conf / 'old.conf'), ns=(1764590000000000000, 1764580000987654321))
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                                {'path': str(conf / 'new.conf'), 'content': 'y\n'},
                                {'path': str(conf / 'old.conf'), 'content': None}], nginx, conf)
    assert result.kind == 'exit'
    record = json.loads(read(copy))
    st = os.stat(str(conf / 'app.conf'))
    assert record == {
        'version': 1, 'nginx_conf': nginx_conf(conf), 'pid': os.getpid(), 'started': '2026-12-01T12:00:00+0000',
        'entries': [
            {'path': str(conf / 'app.conf'), 'link': None,
             'old': 'dXBzdHJlYW0gYXBwIHsgc2VydmVyIDEwLjAuMC4xOjgwOyB9Cg==',
             'new_sha1': '6fcf9dfbd479ed82697fee719b9f8c610a11ff2a', 'mode': 0o640, 'uid': st.st_uid,
             'gid': st.st_gid, 'mtime_ns': 1764590000123456789},
            {'path': str(conf / 'new.conf'), 'link': None, 'old': None,
             'new_sha1': '9063a9f0e032b6239403b719cbbba56ac4e4e45f'},
            {'path': str(conf / 'old.conf'), 'link': None,
             'old': 'dXBzdHJlYW0gb2xkIHsgc2VydmVyIDEwLjAuMC45OjgwOyB9Cg==',
             'new_sha1': None, 'mode': 0o600, 'uid': st.st_uid, 'gid': st.st_gid, 'mtime_ns': 1764580000987654321},
        ],
        'directories': []}
    assert base64.b64decode(record['entries'][0]['old']) == APP_BEFORE
    assert journals(state) == []
    assert os.listdir(str(state)) == [os.path.basename(p) for p in glob.glob(str(state / 'lock-*'))]


def test_a_restore_that_fails_keeps_the_journal_and_the_next_run_puts_the_bytes_back(tmp_path, conf, state):
    nginx = Nginx(tmp_path, 'exit 1\n')
    # app.conf is written, then cannot be written back
    module = FakeModule(broken={'app.conf': OSError(30, 'Read-only file system')}, broken_after=1)
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                          {'path': str(conf / 'new.conf'), 'content': 'y\n'}], nginx, conf)
    journal = journals(state)
    assert len(journal) == 1
    assert result.kwargs['msg'] == (
        'nginx -t rejected the change, so nothing was kept:  -- Restored: removed %s (it did not exist before). '
        'NOT restored: could not restore %s ([Errno 30] Read-only file system); the journal %s keeps the previous '
        'bytes and the next run on this proxy puts them back first.'
        % (conf / 'new.conf', conf / 'app.conf', journal[0]))
    assert read(conf / 'app.conf') == b'x\n'
    # the next run (snapshot or commit) recovers first, and says so
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': APP_BEFORE.decode()}],
                 Nginx(tmp_path), conf)
    assert result.kwargs['recovered'] == [
        'an interrupted balancer.nginx run (pid %d, started 2026-12-01T12:00:00+0000) had left unvalidated changes; '
        'they were rolled back before this run: restored %s' % (os.getpid(), conf / 'app.conf')]
    assert result.kwargs['changed'] is False
    assert (read(conf / 'app.conf'), mode_of(conf / 'app.conf')) == (APP_BEFORE, 0o640)
    assert journals(state) == []


# --------------------------------------------------------------------------
# recover: what a run killed outright left behind
# --------------------------------------------------------------------------

def killed_run(conf, entries, directories=None):
    """The journal a run killed after it wrote its files leaves (written by hand, as JSON)."""
    os.makedirs(str(_commit.state_dir()), exist_ok=True)
    record = {'version': 1, 'nginx_conf': nginx_conf(conf), 'pid': 4242, 'started': '2026-12-01T10:00:00+0000',
              'entries': entries}
    if directories is not None:
        record['directories'] = directories
    path = Journal(nginx_conf(conf)).path
    with open(path, 'w') as handle:
        json.dump(record, handle)
    return path


def test_recover_rolls_back_a_journal_left_behind(conf, state):
    st = os.stat(str(conf / 'app.conf'))
    # the killed run wrote app.conf (and chmod'ed it), created new.conf, removed old.conf; other.conf was edited
    # by hand since
    write(conf / 'app.conf', b'x\n', 0o644)
    write(conf / 'new.conf', b'y\n')
    os.unlink(str(conf / 'old.conf'))
    write(conf / 'other.conf', b'edited by hand\n')
    path = killed_run(conf, [
        {'path': str(conf / 'app.conf'), 'link': None, 'old': base64.b64encode(APP_BEFORE).decode(),
         'new_sha1': '6fcf9dfbd479ed82697fee719b9f8c610a11ff2a',
         'mode': 0o640, 'uid': st.st_uid, 'gid': st.st_gid},
        {'path': str(conf / 'new.conf'), 'link': None, 'old': None,
         'new_sha1': '9063a9f0e032b6239403b719cbbba56ac4e4e45f'},
        {'path': str(conf / 'old.conf'), 'link': None, 'old': base64.b64encode(OLD_BEFORE).decode(),
         'new_sha1': None, 'mode': 0o600, 'uid': st.st_uid, 'gid': st.st_gid},
        {'path': str(conf / 'other.conf'), 'link': None, 'old': None,
         'new_sha1': '973686ac928dec95e2e70a07bf34f0d4b7e35392'},
    ])
    assert recover(FakeModule(), nginx_conf(conf)) == [
        'an interrupted balancer.nginx run (pid 4242, started 2026-12-01T10:00:00+0000) had left unvalidated '
        'changes; they were rolled back before this run: left %s alone: it changed after the interrupted run; '
        'restored %s; removed %s (the interrupted run had created it); restored %s'
        % (conf / 'other.conf', conf / 'old.conf', conf / 'new.conf', conf / 'app.conf')]
    assert (read(conf / 'app.conf'), mode_of(conf / 'app.conf')) == (APP_BEFORE, 0o640)
    assert (read(conf / 'old.conf'), mode_of(conf / 'old.conf')) == (OLD_BEFORE, 0o600)
    assert read(conf / 'other.conf') == b'edited by hand\n'
    assert listing(conf) == ['app.conf', 'old.conf', 'other.conf']
    assert not os.path.exists(path)
    assert recover(FakeModule(), nginx_conf(conf)) == []


def test_the_journal_names_the_directories_the_run_creates(tmp_path, conf, state):
    stream_d = conf.parent / 'tcp' / 'stream.d'
    copy = tmp_path / 'journal-seen-by-nginx'
    nginx = Nginx(tmp_path, 'cat %s/journal-* > %s\nexit 0\n' % (state, copy))
    result = run(FakeModule(), [{'path': str(stream_d / 'pg.conf'), 'content': 'y\n'}], nginx, conf,
                 mkdirs=[str(stream_d)])
    assert result.kind == 'exit'
    assert json.loads(read(copy))['directories'] == [str(conf.parent / 'tcp'), str(stream_d)]
    assert read(stream_d / 'pg.conf') == b'y\n'


def test_recover_removes_the_directories_a_killed_run_created(conf, state):
    stream_d = conf.parent / 'tcp' / 'stream.d'
    os.makedirs(str(stream_d))
    write(stream_d / 'pg.conf', b'y\n')
    killed_run(conf, [{'path': str(stream_d / 'pg.conf'), 'link': None, 'old': None,
                       'new_sha1': '9063a9f0e032b6239403b719cbbba56ac4e4e45f'}],
               [str(conf.parent / 'tcp'), str(stream_d)])
    assert recover(FakeModule(), nginx_conf(conf)) == [
        'an interrupted balancer.nginx run (pid 4242, started 2026-12-01T10:00:00+0000) had left unvalidated '
        'changes; they were rolled back before this run: removed %s (the interrupted run had created it); '
        'removed the directory %s (it did not exist before); removed the directory %s (it did not exist before)'
        % (stream_d / 'pg.conf', stream_d, conf.parent / 'tcp')]
    assert not os.path.lexists(str(conf.parent / 'tcp'))


def test_recover_leaves_a_created_directory_that_holds_something_new(conf, state):
    stream_d = conf.parent / 'stream.d'
    os.makedirs(str(stream_d))
    write(stream_d / 'by-hand.conf', b'# written since\n')
    killed_run(conf, [], [str(stream_d)])
    assert recover(FakeModule(), nginx_conf(conf)) == [
        'an interrupted balancer.nginx run (pid 4242, started 2026-12-01T10:00:00+0000) had left unvalidated '
        'changes; they were rolled back before this run: nothing was left to undo']
    assert listing(stream_d) == ['by-hand.conf']


def test_recover_of_a_run_killed_before_it_wrote_anything(conf, state):
    st = os.stat(str(conf / 'app.conf'))
    killed_run(conf, [{'path': str(conf / 'app.conf'), 'link': None, 'old': base64.b64encode(APP_BEFORE).decode(),
                       'new_sha1': '6fcf9dfbd479ed82697fee719b9f8c610a11ff2a', 'mode': 0o640, 'uid': st.st_uid,
                       'gid': st.st_gid},
                      {'path': str(conf / 'new.conf'), 'link': None, 'old': None,
                       'new_sha1': '9063a9f0e032b6239403b719cbbba56ac4e4e45f'}])
    assert recover(FakeModule(), nginx_conf(conf)) == [
        'an interrupted balancer.nginx run (pid 4242, started 2026-12-01T10:00:00+0000) had left unvalidated '
        'changes; they were rolled back before this run: nothing was left to undo']
    assert read(conf / 'app.conf') == APP_BEFORE
    assert journals(state) == []


def test_recover_puts_back_a_mode_changed_on_the_same_bytes(conf, state):
    st = os.stat(str(conf / 'app.conf'))
    os.chmod(str(conf / 'app.conf'), 0o666)
    killed_run(conf, [{'path': str(conf / 'app.conf'), 'link': None, 'old': base64.b64encode(APP_BEFORE).decode(),
                       'new_sha1': 'b8cbdd9ec3029d0842ffeeb3a6138c30994f0b75', 'mode': 0o640, 'uid': st.st_uid,
                       'gid': st.st_gid}])
    recover(FakeModule(), nginx_conf(conf))
    assert mode_of(conf / 'app.conf') == 0o640


def test_recover_of_a_journal_cut_short(conf, state):
    path = killed_run(conf, [])
    with open(path, 'w') as handle:
        handle.write('{"version": 1, "entr')
    assert recover(FakeModule(), nginx_conf(conf)) == [
        'an interrupted balancer.nginx run (pid None, started None) had left unvalidated changes; they were rolled '
        'back before this run: nothing was left to undo']
    assert not os.path.exists(path)


def test_recover_recreates_a_removed_link(tmp_path, conf, state):
    target = tmp_path / 'sites-available-shop'
    write(target, b'server {}\n')
    killed_run(conf, [{'path': str(conf / 'shop.conf'), 'link': str(target), 'old': 'c2VydmVyIHt9Cg==',
                       'new_sha1': None}])
    assert recover(FakeModule(), nginx_conf(conf)) == [
        'an interrupted balancer.nginx run (pid 4242, started 2026-12-01T10:00:00+0000) had left unvalidated '
        'changes; they were rolled back before this run: recreated the link %s -> %s' % (conf / 'shop.conf', target)]
    assert os.readlink(str(conf / 'shop.conf')) == str(target)


def test_journal_write_load_clear(conf, state):
    journal = Journal(nginx_conf(conf))
    assert journal.load() is None
    tx = Transaction(FakeModule(), 'nginx', nginx_conf(conf))
    tx.plan([{'path': str(conf / 'new.conf'), 'content': 'y\n'}])
    journal.write(tx.entries)
    assert journal.load() == {'version': 1, 'nginx_conf': nginx_conf(conf), 'pid': os.getpid(),
                              'started': '2026-12-01T12:00:00+0000',
                              'entries': [{'path': str(conf / 'new.conf'), 'link': None, 'old': None,
                                           'new_sha1': '9063a9f0e032b6239403b719cbbba56ac4e4e45f'}],
                              'directories': []}
    assert mode_of(journal.path) == 0o600
    assert [p for p in os.listdir(str(state)) if p.startswith('.journal-')] == []
    journal.clear()
    journal.clear()
    assert journal.load() is None


def test_one_journal_and_one_lock_per_configuration(tmp_path, state):
    one, two = str(tmp_path / 'a' / 'nginx.conf'), str(tmp_path / 'b' / 'nginx.conf')
    assert Journal(one).path != Journal(two).path
    assert Journal(one).path == Journal(str(tmp_path / 'a' / '.' / 'nginx.conf')).path
    assert ProxyLock(one, 1).path != ProxyLock(two, 1).path
    assert os.path.dirname(Journal(one).path) == os.path.dirname(ProxyLock(one, 1).path) == str(state)


# --------------------------------------------------------------------------
# what a plan read: a concurrent change refuses the commit
# --------------------------------------------------------------------------

def test_read_set_changes_detects_a_changed_file_and_a_new_file(tmp_path, conf):
    recorded = read_set([str(conf / 'app.conf'), str(conf / 'absent.conf')], [str(conf)])
    assert read_set_changes(recorded) == []
    assert read_set_changes(None) == []
    write(conf / 'app.conf', b'upstream app { server 10.0.0.2:80; }\n', 0o640)    # same size, new bytes
    assert read_set_changes(recorded) == [str(conf / 'app.conf')]
    write(conf / 'zz-new.conf', b'')
    assert read_set_changes(recorded) == [str(conf / 'app.conf'), str(conf) + '/']
    write(conf / 'absent.conf', b'')
    assert read_set_changes(recorded) == [str(conf / 'absent.conf'), str(conf / 'app.conf'), str(conf) + '/']


def test_read_set_changes_detects_a_removed_file_in_a_listed_directory(conf):
    recorded = read_set([], [str(conf)])
    os.unlink(str(conf / 'old.conf'))
    assert read_set_changes(recorded) == [str(conf) + '/']


def test_read_set_records_signatures(conf):
    st = os.stat(str(conf / 'app.conf'))
    recorded = read_set([str(conf / 'app.conf'), str(conf / 'absent.conf')], [str(conf), str(conf / 'nodir')])
    assert recorded['files'] == {str(conf / 'app.conf'): '%d:%d:%d' % (st.st_ino, 37, st.st_mtime_ns),
                                 str(conf / 'absent.conf'): None}
    assert recorded['dirs'] == {str(conf): '1baf13b22eadeb6e2a9a0ea53a59fcbfed685fc7', str(conf / 'nodir'): None}


def test_a_changed_read_set_refuses_the_commit(tmp_path, conf, state):
    nginx = Nginx(tmp_path)
    recorded = read_set([str(conf / 'app.conf')], [str(conf)])
    write(conf / 'other.conf', b'upstream other {}\n')
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'}], nginx, conf,
                 read_set=recorded)
    assert result.kind == 'fail'
    assert result.kwargs == {
        'msg': 'The configuration changed on the proxy after this run read it (%s/), probably by another run; '
               'nothing was written, run the task again.' % conf,
        'recovered': []}
    assert read(conf / 'app.conf') == APP_BEFORE
    assert nginx.calls() == []


def test_many_changed_paths_are_summed_up(tmp_path, conf):
    nginx = Nginx(tmp_path)
    names = ['%d.conf' % i for i in range(7)]
    recorded = read_set([str(conf / n) for n in names], [])
    for name in names:
        write(conf / name, b'')
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'}], nginx, conf,
                 read_set=recorded)
    assert result.kwargs['msg'] == (
        'The configuration changed on the proxy after this run read it (%s, %s, %s, %s, %s and 2 more), probably '
        'by another run; nothing was written, run the task again.' % tuple(str(conf / n) for n in names[:5]))


# --------------------------------------------------------------------------
# symbolic links (Debian's sites-enabled -> sites-available)
# --------------------------------------------------------------------------

@pytest.fixture
def linked(tmp_path, conf):
    available = tmp_path / 'etc' / 'nginx' / 'sites-available'
    available.mkdir()
    write(available / 'shop', b'server { listen 80; }\n', 0o640)
    os.symlink(str(available / 'shop'), str(conf / 'shop.conf'))
    return available / 'shop'


def test_writing_through_a_link_keeps_the_link_and_changes_the_target(tmp_path, conf, linked):
    nginx = Nginx(tmp_path)
    result = run(FakeModule(), [{'path': str(conf / 'shop.conf'), 'content': 'server { listen 81; }\n'}], nginx,
                 conf)
    assert result.kind == 'exit'
    assert os.readlink(str(conf / 'shop.conf')) == str(linked)
    assert read(linked) == b'server { listen 81; }\n'
    assert mode_of(linked) == 0o640
    assert staging_files(conf) == staging_files(linked.parent) == []


def test_removing_a_link_removes_only_the_link(tmp_path, conf, linked):
    nginx = Nginx(tmp_path)
    result = run(FakeModule(), [{'path': str(conf / 'shop.conf'), 'content': None}], nginx, conf)
    assert result.kind == 'exit' and result.kwargs['changed'] is True
    assert not os.path.lexists(str(conf / 'shop.conf'))
    assert read(linked) == b'server { listen 80; }\n'


@pytest.mark.parametrize('content', ['server { listen 81; }\n', None], ids=['write', 'remove'])
def test_a_failed_transaction_leaves_the_link_a_link(tmp_path, conf, linked, content):
    nginx = Nginx(tmp_path, 'exit 1\n')
    result = run(FakeModule(), [{'path': str(conf / 'shop.conf'), 'content': content}], nginx, conf)
    assert result.kind == 'fail'
    assert os.path.islink(str(conf / 'shop.conf'))
    assert os.readlink(str(conf / 'shop.conf')) == str(linked)
    assert (read(linked), mode_of(linked)) == (b'server { listen 80; }\n', 0o640)
    assert result.kwargs['restored'] == (['restored %s' % (conf / 'shop.conf')] if content else
                                         ['recreated the link %s -> %s' % (conf / 'shop.conf', linked)])


def test_a_dangling_link_is_written_through(tmp_path, conf):
    target = tmp_path / 'etc' / 'nginx' / 'sites-available-new'
    os.symlink(str(target), str(conf / 'new.conf'))
    result = run(FakeModule(), [{'path': str(conf / 'new.conf'), 'content': 'y\n'}], Nginx(tmp_path), conf)
    assert result.kind == 'exit'
    assert os.path.islink(str(conf / 'new.conf')) and read(target) == b'y\n'


# --------------------------------------------------------------------------
# the lock: one commit at a time on a proxy
# --------------------------------------------------------------------------

def test_a_second_lock_waits_and_raises_busy(tmp_path, state):
    conf_path = str(tmp_path / 'nginx.conf')
    with ProxyLock(conf_path, 5):
        started = time.monotonic()
        with pytest.raises(Busy) as exc:
            with ProxyLock(conf_path, 1):
                pass
        waited = time.monotonic() - started
    assert 1 <= waited < 5
    assert str(exc.value) == ('another balancer.nginx run (pid %d) has held the lock on %s for more than 1 s; run '
                              'the task again when it has finished' % (os.getpid(), conf_path))
    # released: the next one gets it at once
    with ProxyLock(conf_path, 0):
        pass


def test_a_lock_held_by_another_process_is_waited_for(tmp_path, state):
    conf_path = str(tmp_path / 'nginx.conf')
    lock_path = ProxyLock(conf_path, 0).path
    os.makedirs(str(state), exist_ok=True)
    holder = subprocess.Popen([sys.executable, '-c', (
        'import fcntl, os, sys, time\n'
        'fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n'
        'fcntl.flock(fd, fcntl.LOCK_EX)\n'
        'os.write(fd, b"31337")\n'
        'print("held", flush=True)\n'
        'time.sleep(2)\n'), lock_path], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b'held\n'
        with pytest.raises(Busy) as exc:
            with ProxyLock(conf_path, 0):
                pass
        assert str(exc.value).startswith('another balancer.nginx run (pid 31337) has held the lock on ')
        started = time.monotonic()
        with ProxyLock(conf_path, 20):
            assert time.monotonic() - started < 15
    finally:
        holder.wait()
        holder.stdout.close()


def test_busy_proxy_fails_the_commit_and_writes_nothing(tmp_path, conf, state, monkeypatch):
    nginx = Nginx(tmp_path)
    waits = []
    monkeypatch.setattr(_commit, 'lock_wait', lambda timeout: waits.append(timeout) or 1)
    with ProxyLock(nginx_conf(conf), 5):
        result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': 'x\n'}], nginx, conf, timeout=7)
    assert waits == [7]
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == (
        'another balancer.nginx run (pid %d) has held the lock on %s for more than 1 s; run the task again when it '
        'has finished.' % (os.getpid(), nginx_conf(conf)))
    assert read(conf / 'app.conf') == APP_BEFORE
    assert nginx.calls() == []


def test_lock_wait_covers_one_nginx_t():
    assert _commit.lock_wait(60) == 90
    assert _commit.lock_wait(1) == 31


# --------------------------------------------------------------------------
# the parts
# --------------------------------------------------------------------------

def test_state_dir_for_root_and_for_others(monkeypatch):
    # the function itself (the autouse fixture replaced _commit.state_dir); nothing is created
    monkeypatch.setattr(_commit, 'STATE_DIR', STATE_DIR)
    monkeypatch.setattr(os, 'geteuid', lambda: 0)
    assert STATE_DIR == '/var/lib/balancer-nginx'
    assert STATE_DIR_OF() == '/var/lib/balancer-nginx'
    monkeypatch.setattr(os, 'geteuid', lambda: 1000)
    monkeypatch.setenv('HOME', '/home/deploy')
    assert STATE_DIR_OF() == '/home/deploy/.cache/balancer-nginx'


def test_unchanged_files_are_not_staged(conf):
    tx = Transaction(FakeModule(), 'nginx', '/etc/nginx/nginx.conf')
    before = os.stat(str(conf / 'app.conf'))
    assert tx.plan([{'path': str(conf / 'app.conf'), 'content': APP_BEFORE.decode()},
                    {'path': str(conf / 'gone.conf'), 'content': None}]) == []
    tx.stage()
    assert os.stat(str(conf / 'app.conf')).st_ino == before.st_ino
    assert [r['changed'] for r in tx.results()] == [False, False]


def test_plan_refuses_a_stale_file_with_a_failure(conf):
    tx = Transaction(FakeModule(), 'nginx', '/etc/nginx/nginx.conf')
    with pytest.raises(Failure) as exc:
        tx.plan([{'path': str(conf / 'app.conf'), 'content': 'x\n'}], expected={str(conf / 'app.conf'): None})
    assert exc.value.msg == (
        '%s: the file changed on the proxy after it was read (expected absent, found '
        'b8cbdd9ec3029d0842ffeeb3a6138c30994f0b75); nothing was written, run the task again.' % (conf / 'app.conf'))


def test_content_is_written_byte_for_byte(tmp_path, conf):
    # the transport gives text; any byte (Latin-1 files) comes as a surrogate and goes back as the byte
    result = run(FakeModule(), [{'path': str(conf / 'app.conf'), 'content': '# caf\udce9 caf\u00e9\n'}],
                 Nginx(tmp_path), conf)
    assert result.kind == 'exit'
    assert read(conf / 'app.conf') == b'# caf\xe9 caf\xc3\xa9\n'


def test_staging_files_are_hidden_and_never_left_behind(tmp_path, conf):
    seen = tmp_path / 'seen'
    nginx = Nginx(tmp_path, 'ls -a %s > %s\nexit 1\n' % (conf, seen))
    module = FakeModule()
    run(module, [{'path': str(conf / 'app.conf'), 'content': 'x\n'}], nginx, conf)
    assert read(seen).decode().split() == ['.', '..', 'app.conf', 'old.conf']
    assert listing(conf) == ['app.conf', 'old.conf']


def test_read_bytes(tmp_path):
    assert _commit.read_bytes(str(tmp_path / 'missing')) is None
    assert _commit.read_bytes(str(tmp_path / 'missing' / 'below')) is None
    write(tmp_path / 'f', b'abc')
    assert _commit.read_bytes(str(tmp_path / 'f')) == b'abc'
    assert _commit.read_bytes(str(tmp_path / 'f' / 'below')) is None     # ENOTDIR: absent
    with pytest.raises(OSError):
        _commit.read_bytes(str(tmp_path))               # a directory is an error, not "absent"


def test_guard_intercepts_fail_json_and_signals(signals):
    module = FakeModule()
    with _commit.Guard(module) as guard:
        with pytest.raises(_commit.ModuleFailed) as failed:
            module.fail_json(msg='chown failed', path='/x')
        assert (failed.value.msg, failed.value.extra) == ('chown failed', {'path': '/x'})
        with pytest.raises(_commit.ModuleFailed) as failed:
            module.fail_json()
        assert failed.value.msg == 'failed'
        with pytest.raises(_commit.Interrupted) as interrupted:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        assert (interrupted.value.signum, interrupted.value.name) == (signal.SIGTERM, 'SIGTERM')
        guard.hold_signals()
        os.kill(os.getpid(), signal.SIGHUP)         # ignored while restoring
    with pytest.raises(Exit):
        module.fail_json(msg='the module\'s own again')
    assert all(signal.getsignal(s) is signals for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT))


# -- many files: staged first, one syncfs, then renamed ---------------------------

class SyncCalls(object):
    """The fsync(2) calls of staged files and the syncfs(2) calls made by _commit (the real fsyncs still run)."""

    def __init__(self, monkeypatch, syncfs_fails=False):
        self.fsyncs = []
        self.syncfs = []
        real_fsync = os.fsync

        def fsync(fd):
            self.fsyncs.append(os.readlink('/proc/self/fd/%d' % fd))
            real_fsync(fd)

        def syncfs(fd):
            self.syncfs.append(os.fstat(fd).st_dev)
            if syncfs_fails:
                raise OSError(1, 'Operation not permitted')
        monkeypatch.setattr(_commit.os, 'fsync', fsync)
        monkeypatch.setattr(_commit, '_SYNCFS', [syncfs])

    @property
    def fsync(self):
        """How many staged files (``.balancer-*``) got an fsync of their own (the journal's are not counted)."""
        return len([p for p in self.fsyncs if os.path.basename(p).startswith(_commit.STAGING_PREFIX)])


def many(conf, count, tag='x'):
    return [{'path': str(conf / ('g%03d.conf' % i)), 'content': 'upstream g%d { server 10.0.0.%s:80; }\n' % (i, tag)}
            for i in range(count)]


def test_many_files_are_made_durable_by_one_syncfs_not_an_fsync_each(tmp_path, conf, monkeypatch):
    calls = SyncCalls(monkeypatch)
    files = many(conf, _commit.SYNCFS_FROM)
    result = run(FakeModule(), files, Nginx(tmp_path), conf)
    assert result.kind == 'exit' and result.kwargs['changed'] is True
    assert calls.syncfs == [os.stat(str(conf)).st_dev]
    assert calls.fsync == 0
    assert all(read(f['path']) == f['content'].encode() for f in files)
    assert staging_files(conf) == []


def test_a_few_files_keep_an_fsync_each_and_no_syncfs(tmp_path, conf, monkeypatch):
    calls = SyncCalls(monkeypatch)
    result = run(FakeModule(), many(conf, _commit.SYNCFS_FROM - 1), Nginx(tmp_path), conf)
    assert result.kind == 'exit'
    assert calls.syncfs == []
    assert calls.fsync == _commit.SYNCFS_FROM - 1


def test_a_refused_syncfs_falls_back_to_an_fsync_each(tmp_path, conf, monkeypatch):
    calls = SyncCalls(monkeypatch, syncfs_fails=True)
    files = many(conf, _commit.SYNCFS_FROM)
    result = run(FakeModule(), files, Nginx(tmp_path), conf)
    assert result.kind == 'exit'
    assert len(calls.syncfs) == 1
    assert calls.fsync == len(files)
    assert all(read(f['path']) == f['content'].encode() for f in files)


def test_a_staging_write_that_fails_touches_no_live_file(tmp_path, conf, monkeypatch, state):
    # every file is staged before the first rename: a full disk while staging the last one changes nothing
    real = _commit._write_staging
    written = []

    def staging(directory, data, sync=True):
        if len(written) == _commit.SYNCFS_FROM:
            raise OSError(28, 'No space left on device')
        written.append(real(directory, data, sync))
        return written[-1]
    monkeypatch.setattr(_commit, '_write_staging', staging)
    nginx = Nginx(tmp_path)
    files = [{'path': str(conf / 'app.conf'), 'content': 'x\n'}] + many(conf, _commit.SYNCFS_FROM)
    result = run(FakeModule(), files, nginx, conf)
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == ('Writing the configuration failed while writing the files: [Errno 28] No space '
                                    'left on device -- Restored: nothing had been written.')
    assert len(written) == _commit.SYNCFS_FROM and not any(os.path.exists(p) for p in written)
    assert read(conf / 'app.conf') == APP_BEFORE
    assert listing(conf) == ['app.conf', 'old.conf']
    assert nginx.calls() == [] and journals(state) == []


def test_a_move_that_fails_in_a_batch_restores_the_earlier_files(tmp_path, conf, monkeypatch):
    SyncCalls(monkeypatch)
    files = [{'path': str(conf / 'app.conf'), 'content': 'x\n'}] + many(conf, _commit.SYNCFS_FROM)
    module = FakeModule(broken={'g010.conf': OSError(28, 'No space left on device')})
    result = run(module, files, Nginx(tmp_path), conf)
    assert result.kind == 'fail'
    restored = ['removed %s (it did not exist before)' % (conf / ('g%03d.conf' % i)) for i in range(9, -1, -1)]
    assert result.kwargs['restored'] == restored + ['restored %s' % (conf / 'app.conf')]
    assert read(conf / 'app.conf') == APP_BEFORE and mode_of(conf / 'app.conf') == 0o640
    assert listing(conf) == ['app.conf', 'old.conf']


def test_syncfs_comes_from_the_c_library():
    syncfs = _commit._load_syncfs()
    assert syncfs is not None, 'glibc has syncfs since 2.14'
    handle = os.open('.', os.O_RDONLY)
    try:
        assert syncfs(handle) is None
        with pytest.raises(OSError):
            syncfs(-1)
    finally:
        os.close(handle)
