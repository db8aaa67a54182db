# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/action/backend_probe.py: ``upstream`` resolved on the controller, the probing left to the module.

``_execute_module`` is stubbed: ``balancer.nginx.snapshot`` answers with the
proxy's configuration, ``balancer.nginx.backend_probe`` with a canned probe
result.  The tests assert what is sent to each.
"""

from __future__ import annotations

import copy
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.balancer.nginx.plugins.action.backend_probe import ActionModule

NGINX_CONF = '/etc/nginx/nginx.conf'
A_CONF = '/etc/nginx/conf.d/app.conf'
MAIN = 'events {\n}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n'
APP = ('upstream app {\n'
       '    zone app 64k;\n'
       '    server 127.0.0.1:8081 weight=3 max_fails=2 fail_timeout=10s;\n'
       '    server 127.0.0.1:8082 down;\n'
       '    server unix:/run/app.sock;\n'
       '    server 127.0.0.1:8083 backup;\n'
       '}\n'
       'upstream parked {\n'
       '    server 127.0.0.1:8084 down;\n'
       '}\n'
       'upstream other {\n'
       '    server [::1]:9000;\n'
       '}\n')
DEFAULTS = {'path': '/health', 'expect_status': [200], 'timeout': 2.0, 'nginx_conf': NGINX_CONF,
            'nginx_binary': 'nginx', 'nginx_timeout': 60}


def snapshot_result(recovered=None):
    return {'changed': False, 'nginx': {'version': '1.22.1', 'plus': False},
            'config': {'ok': True, 'source': 'nginx -T', 'files': {NGINX_CONF: MAIN, A_CONF: APP}, 'error': None,
                       'encoding': 'latin-1', 'real': {}},
            'paths': {}, 'dirs': {}, 'read_set': {'files': {}, 'dirs': {}}, 'recovered': recovered or []}


def probe_result(addresses, unhealthy=(), failed=False):
    backends = [{'address': a, 'healthy': a not in unhealthy, 'status': 503 if a in unhealthy else 200,
                 'latency_ms': 1.0, 'error': 'status 503, expected 200' if a in unhealthy else None}
                for a in addresses]
    result = {'changed': False, 'backends': backends, 'healthy': len(addresses) - len(unhealthy),
              'unhealthy': list(unhealthy), 'min_healthy': len(addresses)}
    if failed:
        result.update(failed=True, msg='min_healthy: %d not met' % len(addresses))
    return result


def run(args, probe=None, check_mode=False, snapshot=None, calls=None):
    calls = [] if calls is None else calls

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append((module_name, copy.deepcopy(module_args)))
        if module_name == 'balancer.nginx.snapshot':
            return snapshot or snapshot_result()
        return copy.deepcopy(probe(module_args['backends']) if callable(probe) else probe)

    task = MagicMock(Task)
    task.async_val = False
    task.args = args
    task.check_mode = check_mode
    task.diff = False
    task.action = 'balancer.nginx.backend_probe'
    action = ActionModule(task, MagicMock(), PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    action._execute_module = MagicMock(side_effect=execute_module)
    return action.run(task_vars={}), calls


def test_upstream_is_read_and_its_probeable_servers_sent_as_backends():
    result, calls = run({'upstream': 'app'}, probe=probe_result)
    assert calls == [
        ('balancer.nginx.snapshot', {'nginx_binary': 'nginx', 'nginx_conf': NGINX_CONF, 'nginx_timeout': 60,
                                     '_paths': [], '_dirs': []}),
        ('balancer.nginx.backend_probe', dict(DEFAULTS, backends=['127.0.0.1:8081', '127.0.0.1:8083'])),
    ]
    assert result['backends'] == [
        {'address': '127.0.0.1:8081', 'healthy': True, 'status': 200, 'latency_ms': 1.0, 'error': None,
         'backup': False},
        {'address': '127.0.0.1:8083', 'healthy': True, 'status': 200, 'latency_ms': 1.0, 'error': None,
         'backup': True},
    ]
    assert result['upstream'] == 'app'
    assert result['skipped'] == [{'address': '127.0.0.1:8082', 'reason': 'marked down'},
                                 {'address': 'unix:/run/app.sock', 'reason': 'unix socket, cannot be probed over TCP'}]
    assert result['changed'] is False
    assert 'failed' not in result


def test_options_are_passed_on():
    args = {'upstream': 'other', 'path': '/ready', 'expect_status': [200, 204], 'expect_body': 'ok',
            'timeout': 0.5, 'min_healthy': 1, 'nginx_conf': NGINX_CONF, 'nginx_binary': '/opt/nginx/sbin/nginx',
            'nginx_timeout': 7}
    dummy, calls = run(args, probe=probe_result)
    assert calls[0] == ('balancer.nginx.snapshot', {'nginx_binary': '/opt/nginx/sbin/nginx', 'nginx_conf': NGINX_CONF,
                                                    'nginx_timeout': 7, '_paths': [], '_dirs': []})
    assert calls[1] == ('balancer.nginx.backend_probe', {
        'backends': ['[::1]:9000'], 'path': '/ready', 'expect_status': [200, 204], 'expect_body': 'ok',
        'timeout': 0.5, 'min_healthy': 1, 'nginx_conf': NGINX_CONF, 'nginx_binary': '/opt/nginx/sbin/nginx',
        'nginx_timeout': 7})


def test_backends_go_straight_to_the_module_without_reading_the_proxy():
    result, calls = run({'backends': ['127.0.0.1:8081', '127.0.0.1:8082']}, probe=probe_result)
    assert calls == [('balancer.nginx.backend_probe', dict(DEFAULTS, backends=['127.0.0.1:8081', '127.0.0.1:8082']))]
    assert [b['backup'] for b in result['backends']] == [False, False]
    assert 'upstream' not in result and 'skipped' not in result


def test_a_failing_probe_fails_the_task_with_the_flags_added():
    def probe(addresses):
        return probe_result(addresses, unhealthy=['127.0.0.1:8083'], failed=True)

    result, dummy = run({'upstream': 'app'}, probe=probe)
    assert result['failed'] is True
    assert result['msg'] == 'min_healthy: 2 not met'
    assert result['unhealthy'] == ['127.0.0.1:8083']
    assert [(b['address'], b['backup'], b['healthy']) for b in result['backends']] == [
        ('127.0.0.1:8081', False, True), ('127.0.0.1:8083', True, False)]


def test_undefined_upstream_names_the_defined_ones():
    with pytest.raises(AnsibleActionFail) as info:
        run({'upstream': 'nope'}, probe=probe_result)
    assert str(info.value) == ("upstream: 'nope' is not defined in the configuration of /etc/nginx/nginx.conf "
                               "(defined: app, other, parked); give the name of an upstream group.")


def test_group_with_nothing_to_probe():
    with pytest.raises(AnsibleActionFail) as info:
        run({'upstream': 'parked'}, probe=probe_result)
    assert str(info.value) == ("upstream: 'parked' has no server that can be probed: 127.0.0.1:8084 (marked down); "
                               "bring a server back (remove down) or give backends.")


@pytest.mark.parametrize('args', [
    {'upstream': 'app', 'backends': ['127.0.0.1:8081']},
    {},
    {'backends': ['127.0.0.1:8081'], 'bogus': 1},
])
def test_bad_arguments_are_refused_before_any_round_trip(args):
    calls = []
    with pytest.raises(AnsibleActionFail):
        run(args, probe=probe_result, calls=calls)
    assert calls == []


def test_snapshot_failure():
    with pytest.raises(AnsibleActionFail) as info:
        run({'upstream': 'app'}, probe=probe_result, snapshot={'failed': True, 'msg': 'nginx_binary: not found'})
    assert str(info.value) == 'nginx_binary: not found'


def test_check_mode_is_the_same():
    checked = run({'upstream': 'app'}, probe=probe_result, check_mode=True)[0]
    assert checked == run({'upstream': 'app'}, probe=probe_result)[0]


def test_upstream_name_ignores_letter_case():
    result, calls = run({'upstream': 'APP'}, probe=probe_result)
    assert calls[1] == ('balancer.nginx.backend_probe', dict(DEFAULTS, backends=['127.0.0.1:8081', '127.0.0.1:8083']))


def test_upstream_defined_with_capitals_is_found_by_its_own_name():
    snapshot = snapshot_result()
    snapshot['config']['files'][A_CONF] = 'upstream Pool {\n    server 127.0.0.1:8081;\n}\n'
    result, calls = run({'upstream': 'Pool'}, probe=probe_result, snapshot=snapshot)
    assert calls[1] == ('balancer.nginx.backend_probe', dict(DEFAULTS, backends=['127.0.0.1:8081']))
    assert result['upstream'] == 'Pool'


def test_what_the_snapshot_rolled_back_is_said():
    recovered = ('an interrupted balancer.nginx run (pid 7, started 2026-12-01T10:00:00+0000) had left '
                 'unvalidated changes; they were rolled back before this run: restored /etc/nginx/conf.d/a.conf')
    result, calls = run({'upstream': 'app'}, probe=probe_result, snapshot=snapshot_result(recovered=[recovered]))
    assert result['warnings'] == [recovered]


@pytest.mark.parametrize('timeout', [0, 86401])
def test_nginx_timeout_out_of_range_is_refused_like_every_other_module(timeout):
    # the file-writing modules and config_info refuse it before reading the proxy; a 0 never silently becomes 60
    calls = []
    with pytest.raises(AnsibleActionFail) as info:
        run({'upstream': 'app', 'nginx_timeout': timeout}, probe=probe_result, calls=calls)
    assert str(info.value) == 'nginx_timeout: %d must be from 1 to 86400; give a value from 1 to 86400.' % timeout
    assert calls == []
