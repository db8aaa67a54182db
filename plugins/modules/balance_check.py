#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: balance_check
short_description: Send requests through a proxy and check which backends answered them
version_added: 0.1.0
description:
  - Sends O(requests) HTTP C(GET) requests to O(url) (a listener of the proxy, usually on the proxy host itself),
    counts which backend answered each one and, with O(expect_weights), compares that split with the counts
    Nginx's smooth weighted round robin gives those weights for the same number of requests.
  - The backend of an answer is found by O(identify_by), from the response (a header, the body) or from the proxy's
    access log (the last attempt of C($upstream_addr) in the lines this run added).
  - Fails when a backend is outside O(tolerance), when a backend answered that O(expect_weights) does not list,
    and when a status outside O(expect_status) (or no answer at all) comes back. The message names the backend,
    its measured and expected counts and the tolerance.
  - Read-only; runs in check mode too. Needs only Python's standard library on the proxy.
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  url:
    description:
      - Where to send the requests, C(http://HOST[:PORT]/PATH[?QUERY]). Only plain C(http).
    type: str
    required: true
  host_header:
    description: C(Host) header to send, to pick a virtual server by C(server_name). Defaults to the host of O(url).
    type: str
  requests:
    description: How many requests to send, from 1 to 10000.
    type: int
    default: 60
  identify_by:
    description:
      - How to tell which backend answered.
      - V(header) uses the value of the response header O(header).
      - V(body) uses the response body, with white space stripped.
      - V(log) uses the lines this run added to O(access_log), written in the C(upstream_debug) format (see
        M(balancer.nginx.log_format)); the id is the address of the last attempt in C($upstream_addr). Only lines
        of this run's request line (C(GET PATH HTTP/1.1)) count.
      - An answer that does not say which backend sent it counts under the id V(-).
    type: str
    choices: [body, header, log]
    default: header
  header:
    description: Response header that names the backend, with O(identify_by=header).
    type: str
    default: X-Backend
  access_log:
    description: Access log of the proxy's virtual server, in the C(upstream_debug) format. Required with O(identify_by=log).
    type: path
  expect_weights:
    description:
      - Backend id to weight, in the order of the group's C(server) lines (that order decides who gets the
        remainder when O(requests) is not a multiple of the total weight).
      - An id is whatever O(identify_by) gives, for example the header value V(app1) or the address
        V(127.0.0.1:8081) with O(identify_by=log). A weight of V(0) expects no request at all.
      - Without it the distribution is only reported.
    type: dict
  tolerance:
    description:
      - How far each backend's count may be from its expected count, as a fraction of the expected count
        (V(0.1) allows 90 to 110 where 100 are expected).
      - V(0) requires the exact counts smooth weighted round robin predicts, which a single Nginx worker
        gives for sequential requests.
    type: float
    default: 0.1
  timeout:
    description: Seconds to wait for each answer (connect included).
    type: float
    default: 2.0
  concurrency:
    description: How many requests are in flight at once, from 1 to 64 (more than one uses threads).
    type: int
    default: 1
  expect_status:
    description: HTTP status codes every answer must have.
    type: list
    elements: int
    default: [200]
  max_duration:
    description:
      - Seconds after which no new request is started; the task then fails, saying how many were sent.
    type: float
    default: 300.0
extends_documentation_fragment:
  - balancer.nginx.common.target
  - ansible.builtin.action_common_attributes
notes:
  - Read-only; C(changed) is always V(false). The requests are real and reach the backends.
  - Other traffic on the same virtual server during the run changes the counts; run it where nothing else
    sends the same requests, or with a generous O(tolerance).
seealso:
  - module: balancer.nginx.backend_probe
  - module: balancer.nginx.log_format
"""

EXAMPLES = r"""
---
- name: Weights 3:2:1 give exactly 300/200/100 of 600 requests
  balancer.nginx.balance_check:
    url: http://127.0.0.1:8080/
    requests: 600
    expect_weights:
      app1: 3
      app2: 2
      app3: 1
    tolerance: 0
  register: split

- name: The same, counted from the proxy's upstream_debug access log
  balancer.nginx.balance_check:
    url: http://127.0.0.1:8080/
    requests: 600
    identify_by: log
    access_log: /var/log/nginx/www.upstream.log
    expect_weights:
      127.0.0.1:8081: 3
      127.0.0.1:8082: 2
      127.0.0.1:8083: 1
    tolerance: 0

- name: Round robin within 10 percent, 4 requests at a time, picking the vhost by name
  balancer.nginx.balance_check:
    url: http://127.0.0.1/
    host_header: www.example.com
    requests: 300
    concurrency: 4
    identify_by: body
    expect_weights: {app1: 1, app2: 1, app3: 1}

- name: Show the split and the latency
  ansible.builtin.debug:
    msg: "{{ split.distribution }} p99 {{ split.latency_ms.p99 }} ms"
"""

RETURN = r"""
distribution:
  description: Backend id to the number of requests it answered (V(-) for answers that did not say).
  returned: always
  type: dict
  sample: {app1: 300, app2: 200, app3: 100}
expected:
  description: Backend id to the count smooth weighted round robin gives O(expect_weights) for the measured total.
  returned: when O(expect_weights) is given
  type: dict
  sample: {app1: 300, app2: 200, app3: 100}
