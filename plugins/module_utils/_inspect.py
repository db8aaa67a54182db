# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inspection of a proxy's whole configuration on the controller.

The proxy's files (read in one round trip) are written under a temporary
root and parsed one by one with ``crossplane.parse(single=True)``; includes
are resolved here against the snapshot, never against the controller's own
disk.  The walk records in which context each file is included, where each
upstream is defined, every proxied URL that refers to an upstream, and the
read order of statements.  Checks raise :class:`InspectError`.
Controller side only (crossplane).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

from ansible_collections.balancer.nginx.plugins.module_utils import _options as o, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import InspectError, ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._log_format import ESCAPE_ARG
from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Upstream
from ansible_collections.balancer.nginx.plugins.module_utils._vhost import (
    LOCATION_STATEMENTS, SERVER_STATEMENTS, STREAM_SERVER_STATEMENTS, UPGRADE_VARIABLE)

_GLOB_CHARS = frozenset('*?[')
_PARSE_CACHE = {}
# Big enough for every text of a 10,000-group site (20,001 files) and its candidate, so that no plan parses twice.
_PARSE_CACHE_LIMIT = 65536
# The parses kept on the controller between runs (see use_parse_cache): the file, the keys this run used, and
# whether it parsed anything new.
_DISK_CACHE = {'path': None, 'used': set(), 'new': 0}
# The keys of _PARSE_CACHE known from a rendered payload (remember_built): the run that renders the same text
# knows its parse again without crossplane, so they are never written to the file.
_BUILT_KEYS = set()
PARSE_CACHE_MAX_TEXT = 1 << 20     # a bigger text is parsed each time, never stored
PARSE_CACHE_FILES = 256            # cache files kept in a directory (one a proxy), the oldest removed first
# The render memo (see recall_rendered): what the file of use_parse_cache held for this code, and what this run
# rendered or took from it (kept in the file for the next run).
_RENDERED = {}
_RENDER_USED = {}
_CODE = []
try:    # what Ansible (2.19 and later) hands an action: the same values, tagged with where they came from
    from ansible.module_utils._internal._datatag import (
        _AnsibleTaggedDict, _AnsibleTaggedFloat, _AnsibleTaggedInt, _AnsibleTaggedList, _AnsibleTaggedStr)
except ImportError:
    _TAGGED = ((), (), ())
else:
    _TAGGED = ((_AnsibleTaggedDict,), (_AnsibleTaggedList,), (_AnsibleTaggedStr, _AnsibleTaggedInt, _AnsibleTaggedFloat))
# Exact types whose repr is that of the built-in type (a subclass such as a lazy container is none of them).
_PLAIN_DICTS = frozenset((dict,) + _TAGGED[0])
_PLAIN_LISTS = frozenset((list,) + _TAGGED[1])
_PLAIN_LEAVES = frozenset((str, int, float, bool, type(None)) + _TAGGED[2])
_PLAIN_KEYS = frozenset(kind for kind in _PLAIN_LEAVES if issubclass(kind, str))


def _cache_stamp():
    return {'format': 1, 'crossplane': getattr(_render.crossplane, '__version__', None)}


def use_parse_cache(path):
    """Reuse the parses stored in ``path`` (a file on the controller) by an earlier run; None: stop using it.

    Entries are keyed by the SHA-1 of the exact text they are the parse of, so
    a text is only ever matched with its own parse: what the proxy holds is
    always the bytes read in this run, and only crossplane's work on those
    bytes is reused.  A missing, unreadable or foreign file is ignored.
    """
    _DISK_CACHE.update(path=path, used=set(), new=0)
    _RENDERED.clear()
    _RENDER_USED.clear()
    if path is None:
        return 0
    try:
        with open(path, 'rb') as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return 0
    if not isinstance(data, dict) or any(data.get(k) != v for k, v in _cache_stamp().items()):
        return 0
    entries = data.get('entries')
    loaded = 0
    for key, parsed in (entries.items() if isinstance(entries, dict) else ()):
        if isinstance(parsed, list) and key not in _PARSE_CACHE and len(_PARSE_CACHE) < _PARSE_CACHE_LIMIT:
            _PARSE_CACHE[key] = (parsed, [])
            loaded += 1
    rendered = data.get('rendered')
    code = _code_stamp()
    if code is not None and isinstance(rendered, dict) and rendered.get('code') == code:
        items = rendered.get('items')
        _RENDERED.update((k, v) for k, v in (items.items() if isinstance(items, dict) else ())
                         if isinstance(v, str))
    return loaded


