# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/action/stream_proxy.py: the controller side, with _execute_module stubbed.

The round trips are canned as in test_upstream.py: ``balancer.nginx.snapshot``
answers with ``nginx -V``, the proxy's configuration files and the bytes of
the paths asked for; ``balancer.nginx.commit`` answers as the target module
would.  The tests assert what is sent to each, nginx.conf's one edit included.
"""

from __future__ import annotations

import hashlib

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.balancer.nginx.plugins.action.stream_proxy import ActionModule
from ansible_collections.balancer.nginx.tests.unit.canned_proxy import CannedProxy
from ansible_collections.balancer.nginx.tests.unit.canned_proxy import make_action as canned_make_action
from ansible_collections.balancer.nginx.tests.unit.canned_proxy import run_action

NGINX_CONF = '/etc/nginx/nginx.conf'
SD = '/etc/nginx/stream.d'
PG_PATH = SD + '/pg.stream.conf'
HEADER = '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.\n'
# Debian's nginx -V: the stream module is a dynamic one, loaded through modules-enabled
NGINX_V = ('nginx version: nginx/1.22.1\n'
           'configure arguments: --prefix=/usr/share/nginx --with-http_ssl_module --with-stream=dynamic '
           '--with-stream_ssl_module')
MODULES = {'/etc/nginx/modules-enabled/50-mod-stream.conf': 'load_module modules/ngx_stream_module.so;\n'}
# a hand-written stream {} block that defines the group but does not read stream_conf_dir yet
MAIN = ('include /etc/nginx/modules-enabled/*.conf;\n'
        'events {}\n'
        'http {\n'
        '    include /etc/nginx/conf.d/*.conf;\n'
        '}\n'
        'stream {\n'
        '    upstream pg {\n'
        '        server 10.0.0.31:5432;\n'
        '    }\n'
        '}\n')
MAIN_AFTER = MAIN.replace('stream {\n', 'stream {\n    include /etc/nginx/stream.d/*.conf;  # balancer.nginx: '
                                        'stream_conf_dir\n')
# what a first run leaves: nginx.conf reads stream_conf_dir
INCLUDED = MAIN_AFTER
ARGS = {'name': 'pg', 'listen': ['5432', '[::]:5432'], 'upstream': 'pg', 'proxy_timeout': '10m'}
# what the stream_proxy module writes and returns for ARGS, spelled out
PG_TEXT = (HEADER
           + '# balancer.nginx item: stream_proxy pg\n'
           'server {\n'
           '    listen 5432;\n'
           '    listen [::]:5432;\n'
           '    proxy_pass pg;\n'
           '    proxy_timeout 10m;\n'
           '}\n')
PG_OPTIONS = {'name': 'pg', 'listen': ['5432', '[::]:5432'], 'upstream': 'pg', 'proxy_timeout': '10m'}
READ_SET = {'files': {NGINX_CONF: '1001:170:1764590000000000000'}, 'dirs': {}}
TASK_VARS = {'inventory_hostname': 'proxy1'}


def sha1(text):
    return hashlib.sha1(text.encode('utf-8')).hexdigest()


class Proxy(CannedProxy):
    """The canned proxy of this module's tests: Debian's nginx -V, the stream module loaded by MODULES."""

    def __init__(self, main=MAIN, current=None, extra_files=None, version_output=NGINX_V, commit_result=None):
        super(Proxy, self).__init__(main, NGINX_CONF, READ_SET, current=current,
                                    extra_files=MODULES if extra_files is None else extra_files,
                                    version_output=version_output, commit_result=commit_result)


def make_action(args, proxy, check_mode=False, diff=False):
    return canned_make_action(ActionModule, 'balancer.nginx.stream_proxy', args, proxy, check_mode, diff)


def run(args=None, proxy=None, check_mode=False, diff=False):
    return run_action(ActionModule, 'balancer.nginx.stream_proxy', ARGS if args is None else args,
                      Proxy() if proxy is None else proxy, TASK_VARS, check_mode, diff)


def refused(args, proxy=None):
    proxy = proxy if proxy is not None else Proxy()
    with pytest.raises(AnsibleActionFail) as exc:
        make_action(args, proxy).run(task_vars=dict(TASK_VARS))
    return str(exc.value), proxy


# -- what is sent -----------------------------------------------------------------

def test_a_new_proxy_and_the_stream_include_in_one_commit():
    result, proxy = run()
    assert proxy.modules() == ['balancer.nginx.snapshot', 'balancer.nginx.commit']
    assert proxy.args_of('balancer.nginx.snapshot') == {
        'nginx_binary': 'nginx', 'nginx_conf': NGINX_CONF, 'nginx_timeout': 60, '_paths': [NGINX_CONF, PG_PATH],
        '_dirs': [], '_once': True}
    assert proxy.args_of('balancer.nginx.commit') == {
        'files': [{'path': PG_PATH, 'content': PG_TEXT, 'state': 'present'},
                  {'path': NGINX_CONF, 'content': MAIN_AFTER, 'state': 'present'}],
        '_expected': {PG_PATH: None, NGINX_CONF: sha1(MAIN)},
        '_read_set': READ_SET,
        '_mkdirs': [SD],
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
    assert (result['path'], result['content'], result['stream_proxy']) == (PG_PATH, PG_TEXT, PG_OPTIONS)
    assert 'diff' not in result


def test_when_nginx_reads_stream_conf_dir_already_only_the_proxy_is_sent():
    result, proxy = run(proxy=Proxy(main=INCLUDED))
    commit = proxy.args_of('balancer.nginx.commit')
    assert (commit['files'], commit['_expected'], commit['_mkdirs'], commit['_keep_attributes']) == (
        [{'path': PG_PATH, 'content': PG_TEXT, 'state': 'present'}], {PG_PATH: None}, [SD], [NGINX_CONF])


def test_unchanged_sends_no_commit():
    result, proxy = run(proxy=Proxy(main=INCLUDED, current={PG_PATH: PG_TEXT.encode()}))
    assert proxy.modules() == ['balancer.nginx.snapshot']
    assert result['changed'] is False


def test_file_arguments_go_to_commit_and_nginx_conf_keeps_its_own():
    result, proxy = run(dict(ARGS, mode='0640', owner='root'),
                        Proxy(main=INCLUDED, current={PG_PATH: PG_TEXT.encode()}))
    commit = proxy.args_of('balancer.nginx.commit')
    # the proxy's bytes are right, its mode may not be; nginx.conf is never among the files owner/mode go to
    assert commit['files'] == [{'path': PG_PATH, 'content': PG_TEXT, 'state': 'present'}]
    assert (commit['mode'], commit['owner'], commit['_keep_attributes']) == ('0640', 'root', [NGINX_CONF])


def test_common_options_and_stream_conf_dir():
    main = MAIN.replace('stream {\n', 'stream {\n    include /srv/tcp/*.conf;\n')
    args = dict(ARGS, stream_conf_dir='/srv/tcp/', nginx_binary='/usr/sbin/nginx', nginx_timeout=9, backup=True,
                backup_dir='/srv/bk', validate=False)
    result, proxy = run(args, Proxy(main=main))
    assert proxy.args_of('balancer.nginx.snapshot') == {
        'nginx_binary': '/usr/sbin/nginx', 'nginx_conf': NGINX_CONF, 'nginx_timeout': 9,
        '_paths': [NGINX_CONF, '/srv/tcp/pg.stream.conf'], '_dirs': [], '_once': True}
    commit = proxy.args_of('balancer.nginx.commit')
    assert (commit['files'], commit['_mkdirs'], commit['nginx_binary'], commit['nginx_timeout'], commit['backup'],
            commit['backup_dir'], commit['validate']) == (
        [{'path': '/srv/tcp/pg.stream.conf', 'content': PG_TEXT, 'state': 'present'}], ['/srv/tcp'],
        '/usr/sbin/nginx', 9, True, '/srv/bk', False)
    assert result['path'] == '/srv/tcp/pg.stream.conf'


def test_path_option():
    result, proxy = run(dict(ARGS, path='/etc/nginx/stream.d/10-pg.conf'), Proxy(main=INCLUDED))
    assert proxy.args_of('balancer.nginx.snapshot')['_paths'] == [NGINX_CONF, '/etc/nginx/stream.d/10-pg.conf']
    assert proxy.args_of('balancer.nginx.commit')['files'][0]['path'] == '/etc/nginx/stream.d/10-pg.conf'


def test_check_mode_sends_no_commit_and_says_the_same():
    check, check_proxy = run(check_mode=True, diff=True)
    real, real_proxy = run(diff=True)
    assert check_proxy.modules() == ['balancer.nginx.snapshot']
    assert check == real
    assert check['changed'] is True
    assert check['diff'] == [
        {'before_header': PG_PATH, 'after_header': PG_PATH, 'before': '', 'after': PG_TEXT},
        {'before_header': NGINX_CONF, 'after_header': NGINX_CONF, 'before': MAIN, 'after': MAIN_AFTER}]


def test_absent_removes_the_file_without_touching_nginx_conf():
    result, proxy = run({'name': 'pg', 'state': 'absent'}, Proxy(main=INCLUDED, current={PG_PATH: PG_TEXT.encode()}))
    assert proxy.args_of('balancer.nginx.snapshot')['_paths'] == [PG_PATH]
    commit = proxy.args_of('balancer.nginx.commit')
    assert (commit['files'], commit['_expected'], commit['_mkdirs']) == (
        [{'path': PG_PATH, 'content': None, 'state': 'absent'}], {PG_PATH: sha1(PG_TEXT)}, [])
    assert (result['changed'], result['stream_proxy'], result['content']) == (True, None, None)


# -- refusals -------------------------------------------------------------------------

@pytest.mark.parametrize('args, message', [
    (dict(ARGS, websocket=True),
     'options: has unknown option(s) websocket; use only name, state, listen, upstream, proxy_timeout, '
     'connect_timeout, next_upstream, next_upstream_tries, next_upstream_timeout, path.'),
    (dict(ARGS, conf_dir='/etc/nginx/conf.d', exclusive=True),
     'options: has unknown option(s) exclusive; use only name, state, listen, upstream, proxy_timeout, '
     'connect_timeout, next_upstream, next_upstream_tries, next_upstream_timeout, path.'),
    (dict(ARGS, listen='5432;'),
     "listen[0]: '5432;' contains ';', which Nginx would read as syntax, not as part of a listen address; remove "
     "it."),
    ({'name': 'pg', 'listen': '5432'},
     'upstream: is required: the stream group to proxy to; give the name of an upstream with context: stream.'),
    ({'name': 'pg', 'upstream': 'pg'},
     'listen: is required: a stream proxy listens on a port; give e.g. "5432", "53 udp" or "127.0.0.1:6000".'),
    (dict(ARGS, stream_conf_dir=['/a']), "stream_conf_dir: ['/a'] must be a single value, not a list; give one value."),
], ids=['unknown', 'site-option', 'syntax', 'no-upstream', 'no-listen', 'stream_conf_dir-list'])
def test_refusals_read_nothing(args, message):
    text, proxy = refused(args)
    assert text == message
    assert proxy.calls == []


def test_an_http_group_is_refused_after_the_snapshot():
    main = MAIN.replace('stream {\n    upstream pg {\n        server 10.0.0.31:5432;\n    }\n}\n',
                        'stream {\n    include /etc/nginx/stream.d/*.conf;\n}\n').replace(
        '    include /etc/nginx/conf.d/*.conf;\n', '    upstream pg {\n        server 10.0.0.31:80;\n    }\n')
    text, proxy = refused(ARGS, Proxy(main=main))
    assert text == ("upstream: 'pg' is an upstream of the http context (/etc/nginx/nginx.conf:4), and http and stream "
                    "groups are separate namespaces; give a group with context: stream.")
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_a_stream_module_that_is_not_loaded_is_refused_after_the_snapshot():
    text, proxy = refused(ARGS, Proxy(extra_files={}))
    assert text == ("stream_conf_dir: needs the stream module, which this Nginx has as a dynamic module that its "
                    "configuration does not load; install it (Debian: libnginx-mod-stream, which the role installs) "
                    "or add 'load_module modules/ngx_stream_module.so;' at the top of nginx.conf.")
    assert proxy.modules() == ['balancer.nginx.snapshot']


def test_a_failed_commit_is_reported_with_what_was_restored():
    failed = {'failed': True, 'msg': 'nginx -t rejected the change, so nothing was kept: x -- Restored: ...',
              'nginx_test': {'ok': False, 'file': PG_PATH, 'line': 4, 'message': 'x', 'output': 'x'},
              'restored': ['removed %s (it did not exist before)' % PG_PATH, 'restored %s' % NGINX_CONF,
                           'removed the directory %s (it did not exist before)' % SD], 'files': []}
    result, proxy = run(proxy=Proxy(commit_result=failed))
    assert (result['failed'], result['changed'], result['msg']) == (True, False, failed['msg'])
    assert (result['nginx_test'], result['restored']) == (failed['nginx_test'], failed['restored'])
