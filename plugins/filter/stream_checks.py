# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter balancer.nginx.stream_checks (documentation in stream_checks.yml; code in plugin_utils/_load_balancer.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.plugin_utils import _load_balancer as _lb


def stream_checks(stream_proxies, upstreams=None):
    try:
        return _lb.stream_checks(stream_proxies, upstreams)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.stream_checks: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'stream_checks': stream_checks}
