# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter balancer.nginx.server_hostnames (documentation in server_hostnames.yml; code in plugin_utils/_load_balancer.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.plugin_utils import _load_balancer as _lb


def server_hostnames(upstreams, vhosts=None):
    try:
        return _lb.server_hostnames(upstreams, vhosts=vhosts)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.server_hostnames: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'server_hostnames': server_hostnames}
