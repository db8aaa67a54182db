# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/upstream_servers.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.upstream_servers import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'upstream_servers.yml')

HOSTVARS = {
    'web1': {'ansible_host': '10.0.0.11'},
    'web2': {'ansible_host': '10.0.0.12', 'balancer_server': {'weight': 2}},
    'web3': {'balancer_server': {'port': 3001, 'backup': True, 'max_fails': 0, 'fail_timeout': '10s'}},
    'web4': {'ansible_host': '10.0.0.14', 'balancer_server': {'down': True, 'max_conns': 50, 'weight': None}},
    'web5': {'ansible_host': '', 'balancer_server': None},
}


@pytest.fixture
def upstream_servers():
    return FilterModule().filters()['upstream_servers']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['upstream_servers']


def test_hosts_with_overrides(upstream_servers):
    assert upstream_servers(['web1', 'web2', 'web3', 'web4'], HOSTVARS, port=3000) == [
        {'address': '10.0.0.11:3000'},
        {'address': '10.0.0.12:3000', 'weight': 2},
        {'address': 'web3:3001', 'backup': True, 'max_fails': 0, 'fail_timeout': '10s'},
        {'address': '10.0.0.14:3000', 'down': True, 'max_conns': 50},
    ]


def test_default_port_and_names_without_hostvars(upstream_servers):
    assert upstream_servers(['web1', 'unknown', 'web5'], HOSTVARS) == [
        {'address': '10.0.0.11:80'}, {'address': 'unknown:80'}, {'address': 'web5:80'}]


def test_one_host_name_and_empty(upstream_servers):
    assert upstream_servers('web1', HOSTVARS, port=8080) == [{'address': '10.0.0.11:8080'}]
    assert upstream_servers([], HOSTVARS) == []
    assert upstream_servers(None, HOSTVARS) == []


def test_result_is_valid_upstream_servers(upstream_servers):
    from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Upstream
    servers = upstream_servers(['web1', 'web2', 'web3', 'web4'], HOSTVARS, port=3000)
    Upstream.from_options({'name': 'app', 'servers': servers})


@pytest.mark.parametrize('override, message', [
    ({'weigth': 2}, 'balancer.nginx.upstream_servers: h: balancer_server has unknown key(s) weigth; use weight, '
                    'backup, down, max_fails, fail_timeout, max_conns, port'),
    ({'address': 'x', 'zone': 'z'},
     'balancer.nginx.upstream_servers: h: balancer_server has unknown key(s) address, zone; use weight, backup, '
     'down, max_fails, fail_timeout, max_conns, port'),
    ('weight=2', 'balancer.nginx.upstream_servers: h: balancer_server must be a dict of weight, backup, down, '
                 'max_fails, fail_timeout, max_conns, port'),
    ({'weight': 0}, 'balancer.nginx.upstream_servers: host h: servers[0].weight: 0 must be from 1 to 1000000; give '
                    'a value from 1 to 1000000.'),
    ({'weight': 'heavy'}, "balancer.nginx.upstream_servers: host h: servers[0].weight: 'heavy' must be a whole "
                          "number; give a number."),
    ({'port': 70000}, "balancer.nginx.upstream_servers: host h: servers[0].address: '10.0.0.9:70000' has port 70000 "
                      "outside 1-65535; use a port from 1 to 65535."),
    ({'fail_timeout': '10s;'}, "balancer.nginx.upstream_servers: host h: servers[0].fail_timeout: '10s;' contains "
                               "';', which Nginx would read as syntax, not as part of a time; remove it."),
])
def test_override_errors(upstream_servers, override, message):
    with pytest.raises(AnsibleFilterError) as info:
        upstream_servers(['h'], {'h': {'ansible_host': '10.0.0.9', 'balancer_server': override}})
    assert info.value.message == message


def test_error_names_the_index_of_the_host(upstream_servers):
    hostvars = dict(HOSTVARS, bad={'balancer_server': {'weight': -1}})
    with pytest.raises(AnsibleFilterError) as info:
        upstream_servers(['web1', 'web2', 'bad'], hostvars)
    assert info.value.message == ('balancer.nginx.upstream_servers: host bad: servers[2].weight: -1 must be from 1 '
                                  'to 1000000; give a value from 1 to 1000000.')


@pytest.mark.parametrize('ansible_host, address', [
    ('2001:db8::11', '[2001:db8::11]:3000'),
    ('[2001:db8::11]', '[2001:db8::11]:3000'),
    ('::1', '[::1]:3000'),
])
def test_ipv6_ansible_host_gets_brackets(upstream_servers, ansible_host, address):
    # ansible_host is written bare for SSH; Nginx needs [v6]:port.
    assert upstream_servers(['h'], {'h': {'ansible_host': ansible_host}}, port=3000) == [{'address': address}]


def test_bad_ansible_host_refused(upstream_servers):
    with pytest.raises(AnsibleFilterError) as info:
        upstream_servers(['h'], {'h': {'ansible_host': 'http://10.0.0.9'}})
    assert info.value.message == (
        "balancer.nginx.upstream_servers: host h: servers[0].address: 'http://10.0.0.9:80' is not an address Nginx "
        "accepts in an upstream; give host:port, [v6]:port or unix:/path (no scheme, no path).")


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {'DOCUMENTATION', 'EXAMPLES', 'RETURN'}
    assert doc['DOCUMENTATION']['name'] == 'upstream_servers'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'hostvars', 'port'}
    assert doc['DOCUMENTATION']['options']['port']['default'] == 80
    assert 'balancer.nginx.upstream_servers(hostvars, port=3000)' in doc['EXAMPLES']
    assert yaml.safe_load(doc['EXAMPLES'])
