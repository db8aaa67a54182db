# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/action/upstream.py: the controller side, with _execute_module stubbed.

The round trips are canned: ``balancer.nginx.snapshot`` answers with an Nginx
version, the proxy's configuration files and the bytes of the paths asked
for; ``balancer.nginx.commit`` answers as the target module would.  The tests
assert what is sent to each.
"""

from __future__ import annotations

import hashlib

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.balancer.nginx.plugins.action.upstream import ActionModule
from ansible_collections.balancer.nginx.tests.unit.canned_proxy import CannedProxy
from ansible_collections.balancer.nginx.tests.unit.canned_proxy import make_action as canned_make_action
from ansible_collections.balancer.nginx.tests.unit.canned_proxy import run_action

NGINX_CONF = '/etc/nginx/nginx.conf'
APP_PATH = '/etc/nginx/conf.d/app.conf'
MAIN = ('events {}\n'
        'http {\n'
        '    include /etc/nginx/conf.d/*.conf;\n'
        '    server {\n'
        '        listen 80;\n'
        '        location / {\n'
        '            proxy_pass http://app;\n'
        '        }\n'
        '    }\n'
        '}\n')
ARGS = {'name': 'app', 'servers': [{'address': '10.0.0.1:8080', 'weight': 3}, {'address': '10.0.0.2:8080'}]}
TASK_VARS = {'inventory_hostname': 'proxy1'}


HEADER = '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.\n'
# what the upstream module writes for ARGS, spelled out
APP_TEXT = (HEADER
            + '# balancer.nginx item: upstream app\n'
            'upstream app {\n'
            '    server 10.0.0.1:8080 weight=3;\n'
            '    server 10.0.0.2:8080;\n'
            '}\n')
# what the upstream module returns as "upstream" for ARGS: its options as the engine normalized them
APP_OPTIONS = {'name': 'app', 'context': 'http', 'method': 'round_robin', 'consistent': False, 'random_two': False, 'ntlm': False,
               'servers': [{'address': '10.0.0.1:8080', 'weight': 3, 'backup': False, 'down': False, 'drain': False,
                            'resolve': False},
                           {'address': '10.0.0.2:8080', 'backup': False, 'down': False, 'drain': False,
                            'resolve': False}]}
READ_SET = {'files': {NGINX_CONF: '1001:170:1764590000000000000'}, 'dirs': {'/etc/nginx/conf.d': 'da39a3ee'}}


def managed(text):
    """Bytes of a file the collection wrote for upstream app."""
    return (HEADER + '# balancer.nginx item: upstream app\n' + text).encode('utf-8')


def latin1(data):
    """What snapshot.py sends for bytes: the Latin-1 character of each byte."""
    return data.decode('latin-1')


class Proxy(CannedProxy):
    """The canned proxy of this module's tests: nginx.conf is MAIN."""

    def __init__(self, current=None, version='1.22.1', plus=False, commit_result=None, extra_files=None,
                 config_ok=True, config_error=None, recovered=None):
        super(Proxy, self).__init__(MAIN, NGINX_CONF, READ_SET, current=current, extra_files=extra_files,
                                    version=version, plus=plus, config_ok=config_ok, config_error=config_error,
                                    recovered=recovered, commit_result=commit_result)


def make_action(args, proxy, check_mode=False, diff=False):
    return canned_make_action(ActionModule, 'balancer.nginx.upstream', args, proxy, check_mode, diff)


def run(args=None, proxy=None, check_mode=False, diff=False):
    return run_action(ActionModule, 'balancer.nginx.upstream', ARGS if args is None else args,
                      Proxy() if proxy is None else proxy, TASK_VARS, check_mode, diff)


SNAPSHOT_ARGS = {'nginx_binary': 'nginx', 'nginx_conf': NGINX_CONF, 'nginx_timeout': 60, '_paths': [APP_PATH],
                 '_dirs': [], '_once': True}


# -- what is sent -----------------------------------------------------------------

