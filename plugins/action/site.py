# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of balancer.nginx.site (documentation in plugins/modules/site.py)."""

from __future__ import annotations

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _specs
from ansible_collections.balancer.nginx.plugins.plugin_utils._nginx_action import NginxFileAction


class ActionModule(NginxFileAction):

    argument_spec = _specs.site_spec()

    def describe(self, params):
        return _engine.describe(_engine.conf_dir_of(params), upstreams=params['upstreams'],
                                vhosts=params['vhosts'], log_formats=params['log_formats'])

    def result_of(self, params, items, plan):
        return {'files': [{'path': c.path, 'changed': c.changed,
                           'state': 'absent' if c.after is None else 'present'} for c in plan.changes]}
