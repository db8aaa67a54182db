# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of balancer.nginx.config_info (documentation in plugins/modules/config_info.py)."""

from __future__ import annotations

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _nginx, _specs
from ansible_collections.balancer.nginx.plugins.plugin_utils._nginx_action import NginxFileAction


class ActionModule(NginxFileAction):
    """Read-only: one snapshot, parsed on the controller; never writes, never fails on a failing test."""

    argument_spec = _specs.CONFIG_INFO

    def apply(self, result, task_vars):
        params = self.validated()
        snapshot = self.read_proxy(params, task_vars, [])
        tree = snapshot.tree()
        result.update(_inspect.describe_config(tree, snapshot.info, params['upstream']))
        if params['test']:
            if snapshot.config_ok:
                result['test'] = {'ok': True, 'file': None, 'line': None, 'message': None}
            else:
                file_, line, message = _nginx.parse_test_output(snapshot.config_error)
                result['test'] = {'ok': False, 'file': file_, 'line': line, 'message': message}
        result['changed'] = False
        return result
