# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/upstream_log.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.upstream_log import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'upstream_log.yml')

RETRIED = ('10.1.2.3 shop.example.com GET / HTTP/1.1 status=200 upstream=127.0.0.1:1, 127.0.0.1:2 '
           'upstream_status=502, 200 upstream_response_time=0.001, 0.002')
PLAIN = ('10.1.2.4 shop.example.com GET /a HTTP/1.1 status=200 upstream=127.0.0.1:2 upstream_status=200 '
         'upstream_response_time=0.003')


@pytest.fixture
def upstream_log():
    return FilterModule().filters()['upstream_log']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['upstream_log']


def test_list_of_lines(upstream_log):
    assert upstream_log([RETRIED, PLAIN]) == [
        {'remote_addr': '10.1.2.3', 'host': 'shop.example.com', 'request': 'GET / HTTP/1.1', 'status': '200',
         'upstream_addr': ['127.0.0.1:1', '127.0.0.1:2'], 'upstream_status': ['502', '200'],
         'upstream_response_time': ['0.001', '0.002']},
        {'remote_addr': '10.1.2.4', 'host': 'shop.example.com', 'request': 'GET /a HTTP/1.1', 'status': '200',
         'upstream_addr': ['127.0.0.1:2'], 'upstream_status': ['200'], 'upstream_response_time': ['0.003']},
    ]


def test_one_string(upstream_log):
    assert upstream_log(RETRIED + '\n' + PLAIN + '\n') == upstream_log([RETRIED, PLAIN])


def test_served_by_as_in_the_example(upstream_log):
    assert [e['upstream_addr'][-1] for e in upstream_log([RETRIED, PLAIN])] == ['127.0.0.1:2', '127.0.0.1:2']


def test_error(upstream_log):
    with pytest.raises(AnsibleFilterError) as info:
        upstream_log([PLAIN, 'GET / 200'])
    assert info.value.message == (
        "balancer.nginx.upstream_log: lines[1]: 'GET / 200' is not in the upstream_debug log format; log with "
        "balancer.nginx.log_format name=upstream_debug.")


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {'DOCUMENTATION', 'EXAMPLES', 'RETURN'}
    assert doc['DOCUMENTATION']['name'] == 'upstream_log'
    assert list(doc['DOCUMENTATION']['options']) == ['_input']
    assert 'balancer.nginx.upstream_log' in doc['EXAMPLES']
    assert yaml.safe_load(doc['EXAMPLES'])
