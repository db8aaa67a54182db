# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vhost
short_description: Manage one Nginx server block that proxies to upstream groups
version_added: 0.1.0
description:
  - Writes one C(server {}) into O(conf_dir)/C(NAME.vhost.conf) with C(proxy_pass) to an upstream group at
    C(/) (O(upstream)) or per location (O(locations)), validated with one C(nginx -t).
  - Every C(proxy_set_header) is written in each location, because Nginx drops inherited C(proxy_set_header)
    lines as soon as a level sets one of its own.
  - Where the upstream keeps connections alive (C(keepalive)), the location gets C(proxy_http_version 1.1) and
    an empty C(Connection) header. A O(locations[].websocket) location gets C(Upgrade) and C(Connection) from a
    C(map) that is written once, in O(conf_dir)/C(00-balancer-websocket-map.conf), however many vhosts use it.
  - An O(upstream) or O(locations[].upstream) that the proxy's configuration does not define, and an
    O(access_log) whose format is not defined before it, are refused before C(nginx -t).
  - Warns when O(locations[].next_upstream) includes C(non_idempotent).
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  path:
    description:
      - File to write. Defaults to O(conf_dir)/C(NAME.vhost.conf).
      - It must be included directly in the C(http) context of O(nginx_conf); the module refuses otherwise.
    type: path
  name:
    description: Name of the vhost; the file is C(NAME.vhost.conf).
    type: str
    required: true
  state:
    description: V(present) writes the vhost; V(absent) removes its file.
    type: str
    default: present
    choices: [present, absent]
  server_name:
    description: Host names of the vhost, a string or a list.
    type: list
    elements: str
  listen:
    description: C(listen) values, for example V(80), V([::]:80), V(127.0.0.1:8080) or V(443 ssl).
    type: list
    elements: str
    default: ['80', '[::]:80']
  upstream:
    description: Upstream group proxied at C(/). Exactly one of O(upstream) and O(locations).
    type: str
  locations:
    description: Locations, each proxying to an upstream group or to a literal URL.
    type: list
    elements: dict
    suboptions:
      path:
        description: Location path, optionally with a modifier (V(= /exact), V(^~ /static/)).
        type: str
        default: /
      upstream:
        description: Upstream group; must be defined in the proxy's configuration (an C(http) group).
        type: str
      pass:
        description: A literal C(http://) or C(https://) URL, not checked against the upstreams.
        type: str
      split:
        version_added: 0.2.0
        description:
          - A canary between upstream groups - each item an C(upstream) and the C(percent) of requests it gets; the
            last item may leave out C(percent) and gets the rest (which must not be zero). Percentages have at most
            two decimals and add up to at most 100; with no item taking the rest they must add up to exactly 100.
          - Renders one C(split_clients) in the vhost's file and proxies to its variable. Every group must be
            defined; an empty list is refused. Excludes O(locations[].upstream) and O(locations[].pass).
        type: list
        elements: dict
        suboptions:
          upstream:
            description: An upstream group (C(http) context).
            type: str
            required: true
          percent:
            description: Share of requests, more than 0 and at most 100, at most two decimals (V(90), V(12.5)).
            type: float
      split_key:
        version_added: 0.2.0
        description:
          - What decides each request's side of O(locations[].split) - V($request_id) spreads requests, V($remote_addr)
            keeps a client on one side.
        type: str
        default: $request_id
      backend_tls:
        version_added: 0.2.0
        description:
          - TLS towards the backends - the location proxies with C(https://) and the matching C(proxy_ssl_*) directives.
          - Every location that proxies to one group must use the same O(locations[].backend_tls) (a mix is refused) -
            Nginx resumes TLS sessions per group, and a resumed session skips verification and the client
            certificate.
        type: dict
        suboptions:
          verify:
            description:
              - Verify the backends' certificates (C(proxy_ssl_verify)) against O(locations[].backend_tls.trusted_certificate)
                and O(locations[].backend_tls.name). Written explicitly, whatever Nginx's own default.
            type: bool
            default: true
          trusted_certificate:
            description: The CA file that signed the backends' certificates. Required with O(locations[].backend_tls.verify=true).
            type: path
          server_name:
            description: Send O(locations[].backend_tls.name) as the TLS server name (SNI).
            type: bool
            default: true
          name:
            description:
              - The name the backends' certificates must carry, and the SNI sent. Required when
                O(locations[].backend_tls.verify) or O(locations[].backend_tls.server_name) is true - the group's name
                is not a DNS name.
            type: str
          certificate:
            description: Client certificate presented to the backends (mutual TLS), with O(locations[].backend_tls.certificate_key).
            type: path
          certificate_key:
            description: Key of O(locations[].backend_tls.certificate).
            type: path
          protocols:
            description: TLS versions offered to the backends.
            type: list
            elements: str
            choices: [TLSv1, TLSv1.1, TLSv1.2, TLSv1.3]
      next_upstream:
        description: C(proxy_next_upstream) conditions on which the request is passed to the next server.
        type: list
        elements: str
        choices: [error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, 'off']
      next_upstream_tries:
        description: Limit of tries (C(proxy_next_upstream_tries)), V(0) is no limit.
        type: int
      next_upstream_timeout:
        description: Time limit for passing to the next server (C(proxy_next_upstream_timeout)).
        type: str
      connect_timeout:
        description: C(proxy_connect_timeout).
        type: str
      read_timeout:
        description: C(proxy_read_timeout).
        type: str
      send_timeout:
        description: C(proxy_send_timeout).
        type: str
      websocket:
        description: Pass WebSocket upgrades (C(Upgrade) and C(Connection) headers, HTTP/1.1).
        type: bool
        default: false
      headers:
        description: Extra or overriding C(proxy_set_header) values for this location.
        type: dict
  proxy_headers:
    description: Headers set on every proxied request (merged with O(locations[].headers)).
    type: dict
    default:
      Host: $host
      X-Real-IP: $remote_addr
      X-Forwarded-For: $proxy_add_x_forwarded_for
      X-Forwarded-Proto: $scheme
  access_log:
    description: Access log of the vhost.
    type: dict
    suboptions:
      path:
        description: Log file, or V(off).
        type: str
        required: true
      format:
        description: Name of a log format defined before the vhost (see M(balancer.nginx.log_format)).
        type: str
  ssl_certificate:
    description: Certificate file for TLS; give a O(listen) value with C(ssl).
    type: path
  ssl_certificate_key:
    description: Key file for TLS, together with O(ssl_certificate).
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - action_common_attributes.files
  - balancer.nginx.common
  - ansible.builtin.files
"""

EXAMPLES = r"""
---
- name: One hostname in front of the app group, logging which backend answered
  balancer.nginx.vhost:
    name: www
    server_name: www.example.com
    upstream: app
    access_log:
      path: /var/log/nginx/www.upstream.log
      format: upstream_debug
  notify: Reload nginx

- name: Retries, timeouts and a websocket location
  balancer.nginx.vhost:
    name: api
    server_name: [api.example.com, api.internal]
    locations:
      - path: /
        upstream: api
        next_upstream: [error, timeout, http_502, http_503, http_504]
        next_upstream_tries: 2
        connect_timeout: 2s
        read_timeout: 30s
      - path: /ws/
        upstream: api
        websocket: true
      - path: = /status
        pass: http://127.0.0.1:8080/status
  notify: Reload nginx

- name: A 90/10 canary between two groups, each client staying on its side
  balancer.nginx.vhost:
    name: shop
    server_name: shop.example.com
    locations:
      - path: /
        split:
          - upstream: app
            percent: 90
          - upstream: api
        split_key: $remote_addr
  notify: Reload nginx

- name: Verified TLS to the backends, TLS 1.2 or 1.3 only
  balancer.nginx.vhost:
    name: secure
    server_name: secure.example.com
    locations:
      - path: /
        upstream: cache
        backend_tls:
          name: backend.example.com
          trusted_certificate: /etc/ssl/certs/ca-certificates.crt
          protocols: [TLSv1.2, TLSv1.3]
  notify: Reload nginx
"""

RETURN = r"""
path:
  description: The file that holds the vhost.
  returned: always
  type: str
  sample: /etc/nginx/conf.d/www.vhost.conf
content:
  description: The rendered file (V(null) with O(state=absent)).
  returned: always
  type: str
  sample: "# Managed by balancer.nginx ...\nserver {\n    listen 80;\n ..."
vhost:
  description: The normalized options (V(null) with O(state=absent)).
  returned: always
  type: dict
  sample: {name: www, server_name: [www.example.com], listen: ["80", "[::]:80"], locations: [{path: /, upstream: app}]}
backup_file:
  description: The backup copy of the previous file, in O(backup_dir).
  returned: changed and O(backup=true) and the file existed
  type: str
  sample: /var/backups/balancer-nginx/etc/nginx/conf.d/www.vhost.conf.20261201-120000.4242~
nginx_test:
  description:
    - When C(nginx -t) refused the change, where and why - C(file), C(line), C(message) and Nginx's whole C(output);
      every file was restored.
  returned: failure, when C(nginx -t) ran
  type: dict
  sample: {ok: false, file: /etc/nginx/conf.d/www.vhost.conf, line: 4, message: 'host not found in upstream "10.0.0.9"'}
restored:
  description: What was put back after a failure (a refused C(nginx -t), a timeout, an interruption, a failed write).
  returned: failure, when something had been written
  type: list
  elements: str
  sample: [restored /etc/nginx/conf.d/www.vhost.conf]
"""
