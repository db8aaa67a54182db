# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/verify_plan.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.verify_plan import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'verify_plan.yml')

LOG = {'path': '/var/log/nginx/www.upstream.log', 'format': 'upstream_debug'}
APP = {'name': 'app', 'servers': [
    {'address': '127.0.0.1:8081', 'weight': 3},
    {'address': 'b.internal:8082', 'weight': 2},
    {'address': '127.0.0.1:8083'},
    {'address': '127.0.0.1:8084', 'backup': True},
    {'address': '127.0.0.1:8085', 'down': True, 'weight': 5},
]}
RESOLVED = {'b.internal': '172.18.0.3      STREAM b.internal\n172.18.0.3      DGRAM  \n'}
LABELS = {'127.0.0.1:8081': '127.0.0.1:8081', '172.18.0.3:8082': 'b.internal:8082', '127.0.0.1:8083': '127.0.0.1:8083',
          '127.0.0.1:8084': '127.0.0.1:8084', '127.0.0.1:8085': '127.0.0.1:8085'}


@pytest.fixture
def verify_plan():
    return FilterModule().filters()['verify_plan']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['verify_plan']


def test_weights_from_the_group_keyed_by_the_logged_address(verify_plan):
    vhost = {'name': 'www', 'server_name': ['www.example.com', 'example.com'], 'upstream': 'app', 'access_log': LOG}
    assert verify_plan([vhost], [APP], RESOLVED) == [{
        'vhost': 'www', 'location': '/', 'groups': ['app'], 'method': 'round_robin', 'mode': 'weights',
        'url': 'http://127.0.0.1:80/', 'host_header': 'www.example.com',
        'expect_weights': {'127.0.0.1:8081': 3, '172.18.0.3:8082': 2, '127.0.0.1:8083': 1, '127.0.0.1:8084': 0,
                           '127.0.0.1:8085': 0},
        'labels': LABELS, 'access_log': LOG['path'], 'identify_by': 'log'}]


def test_a_name_with_two_addresses_is_two_servers(verify_plan):
    group = {'name': 'app', 'servers': [{'address': 'b.internal:8082', 'weight': 2}, {'address': '10.0.0.1:80'}]}
    resolved = {'b.internal': ['10.0.0.1', 'fd00::1']}
    check = verify_plan([{'name': 'www', 'upstream': 'app', 'access_log': LOG}], [group], resolved)[0]
    assert check['expect_weights'] == {'10.0.0.1:8082': 2, '[fd00::1]:8082': 2, '10.0.0.1:80': 1}


def test_backups_take_over_when_every_primary_is_down(verify_plan):
    group = {'name': 'app', 'servers': [{'address': '10.0.0.1:80', 'down': True},
                                        {'address': '10.0.0.2:80', 'backup': True, 'weight': 2}]}
    check = verify_plan([{'name': 'www', 'upstream': 'app', 'access_log': LOG}], [group])[0]
    assert check['mode'] == 'weights'
    assert check['expect_weights'] == {'10.0.0.1:80': 0, '10.0.0.2:80': 2}


def test_a_draining_server_takes_no_new_requests(verify_plan):
    # drain (Nginx 1.29.6): only requests bound to the server by sticky reach it; the check sends no cookie
    group = {'name': 'app', 'sticky': ['cookie', 'srv_id'], 'servers': [
        {'address': '10.0.0.1:80'}, {'address': '10.0.0.2:80', 'weight': 2}, {'address': '10.0.0.3:80', 'drain': True}]}
    check = verify_plan([{'name': 'www', 'upstream': 'app', 'access_log': LOG}], [group])[0]
    assert check['mode'] == 'weights'
    assert check['expect_weights'] == {'10.0.0.1:80': 1, '10.0.0.2:80': 2, '10.0.0.3:80': 0}
    assert check['labels']['10.0.0.3:80'] == '10.0.0.3:80'


@pytest.mark.parametrize('method', ['ip_hash', 'hash', 'random'])
def test_key_dependent_methods_check_membership(verify_plan, method):
    group = {'name': 'sticky', 'method': method, 'hash_key': '$request_uri',
             'servers': [{'address': '10.0.0.1:80'}, {'address': '10.0.0.2:80', 'down': True}, {'address': '10.0.0.3'}]}
    check = verify_plan([{'name': 'www', 'upstream': 'sticky', 'access_log': LOG}], [group])[0]
    assert check['mode'] == 'members'
    assert check['labels'] == {'10.0.0.1:80': '10.0.0.1:80', '10.0.0.3:80': '10.0.0.3'}
    assert 'expect_weights' not in check
    assert check['note'] == ('method %s: the split depends on the keys, every answer must come from a server of the '
                             'group' % method)


def test_least_conn_follows_the_weights(verify_plan):
    group = dict(APP, method='least_conn')
    assert verify_plan([{'name': 'www', 'upstream': 'app', 'access_log': LOG}], [group], RESOLVED)[0]['mode'] == 'weights'