backend_statuses:
  description:
    - Backend id to HTTP status code to count, for the requests that got an answer; with O(identify_by=log) the
      status is the one Nginx logged for the client.
    - Tells which backend sent the errors, e.g. the one that answers V(502) while the others answer V(200).
  returned: always
  type: dict
  sample: {app1: {"200": 300}, app2: {"200": 199, "502": 1}}
  version_added: 0.2.0
statuses:
  description: HTTP status code to count; V(error) counts requests that got no HTTP answer.
  returned: always
  type: dict
  sample: {"200": 600}
errors:
  description: The distinct reasons of requests that got no HTTP answer (at most 10).
  returned: always
  type: list
  elements: str
  sample: ["connection refused"]
latency_ms:
  description: Percentiles (nearest rank) and maximum of the answers' latency in milliseconds; null without answers.
  returned: always
  type: dict
  sample: {p50: 1.2, p90: 1.6, p99: 2.9, max: 4.1}
requests:
  description: How many requests were sent.
  returned: always
  type: int
  sample: 600
log_lines:
  description:
    - With O(identify_by=log), how many lines of this run's requests were found in O(access_log), and how many
      lines in another format were skipped.
  returned: when O(identify_by=log)
  type: dict
  sample: {matched: 600, foreign: 0}
ok:
  description: Whether the statuses and the distribution met the expectations.
  returned: always
  type: bool
  sample: true
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.balancer.nginx.plugins.module_utils import _balance, _probe, _specs
from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError, ModelError

LOG_WAIT = 2.0      # seconds to wait for Nginx to write the last lines


def checked(params):
    host, port, target = _probe.parse_url(params['url'])
    requests = params['requests']
    if not 1 <= requests <= _probe.MAX_REQUESTS:
        raise ModelError('requests', 'must be from 1 to %d' % _probe.MAX_REQUESTS, 'give e.g. 600', value=requests)
    concurrency = params['concurrency']
    if not 1 <= concurrency <= _probe.MAX_CONCURRENCY:
        raise ModelError('concurrency', 'must be from 1 to %d' % _probe.MAX_CONCURRENCY, 'give e.g. 4',
                         value=concurrency)
    if not 0 < params['max_duration'] <= 3600:
        raise ModelError('max_duration', 'must be more than 0 and at most 3600 seconds', 'give e.g. 300',
                         value=params['max_duration'])
    if params['expect_weights'] is not None:
        _balance.check_weights(params['expect_weights'])
        _balance.check_tolerance(params['tolerance'])
    return dict(host=host, port=port, target=target, requests=requests, concurrency=concurrency,
                host_header=_probe.check_host_header('host_header', params['host_header']),
                timeout=_probe.check_timeout('timeout', params['timeout']),
                expect_status=_probe.check_statuses('expect_status', params['expect_status']))


def count(values):
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def answers_from_log(tail, target, answered):
    """(backend, status) of this run's lines in the access log; waits up to LOG_WAIT s for the last lines."""
    request = 'GET %s HTTP/1.1' % target
    deadline = time.monotonic() + LOG_WAIT
    while True:
        pairs, foreign = _balance.log_backend_answers(tail.lines(), request)
        if len(pairs) >= answered or time.monotonic() > deadline:
            return pairs, foreign
        time.sleep(0.05)


def main():
    module = AnsibleModule(argument_spec=_specs.BALANCE_CHECK, supports_check_mode=True,
                           **_specs.BALANCE_CHECK_RULES)
    params = module.params
    try:
        run = checked(params)
    except BalancerError as exc:
        module.fail_json(msg=str(exc))

    identify_by = params['identify_by']
    tail = None
    if identify_by == 'log':
        tail = _probe.LogTail(params['access_log'])
        tail.start()
    answers = _probe.send_requests(run['host'], run['port'], run['target'], run['requests'], run['timeout'],
                                   host_header=run['host_header'], concurrency=run['concurrency'],
                                   max_duration=params['max_duration'])
    answered = [a for a in answers if a.error is None]
    statuses = count(str(a.status) if a.error is None else 'error' for a in answers)
    errors = sorted(set(a.error for a in answers if a.error is not None))[:10]
    result = {
        'changed': False,
        'requests': len(answers),
        'statuses': statuses,
        'errors': errors,
        'latency_ms': _balance.latency_summary([a.latency_ms for a in answered]),
    }
    problems = []
    if len(answers) < run['requests']:
        problems.append(BalancerError('max_duration', 'sent only %d of %d requests within %s s'
                                      % (len(answers), run['requests'], params['max_duration']),
                                      'raise max_duration or lower requests'))
    if identify_by == 'log':
        pairs, foreign = answers_from_log(tail, run['target'], len(answered))
        result['log_lines'] = {'matched': len(pairs), 'foreign': foreign}
        if not pairs and answered:
            problems.append(BalancerError(
                'access_log', 'has no upstream_debug line for the %d requests answered' % len(answered),
                'give the access log of the virtual server behind url, written with format upstream_debug',
                value=params['access_log']))
    else:
        pairs = [(_probe.backend_id(identify_by, a, params['header']), a.status) for a in answered]
    result['distribution'] = count(backend for backend, _status in pairs)
    result['backend_statuses'] = _balance.backend_statuses(pairs)
    problems.extend(_balance.status_problems(statuses, run['expect_status'], errors))
    if params['expect_weights'] is not None:
        result['expected'], weight_problems = _balance.compare_distribution(
            result['distribution'], params['expect_weights'], params['tolerance'])
        problems.extend(weight_problems)
    result['ok'] = not problems
    if problems:
        module.fail_json(msg=' '.join(str(p) for p in problems), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
