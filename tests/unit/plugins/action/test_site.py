# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/action/site.py: one snapshot round trip, at most one commit round trip, the args sent.

Built like ansible's own action plugin unit tests: a mocked task, connection and play context, and
``_execute_module`` replaced by a fake proxy that records every call.
"""

from __future__ import annotations

import base64
import hashlib
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.balancer.nginx.plugins.action.site import ActionModule
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import MANAGED_HEADER, is_managed

NGINX_CONF = '/etc/nginx/nginx.conf'
CD = '/etc/nginx/conf.d'
MAIN = 'events {\n}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n'


def b64(data):
    return base64.b64encode(data).decode('ascii')


class FakeProxy(object):
    """What ``balancer.nginx.snapshot`` and ``balancer.nginx.commit`` would answer; records the calls."""

    def __init__(self, files=None, version='1.22.1', commit_result=None, snapshot_result=None):
        self.files = {NGINX_CONF: MAIN}
        self.files.update(files or {})
        self.version = version
        self.commit_result = commit_result
        self.snapshot_result = snapshot_result
        self.calls = []

    def execute_module(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append((module_name, module_args))
        if module_name == 'balancer.nginx.snapshot':
            if self.snapshot_result is not None:
                return self.snapshot_result
            return self.snapshot(module_args)
        if module_name == 'balancer.nginx.commit':
            if self.commit_result is not None:
                return self.commit_result
            return {'changed': True, 'files': [{'path': f['path'], 'changed': True, 'state': f['state'],
                                                'backup_file': None} for f in module_args['files']],
                    'nginx_test': {'ok': True, 'output': ''}}
        raise AssertionError('unexpected module %s' % module_name)

    def snapshot(self, args):
        paths = {}
        for path in args['paths']:
            if path in self.files:
                data = self.files[path].encode('utf-8')
                paths[path] = {'exists': True, 'content_b64': b64(data), 'sha1': hashlib.sha1(data).hexdigest()}
            else:
                paths[path] = {'exists': False, 'content_b64': None, 'sha1': None}
        dirs = {}
        for directory in args['dirs']:
            dirs[directory] = {}
            for path, text in self.files.items():
                if path.startswith(directory + '/') and path.endswith('.conf') and '/' not in path[len(directory) + 1:]:
                    managed = is_managed(text)
                    dirs[directory][path] = {'managed': managed,
                                             'content_b64': b64(text.encode('utf-8')) if managed else None}
        return {'changed': False, 'nginx': {'version': self.version, 'plus': False},
                'config': {'ok': True, 'source': 'nginx -T', 'files': dict(self.files), 'error': None},
                'paths': paths, 'dirs': dirs}

    def commit(self, args):
        """Apply a commit call's files, as the target would."""
        for item in args['files']:
            if item['state'] == 'absent':
                self.files.pop(item['path'], None)
            else:
                self.files[item['path']] = item['content']

    def modules(self):
        return [name for name, dummy in self.calls]


def make_action(args, proxy, check_mode=False, diff=False):
    task = MagicMock(Task)
    task.async_val = False
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    task.action = 'balancer.nginx.site'
    connection = MagicMock()
    play_context = PlayContext()
    action = ActionModule(task, connection, play_context, loader=None, templar=None, shared_loader_obj=None)
    action._execute_module = MagicMock(side_effect=proxy.execute_module)
    action._display = MagicMock()
    return action


def run(args, proxy, **kwargs):
    action = make_action(args, proxy, **kwargs)
    return action.run(task_vars={}), action


SITE = {
    'log_formats': [{'name': 'upstream_debug'}],
    'upstreams': [
        {'name': 'app', 'servers': [{'address': '10.0.0.11:8080', 'weight': 3}, {'address': '10.0.0.12:8080'}],
         'keepalive': 16},
        {'name': 'chat', 'servers': ['10.0.1.1:80']},
    ],
    'vhosts': [{'name': 'www', 'server_name': 'www.example.com', 'upstream': 'app',
                'access_log': {'path': '/var/log/nginx/www.log', 'format': 'upstream_debug'}},
               {'name': 'chat', 'locations': [{'path': '/', 'upstream': 'chat', 'websocket': True}]}],
}
SITE_FILES = [CD + '/00-log-format-upstream_debug.conf', CD + '/app.conf', CD + '/chat.conf', CD + '/www.vhost.conf',
              CD + '/chat.vhost.conf', CD + '/00-balancer-websocket-map.conf']


