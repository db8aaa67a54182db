# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_balance.py: smooth weighted round robin counts and the upstream_debug log."""

from __future__ import annotations

import random

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils._balance import (
    parse_upstream_log, smooth_weighted_counts)
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError


def nginx_simulation(weights, requests):
    """Nginx's ngx_http_upstream_get_peer, step by step: no shortcut for whole rounds."""
    current = [0] * len(weights)
    total = sum(weights)
    counts = [0] * len(weights)
    for dummy in range(requests):
        best = None
        for index, weight in enumerate(weights):
            current[index] += weight
            if best is None or current[index] > current[best]:
                best = index
        current[best] -= total
        counts[best] += 1
    return counts


@pytest.mark.parametrize('weights, requests, expected', [
    ([3, 2, 1], 600, [300, 200, 100]),
    ([3, 2, 1], 11, [5, 4, 2]),
    ([3, 2, 1], 6, [3, 2, 1]),
    ([3, 2, 1], 1, [1, 0, 0]),
    ([1], 0, [0]),
    ([1], 5, [5]),
    ([5, 1, 1], 7, [5, 1, 1]),
    ([5, 1, 1], 3, [2, 1, 0]),
    ([1, 1, 1], 5, [2, 2, 1]),
    ([2, 2], 3, [2, 1]),
    ((4, 1), 10, [8, 2]),
])
def test_smooth_weighted_counts(weights, requests, expected):
    assert smooth_weighted_counts(weights, requests) == expected


def test_equal_weights_split_evenly_first_servers_first():
    for requests in range(0, 13):
        counts = smooth_weighted_counts([2, 2, 2, 2], requests)
        assert sum(counts) == requests
        assert max(counts) - min(counts) <= 1
        assert counts == sorted(counts, reverse=True)


def test_matches_nginx_step_by_step_for_random_weights():
    rng = random.Random(20240611)
    for dummy in range(150):
        weights = [rng.randint(1, 12) for dummy in range(rng.randint(1, 6))]
        requests = rng.randint(0, 3 * sum(weights) + 7)
        assert smooth_weighted_counts(weights, requests) == nginx_simulation(weights, requests), (weights, requests)


def test_does_not_change_its_input():
    weights = [3, 2, 1]
    smooth_weighted_counts(weights, 11)
    assert weights == [3, 2, 1]


@pytest.mark.parametrize('weights, requests, message', [
    ([], 5, 'weights: must be a non-empty list of whole numbers; give e.g. [3, 2, 1].'),
    ('3,2,1', 5, 'weights: must be a non-empty list of whole numbers; give e.g. [3, 2, 1].'),
    (None, 5, 'weights: must be a non-empty list of whole numbers; give e.g. [3, 2, 1].'),
    ([3, 0], 5, 'weights[1]: 0 must be a whole number of at least 1; give e.g. 1.'),
    ([3, -1], 5, 'weights[1]: -1 must be a whole number of at least 1; give e.g. 1.'),
    ([1.5], 5, 'weights[0]: 1.5 must be a whole number of at least 1; give e.g. 1.'),
    (['3'], 5, "weights[0]: '3' must be a whole number of at least 1; give e.g. 1."),
    ([True], 5, 'weights[0]: true must be a whole number of at least 1; give e.g. 1.'),
    ([1], -1, 'requests: -1 must be a whole number of at least 0; give e.g. 600.'),
    ([1], '10', "requests: '10' must be a whole number of at least 0; give e.g. 600."),
    ([1], 2.0, 'requests: 2.0 must be a whole number of at least 0; give e.g. 600.'),
    ([1], False, 'requests: false must be a whole number of at least 0; give e.g. 600.'),
])
def test_bad_input(weights, requests, message):
    with pytest.raises(ModelError) as info:
        smooth_weighted_counts(weights, requests)
    assert str(info.value) == message


# --------------------------------------------------------------------------
# parse_upstream_log
# --------------------------------------------------------------------------

LINE = ('127.0.0.1 app.example.com GET /api?x=1 HTTP/1.1 status=200 upstream=127.0.0.1:8081 '
        'upstream_status=200 upstream_response_time=0.004')
RETRIED = ('10.1.2.3 shop.example.com POST /cart HTTP/1.1 status=200 upstream=127.0.0.1:1, 127.0.0.1:2 '
           'upstream_status=502, 200 upstream_response_time=0.001, 0.002')


def test_single_line():
    assert parse_upstream_log([LINE]) == [{
        'remote_addr': '127.0.0.1', 'host': 'app.example.com', 'request': 'GET /api?x=1 HTTP/1.1',
        'status': '200', 'upstream_addr': ['127.0.0.1:8081'], 'upstream_status': ['200'],
        'upstream_response_time': ['0.004'],
    }]


def test_retried_request_gives_lists():
    entry = parse_upstream_log([RETRIED])[0]
    assert entry['upstream_addr'] == ['127.0.0.1:1', '127.0.0.1:2']
    assert entry['upstream_status'] == ['502', '200']
    assert entry['upstream_response_time'] == ['0.001', '0.002']
    assert (entry['request'], entry['status']) == ('POST /cart HTTP/1.1', '200')


def test_internal_redirect_separator():
    line = ('1.1.1.1 h GET / HTTP/1.1 status=200 upstream=10.0.0.1:80 : 10.0.0.2:80 upstream_status=404 : 200 '
            'upstream_response_time=0.010 : 0.020')
    entry = parse_upstream_log(line)[0]
    assert entry['upstream_addr'] == ['10.0.0.1:80', '10.0.0.2:80']
    assert entry['upstream_status'] == ['404', '200']


def test_no_upstream_gives_dash():
    line = '1.1.1.1 h GET / HTTP/1.1 status=404 upstream=- upstream_status=- upstream_response_time=-'
    assert parse_upstream_log([line])[0]['upstream_addr'] == ['-']


def test_string_with_several_lines():
    text = LINE + '\n' + RETRIED + '\r\n\n'
    entries = parse_upstream_log(text)
    assert [e['upstream_addr'] for e in entries] == [['127.0.0.1:8081'], ['127.0.0.1:1', '127.0.0.1:2']]
    assert parse_upstream_log(text) == parse_upstream_log([LINE, RETRIED])


def test_empty_input():
    assert parse_upstream_log([]) == []
    assert parse_upstream_log('') == []
    assert parse_upstream_log(['', '   ']) == []


def test_line_in_another_format_names_it():
    other = '127.0.0.1 - - [11/Jun/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"'
    with pytest.raises(ModelError) as info:
        parse_upstream_log([LINE, '', other])
    assert str(info.value) == (
        "lines[2]: %r is not in the upstream_debug log format; log with balancer.nginx.log_format "
        "name=upstream_debug." % other)


def test_line_number_counts_lines_of_a_string():
    with pytest.raises(ModelError) as info:
        parse_upstream_log(LINE + '\nnot a log line\n')
    assert str(info.value).startswith("lines[1]: 'not a log line' is not in the upstream_debug log format")
