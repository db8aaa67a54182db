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


READ_SET = {'files': {NGINX_CONF: '1001:52:1764590000000000000'}, 'dirs': {CD: '5ba93c9d'}}


def b64(data):
    return base64.b64encode(data).decode('ascii')


class FakeProxy(object):
    """What ``balancer.nginx.snapshot`` and ``balancer.nginx.commit`` would answer; records the calls."""

    def __init__(self, files=None, version='1.22.1', commit_result=None, snapshot_result=None, recovered=None):
        self.recovered = list(recovered or [])
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
                    'nginx_test': {'ok': True, 'output': ''}, 'recovered': []}
        raise AssertionError('unexpected module %s' % module_name)

    def snapshot(self, args):
        paths = {}
        for path in args['_paths']:
            if path in self.files:
                data = self.files[path].encode('utf-8')
                paths[path] = {'exists': True, 'content_b64': b64(data), 'sha1': hashlib.sha1(data).hexdigest()}
            else:
                paths[path] = {'exists': False, 'content_b64': None, 'sha1': None}
        dirs = {}
        for directory in args['_dirs']:
            dirs[directory] = {}
            for path, text in self.files.items():
                if path.startswith(directory + '/') and path.endswith('.conf') and '/' not in path[len(directory) + 1:]:
                    managed = is_managed(text)
                    dirs[directory][path] = {'managed': managed,
                                             'content_b64': b64(text.encode('utf-8')) if managed else None}
        # the transport: every byte as the Latin-1 character of the same number
        files = dict((path, text.encode('utf-8').decode('latin-1')) for path, text in self.files.items())
        return {'changed': False, 'nginx': {'version': self.version, 'plus': False},
                'config': {'ok': True, 'source': 'nginx -T', 'files': files, 'error': None, 'encoding': 'latin-1',
                           'real': {}},
                'paths': paths, 'dirs': dirs, 'read_set': READ_SET, 'recovered': self.recovered}

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
    task.until = []
    task.retries = None
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
        'nginx_binary': 'nginx', 'nginx_conf': NGINX_CONF, 'nginx_timeout': 60,
        '_paths': sorted(SITE_FILES), '_dirs': [], '_once': True}
    commit_args = proxy.calls[1][1]
    assert [f['path'] for f in commit_args['files']] == SITE_FILES
    assert all(f['state'] == 'present' and f['content'].startswith(MANAGED_HEADER + '\n') for f in commit_args['files'])
    assert [f['content'].split('\n')[1] for f in commit_args['files']] == [
        '# balancer.nginx item: log_format upstream_debug', '# balancer.nginx item: upstream app',
        '# balancer.nginx item: upstream chat', '# balancer.nginx item: vhost www',
        '# balancer.nginx item: vhost chat', '# balancer.nginx item: map websocket']
    assert commit_args['_expected'] == dict((path, None) for path in SITE_FILES)
    assert commit_args['_read_set'] == READ_SET
    assert (commit_args['nginx_binary'], commit_args['nginx_conf'], commit_args['nginx_timeout'],
            commit_args['validate'], commit_args['backup'], commit_args['backup_dir']) == (
        'nginx', NGINX_CONF, 60, True, False, '/var/backups/balancer-nginx')
    assert set(commit_args) == {'files', '_expected', '_read_set', '_mkdirs', '_keep_attributes', 'nginx_binary',
                                'nginx_conf', 'nginx_timeout', 'validate', 'backup', 'backup_dir'}
    # no stream item: no directory to create; nginx.conf never gets the managed files' owner, group and mode
    assert (commit_args['_mkdirs'], commit_args['_keep_attributes']) == ([], [NGINX_CONF])
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


def test_the_task_fields_sent_back_carry_no_copy_of_the_site():
    # the worker pickles the task's fields with the result: the consumed lists must not travel again
    proxy = FakeProxy()
    args = dict(SITE, conf_dir=CD, backup=False)
    dummy, action = run(args, proxy)
    assert action._task.args == {'conf_dir': CD, 'backup': False}
    assert args['upstreams'] == SITE['upstreams']    # the caller's mapping itself is left as it was


