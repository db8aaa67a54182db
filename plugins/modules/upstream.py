# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: upstream
short_description: Manage one Nginx upstream group in its own file, validated by nginx -t
version_added: 0.1.0
description:
  - Writes one C(upstream NAME {}) group (a balancing method, its servers and their parameters, keepalive
    and the other group directives) into its own file, O(conf_dir)/C(NAME.conf) by default.
  - The description is validated first (every rule Nginx would reject and the ones its guide warns about,
    such as C(backup) with C(ip_hash)), then checked against the Nginx version and edition the proxy reports,
    rendered with crossplane, checked against the proxy's whole configuration (the file must be included in
    C(http), the name must not be defined elsewhere), and finally tested with one C(nginx -t). A change that
    Nginx refuses never stays on disk.
  - O(state=absent) refuses while a C(proxy_pass) still refers to the group, unless O(force=true).
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  path:
    description:
      - File to write. Defaults to O(conf_dir)/C(NAME.conf), or O(stream_conf_dir)/C(NAME.conf) with
        O(context=stream).
      - It must be included directly in the C(http) (or C(stream)) context of O(nginx_conf); the module refuses
        otherwise.
    type: path
  name:
    description: Name of the upstream group, as used in C(proxy_pass http://NAME).
    type: str
    required: true
  state:
    description: V(present) writes the group; V(absent) removes its file.
    type: str
    default: present
    choices: [present, absent]
  context:
    version_added: 0.2.0
    description:
      - V(http) writes the group into O(conf_dir) for vhosts; V(stream) writes it into O(stream_conf_dir) for
        M(balancer.nginx.stream_proxy) (TCP and UDP). The two are separate namespaces - a vhost cannot proxy to a
        stream group, nor a stream proxy to an http one.
      - A stream group takes the methods V(round_robin), V(least_conn), V(hash) and V(random), and no O(keepalive),
        O(keepalive_requests), O(keepalive_time), O(keepalive_timeout), O(sticky), O(ntlm), O(queue),
        O(servers[].route) or O(servers[].drain); each is refused naming it.
    type: str
    default: http
    choices: [http, stream]
  method:
    description:
      - Balancing method. V(round_robin) honours O(servers[].weight) with Nginx's smooth weighted round robin.
      - V(least_time) is NGINX Plus only before Nginx 1.31.0.
    type: str
    default: round_robin
    choices: [round_robin, least_conn, ip_hash, hash, random, least_time]
  hash_key:
    description: Key for O(method=hash), for example C($request_uri) or C($remote_addr). Required with V(hash).
    type: str
  consistent:
    description: Ketama consistent hashing for O(method=hash).
    type: bool
    default: false
  random_two:
    description: With O(method=random), pick two servers at random and send to the one with fewer connections.
    type: bool
    default: false
  least_time:
    description:
      - Response time measure for O(method=least_time), or for O(method=random) with O(random_two=true)
        (V(header) or V(last_byte) only; NGINX Plus only).
    type: str
    choices: [header, last_byte, header inflight, last_byte inflight]
  servers:
    description: The servers of the group, in order. Required with O(state=present); at least one.
    type: list
    elements: dict
    suboptions:
      address:
        description: C(host:port), C([v6]:port) or C(unix:/path). No scheme, no URI.
        type: str
        required: true
      weight:
        description: Relative weight for round robin (Nginx's default is 1).
        type: int
      max_fails:
        description: Failed attempts within O(servers[].fail_timeout) that mark the server unavailable (Nginx's default is 1, V(0) disables).
        type: int
      fail_timeout:
        description: Window for O(servers[].max_fails) and how long the server then stays unavailable, for example V(10s).
        type: str
      max_conns:
        description: Limit of simultaneous connections to the server (V(0) is no limit).
        type: int
      backup:
        description: Only used when the primary servers are unavailable. Not allowed with V(ip_hash), V(hash) or V(random).
        type: bool
        default: false
      down:
        description: Mark the server permanently unavailable.
        type: bool
        default: false
      resolve:
        description: Re-resolve the host name at run time. Needs O(zone) and Nginx 1.27.3 or NGINX Plus.
        type: bool
        default: false
      slow_start:
        description: Time to ramp the weight up after the server recovers. NGINX Plus only.
        type: str
      route:
        description: Route name for C(sticky route). Nginx 1.29.6 or NGINX Plus.
        type: str
      drain:
        description: Drain mode (only sticky sessions are sent). Nginx 1.29.6 or NGINX Plus.
        type: bool
        default: false
  keepalive:
    description:
      - Idle keepalive connections to the servers kept by each worker. Vhosts that proxy to a group with
        keepalive need C(proxy_http_version 1.1) and an empty C(Connection) header.
    type: int
  keepalive_requests:
    description: Requests served through one keepalive connection. Requires O(keepalive).
    type: int
  keepalive_time:
    description: Longest time one keepalive connection is used (Nginx 1.19.10). Requires O(keepalive).
    type: str
  keepalive_timeout:
    description: Idle timeout of a keepalive connection. Requires O(keepalive).
    type: str
  zone:
    description: Shared memory zone, C(NAME) or C(NAME SIZE), for example V(backend 64k).
    type: str
  resolver:
    description: Name servers used for O(servers[].resolve). Nginx 1.27.3 or NGINX Plus.
    type: list
    elements: str
  resolver_timeout:
    description: Timeout of name resolution. Requires O(resolver).
    type: str
  sticky:
    description:
      - Session persistence arguments, for example V([cookie, srv_id, expires=1h]). Nginx 1.29.6 or NGINX Plus.
    type: list
    elements: str
  ntlm:
    description: Allow NTLM authentication proxying. NGINX Plus only.
    type: bool
    default: false
  queue:
    description: Requests queued when no server is available. NGINX Plus only.
    type: int
  queue_timeout:
    description: Time a request may wait in the O(queue). Requires O(queue).
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - action_common_attributes.files
  - balancer.nginx.common
  - balancer.nginx.common.stream
  - ansible.builtin.files
seealso:
  - name: Nginx upstream module
    description: The directives this module writes.
    link: https://nginx.org/en/docs/http/ngx_http_upstream_module.html
"""

EXAMPLES = r"""
---
- name: Three backends, weights 3:2:1, passive health checks
  balancer.nginx.upstream:
    name: app
    servers:
      - address: 10.0.0.11:8080
        weight: 3
        max_fails: 3
        fail_timeout: 10s
      - address: 10.0.0.12:8080
        weight: 2
      - address: 10.0.0.13:8080
      - address: 10.0.0.14:8080
        backup: true
    keepalive: 16
  notify: Reload nginx

- name: Sticky by request URI with consistent hashing
  balancer.nginx.upstream:
    name: cache
    method: hash
    hash_key: $request_uri
    consistent: true
    servers:
      - address: 10.0.0.21:80
      - address: 10.0.0.22:80
  notify: Reload nginx

- name: A TCP pool of two database servers, for balancer.nginx.stream_proxy
  balancer.nginx.upstream:
    name: pg
    context: stream
    method: least_conn
    servers:
      - address: 10.0.0.31:5432
      - address: 10.0.0.32:5432
        max_fails: 2
  notify: Reload nginx

- name: Fewest connections, written to a chosen file, with a backup copy
  balancer.nginx.upstream:
    name: api
    method: least_conn
    path: /etc/nginx/conf.d/10-api.conf
    backup: true
    mode: "0644"
    servers:
      - address: unix:/run/api.sock
      - address: "[2001:db8::10]:8080"
  notify: Reload nginx

- name: Remove a group nothing refers to any more
  balancer.nginx.upstream:
    name: old_app
    state: absent
  notify: Reload nginx
"""

RETURN = r"""
path:
  description: The file that holds the group.
  returned: always
  type: str
  sample: /etc/nginx/conf.d/app.conf
content:
  description: The rendered file (V(null) with O(state=absent)).
  returned: always
  type: str
  sample: "# Managed by balancer.nginx ...\nupstream app {\n    server 10.0.0.11:8080 weight=3;\n}\n"
upstream:
  description:
    - The normalized options of the group (V(null) with O(state=absent)); can be passed back to this module.
  returned: always
  type: dict
  sample:
    name: app
    method: round_robin
    servers: [{address: 10.0.0.11:8080, weight: 3, max_fails: null, fail_timeout: null, max_conns: null,
               backup: false, down: false, resolve: false, slow_start: null, route: null, drain: false}]
    keepalive: 16
backup_file:
  description: The backup copy of the previous file, in O(backup_dir).
  returned: changed and O(backup=true) and the file existed
  type: str
  sample: /var/backups/balancer-nginx/etc/nginx/conf.d/app.conf.20261201-120000.4242~
nginx_test:
  description:
    - When C(nginx -t) refused the change, where and why - C(file), C(line), C(message) and Nginx's whole C(output);
      every file was restored.
  returned: failure, when C(nginx -t) ran
  type: dict
  sample: {ok: false, file: /etc/nginx/conf.d/app.conf, line: 5, message: 'host not found in upstream "x:80"'}
restored:
  description: What was put back after a failure (a refused C(nginx -t), a timeout, an interruption, a failed write).
  returned: failure, when something had been written
  type: list
  elements: str
  sample: [restored /etc/nginx/conf.d/app.conf]
"""
