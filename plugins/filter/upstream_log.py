# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._balance import parse_upstream_log
from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError


def upstream_log(lines):
    try:
        return parse_upstream_log(lines)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.upstream_log: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'upstream_log': upstream_log}
