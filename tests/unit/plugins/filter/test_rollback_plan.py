# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/rollback_plan.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.rollback_plan import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'rollback_plan.yml')

LOG = {'path': '/var/log/nginx/www.upstream.log', 'format': 'upstream_debug'}
GROUPS = [
    {'name': 'app', 'servers': [{'address': '10.0.0.10:80', 'backup': True}, {'address': '10.0.0.11:8080', 'down': True},
                                {'address': '10.0.0.12:8080', 'weight': 3}, {'address': '10.0.0.13:8080'}]},
    {'name': 'api', 'path': '/etc/nginx/conf.d/10-api.conf', 'servers': [{'address': '10.0.0.21:9000'}]},
    {'name': 'canary', 'servers': [{'address': '10.0.0.31:8080'}]},
]
WWW = {'name': 'www', 'server_name': 'www.example.com', 'upstream': 'app', 'access_log': LOG}
API = {'name': 'api', 'locations': [{'path': '/', 'upstream': 'api', 'next_upstream': ['error']},
                                    {'path': '/static/', 'pass': 'http://10.0.0.40:80'},
                                    {'path': '/app/', 'upstream': 'app'}]}


@pytest.fixture
def rollback_plan():
    return FilterModule().filters()['rollback_plan']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['rollback_plan']


def test_every_vhost_to_each_groups_first_primary(rollback_plan):
    plan = rollback_plan([WWW, API], GROUPS)
    assert plan['vhosts'] == [
        {'name': 'www', 'server_name': 'www.example.com', 'access_log': LOG,
         'locations': [{'path': '/', 'pass': 'http://10.0.0.12:8080'}]},
        {'name': 'api', 'locations': [{'path': '/', 'pass': 'http://10.0.0.21:9000', 'next_upstream': ['error']},
                                      {'path': '/static/', 'pass': 'http://10.0.0.40:80'},
                                      {'path': '/app/', 'pass': 'http://10.0.0.12:8080'}]},
    ]
    assert plan['remove'] == [{'name': 'app', 'state': 'absent'},
                              {'name': 'api', 'state': 'absent', 'path': '/etc/nginx/conf.d/10-api.conf'}]
    assert plan['keep'] == []
    assert plan['targets'] == [
        {'vhost': 'www', 'location': '/', 'group': 'app', 'target': '10.0.0.12:8080'},
        {'vhost': 'api', 'location': '/', 'group': 'api', 'target': '10.0.0.21:9000'},
        {'vhost': 'api', 'location': '/app/', 'group': 'app', 'target': '10.0.0.12:8080'},
    ]
    assert plan['probes'] == [{'name': None, 'label': 'rollback targets',
                               'backends': ['10.0.0.12:8080', '10.0.0.21:9000'], 'min_healthy': 2}]
    assert plan['lines'] == [
        'vhost www, location /: group app -> 10.0.0.12:8080',
        'vhost api, location /: group api -> 10.0.0.21:9000',
        'vhost api, location /app/: group app -> 10.0.0.12:8080',
        'group app: removed, nothing refers to it any more',
        'group api: removed, nothing refers to it any more',
    ]


def test_one_vhost_keeps_a_group_another_vhost_uses(rollback_plan):
    plan = rollback_plan([WWW, API], GROUPS, vhost='www')
    assert [v['name'] for v in plan['vhosts']] == ['www']
    assert plan['remove'] == []
    assert plan['keep'] == [{'name': 'app', 'reason': 'another vhost of load_balancer_vhosts proxies to it'}]


def test_references_outside_the_rolled_back_files_keep_a_group(rollback_plan):
    live = {'app': {'references': [{'file': '/etc/nginx/conf.d/www.vhost.conf', 'line': 7},
                                   {'file': '/etc/nginx/sites-enabled/legacy', 'line': 12}]}}
    plan = rollback_plan([WWW], GROUPS, live=live)
    assert plan['remove'] == []
    assert plan['keep'] == [{'name': 'app', 'reason': 'still referred to at /etc/nginx/sites-enabled/legacy:12'}]
    live = {'app': {'references': [{'file': '/srv/nginx/www.vhost.conf', 'line': 7}]}}
    assert rollback_plan([WWW], GROUPS, live=live, conf_dir='/srv/nginx')['remove'] == [{'name': 'app',
                                                                                         'state': 'absent'}]


