#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge benchmark: balancer.nginx.site through ansible-playbook against a sandbox Nginx.

For each size N (groups): N upstream groups x 10 servers + N vhosts, in one
variables file, the inventory's ``group_vars/bench.json`` (``--vars-format
yaml``: ``bench.yml``), where operators keep such data. ansible-core 2.19
loads the JSON about 2.5 times as fast as the same data in YAML (1,000 groups:
a 3.6 s floor in YAML, 1.4 s in JSON), which is Ansible's cost, in the floor
as in every converge. (A play's ``vars_files`` would be parsed again for every
task by ansible-core 2.19, which caches only vaulted ones there: that cost
grows with the number of tasks, not with anything the collection does.) Each
converge is a whole ``ansible-playbook`` process, timed from outside (wall
time, and the peak resident memory of the largest process of the run, the
controller or its forked worker):

  floor      one play that loads the same variables and debugs their size:
             what any Ansible tool pays to have the workload at all
  changed    the first write of every file into an empty conf.d
  idempotent the same call again: nothing written, no nginx -t
  one change one group's server weight changed: exactly one file written
  role       (--role) balancer.nginx.load_balancer, probe and verify off,
             idempotent and changed, beside the bare site call

The sandbox is a temporary prefix (``nginx -p PREFIX -c PREFIX/conf/nginx.conf``)
listening on 127.0.0.1 ports 19000-20000; ``nginx_binary`` is a wrapper that
counts the ``nginx -t`` runs: each changed converge must run exactly one and an
idempotent one none, or the benchmark fails.  The managed side runs on the
system Python (/usr/bin/python3), the collection comes from this tree.

    .venv/bin/python benchmarks/bench_converge.py [--sizes 10,100,1000] [--repeat 3] [--role] [--out build/bench]

BENCH_SIZES, BENCH_REPEAT and BENCH_OUT set the same as the environment.  The
figures are the medians of the repeats; the table is printed, and the CSV
(converge.csv) and the plot (converge.png) are written to the output folder.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SERVERS = 10
PORT_BASE = 19001        # vhost ports 19001..20000; the integration suite's 18080-18083 are never used
PORTS = 1000             # above 1,000 groups the vhosts share these addresses by server_name
SYSTEM_NGINX = shutil.which('nginx', path='/usr/sbin:/usr/bin:/sbin:/bin') or '/usr/sbin/nginx'
MANAGED_PYTHON = '/usr/bin/python3'

NGINX_CONF = """\
worker_processes 1;
worker_rlimit_nofile 8192;
pid {prefix}/run/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_names_hash_max_size 4096;
    server {{
        listen 127.0.0.1:19000;
        return 204;
    }}
    include {prefix}/conf.d/*.conf;
}}
"""

# Counts the nginx -t (and -T) runs of the collection, then runs the sandbox's Nginx.
WRAPPER = """\
#!/bin/sh
for arg in "$@"; do
    case "$arg" in
        -t) echo t >> '{prefix}/nginx-calls' ;;
        -T) echo T >> '{prefix}/nginx-calls' ;;
    esac
done
exec '{nginx}' -p '{prefix}/' -e '{prefix}/logs/error.log' "$@"
"""

SITE_PLAY = """\
---
- name: balancer.nginx.site, one call
  hosts: bench
  gather_facts: false
  tasks:
    - name: The whole proxy in one transaction
      balancer.nginx.site:
        upstreams: "{{ load_balancer_upstreams }}"
        vhosts: "{{ load_balancer_vhosts }}"
        conf_dir: "{{ load_balancer_conf_dir }}"
        nginx_conf: "{{ load_balancer_nginx_conf }}"
        nginx_binary: "{{ load_balancer_nginx_binary }}"
"""

FLOOR_PLAY = """\
---
- name: The floor, the same variables file and nothing else
  hosts: bench
  gather_facts: false
  tasks:
    - name: Touch the data
      ansible.builtin.debug:
        msg: "{{ load_balancer_upstreams | length }} groups, {{ load_balancer_vhosts | length }} vhosts"
"""

ROLE_PLAY = """\
---
- name: balancer.nginx.load_balancer, probe and verify off
  hosts: bench
  gather_facts: false
  vars:
    load_balancer_probe: false
    load_balancer_verify: false
    load_balancer_backup: false
    load_balancer_log_formats: []
  roles:
    - role: balancer.nginx.load_balancer
"""


