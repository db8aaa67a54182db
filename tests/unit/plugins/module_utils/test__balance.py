# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_balance.py: smooth weighted round robin counts, the upstream_debug log, judging a split."""

from __future__ import annotations

import random

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils._balance import (
    allowed_range, backend_statuses, check_weights, compare_distribution, expected_counts, latency_summary,
    log_backend_answers, log_backend_ids, parse_upstream_log, percentile, smooth_weighted_counts, status_problems)
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError


# The order in which Nginx's smooth weighted round robin picks the servers over one whole round (as many picks as
# the weights add up to; after a round every current weight is back at 0, so rounds repeat).  Worked out by hand
# from the algorithm as ngx_http_upstream_get_peer states it (each pick adds every server's weight to its current
# weight, takes the first server with the greatest current weight and subtracts the total from it), not with
# any code: e.g. for 3, 2, 1 the current weights go (3,2,1) a -> (0,4,2) b -> (3,0,3) a -> (0,2,4) c ->
# (3,4,-1) b -> (6,0,0) a.  The 5, 1, 1 round is the one Nginx's own source gives as its example
# ({ a, a, b, a, c, a, a }, ngx_http_upstream_round_robin.c).
ROUNDS = [
    ((3, 2, 1), 'abacba'),
    ((5, 1, 1), 'aabacaa'),
    ((4, 1), 'aabaa'),
    ((3, 1), 'aaba'),
    ((1, 2), 'bab'),
    ((2, 1, 1), 'abca'),
    ((1, 3, 2), 'bcabcb'),
    ((1, 1, 1), 'abc'),
    ((2, 2), 'abab'),
    ((2, 2, 2, 2), 'abcdabcd'),
    ((1,), 'a'),
]


