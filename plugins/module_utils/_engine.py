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

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _nginx, _options, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import InspectError, ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._features import NginxInfo
from ansible_collections.balancer.nginx.plugins.module_utils._log_format import LogFormat
from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Upstream
from ansible_collections.balancer.nginx.plugins.module_utils._values import check_name
from ansible_collections.balancer.nginx.plugins.module_utils._vhost import (
    WEBSOCKET_MAP_ITEM, Vhost, websocket_map_payload)


def _from_transport(text):
    """Text as the snapshot sent it (Latin-1 of the bytes) -> str that crossplane reads, any byte kept."""
    return text.encode('latin-1').decode('utf-8', 'surrogateescape')


class Snapshot(object):
    """What the proxy told us: Nginx version/edition, its config files, the exact bytes of our paths."""

    def __init__(self, info, nginx_conf, files, current, config_ok=True, config_error=None, dirs=None, real=None,
                 read_set=None, recovered=None):
        self.dirs = dirs or {}
        self.info = info
        self.nginx_conf = nginx_conf
        self.files = files
        self.current = current
        self.config_ok = config_ok
        self.config_error = config_error
        self.real = real or {}
        self.read_set = read_set
        self.recovered = recovered or []

    @classmethod
    def from_result(cls, result, nginx_conf):
        nginx = result['nginx']
        info = NginxInfo(tuple(int(p) for p in nginx['version'].split('.')), bool(nginx['plus']))
        config = result.get('config') or {}
        files = config.get('files') or {}
        real = config.get('real') or {}
        if config.get('encoding') == 'latin-1':
            files = dict((_from_transport(path), _from_transport(text)) for path, text in files.items())
            real = dict((_from_transport(path), _from_transport(target)) for path, target in real.items())
        current = {}
        for path, item in (result.get('paths') or {}).items():
            current[path] = dict(item, content=base64.b64decode(item['content_b64'])
                                 if item.get('exists') else None)
        return cls(info, nginx_conf, files, current, config.get('ok', True), config.get('error'),
                   result.get('dirs') or {}, real, result.get('read_set'), result.get('recovered'))

    def managed_files(self, directories):
        """``{path: bytes}`` of the managed files the proxy has in ``directories``."""
        found = {}
        for directory in directories:
            for path, item in (self.dirs.get(directory) or {}).items():
                if item.get('managed'):
                    found[path] = base64.b64decode(item['content_b64'])
        return found

    def before(self, path):
        item = self.current.get(path)
        return item['content'] if item else None

    def realpath(self, path):
        """The file ``path`` resolves to on the proxy (through symbolic links)."""
        item = self.current.get(path) or {}
        return item.get('real') or self.real.get(path) or path

    def tree(self, files=None):
        return _inspect.ConfigTree(self.files if files is None else files, self.nginx_conf, self.real)


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
    def __init__(self, changes, warnings=None):
        self.changes = changes
        self.warnings = warnings or []

    @property
    def changed(self):
        return any(c.changed for c in self.changes)


UPSTREAM_SUFFIX = '.conf'
VHOST_SUFFIX = '.vhost.conf'
LOG_FORMAT_PREFIX = '00-log-format-'
WEBSOCKET_MAP_NAME = '00-balancer-websocket-map.conf'


def conf_dir_of(params):
    return os.path.normpath(params.get('conf_dir') or '/etc/nginx/conf.d')


def target_path(params, name, kind='upstream', conf_dir=None):
    """``path`` if given, else the kind's default file name in ``conf_dir`` (normalized).

    Log formats start with ``00-`` so that Nginx reads them before the vhosts
    that use them (``include conf.d/*.conf`` reads files in name order).
    """
    if params.get('path'):
        return os.path.normpath(params['path'])
    directory = conf_dir or conf_dir_of(params)
    if kind == 'vhost':
        return os.path.join(directory, name + VHOST_SUFFIX)
    if kind == 'log_format':
        return os.path.join(directory, LOG_FORMAT_PREFIX + name + '.conf')
    return os.path.join(directory, name + UPSTREAM_SUFFIX)


def websocket_map_path(conf_dir):
    return os.path.join(conf_dir, WEBSOCKET_MAP_NAME)


def candidate_tree(snapshot, changes):
    """The configuration as Nginx would read it once ``changes`` are in place (through links too)."""
    files = dict(snapshot.files)
    aliases = {}
    for path, target in snapshot.real.items():
        aliases.setdefault(target, []).append(path)
    for change in changes:
        names = aliases.get(snapshot.realpath(change.path), [])
        if change.path in files or not names:
            names = names + [change.path]
        for name in names:
            if change.after is None:
                files.pop(name, None)
            else:
                files[name] = change.after
    return snapshot.tree(files)