def workload(groups, changed_group=None):
    """The role's variables for ``groups`` groups; ``changed_group`` gets one other server weight."""
    upstreams = []
    vhosts = []
    for g in range(groups):
        # ten servers a group: one loopback host, ports 8080..8089 (written, never contacted)
        host = '127.%d.%d.%d' % (1 + g // 62500, g // 250 % 250, g % 250 + 1)
        servers = [{'address': '%s:%d' % (host, 8080 + s), 'weight': s % 3 + 1, 'max_fails': 3,
                    'fail_timeout': '10s'} for s in range(SERVERS)]
        if g == changed_group:
            servers[0]['weight'] = 5
        upstreams.append({'name': 'pool%05d' % g, 'keepalive': 8, 'servers': servers})
        vhosts.append({'name': 'site%05d' % g, 'server_name': 'site%05d.example.test' % g,
                       'listen': ['127.0.0.1:%d' % (PORT_BASE + g % PORTS)], 'upstream': 'pool%05d' % g,
                       'access_log': 'off'})
    return {'load_balancer_upstreams': upstreams, 'load_balancer_vhosts': vhosts}


class Sandbox(object):
    """A prefix of its own: nginx.conf, conf.d, the counting wrapper, the playbooks and variables files."""

    def __init__(self, groups, keep=False, vars_format='json'):
        self.groups = groups
        self.keep = keep
        self.ext = 'json' if vars_format == 'json' else 'yml'
        self.prefix = tempfile.mkdtemp(prefix='balancer-bench-%d-' % groups)
        for sub in ('conf', 'conf.d', 'logs', 'run', 'bin', 'group_vars'):
            os.makedirs(os.path.join(self.prefix, sub))
        self.conf = os.path.join(self.prefix, 'conf', 'nginx.conf')
        self.conf_d = os.path.join(self.prefix, 'conf.d')
        self.binary = os.path.join(self.prefix, 'bin', 'nginx')
        self.calls = os.path.join(self.prefix, 'nginx-calls')
        with open(self.conf, 'w') as handle:
            handle.write(NGINX_CONF.format(prefix=self.prefix))
        with open(self.binary, 'w') as handle:
            handle.write(WRAPPER.format(prefix=self.prefix, nginx=SYSTEM_NGINX))
        os.chmod(self.binary, 0o755)
        with open(os.path.join(self.prefix, 'inventory.ini'), 'w') as handle:
            handle.write('[bench]\nproxy ansible_connection=local ansible_python_interpreter=%s\n' % MANAGED_PYTHON)
        for name, text in (('site.yml', SITE_PLAY), ('floor.yml', FLOOR_PLAY), ('role.yml', ROLE_PLAY)):
            with open(os.path.join(self.prefix, name), 'w') as handle:
                handle.write(text)
        common = {'load_balancer_conf_dir': self.conf_d, 'load_balancer_nginx_conf': self.conf,
                  'load_balancer_nginx_binary': self.binary}
        base = dict(workload(groups), **common)
        other = dict(workload(groups, changed_group=0), **common)
        dumper = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)
        # group_vars/bench.EXT is what the plays see; the two variants are copied over it in turn
        for name, data in (('base', base), ('variant', other)):
            with open(os.path.join(self.prefix, '%s.%s' % (name, self.ext)), 'w') as handle:
                if self.ext == 'json':
                    json.dump(data, handle, indent=1)
                else:
                    yaml.dump(data, handle, Dumper=dumper, default_flow_style=False, sort_keys=False)
        self.vars_bytes = os.path.getsize(os.path.join(self.prefix, 'base.' + self.ext))
        self.use('base')
        self.master = None

    def use(self, name):
        shutil.copyfile(os.path.join(self.prefix, '%s.%s' % (name, self.ext)),
                        os.path.join(self.prefix, 'group_vars', 'bench.' + self.ext))

    def clear(self):
        for name in os.listdir(self.conf_d):
            os.unlink(os.path.join(self.conf_d, name))

    def files(self):
        found = {}
        for name in sorted(os.listdir(self.conf_d)):
            with open(os.path.join(self.conf_d, name), 'rb') as handle:
                found[name] = hashlib.sha1(handle.read()).hexdigest()
        return found

    def nginx_calls(self):
        """``(nginx -t runs, nginx -T runs)`` since the last call, and the count is reset."""
        try:
            with open(self.calls) as handle:
                lines = handle.read().split()
        except FileNotFoundError:
            lines = []
        if os.path.exists(self.calls):
            os.unlink(self.calls)
        return lines.count('t'), lines.count('T')

    def start(self):
        """Run the sandbox's Nginx (the role's reload handler signals it)."""
        if self.master is None:
            started = subprocess.run([self.binary, '-c', self.conf], check=False, capture_output=True)
            if started.returncode != 0:
                raise SystemExit('the sandbox Nginx did not start (is another one still on 127.0.0.1:19000? '
                                 '`pgrep -af balancer-bench` shows it):\n%s' % started.stderr.decode()[-1000:])
            self.master = True
            self.nginx_calls()

    def close(self):
        if self.master:
            subprocess.run([self.binary, '-c', self.conf, '-s', 'quit'], check=False)
            pid_file = os.path.join(self.prefix, 'run', 'nginx.pid')
            for dummy in range(100):
                if not os.path.exists(pid_file):
                    break
                time.sleep(0.05)
        if not self.keep:
            shutil.rmtree(self.prefix, ignore_errors=True)


