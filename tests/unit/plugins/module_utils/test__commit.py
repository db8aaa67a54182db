# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_commit.py: stage, one nginx -t, keep or restore, in a temp dir."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _commit
from ansible_collections.balancer.nginx.plugins.module_utils._commit import Transaction, run_transaction, sha1

NGINX_T_FAIL = ('nginx: [emerg] host not found in upstream "x:80" in %s:3\n'
                'nginx: configuration file /etc/nginx/nginx.conf test failed\n')


class Exit(SystemExit):
    """AnsibleModule.exit_json/fail_json end the process: SystemExit, never caught as an Exception."""

    def __init__(self, kind, kwargs):
        super(Exit, self).__init__(kwargs.get('msg'))
        self.kind = kind
        self.kwargs = kwargs


class FakeModule(object):
    """The AnsibleModule methods the transaction uses, and a record of the calls."""

    def __init__(self, rc=0, out='', err='', check_mode=False, attrs_changed=False):
        self.rc = rc
        self.out = out
        self.err = err
        self.check_mode = check_mode
        self.attrs_changed = attrs_changed
        self.params = {'unsafe_writes': False}
        self.commands = []
        self.backups = []
        self.attrs = []

    def atomic_move(self, src, dest, unsafe_writes=False):
        os.replace(src, dest)

    def backup_local(self, path):
        backup = path + '.bak'
        with open(path, 'rb') as src, open(backup, 'wb') as dst:
            dst.write(src.read())
        self.backups.append(path)
        return backup

    def run_command(self, args, errors=None):
        self.commands.append(list(args))
        return self.rc, self.out, self.err

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/sbin/' + name

    def set_fs_attributes_if_different(self, args, changed):
        self.attrs.append(args)
        return changed or self.attrs_changed

    def fail_json(self, **kwargs):
        raise Exit('fail', kwargs)

    def exit_json(self, **kwargs):
        raise Exit('exit', kwargs)


def write(path, data, mode=0o644):
    with open(str(path), 'wb') as handle:
        handle.write(data)
    os.chmod(str(path), mode)


def read(path):
    with open(str(path), 'rb') as handle:
        return handle.read()


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


@pytest.fixture
def conf(tmp_path):
    directory = tmp_path / 'conf.d'
    directory.mkdir()
    write(directory / 'app.conf', b'upstream app { server 10.0.0.1:80; }\n', 0o640)
    write(directory / 'old.conf', b'upstream old { server 10.0.0.9:80; }\n', 0o600)
    return directory


def listing(directory):
    return sorted(os.listdir(str(directory)))


def test_stage_and_validate_ok_keeps_the_files(conf):
    module = FakeModule(rc=0, err='nginx: configuration file /etc/nginx/nginx.conf test is successful\n')
    tx = Transaction(module, '/usr/sbin/nginx', '/etc/nginx/nginx.conf')
    files = [{'path': str(conf / 'app.conf'), 'content': 'upstream app { server 10.0.0.2:80; }\n'},
             {'path': str(conf / 'new.conf'), 'content': 'upstream new { server 10.0.0.3:80; }\n'},
             {'path': str(conf / 'old.conf'), 'content': None}]
    changes = tx.plan(files)
    assert [e.path for e in changes] == [f['path'] for f in files]
    tx.stage()
    ok, output = tx.validate()
    assert ok is True
    assert output == 'nginx: configuration file /etc/nginx/nginx.conf test is successful\n'
    assert module.commands == [['/usr/sbin/nginx', '-t', '-c', '/etc/nginx/nginx.conf']]
    assert read(conf / 'app.conf') == b'upstream app { server 10.0.0.2:80; }\n'
    assert read(conf / 'new.conf') == b'upstream new { server 10.0.0.3:80; }\n'
    assert listing(conf) == ['app.conf', 'new.conf']    # no temp files left behind
    assert tx.results() == [
        {'path': str(conf / 'app.conf'), 'changed': True, 'state': 'present', 'backup_file': None},
        {'path': str(conf / 'new.conf'), 'changed': True, 'state': 'present', 'backup_file': None},
        {'path': str(conf / 'old.conf'), 'changed': True, 'state': 'absent', 'backup_file': None},
    ]


