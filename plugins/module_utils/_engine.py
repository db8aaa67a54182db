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
from ansible_collections.balancer.nginx.plugins.module_utils._stream_proxy import StreamProxy
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
                 read_set=None, recovered=None, build=None):
        self.build = build            # what nginx -V says it was built with
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
        sent = files = config.get('files') or {}
        real = config.get('real') or {}
        if config.get('encoding') == 'latin-1':
            files = dict((_from_transport(path), _from_transport(text)) for path, text in files.items())
            real = dict((_from_transport(path), _from_transport(target)) for path, target in real.items())
        current = {}
        for path, item in (result.get('paths') or {}).items():
            if not item.get('exists'):
                content = None
            elif item.get('in_config'):
                # sent once, in the configuration: the Latin-1 text of the file's bytes
                content = sent[path.encode('utf-8', 'surrogateescape').decode('latin-1')].encode('latin-1')
            else:
                content = base64.b64decode(item['content_b64'])
            current[path] = dict(item, content=content)
        return cls(info, nginx_conf, files, current, config.get('ok', True), config.get('error'),
                   result.get('dirs') or {}, real, result.get('read_set'), result.get('recovered'),
                   nginx.get('output'))

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
        # surrogateescape: the bytes of a hand-written file that are not UTF-8 go back as they came
        return None if self.after is None else self.after.encode('utf-8', 'surrogateescape')

    @property
    def changed(self):
        return self.before != self.after_bytes

    @property
    def before_text(self):
        return '' if self.before is None else self.before.decode('utf-8', 'replace')


class Plan(object):
    def __init__(self, changes, warnings=None, mkdirs=None):
        self.changes = changes
        self.warnings = warnings or []
        self.mkdirs = mkdirs or []    # directories the commit may create (stream_conf_dir)

    @property
    def changed(self):
        return any(c.changed for c in self.changes)


UPSTREAM_SUFFIX = '.conf'
VHOST_SUFFIX = '.vhost.conf'
LOG_FORMAT_PREFIX = '00-log-format-'
WEBSOCKET_MAP_NAME = '00-balancer-websocket-map.conf'


def conf_dir_of(params):
    return os.path.normpath(params.get('conf_dir') or '/etc/nginx/conf.d')


def stream_conf_dir_of(params):
    return os.path.normpath(params.get(_options.STREAM_CONF_DIR.name) or _options.STREAM_CONF_DIR.default)


STREAM_PROXY_SUFFIX = '.stream.conf'


def target_path(params, name, kind='upstream', conf_dir=None, stream_conf_dir=None, context=_options.HTTP):
    """``path`` if given, else the kind's default file name in ``conf_dir`` or ``stream_conf_dir`` (normalized).

    Log formats start with ``00-`` so that Nginx reads them before the vhosts
    that use them (``include conf.d/*.conf`` reads files in name order).
    """
    if params.get('path'):
        return os.path.normpath(params['path'])
    if kind == 'stream_proxy' or context == _options.STREAM:
        directory = stream_conf_dir or stream_conf_dir_of(params)
    else:
        directory = conf_dir or conf_dir_of(params)
    if kind == 'vhost':
        return os.path.join(directory, name + VHOST_SUFFIX)
    if kind == 'stream_proxy':
        return os.path.join(directory, name + STREAM_PROXY_SUFFIX)
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
    """One described object of a site: kind, option prefix, options, state, context and target path."""

    __slots__ = ('kind', 'prefix', 'options', 'state', 'context', 'path', 'model')

    def __init__(self, kind, prefix, options, conf_dir, stream_conf_dir=None):
        self.kind = kind
        self.prefix = prefix
        if not isinstance(options, dict):
            raise ModelError(prefix.rstrip('.') or 'options', 'must be a dict of %s options' % kind,
                             'write {name: ..., ...} as for balancer.nginx.%s' % kind)
        item_options = _options.ITEMS[kind]
        unknown = sorted(set(options) - set(item_options.names()), key=str)
        if unknown:
            raise ModelError(prefix.rstrip('.') or 'options', 'has unknown option(s) %s' % ', '.join(
                str(u) for u in unknown), 'use only %s' % ', '.join(item_options.names()))
        own = dict((key, value) for key, value in options.items() if key != _options.PATH.name)
        self.options = options
        self.state = _options.coerce(_options.STATE, options.get(_options.STATE.name) or 'present',
                                     prefix + _options.STATE.name)
        check_name(prefix + _options.NAME.name, options.get(_options.NAME.name))
        if options.get(_options.PATH.name) is not None:
            _options.coerce(_options.PATH, options[_options.PATH.name], prefix + _options.PATH.name)
        self.context = _options.STREAM if kind == 'stream_proxy' else _options.HTTP
        if kind == 'upstream' and options.get(_options.CONTEXT.name) is not None:
            self.context = _options.coerce(_options.CONTEXT, options[_options.CONTEXT.name],
                                           prefix + _options.CONTEXT.name)
        self.path = target_path(options, options[_options.NAME.name], kind, conf_dir, stream_conf_dir,
                                self.context)
        self.model = None
        if self.state == 'present':
            self.model = MODELS[kind].from_options(own, prefix)

    @property
    def name(self):
        return self.options[_options.NAME.name]

    @property
    def where(self):
        """The option naming the item's file: its path when given, else its name."""
        return self.prefix + (_options.PATH.name if self.options.get(_options.PATH.name) else _options.NAME.name)

    @property
    def check_kind(self):
        """The kind as the checks know it (a group of the stream context is a kind of its own)."""
        if self.kind == 'upstream' and self.context == _options.STREAM:
            return _inspect.STREAM_UPSTREAM
        return self.kind


