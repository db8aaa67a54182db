# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter balancer.nginx.default_access_logs (documentation in default_access_logs.yml; code in plugin_utils/_load_balancer.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.plugin_utils import _load_balancer as _lb


def default_access_logs(vhosts, log_dir=_lb.DEFAULT_LOG_DIR, log_format=_lb.UPSTREAM_DEBUG):
    try:
        return _lb.default_access_logs(vhosts, log_dir=log_dir, log_format=log_format)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.default_access_logs: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'default_access_logs': default_access_logs}
