# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs: one per module.

The file-writing modules' specs are generated from the option table
(``_options``); the target-side modules' (``snapshot``, ``commit``,
``config_info``, ``backend_probe``, ``balance_check``) are plain data here.
Standard library only.  ``tests/unit`` checks that every spec agrees with
its module's documentation.
"""

from __future__ import annotations

from ansible_collections.balancer.nginx.plugins.module_utils import _options

FILE_COMMON_ARGS = _options.FILE_COMMON.spec()
COMMON = _options.COMMON.spec()


def module_spec(kind):
    """The whole argument spec of a file-writing module (upstream, vhost, log format or site)."""
    group = _options.SITE_OPTIONS if kind == 'site' else _options.ITEMS[kind]
    spec = _options.common_of(kind).spec()
    spec.update(group.spec())
    return spec


def module_rules(kind):
    """Its cross-option rules, as Ansible names them (what the documentation describes)."""
    group = _options.SITE_OPTIONS if kind == 'site' else _options.ITEMS[kind]
    return group.rules()


CONFIG_INFO = dict(
    nginx_conf=dict(type='path', default='/etc/nginx/nginx.conf'),
    nginx_binary=dict(type='str', default='nginx'),
    nginx_timeout=dict(type='int', default=60),
    test=dict(type='bool', default=False),
    upstream=dict(type='str'),
)

# Options that start with "_" are the action plugins' own (undocumented).
SNAPSHOT = dict(
    nginx_binary=dict(type='str', default='nginx'),
    nginx_conf=dict(type='path', default='/etc/nginx/nginx.conf'),
    nginx_timeout=dict(type='int', default=60),
    _paths=dict(type='list', elements='path', default=[]),
    _dirs=dict(type='list', elements='path', default=[]),
    _dump=dict(type='bool', default=True),
    _once=dict(type='bool', default=False),
)

COMMIT_FILE = dict(
    path=dict(type='path', required=True),
    content=dict(type='str'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
)

COMMIT = dict(
    files=dict(type='list', elements='dict', required=True, options=COMMIT_FILE),
    nginx_binary=dict(type='str', default='nginx'),
    nginx_conf=dict(type='path', default='/etc/nginx/nginx.conf'),
    nginx_timeout=dict(type='int', default=60),
    validate=dict(type='bool', default=True),
    backup=dict(type='bool', default=False),
    backup_dir=dict(type='path', default='/var/backups/balancer-nginx'),
    _expected=dict(type='dict', default={}),
    _read_set=dict(type='dict'),
    _mkdirs=dict(type='list', elements='path', default=[]),
    _keep_attributes=dict(type='list', elements='path', default=[]),
)

BACKEND_PROBE = dict(
    backends=dict(type='list', elements='str'),
    upstream=dict(type='str'),
    path=dict(type='str', default='/health'),
    expect_status=dict(type='list', elements='int', default=[200]),
    expect_body=dict(type='str'),
    timeout=dict(type='float', default=2.0),
    min_healthy=dict(type='int'),
    tls=dict(type='dict', options=dict(
        verify=dict(type='bool', default=True),
        trusted_certificate=dict(type='path'),
        name=dict(type='str'),
    )),
    nginx_conf=dict(type='path', default='/etc/nginx/nginx.conf'),
    nginx_binary=dict(type='str', default='nginx'),
    nginx_timeout=dict(type='int', default=60),
)

BACKEND_PROBE_RULES = dict(
    mutually_exclusive=[('backends', 'upstream')],
    required_one_of=[('backends', 'upstream')],
)

BALANCE_CHECK = dict(
    url=dict(type='str', required=True),
    host_header=dict(type='str'),
    requests=dict(type='int', default=60),
    identify_by=dict(type='str', default='header', choices=['body', 'header', 'log']),
    header=dict(type='str', default='X-Backend'),
    access_log=dict(type='path'),
    expect_weights=dict(type='dict'),
    tolerance=dict(type='float', default=0.1),
    timeout=dict(type='float', default=2.0),
    concurrency=dict(type='int', default=1),
    expect_status=dict(type='list', elements='int', default=[200]),
    max_duration=dict(type='float', default=300.0),
)

BALANCE_CHECK_RULES = dict(
    required_if=[('identify_by', 'log', ['access_log'])],
)