def save_parse_cache():
    """Store the clean parses this run used in the file of ``use_parse_cache``, when it parsed anything new.

    Only what this run used and had to parse is kept, so the file holds one
    configuration and its candidate at most, without the files this
    collection rendered from plain tokens (``remember_built``): the run that
    renders them again knows their parse without it.  It is written to a
    temporary file and renamed: concurrent runs each leave a whole file (the
    last one wins; an entry lost is only parsed again).  The oldest files of
    the directory beyond ``PARSE_CACHE_FILES`` are removed.  Errors are
    ignored: the cache only saves time.
    """
    path = _DISK_CACHE['path']
    if path is None or not _DISK_CACHE['new']:
        return False
    # the rendered files of the memo are kept with their parse: the next run that takes a text from the memo
    # takes its parse from here
    remembered = set(_text_key(text) for text in _RENDER_USED.values() if len(text) <= PARSE_CACHE_MAX_TEXT)
    entries = dict((k, _PARSE_CACHE[k][0]) for k in _DISK_CACHE['used'] | remembered
                   if k in _PARSE_CACHE and not _PARSE_CACHE[k][1] and (k not in _BUILT_KEYS or k in remembered))
    data = dict(_cache_stamp(), entries=entries)
    code = _code_stamp()
    if code is not None and _RENDER_USED:
        items = dict((k, v) for k, v in _RENDER_USED.items() if _text_key(v) in entries)
        data['rendered'] = {'code': code, 'items': items}
    _DISK_CACHE.update(used=set(), new=0)
    directory = os.path.dirname(path)
    temporary = None
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix='.parse-', suffix='.tmp', dir=directory)
        with os.fdopen(fd, 'w') as handle:
            # json.dumps, not json.dump: only the one-shot form uses the C encoder (twice as fast here)
            handle.write(json.dumps(data, separators=(',', ':')))
        os.replace(temporary, path)
        temporary = None
        files = sorted((e for e in os.scandir(directory) if e.name.endswith('.json')),
                       key=lambda e: e.stat().st_mtime)
        for entry in files[:max(0, len(files) - PARSE_CACHE_FILES)]:
            os.unlink(entry.path)
    except (OSError, ValueError, TypeError):
        return False
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    return True


def _text_key(text):
    return hashlib.sha1(text.encode('utf-8', 'surrogateescape')).hexdigest()


def _code_stamp():
    """SHA-1 of this engine's source files and the Python that runs them, or None when they cannot be read.

    What an item renders to depends on nothing else (and on crossplane, in the cache file's own stamp): a memo
    written by other code is never used.
    """
    if not _CODE:
        digest = hashlib.sha1(repr(sys.version_info[:3]).encode('ascii'))
        try:
            directory = os.path.dirname(os.path.abspath(__file__))
            for name in sorted(os.listdir(directory)):
                if name.endswith('.py'):
                    with open(os.path.join(directory, name), 'rb') as handle:
                        digest.update(name.encode('utf-8') + b'\0' + handle.read() + b'\0')
            _CODE.append(digest.hexdigest())
        except (OSError, NameError):
            _CODE.append(None)
    return _CODE[0]


def _is_plain(value):
    """True when ``value`` is made of dicts with string keys, lists, strings, numbers, booleans and None only
    (exact types, or Ansible's tagged ones, whose ``repr`` is the built-in one: ``repr`` then tells any two
    different values apart)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _PLAIN_DICTS:
            for key, inner in item.items():
                if type(key) not in _PLAIN_KEYS:
                    return False
                stack.append(inner)
        elif kind in _PLAIN_LISTS:
            stack.extend(item)
        elif kind not in _PLAIN_LEAVES:
            return False
    return True


def render_key(kind, options):
    """The memo key of an item: its kind and options exactly as given, or None (no memo) when the file of
    ``use_parse_cache`` is not in use or the options are not plain data."""
    if _DISK_CACHE['path'] is None or _code_stamp() is None or not _is_plain(options):
        return None
    return hashlib.sha1(repr((kind, options)).encode('utf-8', 'surrogateescape')).hexdigest()


def recall_rendered(key):
    """The text an item with memo key ``key`` rendered to in an earlier run of the same code, or None.

    Only a text whose parse the cache file holds too is given (the run then neither renders nor parses it); the
    rendering is a function of the item's options and this code alone (``_code_stamp``), both in the key.
    """
    text = _RENDERED.get(key) if key is not None else None
    if text is None or _text_key(text) not in _PARSE_CACHE:
        return None
    _RENDER_USED[key] = text
    return text


def keep_rendered(key, text):
    """Remember the text an item rendered to (after its round trip was checked), for the next run."""
    if key is None or _DISK_CACHE['path'] is None:
        return
    _DISK_CACHE['new'] += 1     # rendered: the memo did not give it (new, or its parse was missing)
    _RENDER_USED[key] = text


def _parse_texts(texts):
    """``{path: text}`` -> ``{path: (parsed statements, errors)}``, parsing each distinct text once."""
    result = {}
    todo = {}
    for path, text in texts.items():
        key = _text_key(text)
        if len(text) <= PARSE_CACHE_MAX_TEXT:
            _DISK_CACHE['used'].add(key)
        if key in _PARSE_CACHE:
            result[path] = _PARSE_CACHE[key]
        else:
            todo.setdefault(key, []).append(path)
    if not todo:
        return result
    root = tempfile.mkdtemp(prefix='balancer-nginx-')
    try:
        for key, paths in todo.items():
            name = os.path.join(root, key + '.conf')
            with open(name, 'wb') as handle:
                handle.write(texts[paths[0]].encode('utf-8', 'surrogateescape'))
            payload = _render.crossplane.parse(name, single=True, strict=False, check_ctx=False,
                                               check_args=False, comments=False, catch_errors=True)
            config = payload['config'][0]
            errors = [dict(e, file=paths[0]) for e in config.get('errors', [])]
            parsed = (config.get('parsed') or [], errors)
            if len(_PARSE_CACHE) >= _PARSE_CACHE_LIMIT:
                _clear_parse_cache()
            _PARSE_CACHE[key] = parsed
            if not errors:
                _DISK_CACHE['new'] += 1
            for path in paths:
                result[path] = parsed
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return result


def parse_text(text):
    """Parse one file's text; returns its statements (raises on a syntax error)."""
    parsed, errors = _parse_texts({'<text>': text})['<text>']
    if errors:
        raise ValueError(errors[0].get('error'))
    return parsed