@pytest.mark.parametrize('until, retries', [(['result is success'], None), ([], 3)])
def test_a_task_that_may_run_again_keeps_its_arguments(until, retries):
    # until/retries run the same action again with the same task: the second attempt must see the whole site
    proxy = FakeProxy()
    action = make_action(dict(SITE), proxy)
    action._task.until = until
    action._task.retries = retries
    first = action.run(task_vars={})
    assert action._task.args['upstreams'] == SITE['upstreams']
    proxy.commit(proxy.calls[1][1])
    second = action.run(task_vars={})
    assert first['changed'] is True and second['changed'] is False
    assert [f['path'] for f in second['files']] == SITE_FILES


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
    assert commit_args['_expected'] == {CD + '/app.conf': hashlib.sha1(old.encode('utf-8')).hexdigest()}
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
                              'after': MANAGED_HEADER + '\n# balancer.nginx item: upstream app\n'
                                                        'upstream app {\n    server 10.0.0.1:80;\n}\n'}
    assert proxy.calls[1][1]['files'][0]['content'] == result['diff']['after']


def test_exclusive_reads_dirs_and_removes_in_the_same_commit():
    stale = MANAGED_HEADER + '\nupstream old {\n    server 10.9.9.9:80;\n}\n'
    hand = 'upstream hand {\n    server 10.9.9.8:80;\n}\n'
    proxy = FakeProxy({CD + '/old.conf': stale, CD + '/hand.conf': hand})
    result, dummy = run({'exclusive': True, 'upstreams': [{'name': 'app', 'servers': ['10.0.0.1:80']}]}, proxy)
    assert proxy.modules() == ['balancer.nginx.snapshot', 'balancer.nginx.commit']
    assert proxy.calls[0][1]['_dirs'] == [CD]
    commit_args = proxy.calls[1][1]
    assert [(f['path'], f['state']) for f in commit_args['files']] == [(CD + '/app.conf', 'present'),
                                                                       (CD + '/old.conf', 'absent')]
    assert commit_args['files'][1]['content'] is None
    assert commit_args['_expected'][CD + '/old.conf'] == 'f47bdeb60dc7a5146c82876ddae9d1938fbcc2df'
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
            'nginx_conf': NGINX_CONF, 'validate': False, 'backup': True, 'mode': '0640', 'owner': 'root',
            'nginx_timeout': 9, 'backup_dir': '/srv/bk'}
    run(args, proxy)
    assert (proxy.calls[0][1]['nginx_binary'], proxy.calls[0][1]['nginx_timeout']) == ('/usr/sbin/nginx', 9)
    commit_args = proxy.calls[1][1]
    assert (commit_args['nginx_binary'], commit_args['validate'], commit_args['backup'], commit_args['mode'],
            commit_args['owner'], commit_args['nginx_timeout'], commit_args['backup_dir']) == (
        '/usr/sbin/nginx', False, True, '0640', 'root', 9, '/srv/bk')


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


@pytest.mark.parametrize('args, message', [
    ({'upstream': []},
     'options: has unknown option(s) upstream; use only upstreams, vhosts, log_formats, stream_proxies, exclusive, '
     'and the common options.'),
    ({'path': '/etc/nginx/conf.d/site.conf'},
     'options: has unknown option(s) path; use only upstreams, vhosts, log_formats, stream_proxies, exclusive, '
     'and the common options.'),
    ({'upstreams': {'name': 'app', 'servers': ['10.0.0.1:80']}},
     "upstreams: {'name': 'app', 'servers': ['10.0.0.1:80']} must be a list of upstream options; write "
     "[{name: ..., ...}]."),
    ({'vhosts': 'www'}, "vhosts: 'www' must be a list of vhost options; write [{name: ..., ...}]."),
    ({'exclusive': 'maybe'}, "exclusive: 'maybe' must be true or false; give true or false."),
    ({'upstreams': ['app']},
     'upstreams[0]: must be a dict of upstream options; write {name: ..., ...} as for balancer.nginx.upstream.'),
])
def test_option_refusals_read_nothing(args, message):
    proxy = FakeProxy()
    with pytest.raises(AnsibleActionFail) as info:
        run(args, proxy)
    assert str(info.value) == message
    assert proxy.calls == []


# -- one rule, one message: the same wrong item through upstream and through site --------------