def playbook(sandbox, play, env):
    """Run one ansible-playbook; ``(wall s, CPU s, peak MB of its largest process, changed count, output)``.

    The CPU seconds (user + system) are the process's and every descendant's it
    reaped (the forked worker, the module on the managed side, nginx): on a
    shared machine they hold steadier than the wall time.
    """
    argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'inventory.ini', play]
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=sandbox.prefix, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    output = process.stdout.read().decode('utf-8', 'replace')
    dummy, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit('%s failed (rc=%s):\n%s' % (play, process.returncode, output[-4000:]))
    changed = None
    for line in output.splitlines():
        if line.startswith('proxy') and 'changed=' in line:
            changed = int(line.split('changed=')[1].split()[0])
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, changed, output


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


def converge(sandbox, play, env, what, changed, tests):
    """One converge, checked: the ``changed`` count it reports (``None``: any) and its ``tests`` runs of
    ``nginx -t``; ``(wall, cpu, mb, nginx_t)``."""
    wall, cpu, mb, reported, dummy = playbook(sandbox, play, env)
    ran, dummy = sandbox.nginx_calls()
    expect(changed is None or reported == changed, '%s reported changed=%s, not %s' % (what, reported, changed))
    expect(ran == tests, '%s ran nginx -t %d times, not %d' % (what, ran, tests))
    return wall, cpu, mb, ran


def measure(sandbox, env, repeat, role):
    """Every figure of one size: ``{kind: [(wall, cpu, mb, nginx_t), ...]}``."""
    runs = dict((kind, []) for kind in ('floor', 'changed', 'idempotent', 'one_change', 'role_changed',
                                        'role_idempotent'))
    expected = 2 * sandbox.groups
    for index in range(repeat):
        sandbox.use('base')
        wall, cpu, mb, dummy, dummy = playbook(sandbox, 'floor.yml', env)
        runs['floor'].append((wall, cpu, mb, 0))

        sandbox.clear()
        sandbox.nginx_calls()
        runs['changed'].append(converge(sandbox, 'site.yml', env, 'the changed converge', 1, 1))
        expect(len(sandbox.files()) == expected,
               'the changed converge wrote %d files, not %d' % (len(sandbox.files()), expected))
        runs['idempotent'].append(converge(sandbox, 'site.yml', env, 'the idempotent converge', 0, 0))

        before = sandbox.files()
        sandbox.use('variant')
        runs['one_change'].append(converge(sandbox, 'site.yml', env, 'the one-group change', 1, 1))
        after = sandbox.files()
        differ = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
        expect(differ == ['pool00000.conf'], 'the one-group change wrote %s, not pool00000.conf alone' % differ)
        sandbox.use('base')

        if role:
            # the same data through the role: first written into an empty conf.d (its reload handler
            # reports changes of its own), then again
            sandbox.clear()
            sandbox.nginx_calls()
            runs['role_changed'].append(converge(sandbox, 'role.yml', env, 'the role\'s changed converge', None, 1))
            written = len(sandbox.files())
            expect(written == expected, 'the role wrote %d files, not %d' % (written, expected))
            runs['role_idempotent'].append(converge(sandbox, 'role.yml', env, 'the role\'s idempotent converge',
                                                    0, 0))
    return runs


KINDS = ('floor', 'changed', 'idempotent', 'one_change')
CONVERGES = ('changed', 'idempotent', 'one_change')
COLUMNS = ['groups', 'servers', 'vhosts', 'vars_format', 'vars_mb']
COLUMNS.extend('%s_s' % kind for kind in KINDS)
COLUMNS.extend('%s_over_floor_s' % kind for kind in CONVERGES)
COLUMNS.extend('%s_cpu_s' % kind for kind in KINDS)
COLUMNS.extend('%s_cpu_over_floor_s' % kind for kind in CONVERGES)
COLUMNS.extend('nginx_t_%s' % kind for kind in CONVERGES)
COLUMNS.extend(['peak_mb', 'floor_peak_mb', 'role_changed_s', 'role_idempotent_s', 'role_changed_cpu_s',
                'role_idempotent_cpu_s',
                'role_vs_site_changed', 'role_vs_site_idempotent', 'role_cpu_vs_site_changed',
                'role_cpu_vs_site_idempotent', 'role_nginx_t_changed', 'repeats'])