def _segments_match(pattern, path):
    """glob(3)-like match: ``*`` does not cross ``/`` and does not match a leading dot."""
    pattern_parts = pattern.split('/')
    path_parts = path.split('/')
    if len(pattern_parts) != len(path_parts):
        return False
    for pat, part in zip(pattern_parts, path_parts):
        if pat == part:
            continue
        if part.startswith('.') and not pat.startswith('.'):
            return False
        if not fnmatch.fnmatchcase(part, pat):
            return False
    return True


def proxy_pass_host(target):
    """The host part (with any port) of a proxied URL, or ``None`` (variables, sockets, IPv6)."""
    for scheme in ('http://', 'https://'):
        if target.startswith(scheme):
            rest = target[len(scheme):]
            break
    else:
        return None
    host = rest.split('/', 1)[0]
    if '$' in host or host.startswith('unix:') or not host or host.startswith('['):
        return None
    return host


def proxy_pass_upstream(target):
    """The upstream name a proxied URL names, or ``None`` (variables, sockets).

    ``http://NAME:PORT`` still names the group (Nginx refuses it with "upstream
    may not have port" while the group exists), so it counts as a reference.
    """
    host = proxy_pass_host(target)
    return None if host is None else host.split(':', 1)[0]


class Statement(object):
    """One statement seen by the walk, with where it is and in which context."""

    __slots__ = ('directive', 'args', 'file', 'line', 'context', 'order', 'block', 'parent')

    def __init__(self, stmt, file, context, order, parent=None):
        self.parent = parent
        self.directive = stmt['directive']
        self.args = stmt.get('args', [])
        self.file = file
        self.line = stmt.get('line')
        self.context = context
        self.order = order
        self.block = stmt.get('block')

    def where(self):
        return '%s:%s' % (self.file, self.line)


