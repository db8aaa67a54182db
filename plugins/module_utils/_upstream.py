# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An upstream group and its servers: the table's values, Nginx's own rules, the payload and the inverse read.

``Upstream.from_options`` validates the ``upstream`` module's options (or a
``site`` item) with the table (``_options.UPSTREAM_OPTIONS``), then applies
what only Nginx knows: a group needs a server, a spare server cannot go with
a hashing method (Nginx rejects it or silently drops it, depending on the
order of the lines), re-resolving needs shared memory and a host name, a
pick of two takes only some response-time modes.  ``Upstream.read`` reads
a parsed block back into the same options, with what they cannot express.
Every option and directive name comes from the table.  Data in, data out.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from ansible_collections.balancer.nginx.plugins.module_utils import _features, _options as o
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._render import (
    Lines, directives, nginx_value, stmt, variable_arg)


@dataclass
class Server:
    """One server line: the values of ``_options.SERVER_OPTIONS``."""

    values: Dict[str, Any]

    @property
    def address(self) -> str:
        return self.values[o.ADDRESS.name]

    def is_set(self, option: o.Option) -> bool:
        return option.is_set(self.values[option.name])

    def args(self) -> List[str]:
        args = [self.address]
        for option in o.SERVER_OPTIONS.options:
            if option.render in (o.PARAM, o.FLAG) and self.is_set(option):
                args.append(option.param(self.values[option.name]))
        return args

    def to_options(self) -> Dict[str, Any]:
        return o.compact(copy.deepcopy(self.values))


