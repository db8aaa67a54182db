#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet benchmark: balancer.nginx.deploy over ten lab proxies against one deployed alone.

Starts FLEET + 1 lab containers (balancer-lab:bookworm, systemd and Nginx, the
Docker connection) and gives each the same workload: GROUPS upstream groups x
10 servers + GROUPS vhosts (the converge benchmark's), probe and verify off.
Then, each a whole ``ansible-playbook balancer.nginx.deploy`` process timed
from outside:

  alone     one proxy in the inventory (serial 1)
  fleet     the FLEET others, ``load_balancer_serial: [1, "100%"]`` (one canary
            proxy, then the rest at once) and ``--forks FLEET``

each as a first write (changed), an idempotent run and a one-group change.
Every run must report what it should on every proxy (changed=N, changed=0)
and leave each proxy's Nginx serving its new configuration (the role reloads
it through systemd). Reported: the wall time, the controller's CPU time (the
ansible-playbook process and everything it reaped: its forks and the docker
CLI; the proxies' own work runs in the containers and is not counted), and
the CPU per proxy beside one proxy deployed alone.

    .venv/bin/python benchmarks/bench_fleet.py [--proxies 10] [--groups 100] [--repeat 3]

BENCH_FLEET, BENCH_FLEET_GROUPS and BENCH_REPEAT set the same.  Needs the
Docker engine and the lab image: ``make bench-fleet`` sets both up.  The
containers are named balancer-bench-NN and are removed at the end.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

from bench_converge import ROOT, environment, workload

PREFIX = 'balancer-bench-'
SUITE = 'bookworm'


def start_containers(names):
    """Boot the lab containers, a few at a time (each waits for systemd)."""
    lab = os.path.join(ROOT, 'lab', 'lab.sh')
    subprocess.run(['bash', lab, 'run', names[0], SUITE], check=True)   # creates the network first
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for result in pool.map(lambda name: subprocess.run(['bash', lab, 'run', name, SUITE], check=False,
                                                           capture_output=True), names[1:]):
            if result.returncode != 0:
                raise SystemExit('could not start a lab container:\n%s' % result.stderr.decode()[-2000:])


def remove_containers(names):
    subprocess.run(['docker', 'rm', '-f'] + names, check=False, capture_output=True)


def write_inventory(folder, name, hosts):
    data = {'proxies': {'hosts': dict((host, {'ansible_connection': 'community.docker.docker',
                                              'ansible_python_interpreter': '/usr/bin/python3'})
                                      for host in hosts)}}
    with open(os.path.join(folder, name), 'w') as handle:
        yaml.safe_dump(data, handle, default_flow_style=False)


def write_workload(folder, groups, changed_group=None):
    """The proxies' variables: the converge benchmark's workload, probe and verify off."""
    data = workload(groups, changed_group=changed_group)
    data.update({'load_balancer_probe': False, 'load_balancer_verify': False})
    os.makedirs(os.path.join(folder, 'group_vars'), exist_ok=True)
    dumper = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)
    with open(os.path.join(folder, 'group_vars', 'proxies.yml'), 'w') as handle:
        yaml.dump(data, handle, Dumper=dumper, default_flow_style=False, sort_keys=False)


def deploy(folder, inventory, hosts, env, serial, forks):
    """One ``ansible-playbook balancer.nginx.deploy``: ``(wall s, controller CPU s, {host: changed})``."""
    argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory,
            '--forks', str(forks), '-e', json.dumps({'load_balancer_serial': serial}), 'balancer.nginx.deploy']
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode('utf-8', 'replace')
    dummy, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit('balancer.nginx.deploy failed:\n%s' % output[-4000:])
    changed = {}
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[0] in hosts and 'changed=' in line:
            changed[fields[0]] = int(line.split('changed=')[1].split()[0])
    return wall, usage.ru_utime + usage.ru_stime, changed


