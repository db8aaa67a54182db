# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How Nginx spreads requests, reading what it logged, and judging a measured split.  Standard library only."""

from __future__ import annotations

import math

import re

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError, ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._options import UPSTREAM_DEBUG_FORMAT


def smooth_weighted_counts(weights, requests):
    """Counts Nginx's smooth weighted round robin sends to each server, in order.

    Each pick adds every weight to its server's current weight, chooses the
    first server with the greatest current weight and takes the total off it.
    """
    if not isinstance(weights, (list, tuple)) or not weights:
        raise ModelError('weights', 'must be a non-empty list of whole numbers', 'give e.g. [3, 2, 1]')
    clean = []
    for index, weight in enumerate(weights):
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise ModelError('weights[%d]' % index, 'must be a whole number of at least 1', 'give e.g. 1',
                             value=weight)
        clean.append(weight)
    if isinstance(requests, bool) or not isinstance(requests, int) or requests < 0:
        raise ModelError('requests', 'must be a whole number of at least 0', 'give e.g. 600', value=requests)
    total = sum(clean)
    full, rest = divmod(requests, total)
    counts = [w * full for w in clean]
    current = [0] * len(clean)
    for dummy in range(rest):
        best = None
        for index, weight in enumerate(clean):
            current[index] += weight
            if best is None or current[index] > current[best]:
                best = index
        current[best] -= total
        counts[best] += 1
    return counts


def _log_pattern(fmt):
    """A regex for lines written with ``fmt``: each ``$variable`` becomes a named group."""
    parts = re.split(r'(\$[A-Za-z_][A-Za-z0-9_]*)', fmt)
    pattern = ''
    for index, part in enumerate(parts):
        if part.startswith('$'):
            last = index == len(parts) - 1
            pattern += '(?P<%s>%s)' % (part[1:], '.*' if last else '.*?')
        else:
            pattern += re.escape(part)
    return re.compile('^' + pattern + '$')


UPSTREAM_DEBUG_RE = _log_pattern(UPSTREAM_DEBUG_FORMAT)
_MULTI = ('upstream_addr', 'upstream_status', 'upstream_response_time')


def parse_upstream_line(line):
    """One ``upstream_debug`` line -> dict (upstream variables as lists, one entry per attempt), or ``None``."""
    match = UPSTREAM_DEBUG_RE.match(line.rstrip('\r\n'))
    if not match:
        return None
    entry = match.groupdict()
    for key in _MULTI:
        # Nginx joins attempts with ", " and internal redirects with " : ".
        entry[key] = [part for part in re.split(r', | : ', entry[key]) if part]
    return entry