MODELS = {'upstream': Upstream, 'vhost': Vhost, 'log_format': LogFormat, 'stream_proxy': StreamProxy}
# The order items are planned and written in: formats before the vhosts that log with them, groups before
# what proxies to them.
KINDS = ('log_format', 'upstream', 'vhost', 'stream_proxy')


def describe(conf_dir, upstreams=(), vhosts=(), log_formats=(), stream_proxies=(), prefixed=True,
             stream_conf_dir=None):
    """Validate every described item (pure model checks, before anything is read)."""
    items = []
    lists = {'log_format': log_formats, 'upstream': upstreams, 'vhost': vhosts, 'stream_proxy': stream_proxies}
    for kind in KINDS:
        for index, options in enumerate(lists[kind] or []):
            prefix = '%s[%d].' % (GROUPS[kind], index) if prefixed else ''
            items.append(Item(kind, prefix, options, conf_dir, stream_conf_dir))
    seen = {}
    for item in items:
        other = seen.get(item.path)
        if other is not None:
            raise ModelError(item.prefix + 'name', 'writes the same file %s as %sname' % (item.path, other.prefix),
                             'give each item its own name or path', value=item.name)
        seen[item.path] = item
    names = {}
    for item in items:
        # Upstream names ignore letter case, as in Nginx; http and stream groups are separate namespaces.
        key = (item.kind, item.context, item.name.lower() if item.kind == 'upstream' else item.name)
        if key in names:
            raise ModelError(item.prefix + 'name', 'repeats %sname%s' % (
                names[key], ' (Nginx compares upstream names ignoring letter case)' if item.kind == 'upstream'
                else ''), 'describe each %s once' % item.kind, value=item.name)
        names[key] = item.prefix
    return items


def uses_stream(items):
    return any(item.context == _options.STREAM and item.model is not None for item in items)


def paths_to_read(items, conf_dir, nginx_conf=None):
    paths = set(item.path for item in items)
    if any(item.kind == 'vhost' for item in items):
        paths.add(websocket_map_path(conf_dir))
    if nginx_conf and uses_stream(items):
        paths.add(os.path.normpath(nginx_conf))   # the stream {} block may have to be added
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


STREAM_BLOCK_BEGIN = '# BEGIN balancer.nginx: the stream context of the TCP/UDP proxies (the rest of this file is not managed)'
STREAM_BLOCK_END = '# END balancer.nginx'