@dataclass
class Upstream:
    """An ``upstream NAME {}`` group, validated."""

    values: Dict[str, Any]
    servers: List[Server] = field(default_factory=list)
    context: str = o.HTTP

    @property
    def name(self) -> str:
        return self.values[o.NAME.name]

    @property
    def method(self) -> str:
        return self.values[o.METHOD.name]

    def get(self, option: o.Option):
        return self.values[option.name]

    @classmethod
    def from_options(cls, options, prefix: str = '') -> 'Upstream':
        """Validate the options of one group; ``prefix`` starts every option path (``upstreams[2].``).

        The group's ``context`` (http or stream) decides which options and methods exist.
        """
        context = o.HTTP
        if isinstance(options, dict) and options.get(o.CONTEXT.name) is not None:
            context = o.coerce(o.CONTEXT, options[o.CONTEXT.name], prefix + o.CONTEXT.name)
        values = o.UPSTREAM_OPTIONS.validate(options, prefix, 'upstream options', context)
        servers = [Server(item) for item in values[o.SERVERS.name] or []]
        upstream = cls(values, servers, context)
        upstream._nginx_rules(prefix)
        return upstream

    def _nginx_rules(self, prefix):
        method = self.method
        if not self.servers and self.get(o.STATE) != 'absent':
            raise ModelError(prefix + o.SERVERS.name, 'is empty: an upstream needs at least one server',
                             'add a server, or use state: absent to remove the group')
        key = self.get(o.HASH_KEY)
        if key is not None and not key.strip():
            if method == o.HASH:
                raise ModelError(prefix + o.HASH_KEY.name, 'is required with %s=%s' % (o.METHOD.name, o.HASH),
                                 o.HASH_KEY.hint)
            self.values[o.HASH_KEY.name] = None
        mode = self.get(o.LEAST_TIME)
        if mode is not None and method == o.RANDOM:
            if not self.get(o.RANDOM_TWO_OPTION):
                raise ModelError(prefix + o.LEAST_TIME.name, 'applies to %s=%s only with %s' % (
                    o.METHOD.name, o.RANDOM, o.RANDOM_TWO_OPTION.name), 'set %s: true, or remove %s'
                    % (o.RANDOM_TWO_OPTION.name, o.LEAST_TIME.name), value=mode)
            if mode not in o.RANDOM_LEAST_TIME_MODES:
                raise ModelError(prefix + o.LEAST_TIME.name, 'must be %s with %s=%s' % (
                    ' or '.join(o.RANDOM_LEAST_TIME_MODES), o.METHOD.name, o.RANDOM),
                    'use %s' % ' or '.join(o.RANDOM_LEAST_TIME_MODES), value=mode)
        for index, server in enumerate(self.servers):
            path = '%s%s[%d].' % (prefix, o.SERVERS.name, index)
            if method in o.NO_BACKUP_METHODS and server.is_set(o.BACKUP):
                raise ModelError(
                    path + o.BACKUP.name,
                    'is not allowed with %s=%s (Nginx rejects it or silently ignores it, depending on the order of '
                    'the lines)' % (o.METHOD.name, method),
                    'remove %s from the server, or use %s %s' % (
                        o.BACKUP.name, o.METHOD.name, ' or '.join(o.BACKUP_METHODS)))
            if server.is_set(o.RESOLVE):
                if self.get(o.ZONE) is None:
                    raise ModelError(path + o.RESOLVE.name, 'needs the group in a shared memory %s' % o.ZONE.name,
                                     'set %s, e.g. %s: "%s 64k"' % (o.ZONE.name, o.ZONE.name, self.name))
                if server.address.startswith('unix:'):
                    raise ModelError(path + o.RESOLVE.name, 'cannot apply to a unix socket',
                                     'remove %s from this server' % o.RESOLVE.name)

    # -- the proxy's Nginx --------------------------------------------------
    def features(self, prefix: str = '') -> List[Tuple[str, str]]:
        """(FEATURES key, option path) pairs this group uses, for the version gate."""
        used = o.UPSTREAM_OPTIONS.features(self.values, prefix)
        if self.method == o.RANDOM and self.get(o.LEAST_TIME):
            used.append(('random_least_time', prefix + o.LEAST_TIME.name))
        return used

    def check_features(self, info, nginx_plus: bool = False, prefix: str = '') -> None:
        """Refuse what the proxy's Nginx (``info``: NginxInfo) lacks."""
        for key, option in self.features(prefix):
            _features.require(key, option, info, nginx_plus)

    # -- options, payload ---------------------------------------------------
    def statements(self):
        """The file's statements, each a ``make(lines)``."""
        return [self.payload]

    def to_options(self) -> Dict[str, Any]:
        """The normalized ``upstream`` module options (``name`` included, ``state`` not)."""
        options = o.compact(copy.deepcopy(self.values))
        options.pop(o.STATE.name, None)
        options[o.SERVERS.name] = [server.to_options() for server in self.servers]
        return options

    def method_statement(self):
        """``(directive, args)`` of the balancing method, or None for round robin."""
        method = self.method
        if method == o.ROUND_ROBIN:
            return None
        if method == o.HASH:
            return method, [variable_arg(self.get(o.HASH_KEY))] + ([o.HASH_CONSISTENT] if self.get(o.CONSISTENT)
                                                                   else [])
        if method == o.RANDOM:
            args = [o.RANDOM_TWO] if self.get(o.RANDOM_TWO_OPTION) else []
            if self.get(o.LEAST_TIME):
                args.append(o.RANDOM_LEAST_TIME + self.get(o.LEAST_TIME).replace(' ', '_'))
            return method, args
        if method == o.LEAST_TIME_METHOD:
            return method, self.get(o.LEAST_TIME).split(' ')
        return method, []

    def payload(self, lines: Lines = None):
        """The ``upstream NAME { ... }`` statement.

        Order matters to Nginx: the balancing method comes before the servers
        (so that a misplaced spare server is rejected instead of dropped) and
        before the connection cache (which must follow the method it wraps);
        each option's ``place`` in the table says where it goes.
        """
        lines = lines or Lines()
        head = stmt(lines, o.UPSTREAM, [self.name], block=[])
        block = head['block']
        _render_directives(self, 'head', lines, block)
        method = self.method_statement()
        if method is not None:
            block.append(stmt(lines, *method))
        _render_directives(self, 'method', lines, block)
        for server in self.servers:
            block.append(stmt(lines, o.SERVER, server.args()))
        _render_directives(self, 'tail', lines, block)
        if self.get(o.QUEUE) is not None:
            timeout = self.get(o.QUEUE_TIMEOUT)
            block.append(stmt(lines, o.QUEUE.directive, [self.get(o.QUEUE)] + (
                [o.QUEUE_TIMEOUT_ARG + timeout] if timeout else [])))
        return head

    # -- the inverse read ---------------------------------------------------
    @staticmethod
    def read(name: str, block, context: str = o.HTTP) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
        """A parsed ``upstream`` block back into the module's options: ``(options, unknown)``.

        ``unknown`` lists ``{directive, args, line}`` of what the options cannot
        express (a server parameter they lack comes as its ``server`` line's
        address and that parameter; an ``include`` inside the group is one of them).
        """
        values = o.UPSTREAM_OPTIONS.defaults()
        values[o.NAME.name] = name
        values[o.CONTEXT.name] = context
        values[o.SERVERS.name] = []
        simple = o.UPSTREAM_OPTIONS.by_directive()
        unknown = []
        for statement in block:
            directive, line = statement['directive'], statement.get('line')
            args = [nginx_value(arg) for arg in statement.get('args', [])]
            try:
                if directive == '#':
                    continue
                if directive == o.SERVER and args:
                    values[o.SERVERS.name].append(_read_server(args, line, unknown))
                elif directive in o.METHOD_DIRECTIVES:
                    _read_method(values, directive, args)
                elif directive == o.QUEUE.directive and args:
                    values[o.QUEUE.name] = o.QUEUE.read(args[:1])
                    for arg in args[1:]:
                        if not arg.startswith(o.QUEUE_TIMEOUT_ARG):
                            raise ValueError(arg)
                        values[o.QUEUE_TIMEOUT.name] = arg[len(o.QUEUE_TIMEOUT_ARG):]
                elif directive in simple:
                    values[simple[directive].name] = simple[directive].read(args)
                else:
                    raise ValueError(directive)
            except ValueError:
                unknown.append({'directive': directive, 'args': args, 'line': line})
        values.pop(o.STATE.name)
        return o.compact(values), unknown