def test_one_snapshot_and_one_commit_with_every_file():
    proxy = FakeProxy()
    result, dummy = run(dict(SITE), proxy)
    assert proxy.modules() == ['balancer.nginx.snapshot', 'balancer.nginx.commit']
    snapshot_args = proxy.calls[0][1]
    assert snapshot_args == {
        'nginx_binary': 'nginx', 'nginx_conf': NGINX_CONF,
        'paths': sorted(SITE_FILES), 'dirs': []}
    commit_args = proxy.calls[1][1]
    assert [f['path'] for f in commit_args['files']] == SITE_FILES
    assert all(f['state'] == 'present' and f['content'].startswith(MANAGED_HEADER + '\n') for f in commit_args['files'])
    assert commit_args['expected'] == dict((path, None) for path in SITE_FILES)
    assert (commit_args['nginx_binary'], commit_args['nginx_conf'], commit_args['validate'], commit_args['backup']) == (
        'nginx', NGINX_CONF, True, False)
    assert set(commit_args) == {'files', 'expected', 'nginx_binary', 'nginx_conf', 'validate', 'backup'}
    assert result['changed'] is True
    assert result['files'] == [{'path': p, 'changed': True, 'state': 'present'} for p in SITE_FILES]
    assert 'diff' not in result


def test_second_run_sends_no_commit():
    proxy = FakeProxy()
    first, dummy = run(dict(SITE), proxy)
    proxy.commit(proxy.calls[1][1])
    proxy.calls = []
    second, dummy = run(dict(SITE), proxy)
    assert proxy.modules() == ['balancer.nginx.snapshot']
    assert second['changed'] is False
    assert [f['changed'] for f in second['files']] == [False] * len(SITE_FILES)


def test_only_changed_files_are_committed_with_their_expected_sha1():
    proxy = FakeProxy()
    run(dict(SITE), proxy)
    proxy.commit(proxy.calls[1][1])
    old = proxy.files[CD + '/app.conf']
    proxy.calls = []
    site = dict(SITE, upstreams=[dict(SITE['upstreams'][0], keepalive=32), SITE['upstreams'][1]])
    result, dummy = run(site, proxy)
    assert proxy.modules() == ['balancer.nginx.snapshot', 'balancer.nginx.commit']
    commit_args = proxy.calls[1][1]
    assert [(f['path'], f['state']) for f in commit_args['files']] == [(CD + '/app.conf', 'present')]
    assert 'keepalive 32;' in commit_args['files'][0]['content']
    assert commit_args['expected'] == {CD + '/app.conf': hashlib.sha1(old.encode('utf-8')).hexdigest()}
    assert [f['path'] for f in result['files'] if f['changed']] == [CD + '/app.conf']


def test_check_mode_sends_no_commit():
    proxy = FakeProxy()
    result, dummy = run(dict(SITE), proxy, check_mode=True)
    assert proxy.modules() == ['balancer.nginx.snapshot']
    assert result['changed'] is True


def test_check_mode_with_diff():
    proxy = FakeProxy()
    result, dummy = run(dict(SITE), proxy, check_mode=True, diff=True)
    assert proxy.modules() == ['balancer.nginx.snapshot']
    assert [d['after_header'] for d in result['diff']] == SITE_FILES
    assert all(d['before'] == '' for d in result['diff'])


def test_diff_of_one_file_is_a_dict():
    proxy = FakeProxy()
    result, dummy = run({'upstreams': [{'name': 'app', 'servers': ['10.0.0.1:80']}]}, proxy, diff=True)
    assert result['diff'] == {'before_header': CD + '/app.conf', 'after_header': CD + '/app.conf', 'before': '',
                              'after': proxy.calls[1][1]['files'][0]['content']}


