# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: stream_proxy
short_description: Manage one TCP or UDP proxy in Nginx's stream context, in front of a stream group
version_added: 0.2.0
description:
  - Writes one C(server {}) of the C(stream) context into O(stream_conf_dir)/C(NAME.stream.conf) - it listens on
    O(listen) (TCP, or UDP with V(udp)) and passes every connection to a group written by
    M(balancer.nginx.upstream) with O(balancer.nginx.upstream#module:context=stream), validated with one
    C(nginx -t).
  - O(upstream) must be a group of the C(stream) context; an C(http) group of that name is refused, naming it (the
    two contexts are separate namespaces).
  - When Nginx does not read O(stream_conf_dir) yet, the same transaction adds its include to O(nginx_conf) (see
    O(stream_conf_dir)).
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  path:
    description:
      - File to write. Defaults to O(stream_conf_dir)/C(NAME.stream.conf).
      - It must be included directly in the C(stream) context of O(nginx_conf); the module refuses otherwise.
    type: path
  name:
    description: Name of the proxy; the file is C(NAME.stream.conf).
    type: str
    required: true
  state:
    description: V(present) writes the proxy; V(absent) removes its file.
    type: str
    default: present
    choices: [present, absent]
  listen:
    description:
      - What the proxy listens on, a string or a list, each as C(listen) takes it - V(5432), V(53 udp),
        V(127.0.0.1:6000), V([::]:5432). Required with O(state=present).
    type: list
    elements: str
  upstream:
    description: The stream group every connection goes to. Required with O(state=present).
    type: str
  proxy_timeout:
    description: Time a connection may stay idle between two reads or writes (C(proxy_timeout)), for example V(10m).
    type: str
  connect_timeout:
    description: Time to connect to a server (C(proxy_connect_timeout)).
    type: str
  next_upstream:
    description: Pass a connection to the next server when a server cannot be connected to (C(proxy_next_upstream)).
    type: bool
  next_upstream_tries:
    description: Limit of tries (C(proxy_next_upstream_tries)), V(0) is no limit.
    type: int
  next_upstream_timeout:
    description: Time limit for passing to the next server (C(proxy_next_upstream_timeout)).
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - action_common_attributes.files
  - balancer.nginx.common
  - balancer.nginx.common.stream
  - ansible.builtin.files
seealso:
  - module: balancer.nginx.upstream
  - module: balancer.nginx.site
"""

EXAMPLES = r"""
---
- name: A TCP proxy in front of the database pool (a group with context stream)
  balancer.nginx.stream_proxy:
    name: pg
    listen: "15432"
    upstream: pg
    proxy_timeout: 10m
    next_upstream: true
  notify: Reload nginx

- name: Two DNS resolvers, weighted
  balancer.nginx.upstream:
    name: dns
    context: stream
    servers:
      - address: 10.0.0.53:53
        weight: 2
      - address: 10.0.1.53:53
  notify: Reload nginx

- name: A UDP proxy in front of them, on a chosen address
  balancer.nginx.stream_proxy:
    name: dns
    listen: ["127.0.0.1:10053 udp"]
    upstream: dns
    proxy_timeout: 2s
  notify: Reload nginx
"""

RETURN = r"""
path:
  description: The file that holds the proxy.
  returned: always
  type: str
  sample: /etc/nginx/stream.d/pg.stream.conf
content:
  description: The rendered file (V(null) with O(state=absent)).
  returned: always
  type: str
  sample: "# Managed by balancer.nginx ...\nserver {\n    listen 15432;\n    proxy_pass pg;\n}\n"
stream_proxy:
  description: The normalized options (V(null) with O(state=absent)).
  returned: always
  type: dict
  sample: {name: pg, listen: ["15432"], upstream: pg, proxy_timeout: 10m, next_upstream: true}
backup_file:
  description: The backup copy of the previous file, in O(backup_dir).
  returned: changed and O(backup=true) and the file existed
  type: str
  sample: /var/backups/balancer-nginx/etc/nginx/stream.d/pg.stream.conf.20261201-120000.4242~
nginx_test:
  description:
    - When C(nginx -t) refused the change, where and why - C(file), C(line), C(message) and Nginx's whole C(output);
      every file was restored.
  returned: failure, when C(nginx -t) ran
  type: dict
  sample: {ok: false, file: /etc/nginx/stream.d/pg.stream.conf, line: 5, message: 'host not found in upstream "x:5432"'}
restored:
  description: What was put back after a failure.
  returned: failure, when something had been written
  type: list
  elements: str
  sample: [restored /etc/nginx/stream.d/pg.stream.conf]
"""