WALL, CPU, PEAK, TESTS = range(4)


def row_of(groups, sandbox_bytes, runs, repeat):
    def median(kind, field=WALL):
        return statistics.median(run[field] for run in runs[kind])

    row = {'groups': groups, 'servers': groups * SERVERS, 'vhosts': groups,
           'vars_mb': round(sandbox_bytes / 1e6, 2), 'repeats': repeat}
    for kind in KINDS:
        row['%s_s' % kind] = round(median(kind), 2)
        row['%s_cpu_s' % kind] = round(median(kind, CPU), 2)
    for kind in CONVERGES:
        row['%s_over_floor_s' % kind] = round(median(kind) - median('floor'), 2)
        row['%s_cpu_over_floor_s' % kind] = round(median(kind, CPU) - median('floor', CPU), 2)
        row['nginx_t_%s' % kind] = max(run[TESTS] for run in runs[kind])
    row['peak_mb'] = round(max(run[PEAK] for kind in runs for run in runs[kind]), 0)
    row['floor_peak_mb'] = round(max(run[PEAK] for run in runs['floor']), 0)
    if runs['role_changed']:
        for kind in ('changed', 'idempotent'):
            row['role_%s_s' % kind] = round(median('role_' + kind), 2)
            row['role_%s_cpu_s' % kind] = round(median('role_' + kind, CPU), 2)
            row['role_vs_site_%s' % kind] = round(median('role_' + kind) / median(kind), 2)
            row['role_cpu_vs_site_%s' % kind] = round(median('role_' + kind, CPU) / median(kind, CPU), 2)
        row['role_nginx_t_changed'] = max(run[TESTS] for run in runs['role_changed'])
    return row


def print_table(rows):
    for title, suffix in (('wall seconds', '_s'), ('CPU seconds (user + system, all processes)', '_cpu_s')):
        over = suffix.replace('_s', '_over_floor_s') if suffix == '_s' else '_cpu_over_floor_s'
        print('\n%s, median of %d' % (title, rows[0]['repeats']))
        print('%7s %8s %8s %8s %8s | %8s %8s %8s | %9s %8s %8s %8s' % (
            'groups', 'floor', 'changed', 'idemp.', '1 change', '+changed', '+idemp.', '+1 chg', 'nginx -t',
            'peak MB', 'floor MB', 'vars MB'))
        for row in rows:
            figures = [row['groups']] + [row[kind + suffix] for kind in KINDS] + [row[kind + over] for kind in CONVERGES]
            figures += ['%d/%d/%d' % tuple(row['nginx_t_' + kind] for kind in CONVERGES), row['peak_mb'],
                        row['floor_peak_mb'], row['vars_mb']]
            print('%7d %8.2f %8.2f %8.2f %8.2f | %8.2f %8.2f %8.2f | %9s %8.0f %8.0f %8.2f' % tuple(figures))
    print('\n+changed, +idemp., +1 chg: above the floor (the collection\'s overhead); nginx -t: runs in the '
          'changed/idempotent/one-change converge; peak MB: the largest process of any run (ru_maxrss); floor MB: '
          'the same for the floor alone (what Ansible takes to hold the workload)')
    if any(row.get('role_changed_s') is not None for row in rows):
        print('\nthe load_balancer role (probe and verify off) against the bare site call')
        print('%7s %13s %13s %13s %13s %13s %13s %9s' % (
            'groups', 'role changed', 'role idemp.', 'ratio ch.', 'ratio id.', 'CPU ratio ch.', 'CPU ratio id.',
            'nginx -t'))
        for row in rows:
            if row.get('role_changed_s') is not None:
                print('%7d %13.2f %13.2f %13.2f %13.2f %13.2f %13.2f %9d' % (
                    row['groups'], row['role_changed_s'], row['role_idempotent_s'], row['role_vs_site_changed'],
                    row['role_vs_site_idempotent'], row['role_cpu_vs_site_changed'],
                    row['role_cpu_vs_site_idempotent'], row['role_nginx_t_changed']))
        print('(the role\'s changed converge includes its reload handler; nginx -t counts every run of the converge)')


