# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: site
short_description: Apply many upstreams, vhosts and log formats as one validated transaction
version_added: 0.1.0
description:
  - Describes a whole proxy, O(log_formats), O(upstreams) and O(vhosts), and applies it as one transaction - one
    read of the proxy's configuration, every file staged, one C(nginx -t), and every file kept or every file
    restored. A broken member never reaches disk, and neither do the others.
  - Each item takes the options of its single-file module, M(balancer.nginx.log_format),
    M(balancer.nginx.upstream) or M(balancer.nginx.vhost) (without the common options, but with its own
    C(path)), and is validated with the same rules; errors name the item, for example
    C(upstreams[1].servers[0].backup).
  - Vhosts see the upstreams of the same call, so a vhost may proxy to a group that this call creates.
  - With O(exclusive=true), every managed file (one that carries the collection's header comment) in the
    directories the call writes to that the call does not describe is removed, whichever module wrote it. Files
    without the header are never touched. A removal that would leave a C(proxy_pass) or an C(access_log) of
    another file without its upstream or log format is refused.
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  upstreams:
    description: Upstream groups, each with the options of M(balancer.nginx.upstream) (C(name), C(servers), C(method), ...).
    type: list
    elements: dict
    default: []
  vhosts:
    description: Vhosts, each with the options of M(balancer.nginx.vhost) (C(name), C(upstream) or C(locations), ...).
    type: list
    elements: dict
    default: []
  log_formats:
    description: Log formats, each with the options of M(balancer.nginx.log_format) (C(name), C(format), C(escape)).
    type: list
    elements: dict
    default: []
  stream_proxies:
    version_added: 0.2.0
    description:
      - TCP and UDP proxies of the C(stream) context, each with the options of M(balancer.nginx.stream_proxy)
        (C(name), C(listen), C(upstream), ...); their groups are O(upstreams) items with C(context=stream). The
        transaction covers both contexts.
    type: list
    elements: dict
    default: []
  exclusive:
    description: Remove managed files in the written directories that this call does not describe.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - action_common_attributes.files
  - balancer.nginx.common
  - balancer.nginx.common.stream
  - ansible.builtin.files
"""

EXAMPLES = r"""
---
- name: The whole proxy in one transaction
  balancer.nginx.site:
    exclusive: true
    log_formats:
      - name: upstream_debug
    upstreams:
      - name: app
        servers:
          - address: 10.0.0.11:8080
            weight: 3
          - address: 10.0.0.12:8080
            weight: 2
          - address: 10.0.0.13:8080
        keepalive: 16
    vhosts:
      - name: www
        server_name: www.example.com
        upstream: app
        access_log:
          path: /var/log/nginx/www.upstream.log
          format: upstream_debug
  notify: Reload nginx
"""

RETURN = r"""
files:
  description: Every file of the transaction, with C(path), C(changed) and C(state) (V(present) or V(absent)).
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/nginx/conf.d/app.conf, changed: true, state: present}]
backup_file:
  description: Backup copies of the previous files (a string when there is one).
  returned: changed and O(backup=true) and a file existed
  type: raw
  sample: [/var/backups/balancer-nginx/etc/nginx/conf.d/app.conf.20261201-120000.4242~]
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