def test_validate_failure_restores_every_byte_and_mode(conf):
    app_before = read(conf / 'app.conf')
    old_before = read(conf / 'old.conf')
    module = FakeModule(rc=1, err=NGINX_T_FAIL % (conf / 'app.conf'))
    tx = Transaction(module, '/usr/sbin/nginx', '/etc/nginx/nginx.conf')
    tx.plan([{'path': str(conf / 'app.conf'), 'content': 'upstream app { server x:80; }\n'},
             {'path': str(conf / 'new.conf'), 'content': 'upstream new { server 10.0.0.3:80; }\n'},
             {'path': str(conf / 'old.conf'), 'content': None}])
    tx.stage()
    assert read(conf / 'app.conf') == b'upstream app { server x:80; }\n'
    ok, output = tx.validate()
    assert ok is False
    done = tx.restore()
    assert done == ['restored %s' % (conf / 'old.conf'),
                    'removed %s (it did not exist before)' % (conf / 'new.conf'),
                    'restored %s' % (conf / 'app.conf')]
    assert read(conf / 'app.conf') == app_before
    assert read(conf / 'old.conf') == old_before
    assert mode_of(conf / 'app.conf') == 0o640
    assert mode_of(conf / 'old.conf') == 0o600
    assert listing(conf) == ['app.conf', 'old.conf']
    assert tx.restore() == []                           # nothing left to restore


def test_unchanged_files_are_not_staged(conf):
    module = FakeModule()
    tx = Transaction(module, 'nginx', '/etc/nginx/nginx.conf')
    before = os.stat(str(conf / 'app.conf'))
    assert tx.plan([{'path': str(conf / 'app.conf'), 'content': read(conf / 'app.conf').decode()},
                    {'path': str(conf / 'gone.conf'), 'content': None}]) == []
    tx.stage()
    assert os.stat(str(conf / 'app.conf')).st_ino == before.st_ino
    assert [r['changed'] for r in tx.results()] == [False, False]


def test_expected_sha_mismatch_refuses_and_writes_nothing(conf):
    module = FakeModule()
    tx = Transaction(module, 'nginx', '/etc/nginx/nginx.conf')
    stale = sha1(b'what the controller read earlier\n')
    with pytest.raises(Exit) as exc:
        tx.plan([{'path': str(conf / 'app.conf'), 'content': 'upstream app {}\n'}],
                expected={str(conf / 'app.conf'): stale})
    have = sha1(read(conf / 'app.conf'))
    assert exc.value.kind == 'fail'
    assert exc.value.kwargs['msg'] == (
        '%s: the file changed on the proxy after it was read (expected %s, found %s); nothing was written, '
        'run the task again.' % (conf / 'app.conf', stale, have))
    assert read(conf / 'app.conf') == b'upstream app { server 10.0.0.1:80; }\n'
    assert module.commands == []


def test_expected_absent_but_file_appeared(conf):
    tx = Transaction(FakeModule(), 'nginx', '/etc/nginx/nginx.conf')
    with pytest.raises(Exit) as exc:
        tx.plan([{'path': str(conf / 'app.conf'), 'content': 'x\n'}], expected={str(conf / 'app.conf'): None})
    assert exc.value.kwargs['msg'] == (
        '%s: the file changed on the proxy after it was read (expected absent, found %s); nothing was written, '
        'run the task again.' % (conf / 'app.conf', sha1(read(conf / 'app.conf'))))


def test_expected_present_but_file_gone(conf):
    tx = Transaction(FakeModule(), 'nginx', '/etc/nginx/nginx.conf')
    with pytest.raises(Exit) as exc:
        tx.plan([{'path': str(conf / 'gone.conf'), 'content': 'x\n'}], expected={str(conf / 'gone.conf'): 'abc'})
    assert exc.value.kwargs['msg'] == (
        '%s: the file changed on the proxy after it was read (expected abc, found absent); nothing was written, '
        'run the task again.' % (conf / 'gone.conf'))
    assert not (conf / 'gone.conf').exists()