def counts_of(weights, order, requests):
    """How many of ``requests`` picks each server gets, reading the hand-written round ``order`` again and again."""
    picks = (order * (requests // len(order) + 1))[:requests]
    return [picks.count(chr(ord('a') + index)) for index in range(len(weights))]


def test_the_hand_written_rounds_are_whole_rounds():
    for weights, order in ROUNDS:
        assert len(order) == sum(weights)
        assert counts_of(weights, order, len(order)) == list(weights)


@pytest.mark.parametrize('weights, order', ROUNDS, ids=[','.join(map(str, w)) for w, o in ROUNDS])
def test_matches_the_hand_written_rounds_after_every_request(weights, order):
    for requests in range(0, 3 * len(order) + 2):
        assert smooth_weighted_counts(list(weights), requests) == counts_of(weights, order, requests), requests


def test_properties_of_the_algorithm_for_random_weights():
    # What follows from the algorithm itself, whatever the weights: every request goes somewhere; a whole number
    # of rounds gives each server exactly its weight per round; one more request adds exactly one pick (the counts
    # are those of one sequence); and a server never gets a whole request more than its share (the picked
    # server's current weight is at least total/n before the total is taken off, so no current weight goes down
    # to -total).
    rng = random.Random(20240611)
    for dummy in range(150):
        weights = [rng.randint(1, 12) for dummy in range(rng.randint(1, 6))]
        total = sum(weights)
        rounds = rng.randint(0, 3)
        assert smooth_weighted_counts(weights, rounds * total) == [rounds * w for w in weights]
        previous = smooth_weighted_counts(weights, 0)
        for requests in range(1, 2 * total + 2):
            counts = smooth_weighted_counts(weights, requests)
            assert sum(counts) == requests
            assert sorted(c - p for c, p in zip(counts, previous)) == [0] * (len(weights) - 1) + [1]
            assert all(count * total < requests * weight + total for count, weight in zip(counts, weights))
            previous = counts


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


# --------------------------------------------------------------------------
# percentiles
# --------------------------------------------------------------------------

@pytest.mark.parametrize('values, point, expected', [
    ([], 50, None),
    ([7.0], 50, 7.0),
    ([7.0], 99, 7.0),
    ([3, 1, 2], 50, 2),
    ([1, 2, 3, 4], 50, 2),
    ([1, 2, 3, 4], 75, 3),
    ([1, 2, 3, 4], 76, 4),
    ([1, 2, 3, 4], 100, 4),
    ([1, 2, 3, 4], 0, 1),
    (list(range(1, 101)), 90, 90),
    (list(range(1, 101)), 99, 99),
    (list(range(100, 0, -1)), 99, 99),
    (list(range(1, 1001)), 99, 990),
    (list(range(1, 11)), 99, 10),
])
def test_percentile_nearest_rank(values, point, expected):
    assert percentile(values, point) == expected


def test_latency_summary():
    values = [float(v) for v in range(1, 201)]
    assert latency_summary(values) == {'p50': 100.0, 'p90': 180.0, 'p99': 198.0, 'max': 200.0}
    assert latency_summary([]) == {'p50': None, 'p90': None, 'p99': None, 'max': None}


def test_percentile_does_not_change_its_input():
    values = [3, 1, 2]
    percentile(values, 50)
    assert values == [3, 1, 2]


# --------------------------------------------------------------------------
# expected counts and tolerance
# --------------------------------------------------------------------------

def test_expected_counts_in_the_order_given():
    assert expected_counts({'app1': 3, 'app2': 2, 'app3': 1}, 600) == {'app1': 300, 'app2': 200, 'app3': 100}
    assert expected_counts({'app1': 3, 'app2': 2, 'app3': 1}, 11) == {'app1': 5, 'app2': 4, 'app3': 2}
    # the remainder goes to the first server of equal weight, as in Nginx
    assert list(expected_counts({'b': 1, 'a': 1}, 3).items()) == [('b', 2), ('a', 1)]


def test_zero_weight_expects_nothing_and_leaves_the_rest_to_the_others():
    assert expected_counts({'app1': 1, 'app2': 1, 'app3': 0}, 60) == {'app1': 30, 'app2': 30, 'app3': 0}


def test_weights_given_as_strings_of_digits():
    assert check_weights({'a': '3', 'b': 1}) == [('a', 3), ('b', 1)]


@pytest.mark.parametrize('weights, message', [
    ({}, 'expect_weights: must be a non-empty dict of backend id to weight; give e.g. {app1: 3, app2: 2, app3: 1}.'),
    ([3, 2], 'expect_weights: must be a non-empty dict of backend id to weight; give e.g. {app1: 3, app2: 2, app3: 1}.'),
    ({'app1': -1}, "expect_weights['app1']: -1 must be a whole number of at least 0; give e.g. 1 (0: no request "
                   "expected)."),
    ({'app1': 1.5}, "expect_weights['app1']: 1.5 must be a whole number of at least 0; give e.g. 1 (0: no request "
                    "expected)."),
    ({'app1': 'x'}, "expect_weights['app1']: 'x' must be a whole number of at least 0; give e.g. 1 (0: no request "
                    "expected)."),
    ({'app1': True}, "expect_weights['app1']: true must be a whole number of at least 0; give e.g. 1 (0: no "
                     "request expected)."),
    ({'app1': 0, 'app2': 0}, 'expect_weights: has no positive weight; give at least one backend a weight of 1 or '
                             'more.'),
])
def test_bad_weights(weights, message):
    with pytest.raises(ModelError) as info:
        check_weights(weights)
    assert str(info.value) == message


@pytest.mark.parametrize('expected, tolerance, bounds', [
    (100, 0.1, (90, 110)),
    (100, 0, (100, 100)),
    (200, 0.1, (180, 220)),
    (5, 0.1, (5, 5)),
    (15, 0.1, (14, 16)),
    (0, 0.5, (0, 0)),
    (10, 1, (0, 20)),
    (3, 0.5, (2, 4)),
])
def test_allowed_range(expected, tolerance, bounds):
    assert allowed_range(expected, tolerance) == bounds


WEIGHTS = {'app1': 3, 'app2': 2, 'app3': 1}


def test_exact_split_with_tolerance_zero():
    expected, problems = compare_distribution({'app1': 300, 'app2': 200, 'app3': 100}, WEIGHTS, 0)
    assert expected == {'app1': 300, 'app2': 200, 'app3': 100}
    assert problems == []


def test_tolerance_zero_refuses_one_off():
    dummy, problems = compare_distribution({'app1': 301, 'app2': 199, 'app3': 100}, WEIGHTS, 0)
    assert [str(p) for p in problems] == [
        "expect_weights['app1']: measured 301 of 600 requests, expected 300 (weight 3 of 6; tolerance 0 allows "
        "exactly 300); check that this backend is up and has weight 3 on the proxy, or raise tolerance.",
        "expect_weights['app2']: measured 199 of 600 requests, expected 200 (weight 2 of 6; tolerance 0 allows "
        "exactly 200); check that this backend is up and has weight 2 on the proxy, or raise tolerance.",
    ]


def test_within_tolerance_at_the_edges():
    dummy, problems = compare_distribution({'app1': 330, 'app2': 180, 'app3': 90}, WEIGHTS, 0.1)
    assert problems == []


def test_a_missing_backend_is_named_with_its_counts_and_the_tolerance():
    expected, problems = compare_distribution({'app1': 30, 'app2': 30}, {'app1': 1, 'app2': 1, 'app3': 1}, 0.1)
    assert expected == {'app1': 20, 'app2': 20, 'app3': 20}
    assert [str(p) for p in problems] == [
        "expect_weights['app1']: measured 30 of 60 requests, expected 20 (weight 1 of 3; tolerance 0.1 allows 18 "
        "to 22); check that this backend is up and has weight 1 on the proxy, or raise tolerance.",
        "expect_weights['app2']: measured 30 of 60 requests, expected 20 (weight 1 of 3; tolerance 0.1 allows 18 "
        "to 22); check that this backend is up and has weight 1 on the proxy, or raise tolerance.",
        "expect_weights['app3']: measured 0 of 60 requests, expected 20 (weight 1 of 3; tolerance 0.1 allows 18 "
        "to 22); check that this backend is up and has weight 1 on the proxy, or raise tolerance.",
    ]


def test_weight_zero_passes_when_nginx_skips_the_backend():
    expected, problems = compare_distribution({'app1': 30, 'app2': 30}, {'app1': 1, 'app2': 1, 'app3': 0}, 0)
    assert expected == {'app1': 30, 'app2': 30, 'app3': 0}
    assert problems == []


def test_unlisted_and_unidentified_answers():
    dummy, problems = compare_distribution({'app1': 58, 'app9': 1, '-': 1}, {'app1': 1}, 0.1)
    # app1: 58 of the 60 expected is within 54 to 66
    assert [str(p) for p in problems] == [
        "expect_weights: 1 of 60 requests answered without saying which backend it was (id '-'); list every "
        "backend of the group in expect_weights, or check identify_by.",
        "expect_weights: 1 of 60 requests answered but is not listed (id 'app9'); list every backend of the group "
        "in expect_weights, or check identify_by.",
    ]


@pytest.mark.parametrize('tolerance', [-0.1, 1.5, True, '0.1'])
def test_bad_tolerance(tolerance):
    with pytest.raises(ModelError) as info:
        compare_distribution({}, WEIGHTS, tolerance)
    assert str(info.value).startswith('tolerance: ')
    assert str(info.value).endswith('must be a fraction from 0 to 1; give e.g. 0.1 (0: exact counts).')


def test_status_problems():
    assert status_problems({'200': 60}, [200]) == []
    assert status_problems({'200': 50, '503': 10}, [200, 503]) == []
    problems = status_problems({'200': 50, '502': 8, 'error': 2}, [200], ['connection refused'])
    assert [str(p) for p in problems] == [
        "expect_status: 8 of 60 requests got status 502, expected 200; check the backends and the proxy's error "
        "log, or add 502 to expect_status.",
        'expect_status: 2 of 60 requests got no HTTP answer (connection refused); check that the proxy listens on '
        'url.',
    ]
    assert str(status_problems({'204': 1}, [200, 201])[0]).startswith(
        'expect_status: 1 of 1 requests got status 204, expected 200 or 201;')


# --------------------------------------------------------------------------
# log lines -> backend ids
# --------------------------------------------------------------------------

def debug_line(addr, request='GET / HTTP/1.1', status='200'):
    return ('127.0.0.1 127.0.0.1 %s status=%s upstream=%s upstream_status=%s upstream_response_time=0.001'
            % (request, status, addr, status))


def test_log_ids_take_the_last_attempt():
    lines = [debug_line('127.0.0.1:8081'),
             debug_line('127.0.0.1:8083, 127.0.0.1:8082'),
             debug_line('127.0.0.1:8083 : 127.0.0.1:8081'),
             debug_line('-', status='404')]
    assert log_backend_ids(lines) == (['127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8081', '-'], 0)


def test_log_ids_only_of_the_request_line_and_foreign_lines_counted():
    lines = [debug_line('127.0.0.1:8081', 'GET /check HTTP/1.1'),
             debug_line('127.0.0.1:8082', 'GET /other HTTP/1.1'),
             '127.0.0.1 - - [11/Jun/2024:10:00:00 +0000] "GET /check HTTP/1.1" 200 6 "-" "curl"',
             '',
             debug_line('127.0.0.1:8083', 'GET /check HTTP/1.1') + '\r\n']
    assert log_backend_ids(lines, 'GET /check HTTP/1.1') == (['127.0.0.1:8081', '127.0.0.1:8083'], 1)
    assert log_backend_ids(lines) == (['127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8083'], 1)


def test_log_answers_pair_the_last_attempt_with_the_client_status():
    lines = [debug_line('127.0.0.1:8081', 'GET /check HTTP/1.1'),
             debug_line('127.0.0.1:8083, 127.0.0.1:8082', 'GET /check HTTP/1.1', status='502'),
             debug_line('127.0.0.1:8082', 'GET /other HTTP/1.1'),
             'not the upstream_debug format']
    assert log_backend_answers(lines, 'GET /check HTTP/1.1') == (
        [('127.0.0.1:8081', '200'), ('127.0.0.1:8082', '502')], 1)


def test_backend_statuses_counts_per_backend_and_status():
    answers = [('app1', 200), ('app2', '502'), ('app1', 200), ('app2', 200), ('-', 404)]
    assert backend_statuses(answers) == {'app1': {'200': 2}, 'app2': {'502': 1, '200': 1}, '-': {'404': 1}}
    assert backend_statuses([]) == {}


def test_log_ids_agree_with_parse_upstream_log():
    lines = [debug_line('127.0.0.1:1, 127.0.0.1:2'), debug_line('[::1]:8081')]
    assert log_backend_ids(lines)[0] == [e['upstream_addr'][-1] for e in parse_upstream_log(lines)]
