# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter balancer.nginx.undeclared_vars (documentation in undeclared_vars.yml; code in plugin_utils/_load_balancer.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.plugin_utils import _load_balancer as _lb


def undeclared_vars(names, declared, prefix=_lb.PREFIX, role=_lb.ROLE):
    try:
        return _lb.undeclared_vars(names, declared, prefix=prefix, role=role)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.undeclared_vars: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'undeclared_vars': undeclared_vars}