class Item(object):
    """One described object of a site: kind, option prefix, options, state and target path."""

    __slots__ = ('kind', 'prefix', 'options', 'state', 'path', 'model')

    def __init__(self, kind, prefix, options, conf_dir):
        self.kind = kind
        self.prefix = prefix
        if not isinstance(options, dict):
            raise ModelError(prefix.rstrip('.') or 'options', 'must be a dict of %s options' % kind,
                             'write {name: ..., ...} as for balancer.nginx.%s' % kind)
        own = dict((key, value) for key, value in options.items() if key != _options.PATH.name)
        self.options = options
        self.state = _options.coerce(_options.STATE, options.get(_options.STATE.name) or 'present',
                                     prefix + _options.STATE.name)
        check_name(prefix + _options.NAME.name, options.get(_options.NAME.name))
        if options.get(_options.PATH.name) is not None:
            _options.coerce(_options.PATH, options[_options.PATH.name], prefix + _options.PATH.name)
        self.path = target_path(options, options[_options.NAME.name], kind, conf_dir)
        self.model = None
        if self.state == 'present':
            self.model = MODELS[kind].from_options(own, prefix)
        else:
            unknown = sorted(set(own) - set(_options.ITEMS[kind].names()), key=str)
            if unknown:
                raise ModelError(prefix.rstrip('.') or 'options', 'has unknown option(s) %s' % ', '.join(unknown),
                                 'use only %s' % ', '.join(_options.ITEMS[kind].names()))

    @property
    def name(self):
        return self.options[_options.NAME.name]


MODELS = {'upstream': Upstream, 'vhost': Vhost, 'log_format': LogFormat}


def describe(conf_dir, upstreams=(), vhosts=(), log_formats=(), prefixed=True):
    """Validate every described item (pure model checks, before anything is read)."""
    items = []
    for kind, group, key in (('log_format', log_formats, 'log_formats'), ('upstream', upstreams, 'upstreams'),
                             ('vhost', vhosts, 'vhosts')):
        for index, options in enumerate(group or []):
            prefix = '%s[%d].' % (key, index) if prefixed else ''
            items.append(Item(kind, prefix, options, conf_dir))
    seen = {}
    for item in items:
        other = seen.get(item.path)
        if other is not None:
            raise ModelError(item.prefix + 'name', 'writes the same file %s as %sname' % (item.path, other.prefix),
                             'give each item its own name or path', value=item.name)
        seen[item.path] = item
    for kind in MODELS:
        names = {}
        for item in items:
            if item.kind == kind:
                key = item.name.lower() if kind == 'upstream' else item.name
                if key in names:
                    raise ModelError(item.prefix + 'name', 'repeats %sname%s' % (
                        names[key], ' (Nginx compares upstream names ignoring letter case)' if kind == 'upstream'
                        else ''), 'describe each %s once' % kind, value=item.name)
                names[key] = item.prefix
    return items


def paths_to_read(items, conf_dir):
    paths = set(item.path for item in items)
    if any(item.kind == 'vhost' for item in items):
        paths.add(websocket_map_path(conf_dir))
    return sorted(paths)


def _same_item(owner, kind, name):
    if owner[0] != kind:
        return False
    return owner[1].lower() == name.lower() if kind == 'upstream' else owner[1] == name


_KIND_LABEL = {'upstream': 'upstream', 'vhost': 'vhost', 'log_format': 'log format', 'map': 'websocket map'}


def check_ownership(snapshot, path, kind, name, option, removing, force):
    """The file at ``path`` is this item's, or a takeover is asked for (``force``) and drops nothing.

    A file without the collection's header was written by hand: it is never
    replaced or removed without ``force``.  A managed file that says it holds
    another item is never replaced either: two items never share a file.
    """
    before = snapshot.before(path)
    if before is None:
        return
    verb = 'remove' if removing else 'replace'
    if not _nginx.is_managed(before):
        if not force:
            if kind == 'map':
                way_out = 'move that file out of conf_dir (the map shared by websocket locations lives there)'
            else:
                way_out = 'leave that file alone by giving the item another name%s' % ('' if removing else ' or path')
            raise InspectError(
                option, 'would %s %s, which balancer.nginx did not write (it does not start with the "%s" header '
                'comment), so nothing was changed' % (verb, path, _nginx.MANAGED_HEADER.split(' (', maxsplit=1)[0]),
                '%s, or set force: true to %s' % (way_out, 'remove it' if removing else 'take it over'))
        if not removing:
            lost = _inspect.unexpressed(kind, name, before.decode('utf-8', 'surrogateescape'))
            if lost:
                raise InspectError(
                    option, 'cannot take over %s: it holds what the %s options cannot express, which would be '
                    'dropped: %s' % (path, _KIND_LABEL[kind], ', '.join(lost)),
                    'move those lines to a file of their own (or delete them) first; nothing was changed')
        return
    owner = _nginx.managed_item(before)
    if owner is not None and not _same_item(owner, kind, name) and not force:
        raise InspectError(
            option, 'would %s %s, which holds the %s %r; two items never share a file, so nothing was changed'
            % (verb, path, _KIND_LABEL.get(owner[0], owner[0]), owner[1]),
            'rename one of them or give it its own path (or set force: true to %s it)' % verb)