def test_new_group_sends_snapshot_then_commit():
    result, proxy = run()
    assert proxy.modules() == ['balancer.nginx.snapshot', 'balancer.nginx.commit']
    assert proxy.args_of('balancer.nginx.snapshot') == SNAPSHOT_ARGS
    assert proxy.args_of('balancer.nginx.commit') == {
        'files': [{'path': APP_PATH, 'content': APP_TEXT, 'state': 'present'}],
        '_expected': {APP_PATH: None},
        '_read_set': READ_SET,
        # an http group needs no directory created; nginx.conf keeps its own owner, group and mode
        '_mkdirs': [],
        '_keep_attributes': [NGINX_CONF],
        'nginx_binary': 'nginx',
        'nginx_conf': NGINX_CONF,
        'nginx_timeout': 60,
        'validate': True,
        'backup': False,
        'backup_dir': '/var/backups/balancer-nginx',
    }
    assert all(task_vars == TASK_VARS for name, args, task_vars in proxy.calls)
    assert result['changed'] is True
    assert result['path'] == APP_PATH
    assert result['content'] == APP_TEXT
    assert result['upstream'] == APP_OPTIONS
    assert 'diff' not in result
    assert not result.get('failed')


def test_changed_file_sends_the_sha1_of_what_was_read():
    before = managed('upstream app {\n    server 10.0.0.1:8080;\n}\n')
    result, proxy = run(proxy=Proxy(current={APP_PATH: before}))
    commit = proxy.args_of('balancer.nginx.commit')
    assert commit['_expected'] == {APP_PATH: 'e3ed129eb37622abdbabd4f03d59b90a764b28e5'}
    assert commit['files'] == [{'path': APP_PATH, 'content': APP_TEXT, 'state': 'present'}]
    assert result['changed'] is True


def test_common_options_are_passed_through():
    args = dict(ARGS, nginx_binary='/opt/nginx/sbin/nginx', nginx_conf='/opt/nginx/conf/nginx.conf',
                conf_dir='/opt/nginx/conf/conf.d', validate=False, backup=True, mode='0640', owner='root',
                group='www-data', unsafe_writes=True, nginx_timeout=5, backup_dir='/srv/backups')
    proxy = Proxy()
    proxy_main = MAIN.replace('/etc/nginx/conf.d', '/opt/nginx/conf/conf.d')

    def files():
        return {'/opt/nginx/conf/nginx.conf': proxy_main}

    proxy.files = files
    result, proxy = run(args, proxy)
    assert proxy.args_of('balancer.nginx.snapshot') == {
        'nginx_binary': '/opt/nginx/sbin/nginx', 'nginx_conf': '/opt/nginx/conf/nginx.conf', 'nginx_timeout': 5,
        '_paths': ['/opt/nginx/conf/conf.d/app.conf'], '_dirs': [], '_once': True}
    assert proxy.args_of('balancer.nginx.commit') == {
        'files': [{'path': '/opt/nginx/conf/conf.d/app.conf', 'content': APP_TEXT, 'state': 'present'}],
        '_expected': {'/opt/nginx/conf/conf.d/app.conf': None},
        '_read_set': READ_SET,
        '_mkdirs': [],
        '_keep_attributes': ['/opt/nginx/conf/nginx.conf'],
        'nginx_binary': '/opt/nginx/sbin/nginx',
        'nginx_conf': '/opt/nginx/conf/nginx.conf',
        'nginx_timeout': 5,
        'validate': False,
        'backup': True,
        'backup_dir': '/srv/backups',
        'mode': '0640',
        'owner': 'root',
        'group': 'www-data',
        'unsafe_writes': True,
    }
    assert result['path'] == '/opt/nginx/conf/conf.d/app.conf'


def test_path_option():
    result, proxy = run(dict(ARGS, path='/etc/nginx/conf.d/10-app.conf'))
    assert proxy.args_of('balancer.nginx.snapshot')['_paths'] == ['/etc/nginx/conf.d/10-app.conf']
    assert proxy.args_of('balancer.nginx.commit')['files'][0]['path'] == '/etc/nginx/conf.d/10-app.conf'


# -- no commit when nothing changes, in check mode, or on refusal ---------------

