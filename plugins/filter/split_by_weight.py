# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._balance import smooth_weighted_counts
from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError


def split_by_weight(weights, requests):
    try:
        return smooth_weighted_counts(list(weights), requests)
    except BalancerError as exc:
        raise AnsibleFilterError('balancer.nginx.split_by_weight: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'split_by_weight': split_by_weight}
