# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: log_format
short_description: Manage one named Nginx log_format in a file read before the vhosts
version_added: 0.1.0
description:
  - Writes one C(log_format NAME ...) into O(conf_dir)/C(00-log-format-NAME.conf), a name that Nginx reads
    before the vhosts in the same directory, validated with one C(nginx -t).
  - O(name=upstream_debug) without O(format) gives the ready format that shows which backend served each
    request, C($remote_addr $host $request status=$status upstream=$upstream_addr
    upstream_status=$upstream_status upstream_response_time=$upstream_response_time), which the
    P(balancer.nginx.upstream_log#filter) filter reads.
  - A vhost whose C(access_log) names a format that is not defined, or defined in a file Nginx reads later, is
    refused by M(balancer.nginx.vhost) and M(balancer.nginx.site) before C(nginx -t).
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  path:
    description:
      - File to write. Defaults to O(conf_dir)/C(00-log-format-NAME.conf), so that Nginx reads it before the vhosts.
      - It must be included directly in the C(http) context of O(nginx_conf); the module refuses otherwise.
    type: path
  name:
    description: Name of the format, as used in C(access_log PATH NAME). V(combined) is built in and cannot be redefined.
    type: str
    required: true
  state:
    description: V(present) writes the format; V(absent) removes its file.
    type: str
    default: present
    choices: [present, absent]
  format:
    description:
      - The format string, or a list of strings that Nginx concatenates as written.
      - Required unless O(name=upstream_debug).
    type: raw
  escape:
    description: Escaping of variable values (C(escape=) parameter). Nginx's default applies when not set.
    type: str
    choices: [default, json, none]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - action_common_attributes.files
  - balancer.nginx.common
  - ansible.builtin.files
"""

EXAMPLES = r"""
---
- name: The ready format that logs which backend answered
  balancer.nginx.log_format:
    name: upstream_debug
  notify: Reload nginx

- name: A JSON access log
  balancer.nginx.log_format:
    name: json_upstream
    escape: json
    format:
      - '{"remote_addr":"$remote_addr","request":"$request",'
      - '"status":"$status","upstream":"$upstream_addr"}'
  notify: Reload nginx
"""

RETURN = r"""
path:
  description: The file that holds the format.
  returned: always
  type: str
  sample: /etc/nginx/conf.d/00-log-format-upstream_debug.conf
content:
  description: The rendered file (V(null) with O(state=absent)).
  returned: always
  type: str
  sample: "# Managed by balancer.nginx ...\nlog_format upstream_debug '$remote_addr ...';\n"
log_format:
  description: The normalized options (V(null) with O(state=absent)).
  returned: always
  type: dict
  sample: {name: upstream_debug, format: ["$remote_addr $host $request status=$status ..."], escape: null}
backup_file:
  description: The backup copy of the previous file, in O(backup_dir).
  returned: changed and O(backup=true) and the file existed
  type: str
  sample: /var/backups/balancer-nginx/etc/nginx/conf.d/00-log-format-upstream_debug.conf.20261201-120000.4242~
nginx_test:
  description:
    - When C(nginx -t) refused the change, where and why - C(file), C(line), C(message) and Nginx's whole C(output);
      every file was restored.
  returned: failure, when C(nginx -t) ran
  type: dict
  sample: {ok: false, file: /etc/nginx/conf.d/00-log-format-upstream_debug.conf, line: 3, message: 'unknown "bogus" variable'}
restored:
  description: What was put back after a failure (a refused C(nginx -t), a timeout, an interruption, a failed write).
  returned: failure, when something had been written
  type: list
  elements: str
  sample: [restored /etc/nginx/conf.d/00-log-format-upstream_debug.conf]
"""
