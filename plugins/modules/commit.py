#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: commit
short_description: Write Nginx configuration files as one validated transaction
version_added: 0.1.0
description:
  - Stages every file of O(files) in its directory, then renames each into place atomically, runs
    C(nginx -t -c nginx_conf) once through O(nginx_binary), and keeps the files when Nginx accepts them.
  - Every file is staged before the first rename, so a write that fails while staging leaves the live files
    untouched. A batch of 64 files or more is flushed with one C(syncfs) per filesystem instead of an C(fsync)
    per file. The result's C(invocation) lists each file's path and state, not its content.
  - When Nginx refuses them, or anything else fails (an invalid owner or mode, a write that fails half-way,
    O(nginx_timeout), SIGINT or SIGTERM), every previous byte and attribute is restored and files that did not
    exist are removed again before the task fails with Nginx's own message. A failed change never stays on
    disk, and Nginx is never reloaded by this module.
  - Commits on one proxy are serialized by a lock. Before the first file is touched, a journal in
    C(/var/lib/balancer-nginx) records the previous bytes; a run killed outright is rolled back by the next run
    on the proxy before it does anything else.
  - Symbolic links are written through (the link stays a link, its target gets the bytes); V(absent) removes a
    link itself.
  - This is the target-side step of the file-writing modules (M(balancer.nginx.upstream) and friends); it
    needs only Python's standard library on the proxy.
author:
  - balancer.nginx developers (!UNKNOWN)
options:
  files:
    description: The files of the transaction.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: New text of the file. Required with O(files[].state=present).
        type: str
      state:
        description: V(absent) removes the file.
        type: str
        default: present
        choices: [present, absent]
  nginx_binary:
    description: Name or path of the Nginx executable.
    type: str
    default: nginx
  nginx_conf:
    description: Main configuration file, passed to Nginx as C(-c).
    type: path
    default: /etc/nginx/nginx.conf
  nginx_timeout:
    description: Seconds C(nginx -t) may take; a slower one is stopped, and the files are restored.
    type: int
    default: 60
  validate:
    description: Run C(nginx -t) once after staging; V(false) writes without testing.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy of each file that is replaced or removed, in O(backup_dir).
    type: bool
    default: false
  backup_dir:
    description:
      - Directory for the backup copies, which mirror the path of each file (C(BACKUP_DIR/etc/nginx/conf.d/app.conf.DATE.PID~)).
        It must lie outside every directory that an C(include) of the configuration reads.
    type: path
    default: /var/backups/balancer-nginx
  _expected:
    description:
      - Internal, set by the collection's action plugins; do not set it in a task. The sha1 of the bytes each file had
        when the plan read it.
    type: dict
    default: {}
  _read_set:
    description:
      - Internal, set by the collection's action plugins; do not set it in a task. Signatures of every file the plan read.
    type: dict
  _mkdirs:
    description:
      - Internal, set by the collection's action plugins; do not set it in a task. Directories that may be created.
    type: list
    elements: path
    default: []
  _keep_attributes:
    description:
      - Internal, set by the collection's action plugins; do not set it in a task. Files owner, group and mode are
        not applied to.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - balancer.nginx.common.target
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files
  - ansible.builtin.files
attributes:
  safe_file_operations:
    support: full
  vault:
    support: none
"""

EXAMPLES = r"""
---
- name: Write one upstream file, validated by nginx -t
  balancer.nginx.commit:
    files:
      - path: /etc/nginx/conf.d/app.conf
        content: |
          upstream app {
              server 127.0.0.1:8081;
          }
  notify: Reload nginx
"""

RETURN = r"""
files:
  description: What happened to each file.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/nginx/conf.d/app.conf, changed: true, state: present, backup_file: null}]
nginx_test:
  description:
    - Result of the one C(nginx -t), or V(null) when none ran. On a refusal C(file), C(line) and C(message) locate
      Nginx's first error (V(null) when it passed); C(output) is Nginx's whole text.
  returned: always
  type: dict
  sample: {ok: false, file: /etc/nginx/conf.d/app.conf, line: 3, message: 'host not found in upstream "x:80"',
           output: "nginx: [emerg] host not found in upstream \"x:80\" in /etc/nginx/conf.d/app.conf:3 ..."}
restored:
  description: What was put back after a failure.
  returned: failure
  type: list
  elements: str
  sample: [restored /etc/nginx/conf.d/app.conf]
recovered:
  description: What was rolled back, before this run, from a run that was interrupted before it finished; empty normally.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.balancer.nginx.plugins.module_utils import _commit, _specs


def main():
    module = AnsibleModule(argument_spec=_specs.COMMIT, add_file_common_args=True, supports_check_mode=True)
    params = module.params
    files = []
    for index, item in enumerate(params['files']):
        if item['state'] == 'present' and item['content'] is None:
            module.fail_json(msg='files[%d].content: is required with state=present; give the text of %s.'
                                 % (index, item['path']))
        files.append({'path': item['path'], 'content': item['content'] if item['state'] == 'present' else None})
    # The result's invocation echoes the parameters: without the contents, which the controller sent and has.
    params['files'] = [{'path': item['path'], 'state': item['state']} for item in params['files']]

    def file_args_for(path):
        return module.load_file_common_arguments(module.params, path=path)

    _commit.run_transaction(module, files, params['nginx_binary'], params['nginx_conf'],
                            validate=params['validate'], backup=params['backup'], backup_dir=params['backup_dir'],
                            expected=params['_expected'], read_set=params['_read_set'],
                            mkdirs=params['_mkdirs'], keep_attributes=params['_keep_attributes'],
                            timeout=params['nginx_timeout'], file_args_for=file_args_for)


if __name__ == '__main__':
    main()
