# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/default_access_logs.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.default_access_logs import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'default_access_logs.yml')


@pytest.fixture
def default_access_logs():
    return FilterModule().filters()['default_access_logs']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['default_access_logs']


def test_vhosts_without_a_log_get_one(default_access_logs):
    own = {'path': '/var/log/nginx/api.log', 'format': 'combined'}
    vhosts = [{'name': 'www', 'upstream': 'app'},
              {'name': 'api', 'upstream': 'app', 'access_log': own},
              {'name': 'old', 'state': 'absent'},
              {'name': 'none', 'upstream': 'app', 'access_log': None}]
    result = default_access_logs(vhosts)
    assert result == [
        {'name': 'www', 'upstream': 'app',
         'access_log': {'path': '/var/log/nginx/www.upstream.log', 'format': 'upstream_debug'}},
        {'name': 'api', 'upstream': 'app', 'access_log': own},
        {'name': 'old', 'state': 'absent'},
        {'name': 'none', 'upstream': 'app',
         'access_log': {'path': '/var/log/nginx/none.upstream.log', 'format': 'upstream_debug'}},
    ]
    assert 'access_log' not in vhosts[0], 'the input is not changed'


def test_log_dir_and_format(default_access_logs):
    assert default_access_logs([{'name': 'www'}], log_dir='/srv/logs/', log_format='main') == [
        {'name': 'www', 'access_log': {'path': '/srv/logs/www.upstream.log', 'format': 'main'}}]


def test_items_site_refuses_are_left_to_it(default_access_logs):
    assert default_access_logs(['www', {'upstream': 'app'}]) == ['www', {'upstream': 'app'}]
    assert default_access_logs([]) == []
    assert default_access_logs(None) == []


def test_not_a_list(default_access_logs):
    with pytest.raises(AnsibleFilterError) as info:
        default_access_logs('www')
    assert info.value.message == ("balancer.nginx.default_access_logs: load_balancer_vhosts: 'www' must be a list of "
                                  "dicts; write it as a YAML list.")


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {'DOCUMENTATION', 'EXAMPLES', 'RETURN'}
    assert doc['DOCUMENTATION']['name'] == 'default_access_logs'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'log_dir', 'log_format'}
    assert yaml.safe_load(doc['EXAMPLES'])