def plot(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    sizes = [row['groups'] for row in rows]
    figure, panels = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for axes, suffix, what in ((panels[0], '_s', 'wall time'), (panels[1], '_cpu_s', 'CPU time (user + system)')):
        for kind, label, style in (('changed', 'changed (first write)', 'o-'), ('idempotent', 'idempotent', 's-'),
                                   ('one_change', 'one-group change', '^-'),
                                   ('floor', 'floor (variables + debug)', 'k--')):
            axes.plot(sizes, [row[kind + suffix] for row in rows], style, label=label)
        if all(row.get('role_idempotent' + suffix) is not None for row in rows):
            axes.plot(sizes, [row['role_idempotent' + suffix] for row in rows], 'x:', label='role, idempotent')
        axes.set_xscale('log')
        axes.set_yscale('log')
        axes.set_xlabel('groups (x %d servers) + as many vhosts' % SERVERS)
        axes.set_ylabel('ansible-playbook %s, s' % what)
        axes.set_title(what)
        axes.grid(True, which='both', alpha=0.3)
        axes.legend()
    figure.suptitle('balancer.nginx.site converge against a sandbox Nginx, beside the floor')
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def environment():
    collections = os.path.join(ROOT, '.cache', 'collections')
    link = os.path.join(collections, 'ansible_collections', 'balancer', 'nginx')
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
               ANSIBLE_STDOUT_CALLBACK='default', ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_HOST_KEY_CHECKING='0',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_DEPRECATION_WARNINGS='0')
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    for key in ('ANSIBLE_CONFIG', 'ANSIBLE_CALLBACKS_ENABLED'):
        env.pop(key, None)
    return env


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--sizes', default=os.environ.get('BENCH_SIZES') or '10,100,1000',
                        help='comma-separated group counts (BENCH_SIZES; 10000 works, and is opt-in)')
    parser.add_argument('--repeat', type=int, default=int(os.environ.get('BENCH_REPEAT') or 3),
                        help='runs of each figure; the median is reported (BENCH_REPEAT)')
    parser.add_argument('--role', action='store_true', default=os.environ.get('BENCH_ROLE', '1') != '0',
                        help='also run the load_balancer role (default; BENCH_ROLE=0 leaves it out)')
    parser.add_argument('--no-role', dest='role', action='store_false')
    parser.add_argument('--out', default=os.environ.get('BENCH_OUT') or os.path.join(ROOT, 'build', 'bench'))
    parser.add_argument('--vars-format', choices=('json', 'yaml'), default=os.environ.get('BENCH_VARS') or 'json',
                        help='how group_vars holds the workload (BENCH_VARS): json (default), which ansible-core '
                             'loads about 2.5 times as fast, or yaml')
    parser.add_argument('--keep', action='store_true', help='keep the sandboxes (their paths are printed)')
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.replace(' ', '').split(',') if s]
    env = environment()
    os.makedirs(args.out, exist_ok=True)
    print('ansible-playbook against a sandbox Nginx (%s), managed side %s, variables as %s, %d run(s) each, median'
          % (subprocess.run([SYSTEM_NGINX, '-v'], stderr=subprocess.PIPE, check=False).stderr.decode().strip(),
             MANAGED_PYTHON, args.vars_format.upper(), args.repeat))
    rows = []
    failed = []
    for groups in sizes:
        start = time.perf_counter()
        sandbox = Sandbox(groups, keep=args.keep, vars_format=args.vars_format)
        try:
            if args.role:
                sandbox.start()
            runs = measure(sandbox, env, args.repeat, args.role)
        except Failure as exc:
            failed.append('%d groups: %s' % (groups, exc))
            print('FAILED at %d groups: %s' % (groups, exc), file=sys.stderr)
            continue
        finally:
            if args.keep:
                print('sandbox kept: %s' % sandbox.prefix)
            sandbox.close()
        rows.append(dict(row_of(groups, sandbox.vars_bytes, runs, args.repeat), vars_format=args.vars_format))
        print('%d groups measured in %.0f s' % (groups, time.perf_counter() - start), file=sys.stderr)
    if rows:
        print_table(rows)
        csv_path = os.path.join(args.out, 'converge.csv')
        with open(csv_path, 'w', newline='') as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow(dict((key, row.get(key, '')) for key in COLUMNS))
        png_path = os.path.join(args.out, 'converge.png')
        plot(rows, png_path)
        print('\nwrote %s and %s' % (csv_path, png_path))
    if failed:
        raise SystemExit('bench failed:\n  ' + '\n  '.join(failed))


if __name__ == '__main__':
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # killed (a CI limit, `kill`): stop the sandbox Nginx and remove its prefix like an interrupt does
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    main()
