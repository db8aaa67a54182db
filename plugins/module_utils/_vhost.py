# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A vhost (one virtual server that proxies to upstream groups), its paths, and the shared websocket map.

``Vhost.from_options`` validates the ``vhost`` module's options (or a ``site``
item) with the table (``_options.VHOST_OPTIONS``), then applies what the table
cannot say: how a path and its modifier are written, which host names and
header names Nginx accepts, that paths do not repeat.  ``payload`` writes
every proxied header into each path (Nginx drops inherited ones as soon as a
level sets one of its own), and HTTP/1.1 without ``Connection: close``
towards every upstream group.  Every directive name comes from the table.
Data in, data out.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional

from ansible_collections.balancer.nginx.plugins.module_utils import _options as o
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._render import Lines, directives, stmt, variable_arg
from ansible_collections.balancer.nginx.plugins.module_utils._values import (
    HEADER_NAME_RE, check_listen_values, check_printable, check_syntax, check_text, percent_text)

LOCATION_MODIFIERS = ('=', '~', '~*', '^~')
# A plain (not regex) server name: a host name, a wildcard name (*.example.com,
# www.example.*, .example.com), "_" or "" (requests without a Host header).
_SERVER_NAME_RE = re.compile(r'^[A-Za-z0-9_.*-]*$')
UPGRADE_VARIABLE = '$balancer_connection_upgrade'
WHAT_PATH = 'a %s path' % o.LOCATION
UPGRADE = 'Upgrade'
CONNECTION = 'Connection'
WEBSOCKET_MAP_ITEM = (o.MAP, 'websocket')


def headers_from(option: str, headers, example: str) -> Dict[str, str]:
    """A dict of header name to value, checked; names that differ only in letter case are one header."""
    if not isinstance(headers, dict):
        raise ModelError(option, 'must be a dict of header name to value', 'write {%s}' % example)
    clean = {}
    seen = {}
    for name in sorted(headers, key=str):
        text = str(name)
        if not HEADER_NAME_RE.match(text):
            raise ModelError(option, 'has an invalid header name', 'use letters, digits and -', value=name)
        if text.lower() in seen:
            raise ModelError('%s.%s' % (option, text), 'names the same header as %s.%s (header names ignore '
                             'letter case)' % (option, seen[text.lower()]), 'keep one of them', value=headers[name])
        seen[text.lower()] = text
        value = '' if headers[name] is None else str(headers[name])
        check_text('%s.%s' % (option, text), value, 'a header value', variables=True)
        clean[text] = value
    return clean


def location_path(option: str, raw) -> tuple:
    """``(modifier or None, path)``, written as ``/prefix``, ``@named`` or ``MODIFIER path``."""
    raw = str(raw or '/')
    check_printable(option, raw, WHAT_PATH)
    raw = raw.strip(' ')
    parts = raw.split(' ', 1)
    modifier = None
    if parts[0] in LOCATION_MODIFIERS:
        modifier, path = parts[0], (parts[1] if len(parts) == 2 else '').lstrip(' ')
        if not path:
            raise ModelError(option, 'has the modifier %s but no path or regex after it' % modifier,
                             'write e.g. "= /exact", "^~ /static/" or "~ \\.php$"', value=raw)
    else:
        path = raw
        if not path.startswith(('/', '@')):
            # Nginx would read a leading "=", "~" or "^~" glued to the path as a modifier.
            raise ModelError(option, 'must start with "/" (a prefix) or "@" (a named %s), or with a modifier '
                             'and a space' % o.LOCATION, 'write e.g. /api/, "= /exact" or "~ ^/v[0-9]+/"', value=raw)
    check_text(option, path, WHAT_PATH)
    return modifier, path


