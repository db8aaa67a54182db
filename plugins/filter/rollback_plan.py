# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter balancer.nginx.rollback_plan (documentation in rollback_plan.yml; code in plugin_utils/_load_balancer.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.plugin_utils import _load_balancer as _lb


def rollback_plan(vhosts, upstreams, vhost=None, to=None, live=None, conf_dir=_lb.DEFAULT_CONF_DIR):
    try:
        return _lb.rollback_plan(vhosts, upstreams, vhost=vhost, to=to, live=live, conf_dir=conf_dir)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.rollback_plan: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'rollback_plan': rollback_plan}
