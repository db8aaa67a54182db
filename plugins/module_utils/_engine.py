# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline's controller half: model -> render -> inspect, as data.

Input: the module's options and a :class:`Snapshot` of the proxy (what the
``snapshot`` module read in one round trip).  Output: a :class:`Plan`, the
list of file changes with their before/after text, ready for the target-side
transaction.  No I/O here except crossplane's parse under a temporary root.
"""

from __future__ import annotations

import base64
import os

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import InspectError
from ansible_collections.balancer.nginx.plugins.module_utils._features import NginxInfo
from ansible_collections.balancer.nginx.plugins.module_utils._model import Upstream, check_name


class Snapshot(object):
    """What the proxy told us: Nginx version/edition, its config files, the exact bytes of our paths."""

    def __init__(self, info, nginx_conf, files, current, config_ok=True, config_error=None):
        self.info = info
        self.nginx_conf = nginx_conf
        self.files = files
        self.current = current
        self.config_ok = config_ok
        self.config_error = config_error

    @classmethod
    def from_result(cls, result, nginx_conf):
        nginx = result['nginx']
        info = NginxInfo(tuple(int(p) for p in nginx['version'].split('.')), bool(nginx['plus']))
        config = result.get('config') or {}
        current = {}
        for path, item in (result.get('paths') or {}).items():
            current[path] = dict(item, content=base64.b64decode(item['content_b64'])
                                 if item.get('exists') else None)
        return cls(info, nginx_conf, config.get('files') or {}, current, config.get('ok', True),
                   config.get('error'))

    def before(self, path):
        item = self.current.get(path)
        return item['content'] if item else None


class FileChange(object):
    """One file of a plan: ``before`` bytes (``None``: absent), ``after`` text (``None``: remove)."""

    __slots__ = ('path', 'before', 'after')

    def __init__(self, path, before, after):
        self.path = path
        self.before = before
        self.after = after

    @property
    def after_bytes(self):
        return None if self.after is None else self.after.encode('utf-8')

    @property
    def changed(self):
        return self.before != self.after_bytes

    @property
    def before_text(self):
        return '' if self.before is None else self.before.decode('utf-8', 'replace')


class Plan(object):
    def __init__(self, changes, result=None, warnings=None):
        self.changes = changes
        self.result = result or {}
        self.warnings = warnings or []

    @property
    def changed(self):
        return any(c.changed for c in self.changes)


def target_path(params, name):
    """``path`` if given, else ``conf_dir/NAME.conf``."""
    return params.get('path') or os.path.join(params.get('conf_dir') or '/etc/nginx/conf.d', name + '.conf')


def candidate_tree(snapshot, changes):
    """The configuration as Nginx would read it once ``changes`` are in place."""
    files = dict(snapshot.files)
    for change in changes:
        if change.after is None:
            files.pop(change.path, None)
        else:
            files[change.path] = change.after
    return _inspect.ConfigTree(files, snapshot.nginx_conf)


def plan_upstream(params, snapshot):
    """Plan one ``upstream`` module call."""
    name = params.get('name')
    check_name('name', name)
    path = target_path(params, name)
    before = snapshot.before(path)
    if params.get('state', 'present') == 'absent':
        change = FileChange(path, before, None)
        tree = candidate_tree(snapshot, [change])
        if not tree.upstream_definitions(name) and not params.get('force'):
            refs = tree.references(name)
            if refs:
                raise InspectError(
                    'state', 'cannot remove upstream %r: proxy_pass still refers to it at %s'
                    % (name, ', '.join(r.where() for r in refs)),
                    'change those proxy_pass lines first, or set force: true', value='absent')
        return Plan([change], {'path': path, 'upstream': None, 'content': None})

    upstream = Upstream.from_options(params)
    upstream.check_features(snapshot.info, params.get('nginx_plus', False))
    payload = _render.file_payload([lambda lines: _render.upstream_payload(upstream, lines)])
    text = _render.build(payload)
    _inspect.check_roundtrip(text, payload)
    change = FileChange(path, before, text)
    tree = candidate_tree(snapshot, [change])
    _inspect.check_http_context(tree, path)
    _inspect.check_unique_upstream(tree, name, path)
    return Plan([change], {'path': path, 'upstream': upstream.to_options(), 'content': text})