@dataclass
class Location:
    """One path of a vhost: the values of ``_options.LOCATION_OPTIONS``."""

    values: Dict[str, Any]
    modifier: Optional[str] = None
    variable: Optional[str] = None      # the split's variable, set by the vhost

    @property
    def path(self) -> str:
        return self.values[o.LOCATION_PATH.name]

    @property
    def full_path(self) -> str:
        return (self.modifier + ' ' + self.path) if self.modifier else self.path

    @property
    def upstream(self) -> Optional[str]:
        return self.values[o.LOCATION_UPSTREAM.name]

    @property
    def literal(self) -> Optional[str]:
        return self.values[o.LOCATION_PASS.name]

    @property
    def websocket(self) -> bool:
        return self.values[o.WEBSOCKET.name]

    @property
    def split(self):
        return self.values[o.SPLIT.name] or []

    @property
    def tls(self):
        return self.values[o.BACKEND_TLS.name]

    def groups(self) -> List[str]:
        """Every upstream group this path proxies to (its own, or those of its split)."""
        if self.split:
            return [item[o.SPLIT_UPSTREAM.name] for item in self.split]
        return [self.upstream] if self.upstream is not None else []

    @property
    def headers(self) -> Dict[str, str]:
        return self.values[o.HEADERS.name] or {}

    @classmethod
    def from_values(cls, values: Dict[str, Any], prefix: str) -> 'Location':
        modifier, values[o.LOCATION_PATH.name] = location_path(prefix + o.LOCATION_PATH.name,
                                                               values[o.LOCATION_PATH.name])
        literal = values[o.LOCATION_PASS.name]
        if literal is not None:
            check_syntax(prefix + o.LOCATION_PASS.name, literal, 'a URL')
            if not literal.startswith(('http://', 'https://')):
                raise ModelError(prefix + o.LOCATION_PASS.name, 'must be an http:// or https:// URL',
                                 'give e.g. http://127.0.0.1:8080', value=literal)
        _check_split(values, prefix)
        _check_tls(values, prefix)
        conditions = values[o.NEXT_UPSTREAM_OPTION.name]
        if conditions and 'off' in conditions and len(conditions) > 1:
            raise ModelError(prefix + o.NEXT_UPSTREAM_OPTION.name, 'combines off with other conditions',
                             'use off alone, or drop it')
        values[o.HEADERS.name] = headers_from(prefix + o.HEADERS.name, values[o.HEADERS.name] or {},
                                              'X-Request-Id: $request_id')
        return cls(values, modifier)

    def to_options(self) -> Dict[str, Any]:
        options = copy.deepcopy(self.values)
        options[o.LOCATION_PATH.name] = self.full_path
        return options

    def proxy_headers(self, vhost: 'Vhost'):
        """Every header this path sets on proxied requests, in a stable order.

        All of them are written in each path: Nginx drops inherited header
        lines as soon as a level sets one of its own.  Header names ignore
        letter case: a path's ``host`` replaces the vhost's ``Host``.  A path
        that proxies to an upstream group speaks HTTP/1.1 with an empty
        ``Connection`` header (so the group's connection cache works, and is
        never stale when that cache changes); a websocket path passes the
        upgrade instead.
        """
        headers = {}
        for source in (vhost.proxy_headers, self.headers):
            for name, value in source.items():
                headers[name.lower()] = (name, value)
        if self.websocket:
            headers[UPGRADE.lower()] = (UPGRADE, '$http_upgrade')
            headers[CONNECTION.lower()] = (CONNECTION, UPGRADE_VARIABLE)
        elif self.groups() and CONNECTION.lower() not in headers:
            headers[CONNECTION.lower()] = (CONNECTION, '')
        return [headers[key] for key in sorted(headers)]

    def payload(self, vhost: 'Vhost', lines: Lines):
        args = [self.modifier, self.path] if self.modifier else [self.path]
        head = stmt(lines, o.LOCATION, args, block=[])
        block = head['block']
        block.append(stmt(lines, o.PROXY_PASS, [self.target()]))
        if self.groups() or self.websocket:
            block.append(stmt(lines, o.PROXY_HTTP_VERSION, ['1.1']))
        for name, value in self.proxy_headers(vhost):
            block.append(stmt(lines, o.PROXY_SET_HEADER, [name, variable_arg(value)]))
        directives(o.LOCATION_OPTIONS, self.values, 'body', lines, block)
        if self.tls:
            directives(o.BACKEND_TLS_OPTIONS, self.tls, 'body', lines, block)
        return head

    def target(self) -> str:
        """What the proxying directive gets: the literal URL, the group, or the split's variable; https with backend_tls."""
        if self.literal:
            return self.literal
        scheme = 'https://' if self.tls else 'http://'
        return scheme + (self.variable if self.split else self.upstream)

    def split_payload(self, lines: Lines):
        """The canary split ``KEY $variable { 90% group; * group; }``: which share of requests goes to which group."""
        head = stmt(lines, o.SPLIT_CLIENTS, [self.values[o.SPLIT_KEY.name], self.variable], block=[])
        for index, item in enumerate(self.split):
            percent = item[o.SPLIT_PERCENT.name]
            last_takes_rest = percent is None and index == len(self.split) - 1
            head['block'].append(stmt(lines, '*' if last_takes_rest else percent_text(percent),
                                      [item[o.SPLIT_UPSTREAM.name]]))
        return head


