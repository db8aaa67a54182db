# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Options shared by every file-writing module of balancer.nginx."""

    DOCUMENTATION = r"""
options:
  conf_dir:
    description: Directory of the files of the C(http) context, when an item gives no C(path).
    type: path
    default: /etc/nginx/conf.d
  nginx_conf:
    description: Main Nginx configuration file, read to inspect the whole configuration and passed as C(-c) to C(nginx -t).
    type: path
    default: /etc/nginx/nginx.conf
  nginx_binary:
    description:
      - Name or path of the Nginx executable on the proxy. Every call to Nginx (C(-V), C(-T), C(-t)) goes through it.
    type: str
    default: nginx
  nginx_timeout:
    description:
      - Seconds each call to Nginx (C(-V), C(-T), C(-t)) may take. A slower call is stopped; a stopped
        C(nginx -t) restores every file before the task fails.
    type: int
    default: 60
  validate:
    description:
      - Run C(nginx -t -c nginx_conf) once after staging the file; on failure the previous bytes (or the
        absence of the file) are restored and the task fails with Nginx's message.
      - Whatever this says, a task never reports success over a configuration that fails C(nginx -t) when it
        changes nothing, because the proxy's configuration is tested when it is read.
    type: bool
    default: true
  backup:
    description:
      - Keep a timestamped copy of each file that is replaced or removed, in O(backup_dir).
    type: bool
    default: false
  backup_dir:
    description:
      - Directory for the O(backup) copies, which mirror the path of each file
        (C(BACKUP_DIR/etc/nginx/conf.d/app.conf.DATE.PID~)). Never next to the file, where an C(include) glob
        such as Debian's C(sites-enabled/*) would load them; a O(backup_dir) that an C(include) reads is refused.
    type: path
    default: /var/backups/balancer-nginx
  force:
    description:
      - Overwrite or remove a file that does not carry the collection's header comment (a file written by
        hand), or one that holds another item (C(upstream) C(www.vhost) and C(vhost) C(www) both map to
        C(www.vhost.conf)). Without it such a file is never touched and the task fails naming it.
      - A takeover still refuses while the file holds directives that the options cannot express, and names
        them, so that nothing is dropped silently.
      - For an upstream with C(state=absent), also remove the group while C(proxy_pass) lines still refer to it.
    type: bool
    default: false
  nginx_plus:
    description:
      - The proxy runs NGINX Plus. Lifts the refusal of NGINX Plus-only features and of open source features
        newer than the proxy's version. A proxy whose C(nginx -V) reports NGINX Plus needs no flag.
    type: bool
    default: false
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
  safe_file_operations:
    support: full
  vault:
    support: none
notes:
  - The module never reloads Nginx; notify a handler that does (see the examples).
  - Needs the C(crossplane) Python library on the controller. The proxy needs only Nginx and Python's standard library.
  - A call that changes nothing runs no C(nginx -t); a call that is refused writes nothing and runs no C(nginx -t);
    a call that writes runs exactly one C(nginx -t).
  - Every failure restores every byte and attribute the call changed (a rejected C(nginx -t), an invalid owner or
    mode, a write that fails half-way, O(nginx_timeout), SIGINT or SIGTERM). A journal in C(/var/lib/balancer-nginx)
    on the proxy lets the next run roll back a run killed outright before it does anything else; that run says so
    in its warnings.
  - Commits on one proxy are serialized; a commit refuses, asking for a rerun, when a configuration file it read
    changed since.
  - Symbolic links (Debian's C(sites-enabled) -> C(sites-available)) are written through; the link stays a link.
    An explicit path may name either; a file included through a link counts as included.
  - Values keep the characters written (quotes, C(;), braces and backslashes in header values, log formats,
    hash keys and regexes); control and invisible characters are refused, naming the option.
"""

    # The modules that write stream files too (upstream, stream_proxy, site).
    STREAM = r"""
options:
  stream_conf_dir:
    version_added: 0.2.0
    description:
      - Directory of the files of the C(stream) context (stream upstream groups and stream proxies), created when it
        is missing.
      - When Nginx does not read it yet, the call makes it read it, inside the same validated transaction, by the
        one edit the collection makes to O(nginx_conf)- with no C(stream {}) block there, a marked one that includes
        it is appended; a hand-written C(stream {}) block is used, not replaced (the include goes inside it). Every
        other byte of O(nginx_conf) is kept.
      - The stream module must be loaded (Debian - the package C(libnginx-mod-stream)); a call refuses, naming the
        fix, when it is not.
    type: path
    default: /etc/nginx/stream.d
"""

    # Modules that run on the proxy without an action plugin (snapshot, commit, balance_check).
    TARGET = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""

    # Read-only modules with an action plugin (config_info, backend_probe).
    READ_ONLY = r"""
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""
