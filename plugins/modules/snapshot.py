#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: snapshot
short_description: Read a proxy's Nginx version and whole configuration in one round trip
version_added: 0.1.0
description:
  - Runs C(nginx -V) and C(nginx -T -c nginx_conf) through O(nginx_binary) and returns the version, the
    edition and the text of every configuration file Nginx reads.
  - When C(nginx -T) fails because the current configuration does not parse, reads O(nginx_conf) and the
    files it includes directly instead.
  - Also returns the exact bytes and attributes of the files listed in O(paths).
  - This is the building block the file-writing modules' action plugins call first; it changes nothing and
    needs only Python's standard library on the proxy.
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  nginx_binary:
    description: Name or path of the Nginx executable; every call to Nginx goes through it.
    type: str
    default: nginx
  nginx_conf:
    description: Main configuration file, passed to Nginx as C(-c).
    type: path
    default: /etc/nginx/nginx.conf
  paths:
    description: Files whose current bytes (base64) and attributes are returned in RV(paths).
    type: list
    elements: path
    default: []
  dirs:
    description: Directories whose C(*.conf) files are listed in RV(dirs), with whether each is managed.
    type: list
    elements: path
    default: []
  dump:
    description: Whether to read the configuration with C(nginx -T). V(false) only reports the version and O(paths).
    type: bool
    default: true
extends_documentation_fragment:
  - balancer.nginx.common.target
  - ansible.builtin.action_common_attributes
notes:
  - Read-only; C(changed) is always V(false).
"""

EXAMPLES = r"""
---
- name: Read the proxy's Nginx configuration
  balancer.nginx.snapshot:
    nginx_conf: /etc/nginx/nginx.conf
  register: nginx_snapshot

- name: Show the Nginx version
  ansible.builtin.debug:
    msg: "{{ nginx_snapshot.nginx.version }}"
"""

RETURN = r"""
nginx:
  description: Version and edition reported by C(nginx -V).
  returned: always
  type: dict
  sample: {version: 1.22.1, plus: false, output: "nginx version: nginx/1.22.1"}
config:
  description:
    - C(ok) tells whether C(nginx -T) succeeded, C(source) where the files came from (V(nginx -T) or
      V(files)), C(files) maps each path to its text, C(error) holds Nginx's message when C(nginx -T) failed.
  returned: when O(dump=true)
  type: dict
  sample: {ok: true, source: nginx -T, files: {/etc/nginx/nginx.conf: "events {}\n"}, error: null}
paths:
  description: For each of O(paths), whether it exists, its bytes as base64, its sha1 and attributes.
  returned: always
  type: dict
  sample: {/etc/nginx/conf.d/app.conf: {exists: true, content_b64: "dXBzdHJlYW0=", sha1: "0beec7b5", mode: "0644"}}
dirs:
  description:
    - For each of O(dirs), the C(*.conf) files in it, whether each carries the collection's header comment, and
      the bytes (base64) of those that do.
  returned: always
  type: dict
  sample: {/etc/nginx/conf.d: {/etc/nginx/conf.d/app.conf: {managed: true, content_b64: "IyBNYW5hZ2Vk"}}}
"""

import base64
import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.balancer.nginx.plugins.module_utils import _commit, _nginx, _specs
from ansible_collections.balancer.nginx.plugins.module_utils._features import parse_nginx_version


def _path_info(path):
    data = _commit.read_bytes(path)
    if data is None:
        return {'exists': False, 'content_b64': None, 'sha1': None}
    st = os.stat(path)
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return {'exists': True, 'content_b64': base64.b64encode(data).decode('ascii'), 'sha1': _commit.sha1(data),
            'mode': '%04o' % stat.S_IMODE(st.st_mode), 'owner': owner, 'group': group}


def _dir_info(directory):
    """``{path: {managed, content_b64}}`` of the ``*.conf`` files in ``directory`` (bytes only for managed ones)."""
    found = {}
    if not os.path.isdir(directory):
        return found
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if not name.endswith('.conf') or not os.path.isfile(path):
            continue
        data = _commit.read_bytes(path) or b''
        managed = _nginx.is_managed(data.split(b'\n', 1)[0])
        found[path] = {'managed': managed,
                       'content_b64': base64.b64encode(data).decode('ascii') if managed else None}
    return found


def main():
    module = AnsibleModule(argument_spec=_specs.SNAPSHOT, supports_check_mode=True)
    params = module.params
    binary = _nginx.require_binary(module, params['nginx_binary'])
    rc, out, err = _nginx.run(module, binary, ['-V'])
    version_output = (err or '') + (out or '')
    result = {'changed': False,
              'nginx': {'output': version_output.strip(), 'binary': binary},
              'paths': dict((p, _path_info(p)) for p in params['paths']),
              'dirs': dict((d, _dir_info(d)) for d in params['dirs'])}
    info = parse_nginx_version(version_output)
    if rc != 0 or info is None:
        module.fail_json(msg='nginx_binary: %r -V did not report a version (rc=%s): %s; check that it is '
                             'the nginx executable.' % (params['nginx_binary'], rc, version_output.strip()),
                         **result)
    result['nginx'].update(info.as_dict())
    if params['dump']:
        if not os.path.isfile(params['nginx_conf']):
            module.fail_json(msg='nginx_conf: %r does not exist on the host; give the path of the main Nginx '
                                 'configuration file.' % params['nginx_conf'], **result)
        rc, out, err = _nginx.run(module, binary, ['-T', '-c', params['nginx_conf']])
        files = _nginx.split_dump(out) if rc == 0 else {}
        if rc == 0 and files:
            result['config'] = {'ok': True, 'source': 'nginx -T', 'files': files, 'error': None}
        else:
            files, missing = _nginx.read_files(params['nginx_conf'])
            result['config'] = {'ok': False, 'source': 'files', 'files': files,
                                'error': ((err or '') + (out or '')).strip() or None, 'unreadable': missing}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