class ConfigTree(object):
    """The whole configuration as Nginx would read it from ``nginx_conf``.

    ``real`` maps a file that Nginx reads through a symbolic link to the file
    it resolves to: a file included through a link counts as included.
    Upstream names are compared the way Nginx does, ignoring letter case, and
    the ``http`` and ``stream`` contexts are separate namespaces.
    """

    def __init__(self, files, nginx_conf, real=None):
        self.files = dict(files)
        self.nginx_conf = nginx_conf
        self.prefix = os.path.dirname(nginx_conf)
        self.real = dict(real or {})
        self.parsed = _parse_texts(self.files)
        self.errors = []
        self.includes = {}        # file -> [(context, Statement of the include)]
        self.upstreams = {}       # lower-case name -> [Statement] of http upstream blocks
        self.stream_upstreams = {}  # the same for the stream context
        self.proxy_passes = []    # [Statement] of the http context
        self.stream_proxy_passes = []   # [Statement] of the stream context
        self.split_values = []    # [Statement] of the buckets of the canary splits (each names a group)
        self.log_formats = {}     # name -> [Statement]
        self.access_logs = []     # [Statement]
        self.access_logs_in = {}  # file -> [Statement]: each vhost's own, without a walk over every file's
        self.servers = []         # [Statement] of http-level server blocks
        self.statements = []      # every statement in read order
        self.include_statements = []
        self._order = 0
        self._walk(nginx_conf, (), [nginx_conf], None)

    # -- includes --------------------------------------------------------
    def _resolve(self, pattern):
        if not os.path.isabs(pattern):
            pattern = os.path.join(self.prefix, pattern)
        pattern = os.path.normpath(pattern)
        if not (_GLOB_CHARS & set(pattern)):
            return [pattern] if pattern in self.files else []
        return sorted(p for p in self.files if _segments_match(pattern, p))

    def include_patterns(self):
        """Every include statement seen: ``[(absolute pattern, context, Statement)]``."""
        found = []
        for stmt in self.include_statements:
            pattern = stmt.args[0]
            if not os.path.isabs(pattern):
                pattern = os.path.join(self.prefix, pattern)
            found.append((os.path.normpath(pattern), stmt.context, stmt))
        return found

    def aliases(self, path, real=None):
        """``path`` and every file Nginx reads that resolves to the same file (``real``: its resolved path)."""
        real = real or self.real.get(path, path)
        return [path] + sorted(p for p, target in self.real.items() if target == real and p != path)

    def contexts_for(self, path, real=None):
        """Contexts in which ``path`` (or a link to it) is, or if it existed would be, included."""
        contexts = []
        names = self.aliases(path, real)
        for pattern, context, stmt in self.include_patterns():
            glob = bool(_GLOB_CHARS & set(pattern))
            if any(_segments_match(pattern, name) if glob else pattern == name for name in names):
                contexts.append((context, stmt))
        return contexts

    # -- walk ------------------------------------------------------------
    def _walk(self, path, context, stack, parent):
        parsed, errors = self.parsed.get(path, ([], []))
        self.errors.extend(errors)
        for stmt in parsed:
            self._visit(stmt, path, context, stack, parent)

    def _visit(self, raw, path, context, stack, parent):
        self._order += 1
        stmt = Statement(raw, path, context, self._order, parent)
        self.statements.append(stmt)
        directive = stmt.directive
        if directive == o.INCLUDE and stmt.args:
            self.include_statements.append(stmt)
            for included in self._resolve(stmt.args[0]):
                self.includes.setdefault(included, []).append((context, stmt))
                if included not in stack:
                    self._walk(included, context, stack + [included], parent)
        elif directive == o.UPSTREAM and stmt.args and context in ((o.HTTP,), (o.STREAM,)):
            table = self.upstreams if context == (o.HTTP,) else self.stream_upstreams
            table.setdefault(stmt.args[0].lower(), []).append(stmt)
        elif directive == o.PROXY_PASS and stmt.args and context[:1] == (o.HTTP,):
            self.proxy_passes.append(stmt)
        elif directive == o.PROXY_PASS and stmt.args and context[:1] == (o.STREAM,):
            self.stream_proxy_passes.append(stmt)
        elif context[-1:] == (o.SPLIT_CLIENTS,) and stmt.args:
            self.split_values.append(stmt)
        elif directive == o.LOG_FORMAT and stmt.args:
            self.log_formats.setdefault(stmt.args[0], []).append(stmt)
        elif directive == o.ACCESS_LOG:
            self.access_logs.append(stmt)
            self.access_logs_in.setdefault(path, []).append(stmt)
        elif directive == o.SERVER and context == (o.HTTP,) and stmt.block is not None:
            self.servers.append(stmt)
        if stmt.block is not None:
            for child in stmt.block:
                self._visit(child, path, context + (directive,), stack, stmt)

    # -- questions -------------------------------------------------------
    def references(self, name):
        """Statements that proxy to http upstream ``name``, directly or through a split (any letter case)."""
        name = name.lower()
        passes = [s for s in self.proxy_passes if (proxy_pass_upstream(s.args[0]) or '').lower() == name]
        splits = [s for s in self.split_values if _render.nginx_value(s.args[0]).lower() == name]
        return passes + splits

    def stream_references(self, name):
        """Stream proxies that pass to stream upstream ``name``."""
        name = name.lower()
        return [s for s in self.stream_proxy_passes if _render.nginx_value(s.args[0]).lower() == name]

    def upstream_definitions(self, name, context=o.HTTP):
        table = self.upstreams if context == o.HTTP else self.stream_upstreams
        return table.get(name.lower(), [])

    def log_format_users(self, name):
        """Access log statements that name log format ``name``."""
        return [s for s in self.access_logs if len(s.args) > 1 and s.args[1] == name]

    def orphaned_uses(self, kind, name):
        """Statements that use upstream or log format ``name`` although nothing defines it any more."""
        if kind == 'upstream':
            return [] if self.upstream_definitions(name) else self.references(name)
        if kind == STREAM_UPSTREAM:
            return [] if self.upstream_definitions(name, o.STREAM) else self.stream_references(name)
        return [] if self.log_formats.get(name) else self.log_format_users(name)


STREAM_UPSTREAM = 'stream_upstream'   # the kind of a group of the stream context, in checks and messages
_DIRECTIVE_OF_KIND = {'upstream': o.UPSTREAM, 'vhost': o.SERVER, 'log_format': o.LOG_FORMAT, 'map': o.MAP,
                      'split': o.SPLIT_CLIENTS, 'stream_proxy': o.SERVER, STREAM_UPSTREAM: o.UPSTREAM}