def test_a_group_the_role_does_not_describe_is_kept_and_read_from_the_live_config(rollback_plan):
    vhost = {'name': 'www', 'upstream': 'legacy'}
    live = {'legacy': {'options': {'servers': [{'address': '10.0.0.50:80', 'backup': True},
                                               {'address': '10.0.0.51:80'}]},
                       'references': [{'file': '/etc/nginx/conf.d/www.vhost.conf', 'line': 5}]}}
    plan = rollback_plan([vhost], GROUPS, live=live)
    assert plan['vhosts'][0]['locations'] == [{'path': '/', 'pass': 'http://10.0.0.51:80'}]
    assert plan['keep'] == [{'name': 'legacy', 'reason': 'it is not described in load_balancer_upstreams'}]


def test_to_one_backend_or_per_group(rollback_plan):
    plan = rollback_plan([WWW, API], GROUPS, to='10.0.0.99:8080')
    assert set(t['target'] for t in plan['targets']) == {'10.0.0.99:8080'}
    plan = rollback_plan([WWW, API], GROUPS, to={'api': '[fd00::21]:9000'})
    assert [t['target'] for t in plan['targets']] == ['10.0.0.12:8080', '[fd00::21]:9000', '10.0.0.12:8080']
    assert plan['vhosts'][1]['locations'][0]['pass'] == 'http://[fd00::21]:9000'


def test_a_split_goes_to_its_largest_share(rollback_plan):
    vhost = {'name': 'www', 'locations': [{'path': '/', 'split': [{'upstream': 'canary', 'percent': 10},
                                                                  {'upstream': 'app'}], 'split_key': '$remote_addr'}]}
    plan = rollback_plan([vhost], GROUPS)
    assert plan['vhosts'][0]['locations'] == [{'path': '/', 'pass': 'http://10.0.0.12:8080'}]
    assert [r['name'] for r in plan['remove']] == ['canary', 'app']


def test_a_second_run_plans_the_same(rollback_plan):
    first = rollback_plan([WWW, API], GROUPS)
    # the groups are gone from the live configuration, the vhosts still describe them
    assert rollback_plan([WWW, API], GROUPS, live={}) == first


@pytest.mark.parametrize('kwargs, message', [
    ({'vhost': 'nope'}, "load_balancer_rollback_vhost: 'nope' is not a vhost of load_balancer_vhosts (known: api, www); "
                        "give the name of one of them, or leave it out to roll back every vhost."),
    ({'to': 'http://10.0.0.1:80'}, "load_balancer_rollback_to: 'http://10.0.0.1:80' is not a backend host:port; give "
                                   "e.g. 10.0.0.11:8080 (no scheme, no path)."),
    ({'to': {'app': 'unix:/run/app.sock'}}, "load_balancer_rollback_to['app']: 'unix:/run/app.sock' is not a backend "
                                            "host:port; give e.g. 10.0.0.11:8080 (no scheme, no path)."),
    ({'to': ['10.0.0.1:80']}, "load_balancer_rollback_to: ['10.0.0.1:80'] must be one host:port or a dict of group name "
                              "to host:port; give e.g. 10.0.0.11:8080 or {app: 10.0.0.11:8080}."),
])
def test_errors(rollback_plan, kwargs, message):
    with pytest.raises(AnsibleFilterError) as info:
        rollback_plan([WWW, API], GROUPS, **kwargs)
    assert info.value.message == 'balancer.nginx.rollback_plan: ' + message


def test_a_group_without_a_primary_needs_to(rollback_plan):
    groups = [{'name': 'app', 'servers': [{'address': '10.0.0.1:80', 'down': True}]}]
    with pytest.raises(AnsibleFilterError) as info:
        rollback_plan([WWW], groups)
    assert info.value.message == ('balancer.nginx.rollback_plan: load_balancer_rollback_to: names no backend for group '
                                  'app, which has no server that is neither backup nor down; give '
                                  'load_balancer_rollback_to: {app: HOST:PORT}.')


def test_nothing_to_roll_back(rollback_plan):
    plan = rollback_plan([{'name': 'static', 'locations': [{'path': '/', 'pass': 'http://10.0.0.40'}]}], GROUPS)
    assert plan['remove'] == [] and plan['targets'] == [] and plan['probes'] == []
    assert plan['lines'] == ['nothing to roll back']


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert doc['DOCUMENTATION']['name'] == 'rollback_plan'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'upstreams', 'vhost', 'to', 'live', 'conf_dir'}
    assert yaml.safe_load(doc['EXAMPLES'])
