# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of every file-writing module, shared by the action plugins.

One round trip reads the proxy (``balancer.nginx.snapshot``), the engine plans
(model, render, inspect), and one round trip commits
(``balancer.nginx.commit``: stage, one ``nginx -t``, keep or restore).  A
subclass supplies the argument spec and ``plan()``; nothing else.
"""

from __future__ import annotations

import hashlib

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.action import ActionBase

from ansible_collections.balancer.nginx.plugins.module_utils import _render, _specs
from ansible_collections.balancer.nginx.plugins.module_utils._engine import Snapshot
from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError

FILE_ARG_KEYS = tuple(_specs.FILE_COMMON_ARGS)


def file_diff(change):
    """One file's diff in Ansible's shape, honouring MAX_FILE_SIZE_FOR_DIFF."""
    diff = {'before_header': change.path, 'after_header': change.path}
    limit = C.MAX_FILE_SIZE_FOR_DIFF
    before = change.before_text
    after = change.after or ''
    if len(before) > limit:
        diff['dst_larger'] = limit
    else:
        diff['before'] = before
    if len(after) > limit:
        diff['src_larger'] = limit
    else:
        diff['after'] = after
    return diff


class NginxFileAction(ActionBase):
    """Base class: subclasses set ``argument_spec``/``argument_rules`` and implement ``plan``."""

    TRANSFERS_FILES = False
    argument_spec = None
    argument_rules = None

    def paths_to_read(self, params):
        """Paths whose exact bytes the plan compares against."""
        raise NotImplementedError

    def plan(self, params, snapshot):
        """Return an ``_engine.Plan`` or raise ``BalancerError``."""
        raise NotImplementedError

    def precheck(self, params):
        """Pure model checks before any round trip (so bad input costs no remote call)."""

    def _module(self, name, args, task_vars):
        result = self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
        return result

    def read_proxy(self, params, task_vars, paths):
        result = self._module('balancer.nginx.snapshot', {
            'nginx_binary': params['nginx_binary'],
            'nginx_conf': params['nginx_conf'],
            'paths': sorted(set(paths)),
        }, task_vars)
        if result.get('failed'):
            raise AnsibleActionFail(result.get('msg', 'reading the proxy failed'), result=result)
        return Snapshot.from_result(result, params['nginx_conf'])

    def run(self, tmp=None, task_vars=None):
        result = super(NginxFileAction, self).run(tmp, task_vars)
        del tmp
        if not _render.HAS_CROSSPLANE:
            raise AnsibleActionFail(missing_required_lib('crossplane') + ' (on the controller)',
                                    result={'exception': _render.CROSSPLANE_IMPORT_ERROR})
        validation, _ = self.validate_argument_spec(argument_spec=self.argument_spec, **(self.argument_rules or {}))
        params = validation.validated_parameters
        try:
            self.precheck(params)
            snapshot = self.read_proxy(params, task_vars, self.paths_to_read(params))
            plan = self.plan(params, snapshot)
        except BalancerError as exc:
            raise AnsibleActionFail(str(exc))
        result.update(plan.result)
        for warning in plan.warnings:
            self._display.warning(warning)
        changes = [c for c in plan.changes if c.changed]
        file_args = dict((k, params[k]) for k in FILE_ARG_KEYS if params.get(k) not in (None, False))
        if self._task.diff and changes:
            diffs = [file_diff(c) for c in changes]
            result['diff'] = diffs[0] if len(diffs) == 1 else diffs
        attrs_to_check = file_args and [c for c in plan.changes if c.after is not None]
        if not changes and not attrs_to_check:
            result['changed'] = False
            return result
        if self._task.check_mode and not attrs_to_check:
            result['changed'] = True
            return result
        commit_args = dict(file_args)
        commit_args.update({
            'files': [{'path': c.path, 'content': c.after, 'state': 'absent' if c.after is None else 'present'}
                      for c in (changes or attrs_to_check)],
            'expected': dict((c.path, None if c.before is None else hashlib.sha1(c.before).hexdigest())
                             for c in (changes or attrs_to_check)),
            'nginx_binary': params['nginx_binary'],
            'nginx_conf': params['nginx_conf'],
            'validate': params['validate'],
            'backup': params['backup'],
        })
        committed = self._module('balancer.nginx.commit', commit_args, task_vars)
        if committed.get('failed'):
            result.pop('diff', None) if not changes else None
            result.update(failed=True, msg=committed.get('msg'), changed=False)
            for key in ('nginx_test', 'restored', 'exception'):
                if key in committed:
                    result[key] = committed[key]
            return result
        result['changed'] = bool(committed.get('changed'))
        backups = [f['backup_file'] for f in committed.get('files', []) if f.get('backup_file')]
        if backups:
            result['backup_file'] = backups[0] if len(backups) == 1 else backups
        if not changes:
            result.pop('diff', None)
        return result
