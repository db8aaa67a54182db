# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/action/config_info.py: one snapshot, parsed on the controller; never a commit."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.balancer.nginx.plugins.action.config_info import ActionModule

NGINX_CONF = '/etc/nginx/nginx.conf'
A_CONF = '/etc/nginx/conf.d/a.conf'
MAIN = 'events {\n}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n'
A_TEXT = ('upstream app {\n'
          '    server 10.0.0.1:80 weight=2;\n'
          '    server x:80;\n'
          '}\n'
          'server {\n'
          '    listen 80;\n'
          '    location / {\n'
          '        proxy_pass http://app;\n'
          '    }\n'
          '}\n'
          'upstream other {\n'
          '    server 10.0.0.2:80;\n'
          '}\n')
FAILED_TEST = 'nginx: [emerg] host not found in upstream "x:80" in /etc/nginx/conf.d/a.conf:3'


def snapshot_result(ok=True, error=None, version='1.22.1', files=None, recovered=None):
    # the transport: every byte as the Latin-1 character of the same number (ASCII stays as it is)
    return {'changed': False, 'nginx': {'version': version, 'plus': False},
            'config': {'ok': ok, 'source': 'nginx -T' if ok else 'files',
                       'files': files or {NGINX_CONF: MAIN, A_CONF: A_TEXT}, 'error': error, 'encoding': 'latin-1',
                       'real': {}},
            'paths': {}, 'dirs': {}, 'read_set': {'files': {}, 'dirs': {}}, 'recovered': recovered or []}