def _check_split(values, prefix):
    """A split is a list of groups and shares: only the last may take the rest, and the shares fit in 100."""
    items = values[o.SPLIT.name]
    if items is None:
        return
    path = prefix + o.SPLIT.name
    if not items:
        # next to upstream or pass an empty list is not "set", so the rules of the table let it through
        raise ModelError(path, 'is empty', o.SPLIT.hint)
    for index, item in enumerate(items[:-1]):
        if item[o.SPLIT_PERCENT.name] is None:
            raise ModelError('%s[%d].%s' % (path, index, o.SPLIT_PERCENT.name),
                             'is required (only the last item may leave it out, to take the rest)',
                             'give the share of requests, e.g. 90')
    total = sum(Decimal(str(item[o.SPLIT_PERCENT.name])) for item in items if item[o.SPLIT_PERCENT.name] is not None)
    shown = percent_text(float(total))
    if total > 100:
        raise ModelError(path, 'gives %s of the requests, more than 100%%' % shown, 'lower the shares')
    if items[-1][o.SPLIT_PERCENT.name] is None:
        if total >= 100:
            raise ModelError('%s[%d]' % (path, len(items) - 1), 'would take the rest of the requests, and nothing '
                             'is left (the others take %s)' % shown, 'lower the other shares, or remove this item')
    elif total < 100:
        raise ModelError(path, 'gives only %s of the requests and no item takes the rest' % shown,
                         'leave out the last item\'s percent, so that it takes the rest')


def _check_tls(values, prefix):
    """TLS towards the backends: a name to verify and to send, a CA to verify with, an https URL."""
    tls = values[o.BACKEND_TLS.name]
    if tls is None:
        return
    path = prefix + o.BACKEND_TLS.name + '.'
    if (tls[o.TLS_VERIFY.name] or tls[o.TLS_SNI.name]) and not tls[o.TLS_NAME.name]:
        raise ModelError(path + o.TLS_NAME.name, 'is required when %s or %s is true (the group\'s name is not a DNS '
                         'name)' % (o.TLS_VERIFY.name, o.TLS_SNI.name),
                         'give the name the backends\' certificates carry, e.g. backend.internal')
    if tls[o.TLS_VERIFY.name] and not tls[o.TLS_TRUSTED.name]:
        raise ModelError(path + o.TLS_TRUSTED.name, 'is required with %s: true' % o.TLS_VERIFY.name,
                         'give the CA file that signed the backends\' certificates, or set %s: false'
                         % o.TLS_VERIFY.name)
    literal = values[o.LOCATION_PASS.name]
    if literal is not None and not literal.startswith('https://'):
        raise ModelError(prefix + o.LOCATION_PASS.name, 'is not an https:// URL, but %s asks for TLS'
                         % o.BACKEND_TLS.name, 'write https://, or remove %s' % o.BACKEND_TLS.name, value=literal)