def stream_include(snapshot, tree, stream_conf_dir):
    """The ``FileChange`` of nginx.conf that makes Nginx read ``stream_conf_dir`` in its stream context, or None.

    The one edit of nginx.conf: every byte of it is kept. With no ``stream {}``
    block, a marked one that includes ``stream_conf_dir`` is appended; a
    hand-written ``stream {}`` block in nginx.conf is used, not replaced: the
    include is added inside it.
    """
    sample = os.path.join(stream_conf_dir, 'x.conf')
    contexts = [context for context, stmt in tree.contexts_for(sample)]
    if (_options.STREAM,) in contexts:
        return None
    nginx_conf = snapshot.nginx_conf
    include = '%s %s;' % (_options.INCLUDE, os.path.join(stream_conf_dir, '*.conf'))
    before = snapshot.before(nginx_conf)
    if before is None:
        raise InspectError('nginx_conf', 'could not be read from the proxy', 'check nginx_conf', value=nginx_conf)
    text = before.decode('utf-8', 'surrogateescape')
    blocks = [s for s in tree.statements if s.directive == _options.STREAM and s.context == () and s.block is not None]
    if not blocks:
        added = '\n'.join(['', STREAM_BLOCK_BEGIN, '%s {' % _options.STREAM, '    ' + include, '}', STREAM_BLOCK_END, ''])
        return FileChange(nginx_conf, before, text + ('' if text.endswith('\n') or not text else '\n') + added)
    block = blocks[0]
    if block.file != nginx_conf:
        raise InspectError(_options.STREAM_CONF_DIR.name, 'is not included by the %s {} block at %s' % (
            _options.STREAM, block.where()), 'add "%s" inside that block' % include, value=stream_conf_dir)
    lines = text.split('\n')
    opening = None
    for index in range(block.line - 1, len(lines)):
        position = lines[index].find('{')
        if position >= 0:
            opening = (index, position)
            break
    if opening is None:
        raise InspectError(_options.STREAM_CONF_DIR.name, 'could not be added to the %s {} block at %s' % (
            _options.STREAM, block.where()), 'add "%s" inside that block' % include, value=stream_conf_dir)
    index, position = opening
    rest = lines[index][position + 1:]
    # the comment ends the line: statements after the brace (a one-line block's, and its closing brace) go on the
    # next line; a comment after the brace stays where it was
    moved = rest.strip() and not rest.strip().startswith('#')
    lines[index] = lines[index][:position + 1] + '\n    %s  # balancer.nginx: %s' % (
        include, _options.STREAM_CONF_DIR.name) + ('\n' + rest if moved else rest)
    return FileChange(nginx_conf, before, '\n'.join(lines))


def check_stream_module(snapshot, tree):
    """Nginx has the stream module, and loads it when it is a dynamic one."""
    build = snapshot.build or ''
    if '--with-stream=dynamic' in build:
        if not any(s.directive == LOAD_MODULE and s.args and 'ngx_stream_module' in s.args[0] for s in tree.statements):
            raise InspectError(_options.STREAM_CONF_DIR.name, 'needs the %s module, which this Nginx has as a '
                               'dynamic module that its configuration does not load' % _options.STREAM,
                               "install it (Debian: libnginx-mod-stream, which the role installs) or add "
                               "'load_module modules/ngx_stream_module.so;' at the top of nginx.conf")
    elif build and '--with-stream' not in build:
        raise InspectError(_options.STREAM_CONF_DIR.name, 'needs the %s module, which this Nginx was built without'
                           % _options.STREAM, 'install an Nginx built with it (Debian: nginx with libnginx-mod-stream)')


LOAD_MODULE = 'load_module'


