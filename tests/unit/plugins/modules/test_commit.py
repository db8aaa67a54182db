# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/modules/commit.py: main() with Ansible's own AnsibleModule (atomic_move, file attributes).

Only exit_json/fail_json are patched (conftest.py); the transaction inside is
_commit's, run against a stub nginx in tmp_path.  The state directory is
under tmp_path.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.balancer.nginx.plugins.module_utils import _commit
from ansible_collections.balancer.nginx.plugins.modules import commit

BEFORE = b'upstream app { server 10.0.0.1:80; }\n'


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    directory = tmp_path / 'state'
    monkeypatch.setattr(_commit, 'STATE_DIR', str(directory))
    monkeypatch.setattr(_commit, 'state_dir', lambda: str(directory))
    return directory


@pytest.fixture
def proxy(tmp_path):
    conf_d = tmp_path / 'conf.d'
    conf_d.mkdir()
    (conf_d / 'app.conf').write_bytes(BEFORE)
    os.chmod(str(conf_d / 'app.conf'), 0o640)
    (tmp_path / 'nginx.conf').write_text('events {}\n')
    return conf_d


def nginx(tmp_path, body):
    path = tmp_path / 'nginx'
    path.write_text('#!/bin/sh\necho "$@" >> %s\n%s' % (tmp_path / 'calls', body))
    path.chmod(0o755)
    return str(path)


def calls(tmp_path):
    return (tmp_path / 'calls').read_text().splitlines() if (tmp_path / 'calls').exists() else []


def args(tmp_path, files, **kw):
    result = {'files': files, 'nginx_binary': str(tmp_path / 'nginx'), 'nginx_conf': str(tmp_path / 'nginx.conf')}
    result.update(kw)
    return result


def test_content_is_required_with_state_present(run_module, tmp_path, proxy):
    nginx(tmp_path, 'exit 0\n')
    result, failed = run_module(commit, args(tmp_path, [{'path': str(proxy / 'app.conf')}]))
    assert failed
    assert result['msg'] == 'files[0].content: is required with state=present; give the text of %s.' % (
        proxy / 'app.conf')
    assert calls(tmp_path) == []


def test_write_with_mode_through_ansible_s_helpers(run_module, tmp_path, proxy):
    nginx(tmp_path, 'exit 0\n')
    result, failed = run_module(commit, args(tmp_path, [
        {'path': str(proxy / 'app.conf'), 'content': 'x\n'},
        {'path': str(proxy / 'new.conf'), 'content': 'y\n'}], mode='0600'))
    assert not failed, result
    assert result['changed'] is True
    assert result['recovered'] == []
    assert calls(tmp_path) == ['-t -c %s' % (tmp_path / 'nginx.conf')]
    assert (proxy / 'app.conf').read_bytes() == b'x\n' and (proxy / 'new.conf').read_bytes() == b'y\n'
    assert stat.S_IMODE(os.stat(str(proxy / 'app.conf')).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(proxy / 'new.conf')).st_mode) == 0o600
    assert sorted(os.listdir(str(proxy))) == ['app.conf', 'new.conf']


def test_an_invalid_owner_restores_and_fails_with_a_message(run_module, tmp_path, proxy):
    nginx(tmp_path, 'exit 0\n')
    result, failed = run_module(commit, args(tmp_path, [
        {'path': str(proxy / 'app.conf'), 'content': 'x\n'},
        {'path': str(proxy / 'new.conf'), 'content': 'y\n'}], owner='no-such-user-balancer', mode='0600'))
    assert failed
    assert result['msg'] == (
        'Writing the configuration failed while applying owner, group and mode: chown failed: failed to look up '
        'user no-such-user-balancer -- Restored: removed %s (it did not exist before); restored %s.'
        % (proxy / 'new.conf', proxy / 'app.conf'))
    assert (proxy / 'app.conf').read_bytes() == BEFORE
    assert stat.S_IMODE(os.stat(str(proxy / 'app.conf')).st_mode) == 0o640
    assert sorted(os.listdir(str(proxy))) == ['app.conf']
    assert calls(tmp_path) == []


def test_a_rejected_nginx_t_restores(run_module, tmp_path, proxy):
    nginx(tmp_path, 'echo "nginx: [emerg] unknown directive \\"x\\" in %s:1" >&2\nexit 1\n' % (proxy / 'app.conf'))
    result, failed = run_module(commit, args(tmp_path, [
        {'path': str(proxy / 'app.conf'), 'content': 'x;\n'},
        {'path': str(proxy / 'app.conf.bak'), 'state': 'absent'}]))
    assert failed
    assert result['msg'] == (
        'nginx -t rejected the change, so nothing was kept: nginx: [emerg] unknown directive "x" in %s:1 -- '
        'Restored: restored %s.' % (proxy / 'app.conf', proxy / 'app.conf'))
    assert result['nginx_test']['file'] == str(proxy / 'app.conf')
    assert result['restored'] == ['restored %s' % (proxy / 'app.conf')]
    assert (proxy / 'app.conf').read_bytes() == BEFORE