def check_http_context(tree, path, option='path', kind='upstream', real=None, context=o.HTTP):
    """The file at ``path`` (or a link to it) must be included in the ``context`` block and nowhere else."""
    contexts = tree.contexts_for(path, real)
    directory = 'conf_dir' if context == o.HTTP else o.STREAM_CONF_DIR.name
    if not contexts:
        raise InspectError(
            option,
            '%s is not included by %s, so Nginx would never read it' % (path, tree.nginx_conf),
            'write it into a directory that the %s block includes (%s), or add "include %s/*.conf;" inside %s {}'
            % (context, directory, os.path.dirname(path), context))
    for found, stmt in contexts:
        if found == (context,):
            continue
        directive = _DIRECTIVE_OF_KIND[kind]
        if found in ((o.HTTP,), (o.STREAM,)):
            # Nginx takes the block there, as one of that other context: another thing than the item describes
            why = 'where Nginx would read its %s {} as one of the %s context, not of %s' % (
                directive, found[0], context)
        else:
            why = 'where "%s" is not allowed (Nginx: "%s directive is not allowed here")' % (directive, directive)
        inside = ' > '.join(found) or 'the main context'
        raise InspectError(
            option, '%s is included inside %s at %s, %s' % (path, inside, stmt.where(), why),
            'write it into a directory included directly in %s {} (%s)' % (context, directory))


def check_unique_upstream(tree, name, path, option='name', context=o.HTTP):
    """No other file may define upstream ``name`` in the same context (http and stream are separate namespaces)."""
    for stmt in tree.upstream_definitions(name, context):
        if stmt.file not in tree.aliases(path):
            raise InspectError(
                option,
                'is already defined as an upstream in %s' % stmt.where(),
                'remove it there, or choose another name', value=name)


def check_unique_log_format(tree, name, path, option='name'):
    """No other file may define log format ``name`` (Nginx refuses a duplicate name)."""
    for stmt in tree.log_formats.get(name, []):
        if stmt.file != path:
            raise InspectError(option, 'is already defined as a log format in %s' % stmt.where(),
                               'remove it there, or choose another name', value=name)


def check_access_log_formats(tree, path, option):
    """Every access log statement in ``path`` names a format that Nginx has read before it."""
    for stmt in tree.access_logs_in.get(path, ()):
        if len(stmt.args) < 2 or stmt.args[0] == 'off':
            continue
        name = stmt.args[1]
        if name in o.BUILTIN_LOG_FORMATS or '=' in name:
            continue
        definitions = [d for d in tree.log_formats.get(name, []) if d.context == (o.HTTP,)]
        if not definitions:
            raise InspectError(option, 'is not defined as a log format in the proxy\'s configuration',
                               'define it first (balancer.nginx.log_format, or log_formats in the same site call)',
                               value=name)
        first = min(definitions, key=lambda d: d.order)
        if first.order > stmt.order:
            raise InspectError(
                option, 'is defined in %s, which Nginx reads after its use at %s' % (first.where(), stmt.where()),
                'put the log_format in a file that sorts before the vhost (log_format writes 00-log-format-NAME.conf)',
                value=name)


# What uses a definition, and how to phrase its removal: (kind label, user phrase, fix of state=absent).
_USES = {
    'upstream': ('upstream', '%s still refers to it' % o.PROXY_PASS,
                 'change those %s lines first, or set force: true' % o.PROXY_PASS),
    STREAM_UPSTREAM: ('stream upstream', 'a stream proxy still passes to it',
                      'change those stream proxies first, or set force: true'),
    'log_format': ('log format', '%s still uses it' % o.ACCESS_LOG, 'change those %s lines first' % o.ACCESS_LOG),
}


def _where(statements):
    return ', '.join(s.where() for s in statements)


def check_removal(tree, kind, name, option):
    """``state: absent`` of an upstream or log format must not orphan what still uses it."""
    users = tree.orphaned_uses(kind, name)
    if users:
        label, phrase, fix = _USES[kind]
        if kind == 'upstream':
            # a canary split's bucket names the group too: say which of the two refers to it
            used_by = sorted(set(o.SPLIT_CLIENTS if s.parent is not None and s.parent.directive == o.SPLIT_CLIENTS
                                 else s.directive for s in users))
            phrase = '%s still refers to it' % ' and '.join(used_by)
            fix = 'change those %s lines first, or set force: true' % ' and '.join(used_by)
        raise InspectError(option, 'cannot remove %s %r: %s at %s' % (label, name, phrase, _where(users)), fix,
                           value='absent')