def run(args, answer, check_mode=False):
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append((module_name, module_args))
        return answer

    task = MagicMock(Task)
    task.async_val = False
    task.args = args
    task.check_mode = check_mode
    task.diff = False
    task.action = 'balancer.nginx.config_info'
    action = ActionModule(task, MagicMock(), PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    action._execute_module = MagicMock(side_effect=execute_module)
    return action.run(task_vars={}), calls


def test_one_snapshot_no_commit_no_test_key():
    result, calls = run({}, snapshot_result())
    assert calls == [('balancer.nginx.snapshot', {'nginx_binary': 'nginx', 'nginx_conf': NGINX_CONF,
                                                  'nginx_timeout': 60, '_paths': [], '_dirs': []})]
    assert 'test' not in result
    assert result['changed'] is False
    assert sorted(result['upstreams']) == ['app', 'other']
    assert result['upstreams']['app']['references'] == [{'file': A_CONF, 'line': 8}]
    assert result['upstreams']['app']['unknown'] == []
    assert result['stream_upstreams'] == {}
    assert result['upstreams']['app']['options']['servers'][0] == {
        'address': '10.0.0.1:80', 'weight': 2, 'backup': False, 'down': False, 'resolve': False, 'drain': False}
    assert result['vhosts'] == [{'file': A_CONF, 'line': 5, 'server_name': [], 'listen': ['80'],
                                 'locations': [{'path': '/', 'proxy_pass': 'http://app'}]}]
    assert result['undefined_upstreams'] == []
    assert result['unsupported'] == []
    assert result['log_formats'] == {}
    assert result['nginx'] == {'version': '1.22.1', 'plus': False}


def test_options_passed_to_snapshot():
    dummy, calls = run({'nginx_binary': '/opt/nginx/sbin/nginx', 'nginx_conf': '/opt/nginx/conf/nginx.conf'},
                       snapshot_result())
    assert calls == [('balancer.nginx.snapshot', {'nginx_binary': '/opt/nginx/sbin/nginx',
                                                  'nginx_conf': '/opt/nginx/conf/nginx.conf', 'nginx_timeout': 60,
                                                  '_paths': [], '_dirs': []})]


def test_test_true_on_a_good_config():
    result, calls = run({'test': True}, snapshot_result())
    assert result['test'] == {'ok': True, 'file': None, 'line': None, 'message': None}
    assert [c[0] for c in calls] == ['balancer.nginx.snapshot']


def test_test_true_on_a_failing_config():
    result, calls = run({'test': True}, snapshot_result(ok=False, error=FAILED_TEST))
    assert result['test'] == {'ok': False, 'file': A_CONF, 'line': 3,
                              'message': 'host not found in upstream "x:80"'}
    assert 'failed' not in result
    assert result['changed'] is False
    assert [c[0] for c in calls] == ['balancer.nginx.snapshot']
    # the files read without nginx -T are still described
    assert sorted(result['upstreams']) == ['app', 'other']


def test_failing_config_without_test_has_no_test_key():
    result, dummy = run({}, snapshot_result(ok=False, error=FAILED_TEST))
    assert 'test' not in result


def test_only_one_upstream():
    result, dummy = run({'upstream': 'other'}, snapshot_result())
    assert list(result['upstreams']) == ['other']
    assert result['upstreams']['other']['line'] == 11


def test_check_mode_is_the_same():
    assert run({'test': True}, snapshot_result(), check_mode=True)[0] == run({'test': True}, snapshot_result())[0]


def test_snapshot_failure():
    with pytest.raises(AnsibleActionFail) as info:
        run({}, {'failed': True, 'msg': 'nginx_conf: /etc/nginx/nginx.conf does not exist'})
    assert str(info.value) == 'nginx_conf: /etc/nginx/nginx.conf does not exist'


def test_unknown_option_refused_before_reading():
    with pytest.raises(AnsibleActionFail):
        run({'upstreams': 'app'}, snapshot_result())


def test_files_that_are_not_utf8_are_described():
    # b'# caf\xe9' (Latin-1) in a group's file and b'caf\xc3\xa9' (UTF-8) in a server_name
    files = {NGINX_CONF: MAIN,
             A_CONF: '# caf\xe9\nupstream app {\n    server 10.0.0.1:80;\n}\n',
             '/etc/nginx/conf.d/b.conf': 'server {\n    server_name caf\xc3\xa9.example;\n'
                                         '    location / {\n        proxy_pass http://APP;\n    }\n}\n'}
    result, dummy = run({}, snapshot_result(files=files))
    assert list(result['upstreams']) == ['app']
    assert result['upstreams']['app']['line'] == 2
    assert result['upstreams']['app']['references'] == [{'file': '/etc/nginx/conf.d/b.conf', 'line': 4}]
    assert result['vhosts'][0]['server_name'] == ['caf\u00e9.example']
    assert result['undefined_upstreams'] == []


def test_unknown_directives_of_a_group_and_stream_groups():
    main = MAIN + 'stream {\n    include /etc/nginx/stream.d/*.conf;\n}\n'
    files = {NGINX_CONF: main,
             A_CONF: 'upstream app {\n    server 10.0.0.1:80;\n    health_check;\n}\n',
             '/etc/nginx/stream.d/db.conf': 'upstream db {\n    server 10.0.0.2:5432;\n}\n'}
    result, dummy = run({}, snapshot_result(files=files))
    assert result['upstreams']['app']['unknown'] == [{'directive': 'health_check', 'args': [], 'line': 3}]
    assert list(result['stream_upstreams']) == ['db']
    assert result['stream_upstreams']['db']['file'] == '/etc/nginx/stream.d/db.conf'


def test_what_the_snapshot_rolled_back_is_said():
    # the snapshot module rolls back what an interrupted run left before it reads; that run "says so"
    recovered = ('an interrupted balancer.nginx run (pid 7, started 2026-12-01T10:00:00+0000) had left '
                 'unvalidated changes; they were rolled back before this run: restored /etc/nginx/conf.d/a.conf')
    result, dummy = run({}, snapshot_result(recovered=[recovered]))
    assert result['warnings'] == [recovered]


def test_nginx_timeout_goes_to_the_snapshot():
    dummy, calls = run({'nginx_timeout': 5}, snapshot_result())
    assert calls == [('balancer.nginx.snapshot', {'nginx_binary': 'nginx', 'nginx_conf': NGINX_CONF,
                                                  'nginx_timeout': 5, '_paths': [], '_dirs': []})]


@pytest.mark.parametrize('timeout', [0, 86401])
def test_nginx_timeout_out_of_range_reads_nothing(timeout):
    with pytest.raises(AnsibleActionFail) as info:
        run({'nginx_timeout': timeout}, snapshot_result())
    assert str(info.value) == 'nginx_timeout: %d must be from 1 to 86400; give a value from 1 to 86400.' % timeout
