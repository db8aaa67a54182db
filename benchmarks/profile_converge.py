#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cProfile of one converge: ansible-playbook in this process, its task worker profiled on its own.

Ansible runs a task in a forked worker process; this runs the
``ansible-playbook`` command line in-process with ``WorkerProcess._run``
wrapped in cProfile, so the worker's profile (templating the arguments, the
action plugin, the round trips) lands in ``OUT.worker.<pid>.prof`` and the
controller's (loading the vars file, the strategy) in ``OUT.main.prof``.

    .venv/bin/python benchmarks/profile_converge.py --out build/bench/site -- -i inventory.ini site.yml
    .venv/bin/python -c "import pstats; pstats.Stats('build/bench/site.worker.<pid>.prof').sort_stats('cumtime').print_stats(40)"

Run it from a sandbox that ``bench_converge.py --keep`` left (its inventory,
playbooks and vars files), with ANSIBLE_COLLECTIONS_PATH set.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--out', required=True, help='prefix of the .prof files')
    parser.add_argument('--top', type=int, default=30, help='rows of the printed summary')
    parser.add_argument('args', nargs=argparse.REMAINDER, help='-- then the ansible-playbook arguments')
    args = parser.parse_args()
    argv = args.args[1:] if args.args[:1] == ['--'] else args.args
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)

    from ansible.executor.process import worker

    original = worker.WorkerProcess._run

    def profiled(self):
        profile = cProfile.Profile()
        try:
            return profile.runcall(original, self)
        finally:
            profile.dump_stats('%s.worker.%d.prof' % (out, os.getpid()))

    worker.WorkerProcess._run = profiled
    from ansible.cli.playbook import PlaybookCLI

    profile = cProfile.Profile()
    code = 1
    try:
        code = profile.runcall(PlaybookCLI.cli_executor, ['ansible-playbook'] + argv)
    except SystemExit as exc:
        code = exc.code
    finally:
        profile.dump_stats(out + '.main.prof')
    for name in sorted(os.listdir(os.path.dirname(out))):
        path = os.path.join(os.path.dirname(out), name)
        if path.startswith(out) and path.endswith('.prof'):
            print('== %s' % path)
            pstats.Stats(path).sort_stats('cumtime').print_stats(args.top)
    return code


if __name__ == '__main__':
    sys.exit(main())