def serving(host, port):
    """Whether the proxy's Nginx answers on one of the workload's vhost addresses (502: nothing listens behind)."""
    result = subprocess.run(['docker', 'exec', host, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}',
                             '--max-time', '5', 'http://127.0.0.1:%d/' % port], capture_output=True, check=False)
    return result.stdout.decode().strip() not in ('', '000')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--proxies', type=int, default=int(os.environ.get('BENCH_FLEET') or 10))
    parser.add_argument('--groups', type=int, default=int(os.environ.get('BENCH_FLEET_GROUPS') or 100))
    parser.add_argument('--repeat', type=int, default=int(os.environ.get('BENCH_REPEAT') or 3))
    parser.add_argument('--out', default=os.environ.get('BENCH_OUT') or os.path.join(ROOT, 'build', 'bench'))
    args = parser.parse_args()
    env = environment()
    fleet = ['%s%02d' % (PREFIX, n) for n in range(1, args.proxies + 1)]
    alone = ['%salone' % PREFIX]
    folder = tempfile.mkdtemp(prefix='balancer-bench-fleet-')
    write_inventory(folder, 'fleet.yml', fleet)
    write_inventory(folder, 'alone.yml', alone)
    print('balancer.nginx.deploy, %d groups x 10 servers + %d vhosts per proxy, %d proxies beside one alone, '
          '%d run(s) each, median' % (args.groups, args.groups, args.proxies, args.repeat))
    started = time.perf_counter()
    start_containers(alone + fleet)
    print('%d lab containers booted in %.0f s' % (len(fleet) + 1, time.perf_counter() - started), file=sys.stderr)
    runs = {}
    try:
        for index in range(args.repeat):
            for kind, changed_group in (('changed', None), ('idempotent', None), ('one change', 0)):
                if kind == 'changed':
                    # a first write each repeat: the workload's files go and Nginx stops serving them, as
                    # on a fresh proxy (so answering on the first vhost afterwards proves the role's reload)
                    for host in alone + fleet:
                        subprocess.run(['docker', 'exec', host, 'sh', '-c',
                                        'rm -f /etc/nginx/conf.d/pool*.conf /etc/nginx/conf.d/site*.conf'
                                        ' && systemctl reload nginx'], check=True)
                        for dummy in range(50):      # the reload returns before the old workers have gone
                            if not serving(host, 19001):
                                break
                            time.sleep(0.2)
                        else:
                            raise SystemExit('%s still serves the workload 10 s after its files went' % host)
                write_workload(folder, args.groups, changed_group)
                for what, inventory, hosts, serial in (('alone', 'alone.yml', alone, 1),
                                                       ('fleet', 'fleet.yml', fleet, [1, '100%'])):
                    wall, cpu, changed = deploy(folder, inventory, hosts, env, serial, max(len(hosts), 5))
                    expected = 0 if kind == 'idempotent' else None
                    for host in hosts:
                        if host not in changed or (expected == 0 and changed[host] != 0) or \
                                (expected is None and changed[host] == 0):
                            raise SystemExit('%s %s: %s reported changed=%s' % (what, kind, host, changed.get(host)))
                        if not serving(host, 19001):
                            raise SystemExit('%s %s: %s does not serve the new vhosts' % (what, kind, host))
                    runs.setdefault((what, kind), []).append((wall, cpu))
            print('repeat %d done' % (index + 1), file=sys.stderr)
    finally:
        remove_containers(alone + fleet)
    rows = []
    for kind in ('changed', 'idempotent', 'one change'):
        solo_wall = statistics.median(run[0] for run in runs[('alone', kind)])
        solo_cpu = statistics.median(run[1] for run in runs[('alone', kind)])
        wall = statistics.median(run[0] for run in runs[('fleet', kind)])
        cpu = statistics.median(run[1] for run in runs[('fleet', kind)])
        rows.append({'converge': kind, 'proxies': len(fleet), 'groups': args.groups,
                     'alone_wall_s': round(solo_wall, 2), 'alone_cpu_s': round(solo_cpu, 2),
                     'fleet_wall_s': round(wall, 2), 'fleet_cpu_s': round(cpu, 2),
                     'fleet_cpu_per_proxy_s': round(cpu / len(fleet), 2),
                     'cpu_per_proxy_vs_alone': round(cpu / len(fleet) / solo_cpu, 2)})
    print('\n%-11s %11s %11s | %11s %11s %13s %9s' % ('converge', 'alone wall', 'alone CPU', 'fleet wall',
                                                      'fleet CPU', 'CPU/proxy', 'vs alone'))
    for row in rows:
        print('%-11s %11.2f %11.2f | %11.2f %11.2f %13.2f %9.2f' % (
            row['converge'], row['alone_wall_s'], row['alone_cpu_s'], row['fleet_wall_s'], row['fleet_cpu_s'],
            row['fleet_cpu_per_proxy_s'], row['cpu_per_proxy_vs_alone']))
    print('\nseconds, median of %d; CPU: the controller\'s (ansible-playbook, its forks, the docker CLI); '
          'fleet: %d proxies, serial [1, "100%%"], %d forks' % (args.repeat, len(fleet), max(len(fleet), 5)))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, 'fleet.csv')
    with open(path, 'w', newline='') as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print('wrote %s' % path)
    worse = [row['converge'] for row in rows if row['cpu_per_proxy_vs_alone'] > 1.0]
    if worse:
        raise SystemExit('the fleet cost more controller CPU per proxy than one proxy alone: %s' % ', '.join(worse))


if __name__ == '__main__':
    main()
