# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/verify_report.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.balancer.nginx.plugins.filter.verify_report import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'verify_report.yml')

WEIGHTS = {'vhost': 'www', 'location': '/', 'groups': ['app'], 'mode': 'weights', 'url': 'http://127.0.0.1:80/',
           'host_header': 'example.com', 'access_log': '/var/log/nginx/www.upstream.log', 'identify_by': 'log',
           'expect_weights': {'10.0.0.1:8081': 3, '10.0.0.2:8082': 2, '10.0.0.3:8083': 1, '10.0.0.4:8084': 0},
           'labels': {'10.0.0.1:8081': '10.0.0.1:8081', '10.0.0.2:8082': 'b.internal:8082',
                      '10.0.0.3:8083': '10.0.0.3:8083', '10.0.0.4:8084': '10.0.0.4:8084'}}


@pytest.fixture
def verify_report():
    return FilterModule().filters()['verify_report']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['verify_report']


def test_a_passing_split_is_one_table(verify_report):
    result = {'item': WEIGHTS, 'changed': False, 'failed': False, 'requests': 60,
              'distribution': {'10.0.0.1:8081': 30, '10.0.0.2:8082': 20, '10.0.0.3:8083': 10},
              'expected': {'10.0.0.1:8081': 30, '10.0.0.2:8082': 20, '10.0.0.3:8083': 10, '10.0.0.4:8084': 0},
              'statuses': {'200': 60}}
    assert verify_report([result]) == [{'vhost': 'www', 'problems': [], 'lines': [
        'vhost www, location /: 60 requests to http://127.0.0.1:80/ (Host: example.com) -> group app; backends read '
        'from /var/log/nginx/www.upstream.log',
        '  backend                          requests   share  expected',
        '  10.0.0.1:8081                          30   50.0%  30 (50.0%)',
        '  b.internal:8082 (10.0.0.2:8082)        20   33.3%  20 (33.3%)',
        '  10.0.0.3:8083                          10   16.7%  10 (16.7%)',
        '  10.0.0.4:8084                           0    0.0%  0 (0.0%)',
        '  statuses: 200 x60',
    ]}]


def test_a_failing_split_names_the_vhost_and_the_backend(verify_report):
    message = ("expect_weights['10.0.0.2:8082']: measured 0 of 60 requests, expected 20 (weight 2 of 6; tolerance 0.1 "
               "allows 18 to 22); check that this backend is up and has weight 2 on the proxy, or raise tolerance.")
    result = {'item': WEIGHTS, 'failed': True, 'msg': message, 'requests': 60,
              'distribution': {'10.0.0.1:8081': 40, '10.0.0.3:8083': 20, '10.0.0.9:80': 0},
              'expected': {'10.0.0.1:8081': 30, '10.0.0.2:8082': 20, '10.0.0.3:8083': 10, '10.0.0.4:8084': 0},
              'statuses': {'200': 57, '502': 3}}
    report = verify_report([result])[0]
    assert report['problems'] == ['vhost www, location /: ' + message]
    assert report['lines'][3] == '  b.internal:8082 (10.0.0.2:8082)         0    0.0%  20 (33.3%)'
    assert report['lines'][6] == '  10.0.0.9:80                             0    0.0%  not a server of this location'
    assert report['lines'][7] == '  statuses: 200 x57, 502 x3'


def test_members_mode_flags_a_stranger(verify_report):
    check = {'vhost': 'www', 'location': '/', 'groups': ['sticky'], 'mode': 'members', 'url': 'http://127.0.0.1:80/',
             'access_log': '/var/log/nginx/www.upstream.log', 'identify_by': 'log',
             'labels': {'10.0.0.1:80': '10.0.0.1:80', '10.0.0.2:80': '10.0.0.2:80'},
             'note': 'method ip_hash: the split depends on the keys, every answer must come from a server of the group'}
    result = {'item': check, 'failed': False, 'requests': 60,
              'distribution': {'10.0.0.1:80': 55, '10.0.0.7:80': 5}, 'statuses': {'200': 60}}
    assert verify_report([result]) == [{'vhost': 'www', 'lines': [
        'vhost www, location /: 60 requests to http://127.0.0.1:80/ -> group sticky; backends read from '
        '/var/log/nginx/www.upstream.log',
        '  note: method ip_hash: the split depends on the keys, every answer must come from a server of the group',
        '  backend      requests   share  expected',
        '  10.0.0.1:80        55   91.7%  member',
        '  10.0.0.2:80         0    0.0%  member',
        '  10.0.0.7:80         5    8.3%  NOT A MEMBER',
        '  statuses: 200 x60',
    ], 'problems': ['vhost www, location /: 5 of 60 requests were answered by 10.0.0.7:80, which is not a server of '
                    'group sticky.']}]


def test_skipped_and_status_checks_and_several_vhosts(verify_report):
    skipped = {'item': {'vhost': 'tls', 'location': '/', 'mode': 'skip',
                        'note': "its first listen value '443 ssl' is TLS, and the check speaks plain http"},
               'skipped': True, 'changed': False}
    status = {'item': {'vhost': 'www', 'location': '/hand', 'mode': 'status', 'url': 'http://127.0.0.1:80/hand',
                       'groups': ['handwritten'], 'identify_by': 'header',
                       'note': 'group handwritten is not described in load_balancer_upstreams, so only the status codes '
                               'are checked'},
              'failed': True, 'requests': 60, 'distribution': {'-': 60}, 'statuses': {'503': 60},
              'msg': 'expect_status: 60 of 60 requests got status 503, expected 200; check the backends.'}
    reports = verify_report([skipped, status])
    assert reports == [
        {'vhost': 'tls', 'lines': ["vhost tls, location /: not checked: its first listen value '443 ssl' is TLS, and the "
                                   "check speaks plain http"], 'problems': []},
        {'vhost': 'www', 'lines': [
            'vhost www, location /hand: 60 requests to http://127.0.0.1:80/hand -> group handwritten',
            '  note: group handwritten is not described in load_balancer_upstreams, so only the status codes are '
            'checked',
            '  statuses: 503 x60'],
         'problems': ['vhost www, location /hand: expect_status: 60 of 60 requests got status 503, expected 200; check '
                      'the backends.']},
    ]
    assert verify_report([]) == []


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert doc['DOCUMENTATION']['name'] == 'verify_report'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'tolerance'}
    assert yaml.safe_load(doc['EXAMPLES'])
