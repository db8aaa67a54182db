# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of balancer.nginx.upstream (documentation in plugins/modules/upstream.py)."""

from __future__ import annotations

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _specs
from ansible_collections.balancer.nginx.plugins.module_utils._model import Upstream
from ansible_collections.balancer.nginx.plugins.plugin_utils._nginx_action import NginxFileAction


class ActionModule(NginxFileAction):

    argument_spec = _specs.upstream_spec()
    argument_rules = _specs.UPSTREAM_RULES

    def precheck(self, params):
        if params['state'] == 'present':
            Upstream.from_options(params)

    def paths_to_read(self, params):
        return [_engine.target_path(params, params['name'])]

    def plan(self, params, snapshot):
        return _engine.plan_upstream(params, snapshot)
