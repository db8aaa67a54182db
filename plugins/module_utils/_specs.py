# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs: one per module, used by the action plugins and the target modules.

Plain data (standard library only).  ``tests/unit`` checks that every spec
agrees with its module's documentation.
"""

from __future__ import annotations

import copy

# owner/group/mode and the rest of Ansible's common file arguments.
FILE_COMMON_ARGS = dict(
    mode=dict(type='raw'),
    owner=dict(type='str'),
    group=dict(type='str'),
    seuser=dict(type='str'),
    serole=dict(type='str'),
    selevel=dict(type='str'),
    setype=dict(type='str'),
    attributes=dict(type='str', aliases=['attr']),
    unsafe_writes=dict(type='bool', default=False),
)

# Options every file-writing module shares.
COMMON = dict(
    path=dict(type='path'),
    conf_dir=dict(type='path', default='/etc/nginx/conf.d'),
    nginx_conf=dict(type='path', default='/etc/nginx/nginx.conf'),
    nginx_binary=dict(type='str', default='nginx'),
    nginx_timeout=dict(type='int', default=60),
    validate=dict(type='bool', default=True),
    backup=dict(type='bool', default=False),
    backup_dir=dict(type='path', default='/var/backups/balancer-nginx'),
    force=dict(type='bool', default=False),
    nginx_plus=dict(type='bool', default=False),
)

SERVER = dict(
    address=dict(type='str', required=True),
    weight=dict(type='int'),
    max_fails=dict(type='int'),
    fail_timeout=dict(type='str'),
    max_conns=dict(type='int'),
    backup=dict(type='bool', default=False),
    down=dict(type='bool', default=False),
    resolve=dict(type='bool', default=False),
    slow_start=dict(type='str'),
    route=dict(type='str'),
    drain=dict(type='bool', default=False),
)

UPSTREAM_OPTIONS = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    method=dict(type='str', default='round_robin',
                choices=['round_robin', 'least_conn', 'ip_hash', 'hash', 'random', 'least_time']),
    hash_key=dict(type='str', no_log=False),
    consistent=dict(type='bool', default=False),
    random_two=dict(type='bool', default=False),
    least_time=dict(type='str', choices=['header', 'last_byte', 'header inflight', 'last_byte inflight']),
    servers=dict(type='list', elements='dict', options=SERVER),
    keepalive=dict(type='int', no_log=False),
    keepalive_requests=dict(type='int', no_log=False),
    keepalive_time=dict(type='str', no_log=False),
    keepalive_timeout=dict(type='str', no_log=False),
    zone=dict(type='str'),
    resolver=dict(type='list', elements='str'),
    resolver_timeout=dict(type='str'),
    sticky=dict(type='list', elements='str'),
    ntlm=dict(type='bool', default=False),
    queue=dict(type='int'),
    queue_timeout=dict(type='str'),
)


def _with_common(*parts):
    spec = copy.deepcopy(COMMON)
    for part in parts:
        spec.update(copy.deepcopy(part))
    spec.update(copy.deepcopy(FILE_COMMON_ARGS))
    return spec


UPSTREAM_RULES = dict(
    required_if=[
        ('state', 'present', ['servers']),
        ('method', 'hash', ['hash_key']),
        ('method', 'least_time', ['least_time']),
    ],
    required_by=dict(
        keepalive_requests='keepalive',
        keepalive_time='keepalive',
        keepalive_timeout='keepalive',
        resolver_timeout='resolver',
        queue_timeout='queue',
    ),
)


def upstream_spec():
    return _with_common(UPSTREAM_OPTIONS)


LOCATION = dict(
    path=dict(type='str', default='/'),
    upstream=dict(type='str'),
    **{'pass': dict(type='str')}
)
LOCATION.update(
    next_upstream=dict(type='list', elements='str',
                       choices=['error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504',
                                'http_403', 'http_404', 'http_429', 'non_idempotent', 'off']),
    next_upstream_tries=dict(type='int'),
    next_upstream_timeout=dict(type='str'),
    connect_timeout=dict(type='str'),
    read_timeout=dict(type='str'),
    send_timeout=dict(type='str'),
    websocket=dict(type='bool', default=False),
    headers=dict(type='dict'),
)

ACCESS_LOG = dict(
    path=dict(type='str', required=True),
    format=dict(type='str'),
)

VHOST_OPTIONS = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    server_name=dict(type='list', elements='str'),
    listen=dict(type='list', elements='str', default=['80', '[::]:80']),
    upstream=dict(type='str'),
    locations=dict(type='list', elements='dict', options=LOCATION,
                   mutually_exclusive=[('upstream', 'pass')], required_one_of=[('upstream', 'pass')]),
    proxy_headers=dict(type='dict', default={
        'Host': '$host',
        'X-Real-IP': '$remote_addr',
        'X-Forwarded-For': '$proxy_add_x_forwarded_for',
        'X-Forwarded-Proto': '$scheme',
    }),
    access_log=dict(type='dict', options=ACCESS_LOG),
    ssl_certificate=dict(type='path'),
    ssl_certificate_key=dict(type='path', no_log=False),
)

VHOST_RULES = dict(
    mutually_exclusive=[('upstream', 'locations')],
    required_if=[('state', 'present', ('upstream', 'locations'), True)],
    required_together=[('ssl_certificate', 'ssl_certificate_key')],
)

LOG_FORMAT_OPTIONS = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    format=dict(type='raw'),
    escape=dict(type='str', choices=['default', 'json', 'none']),
)


def vhost_spec():
    return _with_common(VHOST_OPTIONS)


def log_format_spec():
    return _with_common(LOG_FORMAT_OPTIONS)


# Keys a site list item may carry: the single module's own options plus its path.
ITEM_KEYS = {
    'upstream': sorted(set(UPSTREAM_OPTIONS) | set(['path'])),
    'vhost': sorted(set(VHOST_OPTIONS) | set(['path'])),
    'log_format': sorted(set(LOG_FORMAT_OPTIONS) | set(['path'])),
}


def site_spec():
    # The items are validated by the engine's model, option path by option path
    # (upstreams[0].servers[1].backup), with the same rules as the single modules.
    return _with_common(dict(
        upstreams=dict(type='list', elements='dict', default=[]),
        vhosts=dict(type='list', elements='dict', default=[]),
        log_formats=dict(type='list', elements='dict', default=[]),
        exclusive=dict(type='bool', default=False),
    ))


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
)

BACKEND_PROBE = dict(
    backends=dict(type='list', elements='str'),
    upstream=dict(type='str'),
    path=dict(type='str', default='/health'),
    expect_status=dict(type='list', elements='int', default=[200]),
    expect_body=dict(type='str'),
    timeout=dict(type='float', default=2.0),
    min_healthy=dict(type='int'),
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
