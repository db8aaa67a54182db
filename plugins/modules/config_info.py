# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_info
short_description: Read the parsed active Nginx configuration of a proxy
version_added: 0.1.0
description:
  - Reads the proxy's whole configuration in one round trip (C(nginx -T), or the files themselves when the
    configuration does not parse) and returns its upstreams with their servers and parameters, its vhosts with
    their C(proxy_pass) targets, its log formats, every reference to each upstream, the upstreams that are used
    but not defined, and the features the proxy's Nginx lacks.
  - The C(options) of an upstream are the M(balancer.nginx.upstream) options of that group, so a hand-written
    group can be adopted by passing them back with its name, its C(file) as O(balancer.nginx.upstream#module:path)
    and O(balancer.nginx.upstream#module:force=true) (the file has no header yet). C(unknown) lists what the
    group holds that the options cannot express; while it is not empty, the takeover is refused, naming it, so
    that nothing is dropped.
  - Read-only; never fails because the configuration is broken (see O(test)).
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  nginx_conf:
    description: Main Nginx configuration file.
    type: path
    default: /etc/nginx/nginx.conf
  nginx_binary:
    description: Name or path of the Nginx executable on the proxy.
    type: str
    default: nginx
  nginx_timeout:
    description: Seconds each call to Nginx (C(-V), C(-T)) may take before it is stopped and the task fails.
    type: int
    default: 60
  test:
    description: Also return Nginx's verdict on the configuration in RV(test).
    type: bool
    default: false
  upstream:
    description: Only return this group in RV(upstreams).
    type: str
extends_documentation_fragment:
  - balancer.nginx.common.read_only
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
notes:
  - Needs the C(crossplane) Python library on the controller.
"""

EXAMPLES = r"""
---
- name: Read the configuration
  balancer.nginx.config_info:
    test: true
  register: nginx_config

- name: Find every proxy_pass to the group before removing it
  ansible.builtin.debug:
    msg: "{{ nginx_config.upstreams['app'].references | default([]) }}"

- name: Adopt a hand-written group as a managed one, in its own file (force takes the file over)
  vars:
    found: "{{ nginx_config.upstreams['app'] }}"
  balancer.nginx.upstream: "{{ found.options | combine({'name': 'app', 'path': found.file, 'force': true}) }}"
  when: "'app' in nginx_config.upstreams and nginx_config.upstreams['app'].unknown == []"
  notify: Reload nginx
"""

RETURN = r"""
upstreams:
  description:
    - The C(http) groups by name (as written; Nginx compares names ignoring letter case), C(file) and C(line) of
      the definition, C(options) (the M(balancer.nginx.upstream) options of the group; options that are not set,
      V(null), are left out, while booleans are given as V(true) or V(false)), C(references) (C(file) and
      C(line) of every C(proxy_pass) to it) and C(unknown) (C(directive), C(args) and C(line) of what the group
      holds that the options cannot express, an C(include) inside the group among them; empty when the group can
      be adopted losslessly).
  returned: always
  type: dict
  sample: {app: {file: /etc/nginx/conf.d/app.conf, line: 2, options: {method: round_robin, servers: [{address: 10.0.0.1:80}]},
                 references: [{file: /etc/nginx/conf.d/web.vhost.conf, line: 7}], unknown: []}}
stream_upstreams:
  description: The groups of the C(stream) context, in the same shape as RV(upstreams) (a separate namespace).
  returned: always
  type: dict
  sample: {}
vhosts:
  description:
    - Each C(server {}) of the C(http) context with C(file), C(line), C(server_name), C(listen) and C(locations)
      (C(path), C(proxy_pass)), including locations that come from files included inside the server and nested
      locations.
  returned: always
  type: list
  elements: dict
  sample: [{file: /etc/nginx/conf.d/web.vhost.conf, line: 2, server_name: [www.example.com], listen: ["80"],
            locations: [{path: /, proxy_pass: http://app}]}]
log_formats:
  description: By name, C(file), C(line), C(format) (list of strings) and C(escape) (V(null) when not set).
  returned: always
  type: dict
  sample: {upstream_debug: {file: /etc/nginx/conf.d/00-log-format-upstream_debug.conf, line: 2, format: ["$remote_addr"], escape: null}}
undefined_upstreams:
  description: C(proxy_pass) targets that can only be upstream names but are not defined, with C(name), C(file), C(line).
  returned: always
  type: list
  elements: dict
  sample: [{name: missing_pool, file: /etc/nginx/conf.d/web.conf, line: 9}]
unsupported:
  description: Directives and parameters the proxy's Nginx lacks per the feature table, with C(directive), C(file), C(line).
  returned: always
  type: list
  elements: dict
  sample: [{directive: server slow_start, file: /etc/nginx/conf.d/app.conf, line: 4}]
nginx:
  description: C(version) and C(plus) as reported by C(nginx -V).
  returned: always
  type: dict
  sample: {version: 1.22.1, plus: false}
test:
  description: Nginx's verdict, C(ok), C(file), C(line), C(message) (the last three V(null) when ok).
  returned: when O(test=true)
  type: dict
  sample: {ok: false, file: /etc/nginx/conf.d/app.conf, line: 3, message: host not found in upstream "x:80"}
"""