def test_unchanged_sends_no_commit():
    result, proxy = run(proxy=Proxy(current={APP_PATH: APP_TEXT.encode('utf-8')}))
    assert proxy.modules() == ['balancer.nginx.snapshot']
    assert result['changed'] is False
    assert result['content'] == APP_TEXT


def test_unchanged_in_diff_mode_has_no_diff():
    result, proxy = run(proxy=Proxy(current={APP_PATH: APP_TEXT.encode('utf-8')}), diff=True)
    assert result['changed'] is False
    assert 'diff' not in result


def test_check_mode_sends_no_commit():
    result, proxy = run(check_mode=True)
    assert proxy.modules() == ['balancer.nginx.snapshot']
    assert result['changed'] is True


@pytest.mark.parametrize('current', [None, managed('upstream app {\n    server 10.0.0.1:8080;\n}\n'), 'same'],
                         ids=['absent', 'different', 'same'])
@pytest.mark.parametrize('diff', [False, True])
def test_check_mode_changed_equals_the_real_run(current, diff):
    if current == 'same':
        current = APP_TEXT.encode('utf-8')
    files = {} if current is None else {APP_PATH: current}
    check, check_proxy = run(proxy=Proxy(current=files), check_mode=True, diff=diff)
    real, real_proxy = run(proxy=Proxy(current=files), diff=diff)
    assert check['changed'] == real['changed'] == (current != APP_TEXT.encode('utf-8'))
    assert 'balancer.nginx.commit' not in check_proxy.modules()
    assert ('balancer.nginx.commit' in real_proxy.modules()) == real['changed']
    assert check == real


