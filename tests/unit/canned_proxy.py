# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A proxy for the action plugins' unit tests: canned answers of the two target modules, and a record of calls.

``balancer.nginx.snapshot`` answers with ``nginx -V``, the configuration files
(nginx.conf, ``extra_files``, the ``current`` bytes, as snapshot.py sends them:
each byte as the Latin-1 character of the same number) and the bytes of the
paths asked for; ``balancer.nginx.commit`` answers as the target module would,
or with ``commit_result``. It stands in for ``ActionBase._execute_module``.
"""

from __future__ import annotations

import base64
import hashlib
from unittest.mock import MagicMock

from ansible.playbook.task import Task


class CannedProxy(object):

    def __init__(self, main, nginx_conf, read_set, current=None, extra_files=None, version='1.22.1', plus=False,
                 version_output=None, config_ok=True, config_error=None, recovered=None, commit_result=None):
        self.main = main                        # nginx.conf's text
        self.nginx_conf = nginx_conf
        self.read_set = read_set
        self.current = dict(current or {})      # path -> bytes, besides nginx.conf
        self.extra_files = dict(extra_files or {})
        self.version = version
        self.plus = plus
        self.version_output = version_output or 'nginx version: nginx/%s' % version
        self.config_ok = config_ok
        self.config_error = config_error
        self.recovered = list(recovered or [])
        self.commit_result = commit_result
        self.calls = []

    def bytes_of(self, path):
        if path == self.nginx_conf:
            return self.main.encode('utf-8')
        return self.current.get(path)

    def files(self):
        files = {self.nginx_conf: self.main}
        files.update(self.extra_files)
        files.update((path, data.decode('latin-1')) for path, data in self.current.items())
        return files

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append((module_name, module_args, task_vars))
        if module_name == 'balancer.nginx.snapshot':
            paths = {}
            for path in module_args['_paths']:
                data = self.bytes_of(path)
                paths[path] = {'exists': data is not None,
                               'content_b64': None if data is None else base64.b64encode(data).decode('ascii'),
                               'sha1': None if data is None else hashlib.sha1(data).hexdigest()}
            return {'changed': False,
                    'nginx': {'version': self.version, 'plus': self.plus, 'output': self.version_output},
                    'config': {'ok': self.config_ok, 'source': 'nginx -T' if self.config_ok else 'files',
                               'files': self.files(), 'error': self.config_error, 'encoding': 'latin-1',
                               'real': {}},
                    'paths': paths, 'dirs': {}, 'read_set': self.read_set, 'recovered': self.recovered}
        if module_name == 'balancer.nginx.commit':
            if self.commit_result is not None:
                return self.commit_result
            return {'changed': True, 'nginx_test': {'ok': True, 'output': ''}, 'recovered': [],
                    'files': [{'path': f['path'], 'changed': True, 'state': f['state'], 'backup_file': None}
                              for f in module_args['files']]}
        raise AssertionError('unexpected module %s' % module_name)

    def modules(self):
        return [name for name, args, task_vars in self.calls]

    def args_of(self, module_name):
        found = [args for name, args, task_vars in self.calls if name == module_name]
        assert len(found) == 1, self.calls
        return found[0]


def make_action(action_class, action_name, args, proxy, check_mode=False, diff=False):
    """``action_class`` for a task of ``action_name`` with ``args``, its round trips going to ``proxy``."""
    task = MagicMock(Task)
    task.args = dict(args)
    task.action = action_name
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    connection = MagicMock()
    connection._shell.tmpdir = '/tmp/ansible-remote'
    action = action_class(task, connection, MagicMock(), loader=MagicMock(), templar=MagicMock(),
                          shared_loader_obj=MagicMock())
    action._execute_module = proxy
    return action


def run_action(action_class, action_name, args, proxy, task_vars, check_mode=False, diff=False):
    """``(result, proxy)`` of one run of the action."""
    action = make_action(action_class, action_name, args, proxy, check_mode, diff)
    return action.run(task_vars=dict(task_vars)), proxy