SAME_ITEM_REFUSALS = [
    {'name': 'app', 'servers': [{'address': '10.0.0.1:80', 'weight': 0}]},
    {'name': 'app', 'servers': [{'address': '10.0.0.1:80', 'wieght': 3}]},
    {'name': 'app', 'method': 'fastest', 'servers': ['10.0.0.1:80']},
    {'name': 'app', 'method': 'hash', 'servers': ['10.0.0.1:80']},
    {'name': 'app', 'method': 'ip_hash', 'servers': ['10.0.0.1:80', {'address': '10.0.0.2:80', 'backup': True}]},
    {'name': 'app', 'consistent': True, 'servers': ['10.0.0.1:80']},
    {'name': 'app', 'keepalive_requests': 100, 'servers': ['10.0.0.1:80']},
    {'name': 'app', 'servers': []},
    {'name': 'app', 'state': 'gone', 'servers': ['10.0.0.1:80']},
    {'name': 'a;b', 'servers': ['10.0.0.1:80']},
    {'name': 'app', 'zone': 'app 64x', 'servers': ['10.0.0.1:80']},
    {'name': 'app', 'servers': [{'address': 'http://10.0.0.1'}]},
    {'name': 'app', 'bogus': 1, 'servers': ['10.0.0.1:80']},
]


