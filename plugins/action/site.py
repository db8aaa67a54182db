# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of balancer.nginx.site (documentation in plugins/modules/site.py)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _options
from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError, ModelError
from ansible_collections.balancer.nginx.plugins.plugin_utils._nginx_action import ITEM, NginxFileAction


class ActionModule(NginxFileAction):

    item_options = _options.SITE_OPTIONS
    module_kind = 'site'

    def validated(self):
        params = super(ActionModule, self).validated()
        try:
            unknown = sorted(set(params[ITEM]) - set(self.item_options.names()), key=str)
            if unknown:
                raise ModelError('options', 'has unknown option(s) %s' % ', '.join(str(u) for u in unknown),
                                 'use only %s, and the common options' % ', '.join(self.item_options.names()))
            for name in self.item_options.names():
                option = self.item_options[name]
                value = params.get(name)
                if value is None:
                    params[name] = list(option.default) if option.type == 'list' else option.default
                elif option.type == 'list' and not isinstance(value, list):
                    # each item is validated by the engine, with the same rules as its single module
                    raise ModelError(name, 'must be a list of %s options' % _options.SITE_LISTS[name],
                                     'write [{name: ..., ...}]', value=value)
                elif option.type != 'list':
                    params[name] = _options.coerce(option, value, name)
        except BalancerError as exc:
            raise AnsibleActionFail(str(exc))
        return params

    def describe(self, params):
        return _engine.describe(_engine.conf_dir_of(params), upstreams=params['upstreams'],
                                vhosts=params['vhosts'], log_formats=params['log_formats'],
                                stream_proxies=params['stream_proxies'],
                                stream_conf_dir=_engine.stream_conf_dir_of(params))

    def result_of(self, params, items, plan):
        return {'files': [{'path': c.path, 'changed': c.changed,
                           'state': 'absent' if c.after is None else 'present'} for c in plan.changes]}