def parse_upstream_log(lines):
    """Lines in the ``upstream_debug`` format -> dicts; the upstream variables as lists, one entry per attempt."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    result = []
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        entry = parse_upstream_line(line)
        if entry is None:
            raise ModelError('lines[%d]' % number, 'is not in the upstream_debug log format',
                             'log with balancer.nginx.log_format name=upstream_debug', value=line.rstrip('\r\n'))
        result.append(entry)
    return result


# -- what balance_check measured -------------------------------------------

NO_ID = '-'


def percentile(values, point):
    """Nearest-rank percentile of ``values`` (``None`` when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = -(-point * len(ordered) // 100)        # ceil without floats
    return ordered[max(1, rank) - 1]


def latency_summary(values):
    """``{p50, p90, p99, max}`` of latencies in ms (``None`` each when nothing was measured)."""
    return {'p50': percentile(values, 50), 'p90': percentile(values, 90), 'p99': percentile(values, 99),
            'max': max(values) if values else None}


def check_weights(expect_weights):
    """``expect_weights`` (backend id -> weight) as ``[(id, weight)]`` in the order given.

    A weight of 0 expects no request at all; at least one weight must be positive.
    """
    if not isinstance(expect_weights, dict) or not expect_weights:
        raise ModelError('expect_weights', 'must be a non-empty dict of backend id to weight',
                         'give e.g. {app1: 3, app2: 2, app3: 1}')
    weights = []
    for key, weight in expect_weights.items():
        option = 'expect_weights[%r]' % str(key)
        if isinstance(weight, str) and weight.strip().isdigit():
            weight = int(weight.strip())
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise ModelError(option, 'must be a whole number of at least 0', 'give e.g. 1 (0: no request expected)',
                             value=weight)
        weights.append((str(key), weight))
    if not any(w for dummy, w in weights):
        raise ModelError('expect_weights', 'has no positive weight', 'give at least one backend a weight of 1 or more')
    return weights


def expected_counts(expect_weights, total):
    """Backend id -> the count smooth weighted round robin gives it out of ``total``, in the order given."""
    weights = check_weights(expect_weights)
    positive = [w for dummy, w in weights if w]
    counts = iter(smooth_weighted_counts(positive, total))
    return dict((key, next(counts) if weight else 0) for key, weight in weights)


def allowed_range(expected, tolerance):
    """``(low, high)`` counts within ``tolerance`` (a fraction of the expected count)."""
    slack = expected * tolerance
    low = expected - slack
    high = expected + slack
    # whole requests; a hair of slack keeps 100 * 0.1 from rounding 90 away
    return max(0, int(-(-(low - 1e-9) // 1))), int((high + 1e-9) // 1)


SPLIT_SIGMAS = 4.5     # a canary split outside this many standard deviations is a fault, not bad luck


def split_range(total, percent, tolerance):
    """``(low, high)`` counts of ``total`` requests for a group given ``percent`` of a canary split.

    The split hashes a key that differs per request (``$request_id``
    by default), so each request lands in the group with probability
    ``percent``/100 and the count is binomial.  The range is the wider of
    ``tolerance`` (a fraction of the expected count) and 4.5 standard
    deviations plus one request, so a correct split fails the check about
    once in 150,000 runs while a missing or inverted split fails it.
    """
    share = percent / 100.0
    expected = total * share
    low, high = allowed_range(expected, tolerance)
    spread = SPLIT_SIGMAS * math.sqrt(total * share * (1.0 - share)) + 1.0
    return max(0, min(low, int(math.ceil(expected - spread)))), min(total, max(high, int(math.floor(expected + spread))))


def check_tolerance(tolerance):
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance <= 1:
        raise ModelError('tolerance', 'must be a fraction from 0 to 1', 'give e.g. 0.1 (0: exact counts)',
                         value=tolerance)
    return tolerance


def compare_distribution(distribution, expect_weights, tolerance):
    """Measured ``distribution`` (id -> count) against ``expect_weights``.

    Returns ``(expected, problems)``: ``expected`` maps each listed id to its
    count under smooth weighted round robin for the measured total;
    ``problems`` is a list of :class:`BalancerError`, one per backend outside
    ``tolerance`` and one per id that answered but is not listed.
    """
    check_tolerance(tolerance)
    weights = check_weights(expect_weights)
    total = sum(distribution.values())
    expected = expected_counts(expect_weights, total)
    weight_sum = sum(w for dummy, w in weights)
    problems = []
    for key, weight in weights:
        measured = distribution.get(key, 0)
        low, high = allowed_range(expected[key], tolerance)
        if low <= measured <= high:
            continue
        if tolerance:
            bounds = 'tolerance %s allows %d to %d' % (tolerance, low, high)
        else:
            bounds = 'tolerance 0 allows exactly %d' % expected[key]
        problems.append(BalancerError(
            'expect_weights[%r]' % key,
            'measured %d of %d requests, expected %d (weight %d of %d; %s)'
            % (measured, total, expected[key], weight, weight_sum, bounds),
            'check that this backend is up and has weight %d on the proxy, or raise tolerance' % weight))
    for key in sorted(distribution):
        if key not in expected and distribution[key]:
            what = ('answered without saying which backend it was' if key == NO_ID
                    else 'answered but is not listed')
            problems.append(BalancerError(
                'expect_weights', '%d of %d requests %s (id %r)' % (distribution[key], total, what, key),
                'list every backend of the group in expect_weights, or check identify_by'))
    return expected, problems


def status_problems(statuses, expect_status, errors=None):
    """One :class:`BalancerError` per status outside ``expect_status`` (``statuses``: code string -> count)."""
    total = sum(statuses.values())
    wanted = ' or '.join(str(s) for s in expect_status)
    problems = []
    for code in sorted(statuses):
        if code == 'error':
            detail = '; '.join(errors or []) or 'no HTTP answer'
            problems.append(BalancerError(
                'expect_status', '%d of %d requests got no HTTP answer (%s)' % (statuses[code], total, detail),
                'check that the proxy listens on url'))
        elif int(code) not in expect_status:
            problems.append(BalancerError(
                'expect_status', '%d of %d requests got status %s, expected %s' % (statuses[code], total, code, wanted),
                "check the backends and the proxy's error log, or add %s to expect_status" % code))
    return problems


def log_backend_answers(lines, request=None):
    """The backend and the client's status of each ``upstream_debug`` line.

    The backend is the last attempt of ``$upstream_addr``.  ``request`` (e.g.
    ``GET /x HTTP/1.1``) keeps only the lines of that request line.  Lines in
    another format are counted, not refused (a shared log may hold them).
    Returns ``([(backend, status), ...], foreign)``.
    """
    answers = []
    foreign = 0
    for line in lines:
        if not line.strip():
            continue
        entry = parse_upstream_line(line)
        if entry is None:
            foreign += 1
            continue
        if request is not None and entry['request'] != request:
            continue
        attempts = entry['upstream_addr']
        answers.append((attempts[-1] if attempts else NO_ID, entry['status']))
    return answers, foreign


def log_backend_ids(lines, request=None):
    """Like log_backend_answers, the backends only: ``(ids, foreign)``."""
    answers, foreign = log_backend_answers(lines, request)
    return [backend for backend, _status in answers], foreign


def backend_statuses(answers):
    """``[(backend, status), ...]`` -> ``{backend: {status: count}}``, statuses as strings."""
    table = {}
    for backend, status in answers:
        row = table.setdefault(backend, {})
        row[str(status)] = row.get(str(status), 0) + 1
    return table
