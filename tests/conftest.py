# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.balancer.nginx`` importable for a plain ``pytest`` run.

``make unit`` (and the nginx sample of ``make integration``) run pytest in the working tree, which ``make collection`` exposes
at ``.cache/collections/ansible_collections/balancer/nginx``.  ``ansible-test
units`` runs from a copy where the collection is importable already; then
nothing is added.
"""

from __future__ import annotations

import importlib
import os
import sys


def _importable():
    try:
        importlib.import_module('ansible_collections.balancer.nginx.plugins.module_utils')
    except ImportError:
        return False
    return True


if not _importable():
    _ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    _COLLECTIONS = os.path.join(_ROOT, '.cache', 'collections')
    if os.path.isdir(os.path.join(_COLLECTIONS, 'ansible_collections', 'balancer', 'nginx')):
        sys.path.insert(0, _COLLECTIONS)
        for _name in [m for m in sys.modules if m == 'ansible_collections.balancer'
                      or m.startswith('ansible_collections.balancer.')]:
            del sys.modules[_name]
        importlib.invalidate_caches()
