# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/backend_ports.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.balancer.nginx.plugins.filter.backend_ports import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'backend_ports.yml')

HOSTVARS = {
    'lb1': {'load_balancer_upstreams': [
        {'name': 'app', 'servers': [{'address': 'App1:8081'}, {'address': 'app2:8082'}, {'address': '10.0.0.11'}]},
        {'name': 'old', 'state': 'absent', 'servers': [{'address': 'app1:9999'}]},
    ]},
    'lb2': {'load_balancer_upstreams': [
        {'name': 'api', 'servers': [{'address': '10.0.0.11:9000'}, {'address': '[fd00::11]:9001'},
                                    {'address': 'unix:/run/api.sock'}, 'not a dict']},
    ]},
    'lb3': {},
    'lb4': {'load_balancer_upstreams': None},
}


@pytest.fixture
def backend_ports():
    return FilterModule().filters()['backend_ports']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['backend_ports']


@pytest.mark.parametrize('names, expected', [
    (['10.0.0.11', 'app1'], [80, 8081, 9000]),
    (['app1'], [8081]),
    (['APP2', None], [8082]),
    (['fd00:0::11', 'app3'], [9001]),
    (['app9'], []),
])
def test_ports_of_the_servers_on_this_host(backend_ports, names, expected):
    assert backend_ports(['lb1', 'lb2', 'lb3', 'lb4', 'missing'], HOSTVARS, names) == expected


def test_another_variable(backend_ports):
    hostvars = {'lb1': {'load_balancer_upstreams': 'not read', '__copy': HOSTVARS['lb1']['load_balancer_upstreams']}}
    assert backend_ports(['lb1'], hostvars, ['app1'], variable='__copy') == [8081]


def test_no_proxies(backend_ports):
    assert backend_ports([], HOSTVARS, ['app1']) == []
    assert backend_ports(None, HOSTVARS, ['app1']) == []


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert doc['DOCUMENTATION']['name'] == 'backend_ports'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'hostvars', 'names', 'variable'}
    assert yaml.safe_load(doc['EXAMPLES'])
