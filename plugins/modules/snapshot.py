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
  - Before it reads, it takes the proxy's commit lock and rolls back what an interrupted run of the collection
    left behind (a run killed during its C(nginx -t)), and says so in RV(recovered). That is the only write it
    ever makes, in check mode too.
  - This is the building block the file-writing modules' action plugins call first; it needs only Python's
    standard library on the proxy.
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
  nginx_timeout:
    description: Seconds each call to Nginx may take before it is stopped and the task fails.
    type: int
    default: 60
  _paths:
    description: Internal, set by the collection's action plugins; do not set it in a task. Files whose bytes are returned.
    type: list
    elements: path
    default: []
  _dirs:
    description: Internal, set by the collection's action plugins; do not set it in a task. Directories whose files are listed.
    type: list
    elements: path
    default: []
  _dump:
    description: Internal, set by the collection's action plugins; do not set it in a task. Whether to read the configuration.
    type: bool
    default: true
  _once:
    description:
      - Internal, set by the collection's action plugins; do not set it in a task. Whether a file of O(_paths) whose
        bytes are exactly those of its text in C(config.files) is returned once, there (its C(content_b64) is then
        null and C(in_config) true).
    type: bool
    default: false
extends_documentation_fragment:
  - balancer.nginx.common.target
  - ansible.builtin.action_common_attributes
notes:
  - C(changed) is always V(false).
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
    - The text of each file (and each path) is its bytes decoded as Latin-1 (C(encoding)), so that a file that
      is not UTF-8 arrives byte for byte.
    - C(real) maps a path that is (or lies behind) a symbolic link to the file it resolves to.
  returned: always
  type: dict
  sample: {ok: true, source: nginx -T, encoding: latin-1, files: {/etc/nginx/nginx.conf: "events {}\n"},
           real: {/etc/nginx/sites-enabled/app: /etc/nginx/sites-available/app}, error: null}
paths:
  description: For the collection's action plugins, the bytes (base64), sha1, attributes and link target of each file they asked about.
  returned: always
  type: dict
  sample: {/etc/nginx/conf.d/app.conf: {exists: true, content_b64: "dXBzdHJlYW0=", sha1: "0beec7b5", mode: "0644"}}
dirs:
  description: For the collection's action plugins, the C(*.conf) files of the directories they asked about, and whether each is managed.
  returned: always
  type: dict
  sample: {/etc/nginx/conf.d: {/etc/nginx/conf.d/app.conf: {managed: true, content_b64: "IyBNYW5hZ2Vk"}}}
read_set:
  description: Signatures of every file and directory read, so that a later commit can tell when one changed in between.
  returned: always
  type: dict
  sample: {files: {/etc/nginx/nginx.conf: "1234:1490:1764590000000000000"}, dirs: {/etc/nginx/conf.d: "3f2a..."}}
recovered:
  description: What was rolled back from a run that was interrupted before it finished; empty normally.
  returned: always
  type: list
  elements: str
  sample: []
