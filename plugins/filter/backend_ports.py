# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter balancer.nginx.backend_ports (documentation in backend_ports.yml; code in plugin_utils/_load_balancer.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.plugin_utils import _load_balancer as _lb


def backend_ports(proxies, hostvars, names, variable='load_balancer_upstreams'):
    try:
        return _lb.backend_ports(proxies, hostvars, names, variable=variable)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.backend_ports: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'backend_ports': backend_ports}