def _render_directives(upstream, place, lines, block):
    directives(o.UPSTREAM_OPTIONS, upstream.values, place, lines, block)


def _read_server(args, line, unknown):
    server = o.SERVER_OPTIONS.defaults()
    server[o.ADDRESS.name] = args[0]
    for param in args[1:]:
        for option in o.SERVER_OPTIONS.options:
            try:
                value = option.read_param(param) if option.render in (o.PARAM, o.FLAG) else None
            except ValueError:
                value = param.partition('=')[2]
            if value is not None:
                server[option.name] = value
                break
        else:
            unknown.append({'directive': o.SERVER, 'args': [args[0], param], 'line': line})
    return o.compact(server)


def _read_method(values, directive, args):
    values[o.METHOD.name] = directive
    if directive == o.HASH:
        if not args or any(arg != o.HASH_CONSISTENT for arg in args[1:]):
            raise ValueError(directive)
        values[o.HASH_KEY.name] = args[0]
        values[o.CONSISTENT.name] = len(args) > 1
    elif directive == o.RANDOM:
        for arg in args:
            if arg == o.RANDOM_TWO:
                values[o.RANDOM_TWO_OPTION.name] = True
            elif arg.startswith(o.RANDOM_LEAST_TIME):
                values[o.LEAST_TIME.name] = arg[len(o.RANDOM_LEAST_TIME):].replace('_inflight', ' inflight')
            else:
                raise ValueError(arg)
    elif directive == o.LEAST_TIME_METHOD:
        if not args:
            raise ValueError(directive)
        values[o.LEAST_TIME.name] = ' '.join(args)
    elif args:
        raise ValueError(directive)