def test_internal_options_reach_the_transaction(run_module, tmp_path, proxy):
    nginx(tmp_path, 'exit 0\n')
    result, failed = run_module(commit, args(tmp_path, [{'path': str(proxy / 'app.conf'), 'content': 'x\n'}],
                                             _expected={str(proxy / 'app.conf'): None}))
    assert failed
    assert result['msg'] == (
        '%s: the file changed on the proxy after it was read (expected absent, found '
        'b8cbdd9ec3029d0842ffeeb3a6138c30994f0b75); nothing was written, run the task again.' % (proxy / 'app.conf'))
    read_set = {'files': {str(proxy / 'app.conf'): '1:2:3'}, 'dirs': {}}
    result, failed = run_module(commit, args(tmp_path, [{'path': str(proxy / 'app.conf'), 'content': 'x\n'}],
                                             _read_set=read_set))
    assert failed
    assert result['msg'] == ('The configuration changed on the proxy after this run read it (%s), probably by '
                             'another run; nothing was written, run the task again.' % (proxy / 'app.conf'))
    assert (proxy / 'app.conf').read_bytes() == BEFORE
    assert calls(tmp_path) == []


def test_backups_go_to_backup_dir(run_module, tmp_path, proxy):
    nginx(tmp_path, 'exit 0\n')
    result, failed = run_module(commit, args(tmp_path, [{'path': str(proxy / 'app.conf'), 'content': 'x\n'}],
                                             backup=True, backup_dir=str(tmp_path / 'backups')))
    assert not failed, result
    backup = result['files'][0]['backup_file']
    assert os.path.dirname(backup) == str(tmp_path / 'backups') + str(proxy)
    assert os.path.basename(backup).startswith('app.conf.') and backup.endswith('.%d~' % os.getpid())
    with open(backup, 'rb') as handle:
        assert handle.read() == BEFORE
    assert sorted(os.listdir(str(proxy))) == ['app.conf']


def test_a_timeout_restores(run_module, tmp_path, proxy):
    nginx(tmp_path, 'sleep 30\n')
    result, failed = run_module(commit, args(tmp_path, [{'path': str(proxy / 'app.conf'), 'content': 'x\n'}],
                                             nginx_timeout=1))
    assert failed
    assert result['msg'] == (
        'nginx_timeout: "nginx -t -c %s" did not finish within 1 s and was stopped; find out why Nginx hangs (a '
        'name lookup or a file on a slow mount?) or raise nginx_timeout -- Restored: restored %s.'
        % (tmp_path / 'nginx.conf', proxy / 'app.conf'))
    assert (proxy / 'app.conf').read_bytes() == BEFORE


def test_mkdirs_and_keep_attributes_reach_the_transaction(run_module, tmp_path, proxy):
    # what the action plugins send for a stream item: stream.d may be created; nginx.conf keeps its mode
    nginx(tmp_path, 'exit 0\n')
    stream_d = tmp_path / 'stream.d'
    main = tmp_path / 'nginx.conf'
    os.chmod(str(main), 0o600)
    result, failed = run_module(commit, args(tmp_path, [
        {'path': str(stream_d / 'pg.conf'), 'content': 'upstream pg { server a:1; }\n'},
        {'path': str(main), 'content': 'events {}\nstream {\n    include %s/*.conf;\n}\n' % stream_d}],
        mode='0640', _mkdirs=[str(stream_d)], _keep_attributes=[str(main)]))
    assert not failed, result
    assert result['changed'] is True
    assert (stream_d / 'pg.conf').read_bytes() == b'upstream pg { server a:1; }\n'
    assert stat.S_IMODE(os.stat(str(stream_d / 'pg.conf')).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(str(main)).st_mode) == 0o600
    assert calls(tmp_path) == ['-t -c %s' % main]


def test_a_rejected_nginx_t_removes_the_created_directory(run_module, tmp_path, proxy):
    nginx(tmp_path, 'exit 1\n')
    stream_d = tmp_path / 'stream.d'
    result, failed = run_module(commit, args(tmp_path, [{'path': str(stream_d / 'pg.conf'), 'content': 'x\n'}],
                                             _mkdirs=[str(stream_d)]))
    assert failed
    assert result['restored'] == ['removed %s (it did not exist before)' % (stream_d / 'pg.conf'),
                                  'removed the directory %s (it did not exist before)' % stream_d]
    assert not stream_d.exists()


def test_without_mkdirs_a_missing_directory_is_refused(run_module, tmp_path, proxy):
    nginx(tmp_path, 'exit 0\n')
    stream_d = tmp_path / 'stream.d'
    result, failed = run_module(commit, args(tmp_path, [{'path': str(stream_d / 'pg.conf'), 'content': 'x\n'}]))
    assert failed
    assert result['msg'] == ('%s: the directory %s does not exist; create it or choose another conf_dir/path.'
                             % (stream_d / 'pg.conf', stream_d))
    assert not stream_d.exists()
    assert calls(tmp_path) == []


def test_the_result_does_not_echo_the_contents_back(tmp_path, proxy, capsys):
    # Ansible's own exit_json: the invocation names each file and its state, without the text the controller sent
    nginx(tmp_path, 'exit 0\n')
    content = 'upstream app { server 10.9.8.7:80; }\n'
    with patch_module_args(args(tmp_path, [{'path': str(proxy / 'app.conf'), 'content': content}])):
        with pytest.raises(SystemExit):
            commit.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    assert result['changed'] is True
    assert result['invocation']['module_args']['files'] == [{'path': str(proxy / 'app.conf'), 'state': 'present'}]
    assert '10.9.8.7' not in out
    assert (proxy / 'app.conf').read_text() == content
