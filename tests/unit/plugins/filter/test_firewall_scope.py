# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/firewall_scope.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.firewall_scope import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'firewall_scope.yml')


@pytest.fixture
def firewall_scope():
    return FilterModule().filters()['firewall_scope']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['firewall_scope']


def test_sorted_by_family_each_once(firewall_scope):
    assert firewall_scope([8082, '8081', 8082], ['10.1.0.5', '10.0.0.0/24', '2001:db8::5', '10.1.0.5/32',
                                                 '10.0.0.9/24', '2001:db8::/64']) == {
        'ports': [8081, 8082],
        'ipv4': ['10.0.0.0/24', '10.1.0.5'],
        'ipv6': ['2001:db8::/64', '2001:db8::5'],
    }
    assert firewall_scope([], []) == {'ports': [], 'ipv4': [], 'ipv6': []}


@pytest.mark.parametrize('ports, sources, message', [
    ([0], [], 'load_balancer_firewall_ports[0]: 0 is not a TCP port; give a number from 1 to 65535.'),
    ([80, 70000], [], 'load_balancer_firewall_ports[1]: 70000 is not a TCP port; give a number from 1 to 65535.'),
    ([True], [], 'load_balancer_firewall_ports[0]: true is not a TCP port; give a number from 1 to 65535.'),
    (['http'], [], "load_balancer_firewall_ports[0]: 'http' is not a TCP port; give a number from 1 to 65535."),
    ([80], ['lb1.example.com'], "load_balancer_firewall_allow[0]: 'lb1.example.com' is not an IP address or network; "
                                "give e.g. 10.0.0.5 or 10.0.0.0/24."),
    ([80], ['10.0.0.5', '10.0.0.5; flush ruleset'],
     "load_balancer_firewall_allow[1]: '10.0.0.5; flush ruleset' is not an IP address or network; give e.g. 10.0.0.5 "
     "or 10.0.0.0/24."),
])
def test_errors_name_the_role_variable(firewall_scope, ports, sources, message):
    with pytest.raises(AnsibleFilterError) as info:
        firewall_scope(ports, sources)
    assert info.value.message == 'balancer.nginx.firewall_scope: ' + message


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert doc['DOCUMENTATION']['name'] == 'firewall_scope'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'sources'}
    assert yaml.safe_load(doc['EXAMPLES'])
