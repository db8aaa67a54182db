#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine benchmark: plan a site of N upstreams x S servers + N vhosts.

DESIGN.md's floors for 1,000 x 10 + 1,000 (52k lines): nginx -t 80-100 ms,
crossplane parse 430-540 ms, build 210-260 ms.  This measures the engine's
own stages on the controller (model, render, inspect of the candidate
configuration) and the peak memory of a plan, and re-plans unchanged input
to show that only changed texts are parsed again.

    .venv/bin/python benchmarks/bench_engine.py [--groups 1000] [--servers 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '.cache', 'collections'))

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _inspect  # noqa: E402
from ansible_collections.balancer.nginx.plugins.module_utils._features import NginxInfo  # noqa: E402

CONF_DIR = '/etc/nginx/conf.d'
NGINX_CONF = '/etc/nginx/nginx.conf'
MAIN = 'events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n'


def describe(groups, servers):
    upstreams = [{'name': 'pool%04d' % g, 'keepalive': 8,
                  'servers': [{'address': '10.%d.%d.%d:8080' % (g // 250, g % 250, s + 1), 'weight': s % 3 + 1,
                               'max_fails': 3, 'fail_timeout': '10s'} for s in range(servers)]}
                 for g in range(groups)]
    vhosts = [{'name': 'site%04d' % g, 'server_name': 'site%04d.example.test' % g, 'listen': ['80'],
               'upstream': 'pool%04d' % g} for g in range(groups)]
    return _engine.describe(CONF_DIR, upstreams=upstreams, vhosts=vhosts)


def plan(items, files):
    snapshot = _engine.Snapshot(NginxInfo((1, 22, 1), False), NGINX_CONF, files, {})
    return _engine.plan_site(items, snapshot, CONF_DIR)


def timed(label, func, repeat):
    best = None
    result = None
    for dummy in range(repeat):
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print('%-44s %8.0f ms' % (label, best * 1000))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--groups', type=int, default=1000)
    parser.add_argument('--servers', type=int, default=10)
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()

    print('site of %d upstreams x %d servers + %d vhosts' % (args.groups, args.servers, args.groups))
    items = timed('model (validate every item)', lambda: describe(args.groups, args.servers), args.repeat)

    def cold():
        _inspect._PARSE_CACHE.clear()
        return plan(items, {NGINX_CONF: MAIN})
    result = timed('plan, cold (render + parse + inspect)', cold, args.repeat)
    lines = sum((c.after or '').count('\n') for c in result.changes)
    print('%-44s %8d' % ('rendered lines', lines))

    current = dict((c.path, c.after) for c in result.changes)
    current[NGINX_CONF] = MAIN
    timed('plan again, texts already parsed', lambda: plan(items, current), args.repeat)

    _inspect._PARSE_CACHE.clear()
    tracemalloc.start()
    plan(items, {NGINX_CONF: MAIN})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print('%-44s %8.1f MiB' % ('peak traced memory of a cold plan', peak / 1048576.0))


if __name__ == '__main__':
    main()
