# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/upstream_probes.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.upstream_probes import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'upstream_probes.yml')

GROUPS = [
    {'name': 'app', 'servers': [
        {'address': '10.0.0.11:8080', 'weight': 3},
        {'address': '10.0.0.12:8080'},
        {'address': '10.0.0.13:8080', 'down': True},
        {'address': '10.0.0.14:8080', 'backup': True},
        {'address': 'unix:/run/app.sock'},
        {'address': '10.0.0.11:8080'},
    ]},
    {'name': 'sockets', 'servers': [{'address': 'unix:/run/a.sock'}]},
    {'name': 'gone', 'state': 'absent'},
    {'name': 'one', 'servers': [{'address': 'one.internal:80'}]},
]


@pytest.fixture
def upstream_probes():
    return FilterModule().filters()['upstream_probes']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['upstream_probes']


def test_preflight_probes_every_server_not_down_and_caps_min_healthy(upstream_probes):
    assert upstream_probes(GROUPS, 2) == [
        {'name': 'app', 'label': 'group app', 'backends': ['10.0.0.11:8080', '10.0.0.12:8080', '10.0.0.14:8080'],
         'min_healthy': 2},
        {'name': 'one', 'label': 'group one', 'backends': ['one.internal:80'], 'min_healthy': 1},
    ]
    assert [p['min_healthy'] for p in upstream_probes(GROUPS, 0)] == [0, 0]
    assert [p['min_healthy'] for p in upstream_probes(GROUPS, 10)] == [3, 1]


def test_verify_probes_the_primaries_and_needs_all(upstream_probes):
    assert upstream_probes(GROUPS) == [
        {'name': 'app', 'label': 'group app', 'backends': ['10.0.0.11:8080', '10.0.0.12:8080'], 'min_healthy': 2},
        {'name': 'one', 'label': 'group one', 'backends': ['one.internal:80'], 'min_healthy': 1},
    ]


def test_empty(upstream_probes):
    assert upstream_probes([], 1) == []
    assert upstream_probes(None) == []


@pytest.mark.parametrize('value', [-1, True, '1'])
def test_bad_min_healthy(upstream_probes, value):
    with pytest.raises(AnsibleFilterError) as info:
        upstream_probes(GROUPS, value)
    assert info.value.message == ('balancer.nginx.upstream_probes: load_balancer_probe_min_healthy: %s must be a whole '
                                  'number of at least 0; give e.g. 1.' % {-1: '-1', True: 'true', '1': "'1'"}[value])


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert doc['DOCUMENTATION']['name'] == 'upstream_probes'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'min_healthy', 'vhosts'}
    assert yaml.safe_load(doc['EXAMPLES'])
