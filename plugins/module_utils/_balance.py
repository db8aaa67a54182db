# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How Nginx spreads requests, and reading what it logged.  Standard library only."""

from __future__ import annotations

import re

from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._model import UPSTREAM_DEBUG_FORMAT


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


def parse_upstream_log(lines):
    """Lines in the ``upstream_debug`` format -> dicts; the upstream variables as lists, one entry per attempt."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    result = []
    for number, line in enumerate(lines):
        line = line.rstrip('\r\n')
        if not line.strip():
            continue
        match = UPSTREAM_DEBUG_RE.match(line)
        if not match:
            raise ModelError('lines[%d]' % number, 'is not in the upstream_debug log format',
                             'log with balancer.nginx.log_format name=upstream_debug', value=line)
        entry = match.groupdict()
        for key in _MULTI:
            # Nginx joins attempts with ", " and internal redirects with " : ".
            entry[key] = [part for part in re.split(r', | : ', entry[key]) if part]
        result.append(entry)
    return result
