# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/load_balancer/tasks/check.yml: an uneven split reaches the report that fails the run."""

from __future__ import annotations

import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
CHECK = os.path.join(ROOT, 'roles', 'load_balancer', 'tasks', 'check.yml')


def task(module):
    with open(CHECK) as handle:
        tasks = yaml.safe_load(handle)
    found = [t for t in tasks if module in t]
    assert len(found) == 1, found
    return found[0]


def test_a_failed_balance_check_stays_failed_in_the_registered_items():
    # verify_report reads each item's "failed": failed_when: false would record every item as not failed (the
    # module's own verdict is lost), so a split off its weights would pass; ignore_errors keeps the verdict
    check = task('balancer.nginx.balance_check')
    assert 'failed_when' not in check
    assert check['ignore_errors'] is True
    assert check['register'] == '__load_balancer_splits'
    report = task('ansible.builtin.set_fact')
    assert '__load_balancer_splits.results | balancer.nginx.verify_report' in report['ansible.builtin.set_fact'][
        '__load_balancer_report']