def test_model_refusal_sends_nothing():
    args = dict(ARGS, method='ip_hash', servers=[{'address': 'a:80'}, {'address': 'b:80', 'backup': True}])
    proxy = Proxy()
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(args, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == (
        'servers[1].backup: is not allowed with method=ip_hash (Nginx rejects it or silently ignores it, depending '
        'on the order of the lines); remove backup from the server, or use method round_robin or least_conn.')
    assert proxy.calls == []


@pytest.mark.parametrize('args, message', [
    (dict(ARGS, servers=[{'address': '10.0.0.1:80;\n}\nserver {'}]),
     "servers[0].address: '10.0.0.1:80;\\n}\\nserver {' contains ';', which Nginx would read as syntax, not as "
     "part of an address; remove it."),
    (dict(ARGS, name='app{'),
     "name: 'app{' contains '{', which Nginx would read as syntax, not as part of a name; remove it."),
    (dict(ARGS, method='hash', hash_key='$uri\n}\nserver evil:80;'),
     "hash_key: '$uri\\n}\\nserver evil:80;' contains a line break (U+000A (LF)), which Nginx would pass on into "
     "requests and log lines; remove it."),
    (dict(ARGS, zone='app#64k'),
     "zone: 'app#64k' contains '#', which Nginx would read as syntax, not as part of a zone; remove it."),
    (dict(ARGS, resolver=['10.0.0.2;']),
     "resolver[0]: '10.0.0.2;' contains ';', which Nginx would read as syntax, not as part of a resolver address; "
     "remove it."),
    (dict(ARGS, sticky=['cookie', 'a"b']),
     "sticky[1]: 'a\"b' contains '\"', which Nginx would read as syntax, not as part of a sticky argument; "
     "remove it."),
    (dict(ARGS, servers=[{'address': 'a:80', 'route': "r'1"}]),
     "servers[0].route: \"r'1\" contains \"'\", which Nginx would read as syntax, not as part of a route; "
     "remove it."),
], ids=['address', 'name', 'hash_key', 'zone', 'resolver', 'sticky', 'route'])
def test_injection_sends_nothing(args, message):
    proxy = Proxy()
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(args, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == message
    assert proxy.calls == []


@pytest.mark.parametrize('args, message', [
    (dict(ARGS, method='fastest'),
     "method: 'fastest' is not a balancing method; use one of round_robin, least_conn, ip_hash, hash, random, "
     "least_time."),
    (dict(ARGS, servers=[{'address': '10.0.0.1:80', 'wieght': 3}]),
     'servers[0]: has unknown option(s) wieght; use only address, weight, max_conns, max_fails, fail_timeout, '
     'slow_start, route, backup, down, drain, resolve.'),
    (dict(ARGS, keepalive_time='1h'),
     'keepalive_time: has no effect without keepalive; set keepalive, or remove keepalive_time.'),
    # one message for the module and for a site item: the item's options, its path included
    (dict(ARGS, bogus=1),
     'options: has unknown option(s) bogus; use only name, state, context, method, hash_key, consistent, '
     'random_two, least_time, servers, keepalive, keepalive_requests, keepalive_time, keepalive_timeout, zone, '
     'resolver, resolver_timeout, sticky, ntlm, queue, queue_timeout, path.'),
    (dict(ARGS, exclusive=True),
     'options: has unknown option(s) exclusive; use only name, state, context, method, hash_key, consistent, '
     'random_two, least_time, servers, keepalive, keepalive_requests, keepalive_time, keepalive_timeout, zone, '
     'resolver, resolver_timeout, sticky, ntlm, queue, queue_timeout, path.'),
    (dict(ARGS, validate='maybe'),
     "validate: 'maybe' must be true or false; give true or false."),
    (dict(ARGS, nginx_plus=['yes']),
     "nginx_plus: ['yes'] must be true or false; give true or false."),
], ids=['choice', 'server-key', 'requires', 'unknown', 'site-option', 'common-bool', 'common-bool-list'])
def test_option_refusal_sends_nothing(args, message):
    proxy = Proxy()
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(args, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == message
    assert proxy.calls == []


def test_feature_refusal_sends_no_commit():
    args = dict(ARGS, zone='app 64k', servers=[{'address': 'app.internal:80', 'resolve': True}])
    proxy = Proxy()
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(args, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == (
        'servers[0].resolve: needs Nginx 1.27.3 or newer (server parameter resolve) and the proxy runs open source '
        'Nginx 1.22.1; upgrade Nginx to 1.27.3 or newer, remove the option, or set nginx_plus: true if the proxy '
        'runs NGINX Plus.')
    assert proxy.modules() == ['balancer.nginx.snapshot']
    # the same request with nginx_plus, or against a newer Nginx, goes through
    result, proxy = run(dict(args, nginx_plus=True))
    assert proxy.modules() == ['balancer.nginx.snapshot', 'balancer.nginx.commit']
    result, proxy = run(args, Proxy(version='1.27.3'))
    assert result['changed'] is True


def test_duplicate_refusal_sends_no_commit():
    proxy = Proxy(extra_files={'/etc/nginx/conf.d/hand.conf': 'upstream app {\n    server 10.0.0.9:80;\n}\n'})
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(ARGS, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == ("name: 'app' is already defined as an upstream in /etc/nginx/conf.d/hand.conf:1; "
                              'remove it there, or choose another name.')
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_absent_refused_while_referenced_sends_no_commit():
    proxy = Proxy(current={APP_PATH: APP_TEXT.encode('utf-8')})
    with pytest.raises(AnsibleActionFail) as exc:
        make_action({'name': 'app', 'state': 'absent'}, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == (
        "state: 'absent' cannot remove upstream 'app': proxy_pass still refers to it at /etc/nginx/nginx.conf:7; "
        'change those proxy_pass lines first, or set force: true.')
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_absent_with_force_sends_a_removal():
    before = APP_TEXT.encode('utf-8')
    result, proxy = run({'name': 'app', 'state': 'absent', 'force': True}, Proxy(current={APP_PATH: before}))
    assert proxy.args_of('balancer.nginx.commit')['files'] == [{'path': APP_PATH, 'content': None, 'state': 'absent'}]
    assert proxy.args_of('balancer.nginx.commit')['_expected'] == {APP_PATH: '195014d38ef46a114fd74f49c830e246761a6fae'}
    assert result['changed'] is True
    assert result['upstream'] is None and result['content'] is None


def test_absent_of_a_missing_file_sends_no_commit():
    result, proxy = run({'name': 'spare', 'state': 'absent'})
    assert proxy.modules() == ['balancer.nginx.snapshot']
    assert result['changed'] is False


# -- diff ----------------------------------------------------------------------

def test_diff_only_in_diff_mode():
    before = managed('upstream app {\n    server 10.0.0.1:8080;\n}\n')
    plain, dummy = run(proxy=Proxy(current={APP_PATH: before}))
    with_diff, dummy = run(proxy=Proxy(current={APP_PATH: before}), diff=True)
    assert with_diff['diff'] == {'before_header': APP_PATH, 'after_header': APP_PATH,
                                 'before': before.decode('utf-8'), 'after': APP_TEXT}
    assert 'diff' not in plain
    without = dict(with_diff)
    del without['diff']
    assert without == plain


def test_diff_in_check_mode_is_the_same():
    real, dummy = run(diff=True)
    check, dummy = run(check_mode=True, diff=True)
    assert check['diff'] == real['diff'] == {'before_header': APP_PATH, 'after_header': APP_PATH,
                                             'before': '', 'after': APP_TEXT}


# -- what the commit said ------------------------------------------------------

def test_commit_failure_is_reported_with_nginx_test_and_restored():
    failed = {'failed': True, 'msg': 'nginx -t rejected the change, so nothing was kept: nginx: [emerg] host not '
                                     'found in upstream "x:80" in /etc/nginx/conf.d/app.conf:3 -- Restored: removed '
                                     '/etc/nginx/conf.d/app.conf (it did not exist before).',
              'nginx_test': {'ok': False, 'file': APP_PATH, 'line': 3, 'message': 'host not found', 'output': 'x'},
              'restored': ['removed /etc/nginx/conf.d/app.conf (it did not exist before)'], 'files': []}
    result, proxy = run(proxy=Proxy(commit_result=failed))
    assert result['failed'] is True
    assert result['changed'] is False
    assert result['msg'] == failed['msg']
    assert result['nginx_test'] == failed['nginx_test']
    assert result['restored'] == failed['restored']


def test_backup_file_is_returned():
    committed = {'changed': True, 'files': [{'path': APP_PATH, 'changed': True, 'state': 'present',
                                             'backup_file': '/var/backups/balancer-nginx/etc/nginx/conf.d/app.conf'
                                                            '.20261124-210000.1234~'}]}
    result, proxy = run(dict(ARGS, backup=True), Proxy(current={APP_PATH: managed('old\n')}, commit_result=committed))
    assert result['backup_file'] == '/var/backups/balancer-nginx/etc/nginx/conf.d/app.conf.20261124-210000.1234~'


def test_snapshot_failure_is_an_action_failure():
    def failing(module_name=None, module_args=None, task_vars=None, **kwargs):
        return {'failed': True, 'msg': "nginx_binary: 'nginx' was not found (or is not executable) on the host; "
                                       'install nginx or set nginx_binary to the path of the nginx executable.'}

    with pytest.raises(AnsibleActionFail) as exc:
        make_action(ARGS, failing).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == ("nginx_binary: 'nginx' was not found (or is not executable) on the host; "
                              'install nginx or set nginx_binary to the path of the nginx executable.')


# -- owner/group/mode ----------------------------------------------------------

def test_file_attributes_on_unchanged_content_go_to_commit():
    # the bytes are right but the mode may not be: commit applies the file arguments and says whether it changed
    committed = {'changed': False, 'files': [{'path': APP_PATH, 'changed': False, 'state': 'present',
                                              'backup_file': None}]}
    result, proxy = run(dict(ARGS, mode='0644'), Proxy(current={APP_PATH: APP_TEXT.encode('utf-8')},
                                                       commit_result=committed))
    assert proxy.args_of('balancer.nginx.commit')['files'] == [
        {'path': APP_PATH, 'content': APP_TEXT, 'state': 'present'}]
    assert proxy.args_of('balancer.nginx.commit')['mode'] == '0644'
    assert result['changed'] is False


# -- ownership: hand-written files -----------------------------------------------

HAND = b'upstream app {\n    server 10.0.0.1:8080;\n}\n'


def test_hand_written_file_is_refused_and_nothing_is_committed():
    proxy = Proxy(current={APP_PATH: HAND})
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(ARGS, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == (
        'name: would replace /etc/nginx/conf.d/app.conf, which balancer.nginx did not write (it does not '
        'start with the "# Managed by balancer.nginx" header comment), so nothing was changed; leave that file alone by giving '
        'the item another name or path, or set force: true to take it over.')
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_hand_written_file_is_not_removed():
    proxy = Proxy(current={APP_PATH: HAND})
    with pytest.raises(AnsibleActionFail) as exc:
        make_action({'name': 'app', 'state': 'absent'}, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == (
        'state: would remove /etc/nginx/conf.d/app.conf, which balancer.nginx did not write (it does not '
        'start with the "# Managed by balancer.nginx" header comment), so nothing was changed; leave that file alone by giving '
        'the item another name, or set force: true to remove it.')
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_force_takes_the_hand_written_file_over():
    result, proxy = run(dict(ARGS, force=True), Proxy(current={APP_PATH: HAND}))
    commit = proxy.args_of('balancer.nginx.commit')
    assert commit['files'] == [{'path': APP_PATH, 'content': APP_TEXT, 'state': 'present'}]
    assert commit['_expected'] == {APP_PATH: 'eb5f49dedb92cb5713cabeb1c3fdad237758233b'}
    assert result['changed'] is True


def test_force_takeover_refused_names_what_would_be_dropped():
    before = b'upstream app {\n    server 10.0.0.1:8080;\n    health_check;\n}\n'
    proxy = Proxy(current={APP_PATH: before})
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(dict(ARGS, force=True), proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == (
        'name: cannot take over /etc/nginx/conf.d/app.conf: it holds what the upstream options cannot express, '
        'which would be dropped: "health_check" at line 3; move those lines to a file of their own (or delete them) '
        'first; nothing was changed.')
    assert proxy.modules() == ['balancer.nginx.snapshot']


# -- a configuration that fails nginx -T as it is ------------------------------------

BROKEN = 'nginx: [emerg] unexpected "}" in /etc/nginx/conf.d/zz-hand.conf:3\nnginx: configuration file test failed\n'


def test_nothing_to_change_over_a_failing_configuration_fails():
    proxy = Proxy(current={APP_PATH: APP_TEXT.encode()}, config_ok=False, config_error=BROKEN)
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(ARGS, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == (
        'The proxy\'s configuration fails nginx -t as it is (unexpected "}" at /etc/nginx/conf.d/zz-hand.conf:3), '
        'and this task changes nothing that could fix it; correct that file first (balancer.nginx.config_info with '
        'test: true shows the error).')
    assert exc.value.result['nginx_test'] == {'ok': False, 'file': '/etc/nginx/conf.d/zz-hand.conf', 'line': 3,
                                              'message': 'unexpected "}"'}
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_nothing_to_change_over_a_failing_configuration_without_a_location():
    proxy = Proxy(current={APP_PATH: APP_TEXT.encode()}, config_ok=False,
                  config_error='nginx: [emerg] open() "/run/nginx.pid" failed (13: Permission denied)\n')
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(ARGS, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == (
        'The proxy\'s configuration fails nginx -t as it is (open() "/run/nginx.pid" failed (13: Permission '
        'denied)), and this task changes nothing that could fix it; correct that file first '
        '(balancer.nginx.config_info with test: true shows the error).')


def test_nothing_to_change_over_a_failing_configuration_in_check_mode_fails_too():
    proxy = Proxy(current={APP_PATH: APP_TEXT.encode()}, config_ok=False, config_error=BROKEN)
    with pytest.raises(AnsibleActionFail):
        make_action(ARGS, proxy, check_mode=True).run(task_vars=dict(TASK_VARS))
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_nothing_to_change_over_a_failing_configuration_with_validate_false_is_ok():
    result, proxy = run(dict(ARGS, validate=False),
                        Proxy(current={APP_PATH: APP_TEXT.encode()}, config_ok=False, config_error=BROKEN))
    assert result['changed'] is False
    assert not result.get('failed')
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_a_change_over_a_failing_configuration_goes_to_commit():
    # commit's own nginx -t decides (the change may be the fix)
    result, proxy = run(proxy=Proxy(config_ok=False, config_error=BROKEN))
    assert proxy.modules() == ['balancer.nginx.snapshot', 'balancer.nginx.commit']
    assert result['changed'] is True


# -- what an interrupted run left behind -----------------------------------------------

RECOVERED = ('an interrupted balancer.nginx run (pid 4242, started 2026-12-01T10:00:00+0000) had left unvalidated '
             'changes; they were rolled back before this run: restored /etc/nginx/conf.d/app.conf')


def test_recovered_by_the_snapshot_is_a_warning():
    result, proxy = run(proxy=Proxy(current={APP_PATH: APP_TEXT.encode()}, recovered=[RECOVERED]))
    assert result['changed'] is False
    assert result['warnings'] == [RECOVERED]


def test_recovered_by_the_commit_is_a_warning():
    committed = {'changed': True, 'recovered': [RECOVERED],
                 'files': [{'path': APP_PATH, 'changed': True, 'state': 'present', 'backup_file': None}]}
    result, proxy = run(proxy=Proxy(commit_result=committed))
    assert result['warnings'] == [RECOVERED]
    assert result['changed'] is True


def test_recovered_is_a_warning_when_the_task_then_fails():
    proxy = Proxy(current={APP_PATH: HAND}, recovered=[RECOVERED])
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(ARGS, proxy).run(task_vars=dict(TASK_VARS))
    assert exc.value.result['warnings'] == [RECOVERED]


def test_snapshot_failure_keeps_what_was_recovered():
    def failing(module_name=None, module_args=None, task_vars=None, **kwargs):
        return {'failed': True, 'recovered': [RECOVERED],
                'msg': 'nginx_timeout: "nginx -V" did not finish within 60 s and was stopped; find out why Nginx '
                       'hangs (a name lookup or a file on a slow mount?) or raise nginx_timeout.'}

    with pytest.raises(AnsibleActionFail) as exc:
        make_action(ARGS, failing).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == ('nginx_timeout: "nginx -V" did not finish within 60 s and was stopped; find out why '
                              'Nginx hangs (a name lookup or a file on a slow mount?) or raise nginx_timeout.')
    assert exc.value.result['recovered'] == [RECOVERED]


def test_commit_failure_without_a_message_is_never_a_null_message():
    committed = {'failed': True, 'changed': False}
    result, proxy = run(proxy=Proxy(commit_result=committed))
    assert result['failed'] is True
    assert result['msg'] == "the commit on the proxy failed without a message: {'failed': True, 'changed': False}"


# -- nginx_timeout ------------------------------------------------------------------

@pytest.mark.parametrize('timeout', [0, -1, 86401])
def test_nginx_timeout_out_of_range_sends_nothing(timeout):
    proxy = Proxy()
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(dict(ARGS, nginx_timeout=timeout), proxy).run(task_vars=dict(TASK_VARS))
    # Worse than before the table: "%d is not a number of seconds from 1 to 86400; give e.g. 60."
    assert str(exc.value) == 'nginx_timeout: %d must be from 1 to 86400; give a value from 1 to 86400.' % timeout
    assert proxy.calls == []


@pytest.mark.parametrize('timeout', [1, 86400])
def test_nginx_timeout_goes_to_both_modules(timeout):
    result, proxy = run(dict(ARGS, nginx_timeout=timeout))
    assert proxy.args_of('balancer.nginx.snapshot')['nginx_timeout'] == timeout
    assert proxy.args_of('balancer.nginx.commit')['nginx_timeout'] == timeout


def test_nginx_conf_is_normalized():
    result, proxy = run(dict(ARGS, nginx_conf='/etc/nginx/./nginx.conf'))
    assert proxy.args_of('balancer.nginx.snapshot')['nginx_conf'] == NGINX_CONF
    assert proxy.args_of('balancer.nginx.commit')['nginx_conf'] == NGINX_CONF


# -- context: stream (issue 12) -------------------------------------------------------------

STREAM_D = '/etc/nginx/stream.d'
STREAM_BLOCK = ('\n'
                '# BEGIN balancer.nginx: the stream context of the TCP/UDP proxies (the rest of this file is not '
                'managed)\n'
                'stream {\n'
                '    include /etc/nginx/stream.d/*.conf;\n'
                '}\n'
                '# END balancer.nginx\n')


class StreamCapable(Proxy):
    """A proxy whose nginx -V shows the stream module built in."""

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        result = Proxy.__call__(self, module_name, module_args, task_vars, **kwargs)
        if module_name == 'balancer.nginx.snapshot':
            result['nginx']['output'] = 'nginx version: nginx/1.22.1\nconfigure arguments: --with-http_ssl_module ' \
                                        '--with-stream'
        return result


def test_a_stream_group_goes_to_stream_conf_dir_with_the_stream_include():
    result, proxy = run(dict(ARGS, context='stream'), StreamCapable(current={NGINX_CONF: MAIN.encode()}))
    path = STREAM_D + '/app.conf'
    assert proxy.args_of('balancer.nginx.snapshot') == dict(SNAPSHOT_ARGS, _paths=[NGINX_CONF, path])
    assert proxy.args_of('balancer.nginx.commit') == {
        'files': [{'path': path, 'content': APP_TEXT, 'state': 'present'},
                  {'path': NGINX_CONF, 'content': MAIN + STREAM_BLOCK, 'state': 'present'}],
        '_expected': {path: None, NGINX_CONF: hashlib.sha1(MAIN.encode()).hexdigest()},
        '_read_set': READ_SET,
        '_mkdirs': [STREAM_D],
        '_keep_attributes': [NGINX_CONF],
        'nginx_binary': 'nginx',
        'nginx_conf': NGINX_CONF,
        'nginx_timeout': 60,
        'validate': True,
        'backup': False,
        'backup_dir': '/var/backups/balancer-nginx',
    }
    assert (result['path'], result['content']) == (path, APP_TEXT)
    assert result['upstream'] == dict(APP_OPTIONS, context='stream')


def test_a_stream_group_in_a_stream_conf_dir_of_its_own():
    main = MAIN + 'stream {\n    include /srv/tcp/*.conf;\n}\n'
    result, proxy = run(dict(ARGS, context='stream', stream_conf_dir='/srv/tcp'),
                        StreamCapable(current={NGINX_CONF: main.encode()}))
    commit = proxy.args_of('balancer.nginx.commit')
    assert (commit['files'], commit['_mkdirs']) == (
        [{'path': '/srv/tcp/app.conf', 'content': APP_TEXT, 'state': 'present'}], ['/srv/tcp'])


def test_a_stream_group_on_an_nginx_without_the_stream_module_is_refused():
    # Proxy's nginx -V says nothing of a stream module
    proxy = Proxy(current={NGINX_CONF: MAIN.encode()})
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(dict(ARGS, context='stream'), proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == ('stream_conf_dir: needs the stream module, which this Nginx was built without; install '
                              'an Nginx built with it (Debian: nginx with libnginx-mod-stream).')
    assert proxy.modules() == ['balancer.nginx.snapshot']


@pytest.mark.parametrize('args, message', [
    (dict(ARGS, context='stream', keepalive=8),
     'keepalive: does not exist in the stream context; remove it (it is for the http context).'),
    (dict(ARGS, context='stream', servers=[{'address': '10.0.0.1:5432', 'drain': True}]),
     'servers[0].drain: does not exist in the stream context; remove it (it is for the http context).'),
    (dict(ARGS, context='udp'), "context: 'udp' is not a context; use one of http, stream."),
], ids=['keepalive', 'drain', 'context'])
def test_stream_refusals_send_nothing(args, message):
    proxy = StreamCapable()
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(args, proxy).run(task_vars=dict(TASK_VARS))
    assert str(exc.value) == message
    assert proxy.calls == []
