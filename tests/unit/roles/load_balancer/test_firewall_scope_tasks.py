# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/load_balancer/tasks/firewall_scope.yml run by ansible-playbook, without connecting to any host.

Every task up to the management-port check runs on the controller (set_fact,
delegated set_fact, assert), so a backend whose ports include its own SSH
port stops there, at a known message, before anything would connect or
write: that is how these tests see which variables the derivation accepts.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
STOP = 'load_balancer_firewall_ports: 22 is the port Ansible connects to backend1 through'


@pytest.fixture
def run(tmp_path):
    collections = tmp_path / 'collections' / 'ansible_collections' / 'balancer'
    collections.mkdir(parents=True)
    (collections / 'nginx').symlink_to(ROOT)
    # never contacted: a documentation address, and an ssh connection nothing opens
    inventory = {'all': {'children': {
        'proxies': {'hosts': {'proxy1': {'ansible_host': '192.0.2.1'}}},
        'backends': {'hosts': {'backend1': {'ansible_host': '192.0.2.11', 'ansible_connection': 'ssh',
                                            'ansible_port': 22}}}}}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))

    def play(variables):
        playbook = [{'hosts': 'backends', 'gather_facts': False, 'vars': variables, 'tasks': [
            {'ansible.builtin.include_role': {'name': 'balancer.nginx.load_balancer', 'tasks_from': 'firewall_scope'}}]}]
        (tmp_path / 'play.yml').write_text(yaml.safe_dump(playbook))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / 'collections'), ANSIBLE_NOCOLOR='1',
                   ANSIBLE_HOST_KEY_CHECKING='0', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'))
        # the interpreter running the tests, so that it works in a virtualenv and under ansible-test alike
        done = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', str(tmp_path / 'inventory.yml'),
                               str(tmp_path / 'play.yml')], capture_output=True, text=True, timeout=120, env=env, check=False,
                              cwd=str(tmp_path))
        return done.stdout + done.stderr
    return play


@pytest.mark.parametrize('variables', [
    {'load_balancer_firewall_ports': [22, 8081]},
    {'load_balancer_firewall_ports': [22, 8081], 'load_balancer_firewall_allow': ['192.0.2.1']},
], ids=['derived-allow', 'given-allow'])
def test_the_derivation_reaches_the_management_port_check(run, variables):
    # before the fix, a given load_balancer_firewall_allow failed with "'item' is undefined":
    # the gather task's loop read a fact that only a skipped task sets
    out = run(variables)
    assert "'item' is undefined" not in out, out
    assert STOP in out, out