@pytest.mark.parametrize('item', SAME_ITEM_REFUSALS, ids=[str(i) for i in range(len(SAME_ITEM_REFUSALS))])
def test_the_same_wrong_item_gives_the_same_message_through_upstream_and_site(item):
    from ansible_collections.balancer.nginx.plugins.action.upstream import ActionModule as UpstreamAction
    proxy = FakeProxy()
    task = MagicMock(Task)
    task.async_val = False
    task.args = dict(item)
    task.check_mode = False
    task.diff = False
    task.action = 'balancer.nginx.upstream'
    single = UpstreamAction(task, MagicMock(), PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    single._execute_module = MagicMock(side_effect=proxy.execute_module)
    with pytest.raises(AnsibleActionFail) as through_upstream:
        single.run(task_vars={})
    with pytest.raises(AnsibleActionFail) as through_site:
        run({'upstreams': [dict(item)]}, proxy)
    assert proxy.calls == []
    message = str(through_upstream.value)
    root = 'options: '
    expected = 'upstreams[0]: ' + message[len(root):] if message.startswith(root) else 'upstreams[0].' + message
    assert str(through_site.value) == expected


# -- ownership ------------------------------------------------------------------------

HAND_VHOST = 'server {\n    listen 80;\n    root /var/www;\n}\n'


def test_a_hand_written_file_at_one_item_s_path_refuses_the_whole_site():
    proxy = FakeProxy({CD + '/www.vhost.conf': HAND_VHOST})
    with pytest.raises(AnsibleActionFail) as info:
        run(dict(SITE), proxy)
    assert str(info.value) == (
        'vhosts[0].name: would replace /etc/nginx/conf.d/www.vhost.conf, which balancer.nginx did not write (it '
        'does not start with the "# Managed by balancer.nginx" header comment), so nothing was changed; leave that file '
        'alone by giving the item another name or path, or set force: true to take it over.')
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_force_still_refuses_to_drop_what_the_vhost_options_cannot_express():
    proxy = FakeProxy({CD + '/www.vhost.conf': HAND_VHOST})
    with pytest.raises(AnsibleActionFail) as info:
        run(dict(SITE, force=True), proxy)
    assert str(info.value) == (
        'vhosts[0].name: cannot take over /etc/nginx/conf.d/www.vhost.conf: it holds what the vhost options cannot '
        'express, which would be dropped: "root /var/www" at line 3; move those lines to a file of their own (or '
        'delete them) first; nothing was changed.')
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_an_upstream_never_replaces_a_managed_vhost_of_the_same_file():
    vhost = (MANAGED_HEADER + '\n# balancer.nginx item: vhost www\n'
             'server {\n    listen 80;\n    location / {\n        proxy_pass http://127.0.0.1:8080;\n    }\n}\n')
    proxy = FakeProxy({CD + '/www.vhost.conf': vhost})
    with pytest.raises(AnsibleActionFail) as info:
        run({'upstreams': [{'name': 'www.vhost', 'servers': ['10.0.0.1:80']}]}, proxy)
    assert str(info.value) == (
        "upstreams[0].name: would replace /etc/nginx/conf.d/www.vhost.conf, which holds the vhost 'www'; two items "
        "never share a file, so nothing was changed; rename one of them or give it its own path (or set force: true "
        "to replace it).")
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_recovered_warnings_of_the_snapshot():
    recovered = ('an interrupted balancer.nginx run (pid 7, started 2026-12-01T10:00:00+0000) had left unvalidated '
                 'changes; they were rolled back before this run: removed /etc/nginx/conf.d/app.conf (the '
                 'interrupted run had created it)')
    proxy = FakeProxy(recovered=[recovered])
    result, dummy = run({'upstreams': [{'name': 'app', 'servers': ['10.0.0.1:80']}]}, proxy)
    assert result['warnings'] == [recovered]
    assert result['changed'] is True


def test_non_utf8_configuration_file_does_not_break_the_site():
    # a hand-written Latin-1 file elsewhere in the configuration: read, parsed, left alone
    proxy = FakeProxy()

    def snapshot(args, original=proxy.snapshot):
        result = original(args)
        # the bytes b'# caf\xe9\n...' as the transport sends them
        result['config']['files'][CD + '/zz-legacy.conf'] = '# caf\xe9\nupstream legacy {\n    server 10.0.0.9:80;\n}\n'
        return result

    proxy.snapshot = snapshot
    result, dummy = run({'upstreams': [{'name': 'app', 'servers': ['10.0.0.1:80']}],
                         'vhosts': [{'name': 'www', 'upstream': 'legacy'}]}, proxy)
    assert result['changed'] is True
    assert [f['path'] for f in proxy.calls[1][1]['files']] == [CD + '/app.conf', CD + '/www.vhost.conf']


# -- stream_proxies: both contexts in one transaction (issue 12) -----------------------------

SD = '/etc/nginx/stream.d'
STREAM_BLOCK = ('\n'
                '# BEGIN balancer.nginx: the stream context of the TCP/UDP proxies (the rest of this file is not '
                'managed)\n'
                'stream {\n'
                '    include /etc/nginx/stream.d/*.conf;\n'
                '}\n'
                '# END balancer.nginx\n')
BOTH = {
    'upstreams': [{'name': 'app', 'servers': ['10.0.0.11:8080']},
                  {'name': 'pg', 'context': 'stream', 'servers': ['10.0.0.31:5432']}],
    'vhosts': [{'name': 'www', 'upstream': 'app'}],
    'stream_proxies': [{'name': 'pg', 'listen': '5432', 'upstream': 'pg'}],
}
BOTH_FILES = [CD + '/app.conf', SD + '/pg.conf', CD + '/www.vhost.conf', SD + '/pg.stream.conf', NGINX_CONF]


def test_stream_proxies_and_both_contexts_in_one_snapshot_and_one_commit():
    proxy = FakeProxy()
    result, dummy = run(dict(BOTH), proxy)
    assert proxy.modules() == ['balancer.nginx.snapshot', 'balancer.nginx.commit']
    assert proxy.calls[0][1] == {'nginx_binary': 'nginx', 'nginx_conf': NGINX_CONF, 'nginx_timeout': 60,
                                 '_paths': sorted(BOTH_FILES + [CD + '/00-balancer-websocket-map.conf']),
                                 '_dirs': [], '_once': True}
    commit_args = proxy.calls[1][1]
    assert [(f['path'], f['state']) for f in commit_args['files']] == [(p, 'present') for p in BOTH_FILES]
    assert commit_args['files'][3]['content'] == (MANAGED_HEADER + '\n# balancer.nginx item: stream_proxy pg\n'
                                                  'server {\n    listen 5432;\n    proxy_pass pg;\n}\n')
    assert commit_args['files'][4]['content'] == MAIN + STREAM_BLOCK
    assert commit_args['_expected'] == dict(
        [(p, None) for p in BOTH_FILES[:-1]] + [(NGINX_CONF, hashlib.sha1(MAIN.encode()).hexdigest())])
    assert (commit_args['_mkdirs'], commit_args['_keep_attributes']) == ([SD], [NGINX_CONF])
    assert result['files'] == [{'path': p, 'changed': True, 'state': 'present'} for p in BOTH_FILES]
    assert result['changed'] is True


def test_a_second_run_of_both_contexts_sends_no_commit():
    proxy = FakeProxy()
    run(dict(BOTH), proxy)
    proxy.commit(proxy.calls[1][1])
    proxy.calls = []
    second, dummy = run(dict(BOTH), proxy)
    assert proxy.modules() == ['balancer.nginx.snapshot']
    assert second['changed'] is False
    # nginx.conf reads stream_conf_dir now: it is no change, and not listed
    assert second['files'] == [{'path': p, 'changed': False, 'state': 'present'} for p in BOTH_FILES[:-1]]


def test_stream_conf_dir_and_file_arguments():
    proxy = FakeProxy({NGINX_CONF: MAIN + 'stream {\n    include /srv/tcp/*.conf;\n}\n'})
    run(dict(BOTH, stream_conf_dir='/srv/tcp', mode='0640'), proxy)
    commit_args = proxy.calls[1][1]
    assert [f['path'] for f in commit_args['files']] == [CD + '/app.conf', '/srv/tcp/pg.conf', CD + '/www.vhost.conf',
                                                         '/srv/tcp/pg.stream.conf']
    assert (commit_args['mode'], commit_args['_mkdirs'], commit_args['_keep_attributes']) == (
        '0640', ['/srv/tcp'], [NGINX_CONF])


def test_exclusive_reads_and_prunes_stream_conf_dir_too():
    stale = MANAGED_HEADER + '\n# balancer.nginx item: stream_proxy old\nserver {\n    listen 6000;\n    proxy_pass pg;\n}\n'
    proxy = FakeProxy({SD + '/old.stream.conf': stale})
    result, dummy = run(dict(BOTH, exclusive=True), proxy)
    assert proxy.calls[0][1]['_dirs'] == [CD, SD]
    assert [(f['path'], f['state']) for f in proxy.calls[1][1]['files']] == (
        [(p, 'present') for p in BOTH_FILES[:-1]] + [(SD + '/old.stream.conf', 'absent'), (NGINX_CONF, 'present')])


def test_a_vhost_to_a_stream_group_writes_nothing():
    proxy = FakeProxy()
    with pytest.raises(AnsibleActionFail) as info:
        run(dict(BOTH, vhosts=[{'name': 'www', 'upstream': 'pg'}]), proxy)
    assert str(info.value) == (
        "vhosts[0].upstream: 'pg' is an upstream of the stream context (/etc/nginx/stream.d/pg.conf:3), and http and "
        "stream groups are separate namespaces; give a group with context: http.")
    assert proxy.modules() == ['balancer.nginx.snapshot']


STREAM_PROXY_REFUSALS = [
    {'name': 'pg', 'listen': '5432'},
    {'name': 'pg', 'upstream': 'pg', 'listen': []},
    {'name': 'pg', 'upstream': 'pg', 'listen': '5432', 'bogus': 1},
    {'name': 'pg', 'upstream': 'pg', 'listen': '5432', 'proxy_timeout': 'soon'},
    {'name': 'pg', 'upstream': 'p;g', 'listen': '5432'},
    {'name': 'pg', 'upstream': 'pg', 'listen': ['5432', '53 udp;']},
    {'name': 'pg', 'upstream': 'pg', 'listen': '5432', 'state': 'gone'},
]


@pytest.mark.parametrize('item', STREAM_PROXY_REFUSALS, ids=[str(i) for i in range(len(STREAM_PROXY_REFUSALS))])
def test_the_same_wrong_stream_proxy_gives_the_same_message_through_stream_proxy_and_site(item):
    from ansible_collections.balancer.nginx.plugins.action.stream_proxy import ActionModule as StreamProxyAction
    proxy = FakeProxy()
    task = MagicMock(Task)
    task.async_val = False
    task.args = dict(item)
    task.check_mode = False
    task.diff = False
    task.action = 'balancer.nginx.stream_proxy'
    single = StreamProxyAction(task, MagicMock(), PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    single._execute_module = MagicMock(side_effect=proxy.execute_module)
    with pytest.raises(AnsibleActionFail) as through_module:
        single.run(task_vars={})
    with pytest.raises(AnsibleActionFail) as through_site:
        run({'stream_proxies': [dict(item)]}, proxy)
    assert proxy.calls == []
    message = str(through_module.value)
    root = 'options: '
    expected = 'stream_proxies[0]: ' + message[len(root):] if message.startswith(root) else 'stream_proxies[0].' + message
    assert str(through_site.value) == expected


def test_stream_proxies_must_be_a_list():
    proxy = FakeProxy()
    with pytest.raises(AnsibleActionFail) as info:
        run({'stream_proxies': {'name': 'pg'}}, proxy)
    assert str(info.value) == ("stream_proxies: {'name': 'pg'} must be a list of stream_proxy options; write "
                               "[{name: ..., ...}].")
    assert proxy.calls == []
