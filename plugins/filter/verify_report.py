# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter balancer.nginx.verify_report (documentation in verify_report.yml; code in plugin_utils/_load_balancer.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.plugin_utils import _load_balancer as _lb


def verify_report(results, tolerance=0.1):
    try:
        return _lb.verify_report(results, tolerance=tolerance)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.verify_report: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'verify_report': verify_report}
