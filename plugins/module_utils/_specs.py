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
    validate=dict(type='bool', default=True),
    backup=dict(type='bool', default=False),
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
    force=dict(type='bool', default=False),
)

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
    spec = copy.deepcopy(COMMON)
    spec.update(copy.deepcopy(UPSTREAM_OPTIONS))
    spec.update(copy.deepcopy(FILE_COMMON_ARGS))
    return spec


SNAPSHOT = dict(
    nginx_binary=dict(type='str', default='nginx'),
    nginx_conf=dict(type='path', default='/etc/nginx/nginx.conf'),
    paths=dict(type='list', elements='path', default=[]),
    dirs=dict(type='list', elements='path', default=[]),
    dump=dict(type='bool', default=True),
)

COMMIT_FILE = dict(
    path=dict(type='path', required=True),
    content=dict(type='str'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
)

COMMIT = dict(
    files=dict(type='list', elements='dict', required=True, options=COMMIT_FILE),
    expected=dict(type='dict', default={}),
    nginx_binary=dict(type='str', default='nginx'),
    nginx_conf=dict(type='path', default='/etc/nginx/nginx.conf'),
    validate=dict(type='bool', default=True),
    backup=dict(type='bool', default=False),
)
