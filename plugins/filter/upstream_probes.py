# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter balancer.nginx.upstream_probes (documentation in upstream_probes.yml; code in plugin_utils/_load_balancer.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.plugin_utils import _load_balancer as _lb


def upstream_probes(upstreams, min_healthy=None, vhosts=None):
    try:
        return _lb.upstream_probes(upstreams, min_healthy=min_healthy, vhosts=vhosts)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.upstream_probes: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'upstream_probes': upstream_probes}