def test_exclusive_reads_dirs_and_removes_in_the_same_commit():
    stale = MANAGED_HEADER + '\nupstream old {\n    server 10.9.9.9:80;\n}\n'
    hand = 'upstream hand {\n    server 10.9.9.8:80;\n}\n'
    proxy = FakeProxy({CD + '/old.conf': stale, CD + '/hand.conf': hand})
    result, dummy = run({'exclusive': True, 'upstreams': [{'name': 'app', 'servers': ['10.0.0.1:80']}]}, proxy)
    assert proxy.modules() == ['balancer.nginx.snapshot', 'balancer.nginx.commit']
    assert proxy.calls[0][1]['dirs'] == [CD]
    commit_args = proxy.calls[1][1]
    assert [(f['path'], f['state']) for f in commit_args['files']] == [(CD + '/app.conf', 'present'),
                                                                       (CD + '/old.conf', 'absent')]
    assert commit_args['files'][1]['content'] is None
    assert commit_args['expected'][CD + '/old.conf'] == hashlib.sha1(stale.encode('utf-8')).hexdigest()
    assert result['files'] == [{'path': CD + '/app.conf', 'changed': True, 'state': 'present'},
                               {'path': CD + '/old.conf', 'changed': True, 'state': 'absent'}]


def test_model_refusal_reads_nothing():
    proxy = FakeProxy()
    with pytest.raises(AnsibleActionFail) as info:
        run({'upstreams': [{'name': 'app', 'servers': [{'address': '10.0.0.1:80', 'weight': 0}]}]}, proxy)
    assert str(info.value) == ('upstreams[0].servers[0].weight: 0 must be from 1 to 1000000; give a value from 1 '
                               'to 1000000.')
    assert proxy.calls == []


def test_inspect_refusal_writes_nothing():
    proxy = FakeProxy()
    with pytest.raises(AnsibleActionFail) as info:
        run({'vhosts': [{'name': 'www', 'upstream': 'nope'}]}, proxy)
    assert str(info.value) == (
        "vhosts[0].upstream: 'nope' is not defined as an upstream in the proxy's configuration; define it first "
        "(balancer.nginx.upstream, or in the same site call), or use pass for a literal URL.")
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_snapshot_failure_is_reported():
    proxy = FakeProxy(snapshot_result={'failed': True, 'msg': "nginx_binary: 'nginx' was not found"})
    with pytest.raises(AnsibleActionFail) as info:
        run(dict(SITE), proxy)
    assert str(info.value) == "nginx_binary: 'nginx' was not found"
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_failed_commit_reports_nginx_test_and_restored():
    failure = {'failed': True, 'msg': 'nginx -t failed', 'nginx_test': {'ok': False, 'output': 'x'},
               'restored': ['removed /etc/nginx/conf.d/app.conf']}
    proxy = FakeProxy(commit_result=failure)
    result, dummy = run({'upstreams': [{'name': 'app', 'servers': ['10.0.0.1:80']}]}, proxy)
    assert (result['failed'], result['changed'], result['msg']) == (True, False, 'nginx -t failed')
    assert result['nginx_test'] == {'ok': False, 'output': 'x'}
    assert result['restored'] == ['removed /etc/nginx/conf.d/app.conf']


def test_common_args_passed_through():
    proxy = FakeProxy()
    args = {'upstreams': [{'name': 'app', 'servers': ['10.0.0.1:80']}], 'nginx_binary': '/usr/sbin/nginx',
            'nginx_conf': NGINX_CONF, 'validate': False, 'backup': True, 'mode': '0640', 'owner': 'root'}
    run(args, proxy)
    assert proxy.calls[0][1]['nginx_binary'] == '/usr/sbin/nginx'
    commit_args = proxy.calls[1][1]
    assert (commit_args['nginx_binary'], commit_args['validate'], commit_args['backup'], commit_args['mode'],
            commit_args['owner']) == ('/usr/sbin/nginx', False, True, '0640', 'root')


def test_retry_warning_returned():
    # Returned in the result's warnings, which Ansible displays and a registered result keeps.
    proxy = FakeProxy()
    site = {'upstreams': [{'name': 'app', 'servers': ['10.0.0.1:80']}],
            'vhosts': [{'name': 'www', 'locations': [{'path': '/', 'upstream': 'app',
                                                      'next_upstream': ['error', 'non_idempotent']}]}]}
    result, action = run(site, proxy)
    assert result['warnings'] == [
        'vhosts[0].locations[0].next_upstream: includes non_idempotent, so POST, LOCK and PATCH requests may be '
        'sent to more than one server']
    action._display.warning.assert_not_called()


def test_unknown_top_level_option_refused():
    proxy = FakeProxy()
    with pytest.raises(AnsibleActionFail):
        run({'upstream': []}, proxy)
    assert proxy.calls == []
