#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: backend_probe
short_description: Probe each backend of a proxy directly from the proxy host
version_added: 0.1.0
description:
  - Sends one HTTP (or, with O(tls), HTTPS) C(GET) of O(path) to each backend, from the proxy host and around
    Nginx, and reports for each
    whether it answered with one of O(expect_status) (and with O(expect_body) in its body) within O(timeout),
    with its status and latency.
  - The backends are either listed in O(backends) or read from the proxy's configuration with O(upstream), which
    probes the servers of that C(upstream) group except those marked C(down) and unix sockets (both listed in
    RV(skipped)); C(backup) servers are probed and flagged in RV(backends).
  - Fails when fewer than O(min_healthy) backends are healthy, naming each unhealthy one and why.
  - Read-only; runs in check mode too. Needs only Python's standard library on the proxy.
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  backends:
    description:
      - Addresses to probe, C(host:port) or C([v6]:port) as in an C(upstream) group (port 80 when left out).
      - Unix sockets (C(unix:/path)) are refused; they cannot be probed over TCP.
      - Mutually exclusive with O(upstream); one of them is required.
    type: list
    elements: str
  upstream:
    description:
      - Name of an C(upstream) group in the proxy's configuration whose servers to probe.
      - The configuration is read with C(nginx -T) through O(nginx_binary) and parsed on the controller.
      - Mutually exclusive with O(backends); one of them is required.
    type: str
  path:
    description: Request target sent to every backend.
    type: str
    default: /health
  expect_status:
    description: HTTP status codes that count as healthy.
    type: list
    elements: int
    default: [200]
  expect_body:
    description: Text the body must contain for the backend to count as healthy.
    type: str
  timeout:
    description: Seconds to wait for each backend's whole answer (connect included).
    type: float
    default: 2.0
  min_healthy:
    description:
      - How many of the probed backends must be healthy for the task to succeed.
      - Defaults to all of them. V(0) never fails and only reports.
    type: int
  tls:
    version_added: 0.2.0
    description:
      - Probe over HTTPS instead of HTTP, as a location with C(backend_tls) reaches its backends.
      - Leave it out for plain HTTP.
    type: dict
    suboptions:
      verify:
        description:
          - Verify each backend's certificate chain and that it was issued for O(tls.name).
          - V(false) accepts any certificate (the probe then only proves that the backend speaks TLS).
        type: bool
        default: true
      trusted_certificate:
        description:
          - File on the proxy with the CA certificates (PEM) to verify against, as the location's
            C(backend_tls.trusted_certificate); the system's trusted CAs when left out.
        type: path
      name:
        description:
          - Host name sent as SNI and verified in the certificate.
          - Defaults to the host of each address. Give the name Nginx verifies, which is C(backend_tls.name) or,
            without it, the name of the C(upstream) group the location proxies to.
        type: str
  nginx_conf:
    description: Main Nginx configuration file, read with O(upstream).
    type: path
    default: /etc/nginx/nginx.conf
  nginx_binary:
    description: Name or path of the Nginx executable on the proxy, used with O(upstream).
    type: str
    default: nginx
  nginx_timeout:
    description: Seconds each call to Nginx may take, with O(upstream), before it is stopped and the task fails.
    type: int
    default: 60
extends_documentation_fragment:
  - balancer.nginx.common.read_only
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
notes:
  - Read-only; C(changed) is always V(false).
  - With O(upstream) the C(crossplane) Python library is needed on the controller; with O(backends) it is not.
  - The probes go from the proxy host straight to the backends, one after the other, each bounded by O(timeout).
seealso:
  - module: balancer.nginx.balance_check
  - module: balancer.nginx.config_info
"""

EXAMPLES = r"""
---
- name: Probe the three lab backends
  balancer.nginx.backend_probe:
    backends:
      - 127.0.0.1:8081
      - 127.0.0.1:8082
      - 127.0.0.1:8083
    path: /health
    expect_body: ok
  register: probe

- name: Probe the servers of the upstream group app, need two of them
  balancer.nginx.backend_probe:
    upstream: app
    min_healthy: 2
    timeout: 1.5

- name: Probe HTTPS backends, verifying their certificates as Nginx will
  balancer.nginx.backend_probe:
    backends: [127.0.0.1:8443]
    tls:
      trusted_certificate: /etc/nginx/backend-ca.pem
      name: app.internal

- name: Report only, never fail
  balancer.nginx.backend_probe:
    backends: [127.0.0.1:8081, 127.0.0.1:8082, 127.0.0.1:8083]
    min_healthy: 0
  register: report

- name: Show the unhealthy backends
  ansible.builtin.debug:
    msg: "{{ report.unhealthy }}"
"""

RETURN = r"""
backends:
  description:
    - One entry per probed backend, in order. C(status) is null when no HTTP answer came, C(error) is null when
      the backend is healthy and otherwise says why it is not. C(backup) tells whether the server is a
      C(backup) of O(upstream) (always false with O(backends)).
  returned: always
  type: list
  elements: dict
  sample:
    - {address: "127.0.0.1:8081", healthy: true, status: 200, latency_ms: 1.4, error: null, backup: false}
    - {address: "127.0.0.1:8082", healthy: false, status: 503, latency_ms: 1.1, error: "status 503, expected 200",
       backup: false}
healthy:
  description: How many backends are healthy.
  returned: always
  type: int
  sample: 2
unhealthy:
  description: Addresses of the backends that are not healthy.
  returned: always
  type: list
  elements: str
  sample: ["127.0.0.1:8082"]
min_healthy:
  description: How many healthy backends were required.
  returned: always
  type: int
  sample: 3
upstream:
  description: The group the backends were read from.
  returned: when O(upstream) is given
  type: str
  sample: app
skipped:
  description: Servers of O(upstream) that were not probed, and why.
  returned: when O(upstream) is given
  type: list
  elements: dict
  sample: [{address: "127.0.0.1:8084", reason: marked down}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.balancer.nginx.plugins.module_utils import _probe, _specs
from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError


def main():
    module = AnsibleModule(argument_spec=_specs.BACKEND_PROBE, supports_check_mode=True,
                           **_specs.BACKEND_PROBE_RULES)
    params = module.params
    if params['upstream'] is not None:
        module.fail_json(msg='upstream: %r is read from the configuration by the action plugin on the controller; '
                             'run balancer.nginx.backend_probe as a task, or give backends.' % params['upstream'])
    try:
        backends = _probe.check_backends(params['backends'])
        path = _probe.check_path('path', params['path'])
        expect_status = _probe.check_statuses('expect_status', params['expect_status'])
        timeout = _probe.check_timeout('timeout', params['timeout'])
        min_healthy = _probe.check_min_healthy(params['min_healthy'], len(backends))
        tls = None
        if params['tls'] is not None:
            tls = (_probe.tls_context(params['tls']), params['tls']['name'])
    except BalancerError as exc:
        module.fail_json(msg=str(exc))
    results = [_probe.probe_backend(address, path, timeout, expect_status, params['expect_body'], tls=tls)
               for address in backends]
    result = {
        'changed': False,
        'backends': results,
        'healthy': sum(1 for r in results if r['healthy']),
        'unhealthy': [r['address'] for r in results if not r['healthy']],
        'min_healthy': min_healthy,
    }
    verdict = _probe.health_verdict(results, min_healthy)
    if verdict is not None:
        module.fail_json(msg=str(verdict), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