def plan_site(items, snapshot, conf_dir, nginx_plus=False, force=False, exclusive=False, backup_dir=None,
              stream_conf_dir=None):
    """Plan a whole set of items as one transaction: render, then inspect the candidate configuration."""
    stream_conf_dir = stream_conf_dir or _options.STREAM_CONF_DIR.default
    changes = []
    warnings = []
    described = set()
    reals = {}
    for item in items:
        described.add(item.path)
        real = snapshot.realpath(item.path)
        if real in reals and reals[real].path != item.path:
            other = reals[real]
            raise InspectError(item.where, 'writes %s, the same file as %sname (through a symbolic link)'
                               % (real, other.prefix), 'give each item its own file', value=item.name)
        reals[real] = item
        if item.kind == 'upstream' and item.model is not None:
            item.model.check_features(snapshot.info, nginx_plus, item.prefix)
    for item in items:
        option = item.prefix + _options.STATE.name if item.model is None else item.where
        check_ownership(snapshot, item.path, item.kind, item.name, option, item.model is None, force)

    def file_of(makers, item):
        payload = _render.file_payload(makers, item)
        text = _render.build(payload)
        _inspect.remember_built(text, payload)
        return payload, text

    for kind in KINDS:
        rendered = []
        kept = []
        for item in items:
            if item.kind != kind:
                continue
            text = None
            if item.model is not None:
                # an item given exactly as in an earlier run of this code renders to the same text: taken from
                # the controller's memo, with its parse (see _inspect.recall_rendered)
                key = _inspect.render_key(item.kind, item.options)
                text = _inspect.recall_rendered(key)
                if text is None:
                    payload, text = file_of(item.model.statements(), (item.kind, item.name))
                    rendered.append((text, payload))
                    kept.append((key, text))
            changes.append(FileChange(item.path, snapshot.before(item.path), text))
        _inspect.check_roundtrips(rendered)
        for key, text in kept:
            _inspect.keep_rendered(key, text)

    vhosts = [item for item in items if item.kind == 'vhost' and item.model is not None]
    map_path = None
    if any(item.model.uses_websocket() for item in vhosts):
        path = map_path = websocket_map_path(conf_dir)
        if path not in described:
            check_ownership(snapshot, path, 'map', 'websocket', 'conf_dir', False, force)
            payload, text = file_of([websocket_map_payload], WEBSOCKET_MAP_ITEM)
            changes.append(FileChange(path, snapshot.before(path), text))
            described.add(path)
    if exclusive:
        directories = set(os.path.dirname(c.path) for c in changes)
        for path, before in sorted(snapshot.managed_files(directories).items()):
            if path not in described:
                changes.append(FileChange(path, before, None))
    mkdirs = []
    if uses_stream(items):
        stream_change = stream_include(snapshot, candidate_tree(snapshot, changes), stream_conf_dir)
        if stream_change is not None:
            changes.append(stream_change)
            described.add(stream_change.path)
        mkdirs.append(stream_conf_dir)

    tree = candidate_tree(snapshot, changes)
    if uses_stream(items):
        check_stream_module(snapshot, tree)
    for item in items:
        if item.model is not None:
            option = item.where if item.options.get(_options.PATH.name) else (
                _options.STREAM_CONF_DIR.name if item.context == _options.STREAM else 'conf_dir')
            _inspect.check_http_context(tree, item.path, option, item.check_kind, snapshot.realpath(item.path),
                                        item.context)
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
            _inspect.check_unique_upstream(tree, item.name, item.path, item.prefix + 'name', item.context)
        elif item.kind == 'log_format' and item.model is not None:
            _inspect.check_unique_log_format(tree, item.name, item.path, item.prefix + 'name')
        elif item.model is None and item.kind in ('upstream', 'log_format') and not (force and item.kind == 'upstream'):
            _inspect.check_removal(tree, item.check_kind, item.name, item.prefix + 'state')
    for item in vhosts:
        for index, loc in enumerate(item.model.locations):
            for group in loc.groups():
                where = ('%slocations[%d].%s' % (item.prefix, index, _options.SPLIT.name if loc.split
                                                 else _options.LOCATION_UPSTREAM.name)
                         if item.options.get('locations') else item.prefix + _options.VHOST_UPSTREAM.name)
                check_group(tree, group, _options.HTTP, where)
        _inspect.check_access_log_formats(tree, item.path, '%s%s.%s' % (
            item.prefix, _options.VHOST_ACCESS_LOG.name, _options.ACCESS_LOG_FORMAT.name))
        warnings.extend(item.model.retry_warnings(item.prefix))
    for item in items:
        if item.kind == 'stream_proxy' and item.model is not None:
            check_group(tree, item.model.upstream, _options.STREAM, item.prefix + _options.STREAM_UPSTREAM.name)
    if vhosts:
        _inspect.check_backend_tls(tree, dict((item.path, '%s%s.%s' % (
            item.prefix, _options.LOCATIONS.name, _options.BACKEND_TLS.name)) for item in vhosts))
    # Exclusive pruning may remove what something else still uses.
    for change in changes:
        if change.after is None and change.path not in described and change.before is not None:
            context = _options.STREAM if os.path.dirname(change.path) == stream_conf_dir else _options.HTTP
            _inspect.check_nothing_lost(tree, change.path, change.before_text, context=context)
    return Plan(changes, warnings=warnings, mkdirs=mkdirs)


def check_group(tree, name, context, option):
    """``name`` is a group of ``context``; a group of the other context is named as such."""
    if tree.upstream_definitions(name, context):
        return
    other = _options.STREAM if context == _options.HTTP else _options.HTTP
    found = tree.upstream_definitions(name, other)
    if found:
        raise InspectError(option, 'is an upstream of the %s context (%s), and %s and %s groups are separate '
                           'namespaces' % (other, found[0].where(), _options.HTTP, _options.STREAM),
                           'give a group with context: %s' % context, value=name)
    fix = ('define it first (balancer.nginx.upstream, or in the same site call), or use pass for a literal URL'
           if context == _options.HTTP else
           'define it first (balancer.nginx.upstream with context: stream, or in the same site call)')
    raise InspectError(option, 'is not defined as an upstream in the proxy\'s configuration', fix, value=name)


GROUPS = {'upstream': 'upstreams', 'vhost': 'vhosts', 'log_format': 'log_formats', 'stream_proxy': 'stream_proxies'}
