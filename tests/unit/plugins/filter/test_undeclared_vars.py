# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/undeclared_vars.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.undeclared_vars import FilterModule

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')
DOC = os.path.join(ROOT, 'plugins', 'filter', 'undeclared_vars.yml')
SPECS = os.path.join(ROOT, 'roles', 'load_balancer', 'meta', 'argument_specs.yml')


@pytest.fixture
def undeclared_vars():
    return FilterModule().filters()['undeclared_vars']


@pytest.fixture(scope='module')
def specs():
    with open(SPECS) as handle:
        return yaml.safe_load(handle)


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['undeclared_vars']


def test_declared_names_pass(undeclared_vars, specs):
    names = ['load_balancer_upstreams', 'load_balancer_vhosts', 'load_balancer_firewall_allow',
             'load_balancer_rollback_to', 'load_balancer_serial', 'ansible_host', 'balancer_server']
    assert undeclared_vars(names, specs) == []


@pytest.mark.parametrize('name, closest', [
    ('load_balancer_upstream', 'load_balancer_upstreams'),
    ('load_balancer_vhost', 'load_balancer_vhosts'),
    ('load_balancer_firewal_ports', 'load_balancer_firewall_ports'),
    ('load_balancer_rollback_vhosts', 'load_balancer_rollback_vhost'),
    ('load_balancer_verify_request', 'load_balancer_verify_requests'),
    ('load_balancer_probe_minhealthy', 'load_balancer_probe_min_healthy'),
])
def test_a_typo_is_named_with_the_closest_declared_name(undeclared_vars, specs, name, closest):
    assert undeclared_vars(['load_balancer_vhosts', name], specs) == [{
        'name': name, 'closest': closest,
        'message': '%s is declared by no entry point of balancer.nginx.load_balancer; did you mean %s?'
                   % (name, closest)}]


def test_every_entry_point_declares(undeclared_vars, specs):
    # a firewall-only name is declared although main does not read it
    assert undeclared_vars(['load_balancer_proxies_group'], {'argument_specs': {
        'main': specs['argument_specs']['main']}}) == [{
            'name': 'load_balancer_proxies_group', 'closest': 'load_balancer_probe_path',
            'message': 'load_balancer_proxies_group is declared by no entry point of balancer.nginx.load_balancer; '
                       'did you mean load_balancer_probe_path?'}]
    assert undeclared_vars(['load_balancer_proxies_group'], specs) == []


def test_several_sorted_and_a_comma_string(undeclared_vars):
    result = undeclared_vars('load_balancer_b2, load_balancer_a2,load_balancer_a', ['load_balancer_a', 'load_balancer_b'])
    assert [(r['name'], r['closest']) for r in result] == [
        ('load_balancer_a2', 'load_balancer_a'), ('load_balancer_b2', 'load_balancer_b')]


def test_other_prefix_and_role(undeclared_vars):
    assert undeclared_vars(['my_x', 'load_balancer_y'], ['my_z'], prefix='my_', role='me.my.role') == [{
        'name': 'my_x', 'closest': 'my_z', 'message': 'my_x is declared by no entry point of me.my.role; did you mean my_z?'}]


def test_nothing_declared(undeclared_vars):
    assert undeclared_vars(['load_balancer_x'], []) == [{
        'name': 'load_balancer_x', 'closest': None,
        'message': 'load_balancer_x is declared by no entry point of balancer.nginx.load_balancer.'}]


def test_bad_declared(undeclared_vars):
    with pytest.raises(AnsibleFilterError) as info:
        undeclared_vars(['load_balancer_x'], 'load_balancer_x')
    assert info.value.message.startswith('balancer.nginx.undeclared_vars: declared: must be a list of names or the '
                                         'argument specs of the role; give ')


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {'DOCUMENTATION', 'EXAMPLES', 'RETURN'}
    assert doc['DOCUMENTATION']['name'] == 'undeclared_vars'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'declared', 'prefix', 'role'}
    assert yaml.safe_load(doc['EXAMPLES'])
    assert doc['RETURN']['_value']['type'] == 'list'