def split_variable(vhost: str, index: int) -> str:
    """``$balancer_split_<vhost>_<index of the block>``; names that are not variable names get a digest."""
    clean = re.sub(r'[^A-Za-z0-9_]', '_', vhost)
    if clean != vhost:
        clean += '_' + hashlib.sha1(vhost.encode('utf-8')).hexdigest()[:6]
    return '$balancer_split_%s_%d' % (clean, index)


def server_names(prefix: str, given) -> List[str]:
    """The host names of a vhost: a string or a list; a plain string may hold several, a regex is one."""
    if given is None:
        return []
    names = []
    for index, item in enumerate(given):
        item = str(item)
        # A regex (~...) is one name whatever it holds; "" names requests without a Host header; other
        # strings may hold several names separated by spaces, tabs or line breaks.
        if item.startswith('~') or item == '':
            names.append(item)
            continue
        separated = item.replace('\t', ' ').replace('\r', ' ').replace('\n', ' ')
        check_printable('%s%s[%d]' % (prefix, o.SERVER_NAMES.name, index), separated, 'a server name')
        names.extend(name for name in separated.split(' ') if name)
    for index, item in enumerate(names):
        option = '%s%s[%d]' % (prefix, o.SERVER_NAMES.name, index)
        if item.startswith('~'):
            check_text(option, item, 'a server name regex')
            if len(item) == 1:
                raise ModelError(option, 'is an empty regex', 'write the expression after "~"', value=item)
        elif not _SERVER_NAME_RE.match(item):
            raise ModelError(option, 'is not a server name', 'give a host name such as www.example.com, a '
                             'wildcard name such as *.example.com, a regex starting with "~", or ""', value=item)
    return names