def test_expected_sha_match_is_accepted(conf):
    tx = Transaction(FakeModule(), 'nginx', '/etc/nginx/nginx.conf')
    changes = tx.plan([{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                       {'path': str(conf / 'new.conf'), 'content': 'y\n'}],
                      expected={str(conf / 'app.conf'): sha1(read(conf / 'app.conf')), str(conf / 'new.conf'): None})
    assert len(changes) == 2


def test_backup_copies_the_previous_file(conf):
    module = FakeModule()
    tx = Transaction(module, 'nginx', '/etc/nginx/nginx.conf')
    tx.plan([{'path': str(conf / 'app.conf'), 'content': 'x\n'}, {'path': str(conf / 'new.conf'), 'content': 'y\n'}])
    tx.stage(backup=True)
    assert module.backups == [str(conf / 'app.conf')]     # a new file has nothing to back up
    assert read(conf / 'app.conf.bak') == b'upstream app { server 10.0.0.1:80; }\n'
    assert tx.results()[0]['backup_file'] == str(conf / 'app.conf.bak')


def test_stage_into_a_missing_directory_restores_and_fails(conf):
    module = FakeModule()
    tx = Transaction(module, 'nginx', '/etc/nginx/nginx.conf')
    tx.plan([{'path': str(conf / 'app.conf'), 'content': 'x\n'},
             {'path': str(conf / 'nodir' / 'new.conf'), 'content': 'y\n'}])
    with pytest.raises(Exit) as exc:
        tx.stage()
    assert exc.value.kwargs['msg'] == ('%s: the directory %s does not exist; create it or choose another '
                                       'conf_dir/path.' % (conf / 'nodir' / 'new.conf', conf / 'nodir'))
    assert read(conf / 'app.conf') == b'upstream app { server 10.0.0.1:80; }\n'


# -- run_transaction: the whole target-side step ------------------------------

def run(module, files, **kw):
    with pytest.raises(Exit) as exc:
        run_transaction(module, files, 'nginx', '/etc/nginx/nginx.conf', **kw)
    return exc.value


def test_run_one_nginx_t_for_several_files(conf):
    module = FakeModule(rc=0, err='nginx: configuration file /etc/nginx/nginx.conf test is successful\n')
    files = [{'path': str(conf / ('%d.conf' % i)), 'content': 'upstream u%d { server 10.0.0.%d:80; }\n' % (i, i)}
             for i in range(5)]
    result = run(module, files)
    assert result.kind == 'exit'
    assert result.kwargs['changed'] is True
    assert result.kwargs['nginx_test'] == {
        'ok': True, 'output': 'nginx: configuration file /etc/nginx/nginx.conf test is successful\n'}
    assert module.commands == [['/usr/sbin/nginx', '-t', '-c', '/etc/nginx/nginx.conf']]
    assert [read(f['path']).decode() for f in files] == [f['content'] for f in files]


def test_run_validate_failure_restores_and_reports_nginx_verbatim(conf):
    output = NGINX_T_FAIL % (conf / 'new.conf')
    module = FakeModule(rc=1, err=output)
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': 'upstream app { server 10.0.0.5:80; }\n'},
                          {'path': str(conf / 'new.conf'), 'content': 'upstream new { server x:80; }\n'}])
    assert result.kind == 'fail'
    assert result.kwargs['msg'] == (
        'nginx -t rejected the change, so nothing was kept: %s -- Restored: removed %s (it did not exist '
        'before); restored %s.' % (output.strip(), conf / 'new.conf', conf / 'app.conf'))
    assert result.kwargs['nginx_test'] == {'ok': False, 'file': str(conf / 'new.conf'), 'line': 3,
                                           'message': 'host not found in upstream "x:80"',
                                           'output': output}
    assert result.kwargs['restored'] == ['removed %s (it did not exist before)' % (conf / 'new.conf'),
                                         'restored %s' % (conf / 'app.conf')]
    assert read(conf / 'app.conf') == b'upstream app { server 10.0.0.1:80; }\n'
    assert mode_of(conf / 'app.conf') == 0o640
    assert listing(conf) == ['app.conf', 'old.conf']
    assert len(module.commands) == 1