def check_nothing_lost(tree, removed_path, removed_text, option='exclusive', context=o.HTTP):
    """Removing a file must not leave a proxied URL without its upstream or an access log without its format."""
    try:
        parsed = parse_text(removed_text)
    except ValueError:
        return
    for stmt in parsed:
        name = (stmt.get('args') or [None])[0]
        kind = stmt['directive']
        if kind == o.UPSTREAM and context == o.STREAM:
            kind = STREAM_UPSTREAM
        if kind not in _USES or not name:
            continue
        users = tree.orphaned_uses(kind, name)
        if users:
            label = _USES[kind][0]
            raise InspectError(option, 'would remove %s, which defines %s %r still used at %s'
                               % (removed_path, label, name, _where(users)),
                               'describe that %s in this call too, or set exclusive: false' % label)


def _at_line(error):
    """crossplane's error without the controller's temporary file: "... at line N"."""
    return re.sub(r' in \S+:(\d+)$', r' at line \1', error)


def check_roundtrip(text, payload):
    """Parse rendered text back and compare it with the payload it came from (ignoring lines)."""
    check_roundtrips([(text, payload)])


def remember_built(text, payload):
    """Keep the parse of ``text``, which is ``_render.build(payload)``, when it is known without parsing.

    A payload of plain tokens only reads back as itself (``_render.parsed_form``): its parse is kept under
    the text's SHA-1 like any parse, so the round-trip check, the inspection and the next run find it without
    running crossplane's lexer. Any other text is parsed when it is needed. The file of ``use_parse_cache``
    does not keep these: a later run knows them again as it renders them, before it reads the proxy's files.
    """
    form = _render.parsed_form(payload)
    if form is None or len(text) > PARSE_CACHE_MAX_TEXT:
        return
    key = _text_key(text)
    if key not in _PARSE_CACHE:
        if len(_PARSE_CACHE) >= _PARSE_CACHE_LIMIT:
            _clear_parse_cache()
        _PARSE_CACHE[key] = (form, [])
    _BUILT_KEYS.add(key)


def _clear_parse_cache():
    _PARSE_CACHE.clear()
    _BUILT_KEYS.clear()


def check_roundtrips(rendered):
    """``check_roundtrip`` for many ``(text, payload)`` pairs, parsed in one batch."""
    parsed = _parse_texts(dict((str(index), text) for index, (text, payload) in enumerate(rendered)))
    for index, (text, payload) in enumerate(rendered):
        statements, errors = parsed[str(index)]
        if errors:
            reason = _at_line(str(errors[0].get('error')))
            raise ModelError('content', 'the rendered file does not parse back (%s)' % reason,
                             'report this as a bug in balancer.nginx')
        if _render.strip_lines(statements) != _render.strip_lines(payload):
            raise ModelError('content', 'the rendered file parses back to something else than the model',
                             'report this as a bug in balancer.nginx')


# --------------------------------------------------------------------------
# config_info: the parsed active configuration as data
# --------------------------------------------------------------------------

# What the feature gates look at in a whole configuration, from the table: directives in an upstream block and
# the parameters of its server lines.
_UPSTREAM_DIRECTIVE_FEATURES = dict((opt.directive, opt.feature) for opt in o.UPSTREAM_OPTIONS.options
                                    if opt.directive and opt.feature)
_UPSTREAM_DIRECTIVE_FEATURES.update(o.METHOD.choice_features)
_SERVER_PARAM_FEATURES = dict((opt.directive, opt.feature) for opt in o.SERVER_OPTIONS.options if opt.feature)


def _looks_like_upstream_name(host):
    """A proxied host that Nginx can only find as an upstream (no port, no dot, not an address)."""
    return bool(host) and '.' not in host and ':' not in host and host != 'localhost'


def unsupported_features(tree, info, nginx_plus=False):
    """Statements of the configuration that the proxy's Nginx lacks, per the feature table."""
    from ansible_collections.balancer.nginx.plugins.module_utils._features import is_available
    found = []
    for stmt in tree.statements:
        keys = []
        if stmt.directive == o.HEALTH_CHECK:
            keys.append((o.HEALTH_CHECK, o.HEALTH_CHECK))
        in_upstream = stmt.context and stmt.context[-1] == o.UPSTREAM
        if in_upstream and stmt.directive in _UPSTREAM_DIRECTIVE_FEATURES:
            keys.append((_UPSTREAM_DIRECTIVE_FEATURES[stmt.directive], stmt.directive))
        if in_upstream and stmt.directive == o.RANDOM and any(a.startswith(o.RANDOM_LEAST_TIME) for a in stmt.args):
            keys.append(('random_least_time', o.FEATURES['random_least_time'].title))
        if in_upstream and stmt.directive == o.SERVER:
            for param in stmt.args[1:]:
                key = param.split('=', 1)[0]
                if key in _SERVER_PARAM_FEATURES:
                    keys.append((_SERVER_PARAM_FEATURES[key], '%s %s' % (o.SERVER, key)))
        for key, label in keys:
            if not is_available(key, info, nginx_plus):
                found.append({'directive': label, 'file': stmt.file, 'line': stmt.line})
    return found


