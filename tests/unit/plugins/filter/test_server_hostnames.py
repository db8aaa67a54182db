# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/server_hostnames.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.balancer.nginx.plugins.filter.server_hostnames import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'server_hostnames.yml')


@pytest.fixture
def server_hostnames():
    return FilterModule().filters()['server_hostnames']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['server_hostnames']


def test_names_of_servers_and_pass_targets(server_hostnames):
    servers = [{'address': 'b.internal:8080'}, {'address': '10.0.0.1:80'}, {'address': '[::1]:80'},
               {'address': 'unix:/run/a.sock'}, {'address': 'a.internal'}, {'address': 'b.internal:8081'}]
    groups = [{'name': 'app', 'servers': servers},
              {'name': 'gone', 'state': 'absent', 'servers': [{'address': 'gone.internal:80'}]}]
    vhosts = [{'name': 'www', 'locations': [{'path': '/', 'pass': 'http://c.internal:9000/x'},
                                            {'path': '/v', 'pass': 'http://$backend'},
                                            {'path': '/i', 'pass': 'https://10.0.0.2'},
                                            {'path': '/u', 'upstream': 'app'}]},
              {'name': 'old', 'state': 'absent', 'locations': [{'path': '/', 'pass': 'http://d.internal'}]}]
    assert server_hostnames(groups, vhosts) == ['a.internal', 'b.internal', 'c.internal']
    assert server_hostnames(groups) == ['a.internal', 'b.internal']
    assert server_hostnames([]) == []


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert doc['DOCUMENTATION']['name'] == 'server_hostnames'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'vhosts'}
    assert yaml.safe_load(doc['EXAMPLES'])