def test_run_nothing_changed_runs_no_nginx_t(conf):
    module = FakeModule()
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': read(conf / 'app.conf').decode()}])
    assert result.kwargs == {'changed': False, 'nginx_test': None, 'files': [
        {'path': str(conf / 'app.conf'), 'changed': False, 'state': 'present', 'backup_file': None}]}
    assert module.commands == []


def test_run_validate_false_runs_no_nginx_t(conf):
    module = FakeModule(rc=1)
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': 'x\n'}], validate=False)
    assert result.kind == 'exit' and result.kwargs['changed'] is True and result.kwargs['nginx_test'] is None
    assert module.commands == []
    assert read(conf / 'app.conf') == b'x\n'


def test_run_check_mode_writes_nothing(conf):
    module = FakeModule(check_mode=True)
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                          {'path': str(conf / 'old.conf'), 'content': None}])
    assert result.kind == 'exit' and result.kwargs['changed'] is True and result.kwargs['nginx_test'] is None
    assert module.commands == []
    assert listing(conf) == ['app.conf', 'old.conf']
    assert read(conf / 'app.conf') == b'upstream app { server 10.0.0.1:80; }\n'


def test_run_expected_mismatch_runs_no_nginx_t(conf):
    module = FakeModule()
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': 'x\n'}],
                 expected={str(conf / 'app.conf'): sha1(b'other')})
    assert result.kind == 'fail'
    assert module.commands == []
    assert read(conf / 'app.conf') == b'upstream app { server 10.0.0.1:80; }\n'


def test_run_unexpected_error_restores(conf):
    module = FakeModule()

    def broken_move(src, dest, unsafe_writes=False):
        if dest.endswith('new.conf'):
            raise OSError(28, 'No space left on device')
        os.replace(src, dest)

    module.atomic_move = broken_move
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': 'x\n'},
                          {'path': str(conf / 'new.conf'), 'content': 'y\n'}])
    assert result.kind == 'fail'
    # new.conf was being written when the error came: it is made sure to be absent again
    restored = ['removed %s (it did not exist before)' % (conf / 'new.conf'), 'restored %s' % (conf / 'app.conf')]
    assert result.kwargs['msg'] == ('Writing the configuration failed ([Errno 28] No space left on device); '
                                    'restored: %s.' % '; '.join(restored))
    assert result.kwargs['restored'] == restored
    assert 'Traceback' in result.kwargs['exception']
    assert read(conf / 'app.conf') == b'upstream app { server 10.0.0.1:80; }\n'
    assert listing(conf) == ['app.conf', 'old.conf']
    assert module.commands == []


def test_run_attributes_only_change(conf):
    module = FakeModule(attrs_changed=True)
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': read(conf / 'app.conf').decode()}],
                 file_args_for=lambda path: {'path': path, 'mode': '0644'})
    assert result.kind == 'exit' and result.kwargs['changed'] is True
    assert module.attrs == [{'path': str(conf / 'app.conf'), 'mode': '0644'}]
    assert module.commands == []          # same bytes: no nginx -t


def test_run_check_mode_reports_an_attributes_only_change_like_the_real_run(conf):
    # STYLE.md: only the write looks at check_mode, so check-mode `changed` equals the real run's.  The real
    # run above reports changed=true for a mode change alone; AnsibleModule.set_fs_attributes_if_different
    # reports that change in check mode too, without applying it.
    module = FakeModule(check_mode=True, attrs_changed=True)
    result = run(module, [{'path': str(conf / 'app.conf'), 'content': read(conf / 'app.conf').decode()}],
                 file_args_for=lambda path: {'path': path, 'mode': '0644'})
    assert result.kind == 'exit'
    assert result.kwargs['changed'] is True
    assert mode_of(conf / 'app.conf') == 0o640


def test_read_bytes(tmp_path):
    assert _commit.read_bytes(str(tmp_path / 'missing')) is None
    write(tmp_path / 'f', b'abc')
    assert _commit.read_bytes(str(tmp_path / 'f')) == b'abc'
    with pytest.raises(OSError):
        _commit.read_bytes(str(tmp_path))               # a directory is an error, not "absent"