def test_without_an_upstream_debug_log_only_statuses(verify_plan):
    vhost = {'name': 'www', 'upstream': 'app', 'access_log': {'path': '/var/log/nginx/www.log', 'format': 'combined'}}
    check = verify_plan([vhost], [APP], RESOLVED)[0]
    assert check['mode'] == 'status'
    assert check['identify_by'] == 'header'
    assert 'access_log' not in check and 'expect_weights' not in check
    assert check['note'] == 'the vhost writes no upstream_debug access log, so only the status codes are checked'
    off = dict(vhost, access_log={'path': 'off', 'format': 'upstream_debug'})
    assert verify_plan([off], [APP], RESOLVED)[0]['mode'] == 'status'


def test_locations(verify_plan):
    vhost = {'name': 'api', 'listen': ['127.0.0.2:8080'], 'server_name': 'api.example.com', 'access_log': LOG,
             'locations': [
                 {'path': '= /exact', 'upstream': 'app'},
                 {'path': '~ \\.php$', 'upstream': 'app'},
                 {'path': '/hand', 'upstream': 'handwritten'},
                 {'path': '/one', 'pass': 'http://b.internal:9000/x'},
                 {'path': '/group', 'pass': 'http://app'},
                 {'path': '/var', 'pass': 'http://$backend'},
                 {'path': '/name', 'pass': 'http://unknown'},
                 {'path': '/ip', 'pass': 'https://10.0.0.9'},
                 {'path': '/split', 'split': [{'upstream': 'app', 'percent': 10}, {'upstream': 'two'}]}]}
    two = {'name': 'two', 'servers': [{'address': '10.0.0.7:80'}]}
    checks = verify_plan([vhost], [APP, two], RESOLVED)
    assert [(c['location'], c['mode'], c.get('url')) for c in checks] == [
        ('= /exact', 'weights', 'http://127.0.0.2:8080/exact'),
        ('~ \\.php$', 'skip', None),
        ('/hand', 'status', 'http://127.0.0.2:8080/hand'),
        ('/one', 'weights', 'http://127.0.0.2:8080/one'),
        ('/group', 'weights', 'http://127.0.0.2:8080/group'),
        ('/var', 'status', 'http://127.0.0.2:8080/var'),
        ('/name', 'status', 'http://127.0.0.2:8080/name'),
        ('/ip', 'weights', 'http://127.0.0.2:8080/ip'),
        ('/split', 'members', 'http://127.0.0.2:8080/split'),
    ]
    by_path = dict((c['location'], c) for c in checks)
    assert by_path['~ \\.php$']['note'] == (
        "location '~ \\\\.php$' is a regex or named location; no request target can be derived")
    assert by_path['/hand']['note'] == ('group handwritten is not described in load_balancer_upstreams, so only the '
                                        'status codes are checked')
    assert by_path['/one']['expect_weights'] == {'172.18.0.3:9000': 1}
    assert by_path['/one']['labels'] == {'172.18.0.3:9000': 'b.internal:9000'}
    assert by_path['/group']['expect_weights'] == by_path['= /exact']['expect_weights']
    assert by_path['/ip']['expect_weights'] == {'10.0.0.9:443': 1}
    assert set(by_path['/split']['labels']) == {'127.0.0.1:8081', '172.18.0.3:8082', '127.0.0.1:8083',
                                                '127.0.0.1:8084', '10.0.0.7:80'}
    assert by_path['/split']['groups'] == ['app', 'two']
    assert all(c['host_header'] == 'api.example.com' for c in checks if c['mode'] != 'skip')


def test_vhosts_that_cannot_be_checked(verify_plan):
    vhosts = [{'name': 'tls', 'listen': ['443 ssl'], 'upstream': 'app', 'access_log': LOG},
              {'name': 'nowhere', 'locations': [{'path': '/'}]},
              {'name': 'gone', 'state': 'absent', 'upstream': 'app'}]
    assert verify_plan(vhosts, [APP]) == [
        {'vhost': 'tls', 'location': '/', 'labels': {}, 'groups': ['app'], 'mode': 'skip',
         'note': "its first listen value '443 ssl' is TLS, and the check speaks plain http", 'identify_by': 'header'},
        {'vhost': 'nowhere', 'location': None, 'mode': 'skip', 'groups': [], 'note': 'it proxies nowhere',
         'labels': {}},
    ]


def test_not_a_list(verify_plan):
    with pytest.raises(AnsibleFilterError) as info:
        verify_plan([], 'app')
    assert info.value.message == ("balancer.nginx.verify_plan: load_balancer_upstreams: 'app' must be a list of dicts; "
                                  "write it as a YAML list.")


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert doc['DOCUMENTATION']['name'] == 'verify_plan'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'upstreams', 'resolved'}
    assert yaml.safe_load(doc['EXAMPLES'])
