# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's filters with stream groups, backend_tls and splits (plugin_utils/_load_balancer.py).

Stream groups speak no HTTP and live in their own namespace; a group behind
backend_tls is probed over HTTPS with the name Nginx verifies; a split's
groups must each take their share of the requests.
"""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.rollback_plan import FilterModule as Rollback
from ansible_collections.balancer.nginx.plugins.filter.stream_checks import FilterModule as StreamChecks
from ansible_collections.balancer.nginx.plugins.filter.upstream_probes import FilterModule as Probes
from ansible_collections.balancer.nginx.plugins.filter.verify_plan import FilterModule as Plan
from ansible_collections.balancer.nginx.plugins.filter.verify_report import FilterModule as Report
from ansible_collections.balancer.nginx.plugins.module_utils._balance import split_range

upstream_probes = Probes().filters()['upstream_probes']
stream_checks = StreamChecks().filters()['stream_checks']
verify_plan = Plan().filters()['verify_plan']
verify_report = Report().filters()['verify_report']
rollback_plan = Rollback().filters()['rollback_plan']

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'stream_checks.yml')
LOG = {'path': '/var/log/nginx/www.upstream.log', 'format': 'upstream_debug'}
APP = {'name': 'app', 'servers': [{'address': '10.0.0.11:8080'}, {'address': '10.0.0.12:8080'}]}
API = {'name': 'api', 'servers': [{'address': '10.0.0.21:8443'}, {'address': '10.0.0.22:8443', 'backup': True}]}
CANARY = {'name': 'canary', 'servers': [{'address': '10.0.0.31:8080'}]}
# a stream group with the same name as an http group: another namespace
PG = {'name': 'app', 'context': 'stream',
      'servers': [{'address': '10.0.0.41:5432'}, {'address': '10.0.0.42:5432', 'down': True}]}
DNS = {'name': 'dns', 'context': 'stream', 'servers': [{'address': '10.0.0.51:53'}]}


# -- upstream_probes -----------------------------------------------------------

def test_stream_groups_are_not_probed_over_http():
    assert [p['name'] for p in upstream_probes([APP, PG, DNS], 1)] == ['app']
    assert upstream_probes([APP, PG])[0]['backends'] == ['10.0.0.11:8080', '10.0.0.12:8080']


def test_a_group_behind_backend_tls_is_probed_over_https_with_the_name_nginx_verifies():
    vhosts = [{'name': 'www', 'locations': [
        {'path': '/', 'upstream': 'app'},
        {'path': '/api/', 'upstream': 'api', 'backend_tls': {'trusted_certificate': '/etc/nginx/ca.pem'}}]}]
    probes = upstream_probes([APP, API], 1, vhosts)
    assert probes == [
        {'name': 'app', 'label': 'group app', 'backends': ['10.0.0.11:8080', '10.0.0.12:8080'], 'min_healthy': 1},
        {'name': 'api', 'label': 'group api over TLS', 'backends': ['10.0.0.21:8443', '10.0.0.22:8443'],
         'min_healthy': 1, 'tls': {'verify': True, 'trusted_certificate': '/etc/nginx/ca.pem', 'name': 'api'}},
    ]


@pytest.mark.parametrize('backend_tls, tls', [
    ({'name': 'backend.lab.test', 'trusted_certificate': '/ca.pem'},
     {'verify': True, 'trusted_certificate': '/ca.pem', 'name': 'backend.lab.test'}),
    ({'verify': False}, {'verify': False, 'trusted_certificate': None, 'name': None}),
    # a name made of variables is only known per request: TLS is checked, the name is not
    ({'name': '$host'}, {'verify': False, 'trusted_certificate': None, 'name': None}),
])
def test_the_tls_probe_follows_the_location(backend_tls, tls):
    vhosts = [{'name': 'www', 'locations': [{'path': '/', 'upstream': 'api', 'backend_tls': backend_tls}]}]
    assert upstream_probes([API], vhosts=vhosts)[0]['tls'] == tls


def test_every_group_of_a_split_behind_backend_tls_is_probed_over_https():
    vhosts = [{'name': 'www', 'locations': [{'path': '/', 'split': [{'upstream': 'app', 'percent': 90},
                                                                    {'upstream': 'canary'}],
                                             'backend_tls': {'name': 'backend.lab.test'}}]}]
    assert [p['tls']['name'] for p in upstream_probes([APP, CANARY], vhosts=vhosts)] == ['backend.lab.test'] * 2


# -- stream_checks -------------------------------------------------------------

def test_stream_checks_connect_to_tcp_listeners_and_their_servers():
    proxies = [{'name': 'pg', 'listen': ['5432', '[::1]:6432'], 'upstream': 'app'},
               {'name': 'dns', 'listen': '53 udp', 'upstream': 'dns'},
               {'name': 'gone', 'state': 'absent', 'listen': '7000', 'upstream': 'app'},
               {'name': 'wild', 'listen': '*:7001 reuseport', 'upstream': 'missing'}]
    assert stream_checks(proxies, [APP, PG, DNS]) == [
        {'label': 'stream proxy pg listens on 5432', 'host': '127.0.0.1', 'port': 5432},
        {'label': 'stream proxy pg listens on [::1]:6432', 'host': '::1', 'port': 6432},
        {'label': 'stream proxy wild listens on *:7001', 'host': '127.0.0.1', 'port': 7001},
        # the stream group app, not the http group of the same name; the down server is left out
        {'label': 'stream group app server 10.0.0.41:5432', 'host': '10.0.0.41', 'port': 5432},
    ]


def test_stream_checks_of_nothing():
    assert stream_checks([], [APP]) == []
    assert stream_checks(None) == []


def test_stream_checks_refuse_a_string():
    with pytest.raises(AnsibleFilterError) as info:
        stream_checks('pg')
    assert info.value.message == ("balancer.nginx.stream_checks: load_balancer_stream_proxies: 'pg' must be a list of "
                                  "dicts; write it as a YAML list.")


def test_stream_checks_doc():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert doc['DOCUMENTATION']['name'] == 'stream_checks'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'upstreams'}
    assert yaml.safe_load(doc['EXAMPLES'])


# -- verify_plan and verify_report with a split ----------------------------------

SPLIT_VHOST = {'name': 'www', 'listen': ['8080'], 'access_log': LOG,
               'locations': [{'path': '/', 'split': [{'upstream': 'canary', 'percent': 10}, {'upstream': 'app'}]}]}


def split_check():
    return verify_plan([SPLIT_VHOST], [APP, CANARY, PG])[0]


def test_a_split_check_knows_each_servers_group_and_each_groups_share():
    check = split_check()
    assert check['mode'] == 'members'
    assert check['split_shares'] == {'canary': 10.0, 'app': 90.0}
    assert check['group_of'] == {'10.0.0.31:8080': 'canary', '10.0.0.11:8080': 'app', '10.0.0.12:8080': 'app'}
    assert check['note'] == ('split between groups canary 10%, app 90%: every answer must come from one of their '
                             'servers, and each group must take its share')


def report_of(distribution, tolerance=0.1):
    total = sum(distribution.values())
    result = {'item': split_check(), 'failed': False, 'requests': total, 'distribution': distribution,
              'statuses': {'200': total}}
    return verify_report([result], tolerance)[0]


def test_a_split_within_its_range_passes_and_shows_each_group():
    report = report_of({'10.0.0.31:8080': 62, '10.0.0.11:8080': 270, '10.0.0.12:8080': 268})
    assert report['problems'] == []
    low, high = split_range(600, 10.0, 0.1)
    assert '  canary        62   10.3%%  10%% (%d to %d)' % (low, high) in report['lines']
    assert any(line.startswith('  app          538   89.7%  90%') for line in report['lines'])


def test_a_split_that_sends_nothing_to_the_canary_fails_naming_the_group():
    report = report_of({'10.0.0.11:8080': 300, '10.0.0.12:8080': 300})
    low, high = split_range(600, 10.0, 0.1)
    assert report['problems'][0] == (
        'vhost www, location /: group canary took 0 of 600 requests (0.0%%), but the split gives it 10%% (%d to %d '
        'allowed); check the split of this location on the proxy.' % (low, high))
    assert len(report['problems']) == 2   # app took too much as well


def test_an_inverted_split_fails():
    report = report_of({'10.0.0.31:8080': 540, '10.0.0.11:8080': 30, '10.0.0.12:8080': 30})
    assert len(report['problems']) == 2


def test_split_range_holds_a_fair_split_and_catches_a_wrong_one():
    # 600 requests, 10%: 60 expected, one standard deviation is about 7.3
    low, high = split_range(600, 10.0, 0.1)
    assert (low, high) == (26, 94)
    # few requests: a wide range (0 is possible by chance: 0.9 ** 60 is about 0.2%)
    assert split_range(60, 10.0, 0.1) == (0, 17)
    # the tolerance widens the range when it is the wider one
    assert split_range(100000, 50.0, 0.1) == (45000, 55000)
    assert split_range(100000, 50.0, 0.0) == (49288, 50712)
    # a group with the whole split
    assert split_range(60, 100.0, 0.0) == (59, 60)


# -- rollback_plan with backend_tls -------------------------------------------------

def test_a_tls_location_rolls_back_to_https_verifying_the_name_it_verified():
    vhost = {'name': 'www', 'locations': [{'path': '/', 'upstream': 'api',
                                           'backend_tls': {'trusted_certificate': '/etc/nginx/ca.pem'}},
                                          {'path': '/app/', 'upstream': 'app'}]}
    plan = rollback_plan([vhost], [APP, API, PG])
    assert plan['vhosts'][0]['locations'] == [
        {'path': '/', 'pass': 'https://10.0.0.21:8443',
         'backend_tls': {'trusted_certificate': '/etc/nginx/ca.pem', 'name': 'api'}},
        {'path': '/app/', 'pass': 'http://10.0.0.11:8080'},
    ]
    assert plan['probes'] == [
        {'name': None, 'label': 'rollback targets over TLS', 'backends': ['10.0.0.21:8443'], 'min_healthy': 1,
         'tls': {'verify': True, 'trusted_certificate': '/etc/nginx/ca.pem', 'name': 'api'}},
        {'name': None, 'label': 'rollback targets', 'backends': ['10.0.0.11:8080'], 'min_healthy': 1},
    ]
    # the stream group named app is not the http group app: never removed by a rollback of vhosts
    assert plan['remove'] == [{'name': 'api', 'state': 'absent'}, {'name': 'app', 'state': 'absent'}]