"""

import base64
import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.balancer.nginx.plugins.module_utils import _commit, _nginx, _specs
from ansible_collections.balancer.nginx.plugins.module_utils._features import parse_nginx_version

ENCODING = 'latin-1'


class Resolver(object):
    """``os.path.realpath`` for many files in few directories: each directory resolved once.

    The real path of ``DIR/NAME`` is the real path of ``DIR`` joined with
    ``NAME`` unless ``NAME`` is itself a symbolic link (then it is resolved in
    full), which is what ``realpath`` finds component by component; at a
    thousand groups this saves one ``lstat`` per component of every path.
    Owner and group names are looked up once per id.
    """

    def __init__(self):
        self._dirs = {}
        self._users = {}
        self._groups = {}

    def realpath(self, path):
        directory, name = os.path.split(path)
        if not name or not os.path.isabs(path) or os.path.normpath(path) != path:
            return os.path.realpath(path)   # "..", "." or a relative path: resolved the long way
        try:
            linked = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:
            linked = False
        if linked:
            return os.path.realpath(path)
        real_dir = self._dirs.get(directory)
        if real_dir is None:
            real_dir = self._dirs[directory] = os.path.realpath(directory)
        return os.path.join(real_dir, name)

    def owner(self, uid):
        return self._name(self._users, uid, lambda: pwd.getpwuid(uid).pw_name)

    def group(self, gid):
        return self._name(self._groups, gid, lambda: grp.getgrgid(gid).gr_name)

    @staticmethod
    def _name(names, number, lookup):
        """The name of a user or group id, looked up once; the number itself when it has none."""
        if number not in names:
            try:
                names[number] = lookup()
            except KeyError:
                names[number] = str(number)
        return names[number]


def _path_info(path, resolver):
    data = _commit.read_bytes(path)
    info = {'exists': data is not None, 'content_b64': None, 'sha1': None}
    real = resolver.realpath(path)
    if real != os.path.abspath(path):
        info['real'] = real
    if data is None:
        return info
    st = os.stat(path)
    info.update(content_b64=base64.b64encode(data).decode('ascii'), sha1=_commit.sha1(data),
                mode='%04o' % stat.S_IMODE(st.st_mode), owner=resolver.owner(st.st_uid),
                group=resolver.group(st.st_gid))
    return info


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
        managed = _nginx.is_managed(data)
        found[path] = {'managed': managed,
                       'content_b64': base64.b64encode(data).decode('ascii') if managed else None}
    return found


def _as_text(path):
    """A file name as the transport text (Latin-1 of its bytes)."""
    return path.encode('utf-8', 'surrogateescape').decode(ENCODING)


def _dump(running, nginx_conf, resolver):
    """``(config result, [paths read])``: what ``nginx -T`` (``running``) read, or the files themselves when it fails."""
    rc, out, err = running.wait()
    files = _nginx.split_dump(out.decode(ENCODING)) if rc == 0 else {}
    if files:
        config = {'ok': True, 'source': 'nginx -T', 'error': None}
    else:
        found, missing = _nginx.read_files(nginx_conf)
        files = dict((_as_text(path), data.decode(ENCODING)) for path, data in found.items())
        config = {'ok': False, 'source': 'files', 'unreadable': missing,
                  'error': (_nginx.text(err) + _nginx.text(out)).strip() or None}
    names = [path.encode(ENCODING).decode('utf-8', 'surrogateescape') for path in files]
    real = {}
    for name in names:
        resolved = resolver.realpath(name)
        if resolved != os.path.abspath(name):
            real[_as_text(name)] = _as_text(resolved)
    config.update(encoding=ENCODING, files=files, real=real)
    return config, names


def _once(paths, files):
    """Each file of ``paths`` that the configuration dump holds byte for byte is sent once, in the dump."""
    for path, info in paths.items():
        text = files.get(_as_text(path))
        if info['exists'] and text is not None and text.encode(ENCODING) == base64.b64decode(info['content_b64']):
            info.update(content_b64=None, in_config=True)


def main():
    module = AnsibleModule(argument_spec=_specs.SNAPSHOT, supports_check_mode=True)
    params = module.params
    timeout = params['nginx_timeout']
    binary = _nginx.require_binary(module, params['nginx_binary'])
    result = {'changed': False, 'nginx': {'binary': binary}}
    try:
        with _commit.ProxyLock(params['nginx_conf'], _commit.lock_wait(timeout)):
            result['recovered'] = _commit.recover(module, params['nginx_conf'])
            rc, out, err = _nginx.run(binary, ['-V'], timeout)
            version_output = (_nginx.text(err) + _nginx.text(out)).strip()
            result['nginx']['output'] = version_output
            info = parse_nginx_version(version_output)
            if rc != 0 or info is None:
                module.fail_json(msg='nginx_binary: %r -V did not report a version (rc=%s): %s; check that it is '
                                     'the nginx executable.' % (params['nginx_binary'], rc, version_output),
                                 **result)
            result['nginx'].update(info.as_dict())
            if params['_dump'] and not os.path.isfile(params['nginx_conf']):
                module.fail_json(msg='nginx_conf: %r does not exist on the host; give the path of the main '
                                     'Nginx configuration file.' % params['nginx_conf'], **result)
            # nginx -T (a whole test of the configuration) runs while the files are read
            dumping = _nginx.Running(binary, ['-T', '-c', params['nginx_conf']], timeout) if params['_dump'] else None
            try:
                resolver = Resolver()
                result['paths'] = dict((p, _path_info(p, resolver)) for p in params['_paths'])
                result['dirs'] = dict((d, _dir_info(d)) for d in params['_dirs'])
                read_files = list(params['_paths'])
                read_dirs = set(params['_dirs']) | set(os.path.dirname(p) for p in params['_paths'])
                if dumping is not None:
                    result['config'], dumped = _dump(dumping, params['nginx_conf'], resolver)
                    if params['_once']:
                        _once(result['paths'], result['config']['files'])
                    read_files.extend(dumped)
                    read_dirs.update(os.path.dirname(p) for p in dumped)
            finally:
                if dumping is not None:
                    dumping.stop()      # already over, unless reading the files failed
            result['read_set'] = _commit.read_set(sorted(set(read_files)), sorted(read_dirs))
    except _commit.Busy as exc:
        module.fail_json(msg=str(exc) + '.', **result)
    except _nginx.NginxTimeout as exc:
        module.fail_json(msg=str(exc) + '.', **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