@dataclass
class Vhost:
    """One ``server {}``: the values of ``_options.VHOST_OPTIONS``, its locations."""

    values: Dict[str, Any]
    locations: List[Location] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.values[o.NAME.name]

    @property
    def proxy_headers(self) -> Dict[str, str]:
        return self.values[o.PROXY_HEADERS.name]

    @property
    def log(self):
        return self.values[o.VHOST_ACCESS_LOG.name]

    @classmethod
    def from_options(cls, options, prefix: str = '') -> 'Vhost':
        if isinstance(options, dict) and isinstance(options.get(o.SERVER_NAMES.name), str):
            options = dict(options, **{o.SERVER_NAMES.name: [options[o.SERVER_NAMES.name]]})
        values = o.VHOST_OPTIONS.validate(options, prefix, 'vhost options')
        values[o.SERVER_NAMES.name] = server_names(prefix, values[o.SERVER_NAMES.name])
        addresses = values[o.LISTEN_OPTION.name]
        if not addresses:
            raise ModelError(prefix + o.LISTEN_OPTION.name, 'is empty', 'give at least one address or port, e.g. 80')
        check_listen_values(prefix + o.LISTEN_OPTION.name, addresses, 'a %s address' % o.LISTEN)
        upstream, locations = values[o.VHOST_UPSTREAM.name], values[o.LOCATIONS.name]
        if values[o.STATE.name] == 'present' and upstream is None and not locations:
            raise ModelError(prefix + o.VHOST_UPSTREAM.name, 'a vhost needs exactly one of upstream and locations',
                             'set upstream (proxied at /) or list locations')
        if upstream is not None:
            locations = [o.LOCATION_OPTIONS.validate({o.LOCATION_UPSTREAM.name: upstream},
                                                     prefix + o.LOCATIONS.name + '[0].')]
        models = [Location.from_values(item, '%s%s[%d].' % (prefix, o.LOCATIONS.name, index))
                  for index, item in enumerate(locations or [])]
        for index, model in enumerate(models):
            if model.split:
                model.variable = split_variable(values[o.NAME.name], index)
        seen = {}
        for index, model in enumerate(models):
            if model.full_path in seen:
                raise ModelError('%s%s[%d].%s' % (prefix, o.LOCATIONS.name, index, o.LOCATION_PATH.name),
                                 'repeats %s[%d].%s' % (o.LOCATIONS.name, seen[model.full_path],
                                                        o.LOCATION_PATH.name),
                                 'give each one its own path', value=model.full_path)
            seen[model.full_path] = index
        values[o.PROXY_HEADERS.name] = headers_from(prefix + o.PROXY_HEADERS.name, values[o.PROXY_HEADERS.name],
                                                    'Host: $host')
        return cls(values, models)

    def to_options(self) -> Dict[str, Any]:
        options = o.compact(copy.deepcopy(self.values))
        options.pop(o.STATE.name, None)
        options.pop(o.VHOST_UPSTREAM.name, None)
        options[o.LOCATIONS.name] = [o.compact(model.to_options()) for model in self.locations]
        return options

    def statements(self):
        """The file's statements, each a ``make(lines)``: the canary splits, then the server."""
        makers = [model.split_payload for model in self.locations if model.split]
        return makers + [self.payload]

    def groups(self) -> List[str]:
        return [group for model in self.locations for group in model.groups()]

    def uses_websocket(self) -> bool:
        return any(model.websocket for model in self.locations)

    def retry_warnings(self, prefix: str = '') -> List[str]:
        return ['%s%s[%d].%s: includes non_idempotent, so POST, LOCK and PATCH requests may be sent to more than '
                'one server' % (prefix, o.LOCATIONS.name, index, o.NEXT_UPSTREAM_OPTION.name)
                for index, model in enumerate(self.locations)
                if 'non_idempotent' in (model.values[o.NEXT_UPSTREAM_OPTION.name] or [])]

    def payload(self, lines: Lines = None):
        lines = lines or Lines()
        head = stmt(lines, o.SERVER, [], block=[])
        block = head['block']
        for item in self.values[o.LISTEN_OPTION.name]:
            block.append(stmt(lines, o.LISTEN, item.split()))
        if self.values[o.SERVER_NAMES.name]:
            block.append(stmt(lines, o.SERVER_NAME, self.values[o.SERVER_NAMES.name]))
        directives(o.VHOST_OPTIONS, self.values, 'body', lines, block)
        if self.log:
            args = [self.log[o.ACCESS_LOG_PATH.name]]
            if self.log.get(o.ACCESS_LOG_FORMAT.name):
                args.append(self.log[o.ACCESS_LOG_FORMAT.name])
            block.append(stmt(lines, o.ACCESS_LOG, args))
        for model in self.locations:
            block.append(model.payload(self, lines))
        return head


def websocket_map_payload(lines: Lines = None):
    """``map $http_upgrade $balancer_connection_upgrade``: 'upgrade' for upgrades, empty otherwise.

    An empty Connection value is not sent, so plain requests keep upstream connections open.
    """
    lines = lines or Lines()
    head = stmt(lines, o.MAP, ['$http_upgrade', UPGRADE_VARIABLE], block=[])
    head['block'].append(stmt(lines, o.MAP_DEFAULT, ['upgrade']))
    head['block'].append(stmt(lines, '', ['']))
    return head


# What a take-over keeps of a hand-written server block, level by level: the vhost's own statements and the
# directives the table declares.
SERVER_STATEMENTS = frozenset([o.LISTEN, o.SERVER_NAME, o.ACCESS_LOG, o.LOCATION, *o.VHOST_OPTIONS.by_directive()])
LOCATION_STATEMENTS = frozenset([o.PROXY_PASS, o.PROXY_HTTP_VERSION, o.PROXY_SET_HEADER,
                                 *o.LOCATION_OPTIONS.by_directive(), *o.BACKEND_TLS_OPTIONS.by_directive()])
# What a take-over keeps of a hand-written stream proxy.
STREAM_SERVER_STATEMENTS = frozenset([o.LISTEN, o.PROXY_PASS] + list(o.STREAM_PROXY_OPTIONS.by_directive()))