def describe_config(tree, info, only_upstream=None):
    """The return values of ``config_info`` (without ``test``)."""
    def groups(table, context, references):
        found = {}
        for key in sorted(table):
            if only_upstream is not None and key != only_upstream.lower():
                continue
            stmt = table[key][0]
            name = _render.nginx_value(stmt.args[0])
            options, unknown = Upstream.read(name, stmt.block or [], context)
            options.pop(o.NAME.name)
            found[name] = {'file': stmt.file, 'line': stmt.line, 'options': options, 'unknown': unknown,
                           'references': [{'file': r.file, 'line': r.line} for r in references(name)]}
        return found

    upstreams = groups(tree.upstreams, o.HTTP, tree.references)
    stream_upstreams = groups(tree.stream_upstreams, o.STREAM, tree.stream_references)
    # Statements by the block that holds them, following includes (an include adds no block).
    children = {}
    for stmt in tree.statements:
        if stmt.parent is not None:
            children.setdefault(id(stmt.parent), []).append(stmt)

    def locations_of(block_stmt):
        found = []
        for child in children.get(id(block_stmt), []):
            if child.directive == o.LOCATION:
                passes = [c.args[0] for c in children.get(id(child), []) if c.directive == o.PROXY_PASS and c.args]
                found.append({'path': ' '.join(_render.nginx_value(a) for a in child.args),
                              o.PROXY_PASS: _render.nginx_value(passes[0]) if passes else None})
                found.extend(locations_of(child))
        return found

    vhosts = []
    for server in tree.servers:
        names, addresses = [], []
        for child in children.get(id(server), []):
            if child.directive == o.SERVER_NAME:
                names.extend(_render.nginx_value(a) for a in child.args)
            elif child.directive == o.LISTEN:
                addresses.append(' '.join(child.args))
        locations = [{'path': None, o.PROXY_PASS: _render.nginx_value(child.args[0])}
                     for child in children.get(id(server), [])
                     if child.directive == o.PROXY_PASS and child.args]
        vhosts.append({'file': server.file, 'line': server.line, o.SERVER_NAME: names, o.LISTEN: addresses,
                       'locations': locations + locations_of(server)})
    log_formats = {}
    for name in sorted(tree.log_formats):
        stmt = tree.log_formats[name][0]
        args = [_render.nginx_value(a) for a in stmt.args[1:]]
        escape = None
        if args and args[0].startswith(ESCAPE_ARG):
            escape = args.pop(0).split('=', 1)[1]
        log_formats[name] = {'file': stmt.file, 'line': stmt.line, 'format': args, 'escape': escape}
    undefined = []
    for stmt in tree.proxy_passes:
        host = proxy_pass_host(stmt.args[0])
        if _looks_like_upstream_name(host) and not tree.upstream_definitions(host):
            undefined.append({'name': host, 'file': stmt.file, 'line': stmt.line})
    return {
        'upstreams': upstreams,
        'stream_upstreams': stream_upstreams,
        'vhosts': vhosts,
        'log_formats': log_formats,
        'undefined_upstreams': undefined,
        'unsupported': unsupported_features(tree, info),
        'nginx': info.as_dict(),
    }


# --------------------------------------------------------------------------
# takeover of a hand-written file (force: true)
# --------------------------------------------------------------------------

_ITEM_DIRECTIVE = {'upstream': o.UPSTREAM, 'log_format': o.LOG_FORMAT, 'vhost': o.SERVER, 'map': o.MAP,
                   'stream_proxy': o.SERVER}


def _label(directive, args, line):
    text = ' '.join([directive] + [_render.nginx_value(a) for a in args])
    if len(text) > 60:
        text = text[:57] + '...'
    return '"%s" at line %s' % (text, line)


def _names_item(kind, name, values):
    """Whether the arguments of an item's own directive (``upstream``, ``server``, ...) name the item ``name``."""
    if kind in ('vhost', 'stream_proxy'):
        return True
    if kind == 'upstream':
        return bool(values[:1]) and values[0].lower() == name.lower()
    if kind == 'log_format':
        return values[:1] == [name]
    return kind == 'map' and values == ['$http_upgrade', UPGRADE_VARIABLE]