def plan_site(items, snapshot, conf_dir, nginx_plus=False, force=False, exclusive=False, backup_dir=None):
    """Plan a whole set of items as one transaction: render, then inspect the candidate configuration."""
    changes = []
    warnings = []
    described = set()
    reals = {}
    for item in items:
        described.add(item.path)
        real = snapshot.realpath(item.path)
        if real in reals and reals[real].path != item.path:
            other = reals[real]
            raise InspectError(item.prefix + 'path' if item.options.get('path') else item.prefix + 'name',
                               'writes %s, the same file as %sname (through a symbolic link)' % (real, other.prefix),
                               'give each item its own file', value=item.name)
        reals[real] = item
        if item.kind == 'upstream' and item.model is not None:
            item.model.check_features(snapshot.info, nginx_plus, item.prefix)
    for item in items:
        option = item.prefix + ('path' if item.options.get('path') else 'name')
        if item.model is None:
            option = item.prefix + 'state'
        check_ownership(snapshot, item.path, item.kind, item.name, option, item.model is None, force)

    def render_group(kind, render):
        rendered = []
        for item in items:
            if item.kind != kind:
                continue
            text = None
            if item.model is not None:
                payload, text = render(item)
                rendered.append((text, payload))
            changes.append(FileChange(item.path, snapshot.before(item.path), text))
        _inspect.check_roundtrips(rendered)

    def file_of(make, item):
        payload = _render.file_payload([make], item)
        return payload, _render.build(payload)

    for kind in ('log_format', 'upstream', 'vhost'):
        render_group(kind, lambda i: file_of(i.model.payload, (i.kind, i.name)))

    vhosts = [item for item in items if item.kind == 'vhost' and item.model is not None]
    map_path = None
    if any(item.model.uses_websocket() for item in vhosts):
        path = map_path = websocket_map_path(conf_dir)
        if path not in described:
            check_ownership(snapshot, path, 'map', 'websocket', 'conf_dir', False, force)
            payload, text = file_of(websocket_map_payload, WEBSOCKET_MAP_ITEM)
            changes.append(FileChange(path, snapshot.before(path), text))
            described.add(path)
    if exclusive:
        directories = set(os.path.dirname(c.path) for c in changes)
        for path, before in sorted(snapshot.managed_files(directories).items()):
            if path not in described:
                changes.append(FileChange(path, before, None))

    tree = candidate_tree(snapshot, changes)
    for item in items:
        if item.model is not None:
            _inspect.check_http_context(tree, item.path, item.prefix + 'path' if item.options.get('path') else
                                        'conf_dir', item.kind, snapshot.realpath(item.path))
    if map_path is not None:
        _inspect.check_http_context(tree, map_path, 'conf_dir', 'map')
    # Staging files are written next to the file the write ends in: a link's target.
    for directory in sorted(set(os.path.dirname(snapshot.realpath(c.path)) for c in changes if c.changed)):
        _inspect.check_included_nowhere(
            tree, os.path.join(directory, '.balancer-staging.tmp'), 'conf_dir', 'hidden staging files',
            'narrow that include to the files it means (e.g. *.conf): balancer.nginx stages each file as a hidden '
            'file next to it before the atomic rename')
    if backup_dir:
        for change in changes:
            if change.changed and change.before is not None:
                sample = os.path.join(backup_dir, change.path.lstrip('/')) + '.20260101-000000.1~'
                _inspect.check_included_nowhere(
                    tree, sample, 'backup_dir', 'backup copies',
                    'choose a backup_dir that no include of the configuration reads, such as '
                    '/var/backups/balancer-nginx')
    for item in items:
        if item.kind == 'upstream' and item.model is not None:
            _inspect.check_unique_upstream(tree, item.name, item.path, item.prefix + 'name')
        elif item.kind == 'log_format' and item.model is not None:
            _inspect.check_unique_log_format(tree, item.name, item.path, item.prefix + 'name')
        elif item.model is None and item.kind != 'vhost' and not (force and item.kind == 'upstream'):
            _inspect.check_removal(tree, item.kind, item.name, item.prefix + 'state')
    for item in vhosts:
        for index, path in enumerate(item.model.locations):
            if path.upstream is not None and not tree.upstream_definitions(path.upstream):
                raise InspectError(
                    '%slocations[%d].upstream' % (item.prefix, index) if item.options.get('locations')
                    else item.prefix + 'upstream',
                    'is not defined as an upstream in the proxy\'s configuration',
                    'define it first (balancer.nginx.upstream, or in the same site call), or use pass for a '
                    'literal URL', value=path.upstream)
        _inspect.check_access_log_formats(tree, item.path, '%s%s.%s' % (
            item.prefix, _options.VHOST_ACCESS_LOG.name, _options.ACCESS_LOG_FORMAT.name))
        warnings.extend(item.model.retry_warnings(item.prefix))
    # Exclusive pruning may remove what something else still uses.
    for change in changes:
        if change.after is None and change.path not in described and change.before is not None:
            _inspect.check_nothing_lost(tree, change.path, change.before_text)
    return Plan(changes, warnings=warnings)


GROUPS = {'upstream': 'upstreams', 'vhost': 'vhosts', 'log_format': 'log_formats'}
