# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/proxy_addresses.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.balancer.nginx.plugins.filter.proxy_addresses import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'proxy_addresses.yml')

HOSTVARS = {
    'lb1': {'ansible_host': '10.0.0.5'},
    'lb2.example.com': {'ansible_facts': {'default_ipv4': {'address': '10.0.0.6'}}},
    'lb3': {'ansible_host': 'lb3.internal', 'ansible_facts': {}},
    '10.0.0.8': {},
    'lb6': {'ansible_host': 'fd00::6'},
}


@pytest.fixture
def proxy_addresses():
    return FilterModule().filters()['proxy_addresses']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['proxy_addresses']


def test_ip_from_the_inventory_or_the_facts(proxy_addresses):
    assert proxy_addresses(['lb1', 'lb2.example.com', 'lb3', '10.0.0.8', 'lb6', 'unknown'], HOSTVARS) == [
        {'host': 'lb1', 'address': '10.0.0.5'},
        {'host': 'lb2.example.com', 'address': '10.0.0.6'},
        {'host': 'lb3', 'address': None},
        {'host': '10.0.0.8', 'address': '10.0.0.8'},
        {'host': 'lb6', 'address': 'fd00::6'},
        {'host': 'unknown', 'address': None},
    ]
    assert proxy_addresses([], HOSTVARS) == []


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert doc['DOCUMENTATION']['name'] == 'proxy_addresses'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'hostvars'}
    assert yaml.safe_load(doc['EXAMPLES'])