def unexpressed(kind, name, text):
    """What a hand-written file holds that an item of ``kind`` named ``name`` cannot express (labels)."""
    try:
        parsed = parse_text(text)
    except ValueError as exc:
        return ['a syntax error (%s)' % _at_line(str(exc))]
    lost = []
    matched = False
    for stmt in parsed:
        directive, args, line = stmt['directive'], stmt.get('args', []), stmt.get('line')
        values = [_render.nginx_value(a) for a in args]
        if kind == 'vhost' and directive == o.SPLIT_CLIENTS and not matched:
            continue    # a canary's split, which the vhost's locations express
        mine = not matched and directive == _ITEM_DIRECTIVE[kind] and _names_item(kind, name, values)
        if not mine:
            lost.append(_label(directive, args, line))
            continue
        matched = True
        block = stmt.get('block') or []
        if kind == 'upstream':
            lost.extend(_label(u['directive'], u['args'], u['line'])
                        for u in Upstream.read(name, block)[1])
        elif kind == 'map':
            # The map has no options: any entry but the two it renders would be replaced.
            lost.extend(_label(e['directive'], e.get('args', []), e.get('line')) for e in block
                        if (e['directive'], [_render.nginx_value(a) for a in e.get('args', [])])
                        not in ((o.MAP_DEFAULT, ['upgrade']), ('', [''])))
        elif kind == 'vhost':
            for child in block:
                if child['directive'] not in SERVER_STATEMENTS:
                    lost.append(_label(child['directive'], child.get('args', []), child.get('line')))
                inner = (child.get('block') or []) if child['directive'] == o.LOCATION else []
                for grandchild in inner:
                    if grandchild['directive'] not in LOCATION_STATEMENTS:
                        lost.append(_label(grandchild['directive'], grandchild.get('args', []),
                                           grandchild.get('line')))
        elif kind == 'stream_proxy':
            lost.extend(_label(c['directive'], c.get('args', []), c.get('line')) for c in block
                        if c['directive'] not in STREAM_SERVER_STATEMENTS)
    return lost


def _tls_of(children):
    """``(scheme, TLS directives)`` with which a block (given its statements) proxies."""
    passes = [s for s in children if s.directive == o.PROXY_PASS and s.args]
    scheme = passes[0].args[0].split('://', 1)[0] if passes else None
    tls = sorted((s.directive, tuple(sorted(s.args) if s.directive in _TLS_LISTS else s.args))
                 for s in children if s.directive in _TLS_DIRECTIVES)
    return scheme, tls


_TLS_DIRECTIVES = frozenset(o.BACKEND_TLS_OPTIONS.by_directive())
# directives whose arguments are a set (protocols): their order does not make another setting
_TLS_LISTS = frozenset(option.directive for option in o.BACKEND_TLS_OPTIONS.options if option.type == 'list')


def check_backend_tls(tree, written, option=None):
    """Every block that proxies to one group (directly or through a split) uses the same TLS to it.

    Nginx keeps TLS sessions to the backends per group, and resumes one
    block's session in another: a resumed session skips verification and
    the client certificate.  Checked where a file this call writes takes part
    (``written``: the paths, or a dict of path to the option a refusal names).
    """
    split_groups = {}    # a split's variable -> the groups of its buckets
    for bucket in tree.split_values:
        if bucket.parent is not None and len(bucket.parent.args) >= 2:
            split_groups.setdefault(bucket.parent.args[1].lower(), []).append(
                _render.nginx_value(bucket.args[-1]).lower())
    by_group = {}
    for stmt in tree.proxy_passes:
        if stmt.parent is None or stmt.parent.directive != o.LOCATION:
            continue
        target = stmt.args[0]
        group = (proxy_pass_upstream(target) or '').lower()
        groups = [group] if group else split_groups.get(target.split('://', 1)[-1].split('/', 1)[0].lower(), [])
        for name in groups:
            if stmt.parent not in by_group.setdefault(name, []):
                by_group[name].append(stmt.parent)
    wanted = [blocks for blocks in by_group.values() if any(block.file in written for block in blocks)]
    if not wanted:
        return
    children = {}
    for stmt in tree.statements:
        if stmt.parent is not None:
            children.setdefault(id(stmt.parent), []).append(stmt)
    for group, blocks in sorted(by_group.items()):
        if not any(block.file in written for block in blocks):
            continue
        seen = {}
        for block in blocks:
            seen.setdefault(repr(_tls_of(children.get(id(block), []))), block)
        if len(seen) > 1:
            first, second = list(seen.values())[:2]
            if isinstance(written, dict):   # path -> the option of the item that writes it
                option = written.get(first.file) or written.get(second.file) or option
            raise InspectError(option, 'gives the locations that proxy to group %r different TLS settings (%s and '
                               '%s); Nginx resumes TLS sessions per group, and a resumed session skips verification '
                               'and the client certificate' % (group, first.where(), second.where()),
                               'give every %s of that group the same %s' % (o.LOCATION, o.BACKEND_TLS.name))


def check_included_nowhere(tree, sample, option, what, fix):
    """``sample`` (the name of a copy or a staging file) must not be read by any include."""
    contexts = tree.contexts_for(sample)
    if contexts:
        stmt = contexts[0][1]
        raise InspectError(option, '%s such as %s would be read by "include %s" at %s' % (
            what, sample, stmt.args[0], stmt.where()), fix)
