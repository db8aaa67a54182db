# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Model -> crossplane payload -> text, and parsed block -> model options.

Rendering never pastes strings: it builds crossplane's payload (``directive``,
``args``, ``line``, optional ``block``) and lets ``crossplane.build`` write and
quote.  Same model, same bytes.  ``upstream_options_from_block`` is the
inverse used to read hand-written groups back into the module's options.
Controller side only (crossplane).
"""

from __future__ import annotations

import re
import traceback

try:
    import crossplane
    HAS_CROSSPLANE = True
    CROSSPLANE_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the shells
    crossplane = None
    HAS_CROSSPLANE = False
    CROSSPLANE_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.balancer.nginx.plugins.module_utils._nginx import ITEM_LINE, MANAGED_HEADER

HEADER = MANAGED_HEADER[1:]  # crossplane writes '#' + comment

# Server parameters in the order they are written.
_SERVER_VALUE_PARAMS = ('weight', 'max_conns', 'max_fails', 'fail_timeout', 'slow_start', 'route')
_SERVER_FLAG_PARAMS = ('backup', 'down', 'drain', 'resolve')


class _Lines(object):
    """Hands out increasing line numbers (crossplane glues a comment to a statement on the same line)."""

    def __init__(self, start=1):
        self.value = start - 1

    def next(self):
        self.value += 1
        return self.value


# Nginx reads a backslash in any argument, quoted or not, as an escape when it
# comes before one of these (\t, \r and \n become control characters) or ends
# the argument; before any other character it is kept.
_NGINX_ESCAPE_RE = re.compile(r'\\(?=["\'\\trn]|$)')
_NGINX_UNESCAPE_RE = re.compile(r'\\(["\'\\trn])')
_UNESCAPED = {'t': '\t', 'r': '\r', 'n': '\n'}


def nginx_arg(value):
    """The argument text that makes Nginx read exactly ``value``: each backslash it would take as an escape is doubled.

    crossplane quotes what needs quoting; together the characters a user
    writes are the characters Nginx passes on (the model refuses control and
    invisible characters, which no quoting can carry).
    """
    return _NGINX_ESCAPE_RE.sub(r'\\\\', value) if '\\' in value else value


def nginx_value(token):
    """What Nginx reads from an argument as crossplane parsed it: its escapes applied (the inverse of nginx_arg)."""
    if '\\' not in token:
        return token
    return _NGINX_UNESCAPE_RE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), token)


_TRAILING_BRACED_VARIABLE = re.compile(r'\$\{([A-Za-z0-9_]+)\}$')


def variable_arg(value):
    """An argument in which Nginx expands variables: a trailing ``${name}`` written as ``$name``.

    Both mean the same to Nginx (the braces only end the name, and nothing
    follows); crossplane, which inspects the configuration, misreads an
    unquoted argument that ends in ``}`` after ``${``.
    """
    return _TRAILING_BRACED_VARIABLE.sub(r'$\1', value) if value.endswith('}') else value


def _stmt(lines, directive, args=(), block=None):
    stmt = {'directive': directive, 'args': [nginx_arg(str(a)) for a in args], 'line': lines.next()}
    if block is not None:
        stmt['block'] = block
    return stmt


def header_payload(lines):
    return {'directive': '#', 'args': [], 'line': lines.next(), 'comment': HEADER}


def item_payload(lines, kind, name):
    """The second line of a managed file: which item it holds (two items never share a file)."""
    return {'directive': '#', 'args': [], 'line': lines.next(), 'comment': (ITEM_LINE % (kind, name))[1:]}


def server_args(server):
    args = [server.address]
    for key in _SERVER_VALUE_PARAMS:
        value = getattr(server, key)
        if value is not None:
            args.append('%s=%s' % (key, value))
    for key in _SERVER_FLAG_PARAMS:
        if getattr(server, key):
            args.append(key)
    return args


def method_args(upstream):
    """The balancing directive (or None for round robin)."""
    method = upstream.method
    if method == 'round_robin':
        return None
    if method in ('least_conn', 'ip_hash'):
        return method, []
    if method == 'hash':
        return 'hash', [variable_arg(upstream.hash_key)] + (['consistent'] if upstream.consistent else [])
    if method == 'random':
        args = ['two'] if upstream.random_two else []
        if upstream.least_time:
            args.append('least_time=' + upstream.least_time.replace(' ', '_'))
        return 'random', args
    return 'least_time', upstream.least_time.split(' ')


def upstream_payload(upstream, lines=None):
    """The ``upstream NAME { ... }`` statement for a model.

    Order matters to Nginx: the balancing method comes before the servers (so
    that a misplaced ``backup`` is rejected instead of dropped) and before
    ``keepalive`` (which must follow the method it wraps).
    """
    lines = lines or _Lines()
    head = _stmt(lines, 'upstream', [upstream.name], block=[])
    block = head['block']
    if upstream.zone is not None:
        block.append(_stmt(lines, 'zone', upstream.zone.split(' ')))
    if upstream.resolver is not None:
        block.append(_stmt(lines, 'resolver', upstream.resolver))
    if upstream.resolver_timeout is not None:
        block.append(_stmt(lines, 'resolver_timeout', [upstream.resolver_timeout]))
    method = method_args(upstream)
    if method is not None:
        block.append(_stmt(lines, method[0], method[1]))
    if upstream.sticky is not None:
        block.append(_stmt(lines, 'sticky', upstream.sticky))
    for server in upstream.servers:
        block.append(_stmt(lines, 'server', server_args(server)))
    if upstream.keepalive is not None:
        block.append(_stmt(lines, 'keepalive', [upstream.keepalive]))
    for key in ('keepalive_requests', 'keepalive_time', 'keepalive_timeout'):
        value = getattr(upstream, key)
        if value is not None:
            block.append(_stmt(lines, key, [value]))
    if upstream.ntlm:
        block.append(_stmt(lines, 'ntlm'))
    if upstream.queue is not None:
        args = [upstream.queue] + (['timeout=' + upstream.queue_timeout] if upstream.queue_timeout else [])
        block.append(_stmt(lines, 'queue', args))
    return head


def file_payload(statements, item=None):
    """Header comment (and the item line: ``(kind, name)``) plus statements, renumbered from line 1."""
    lines = _Lines()
    payload = [header_payload(lines)]
    if item is not None:
        payload.append(item_payload(lines, *item))
    for make in statements:
        payload.append(make(lines))
    return payload


def build(payload):
    """Payload -> text: crossplane.build with the project's settings, one final newline."""
    return crossplane.build(payload, indent=4, tabs=False, header=False) + '\n'


def render_upstream(upstream):
    """Text of the file that holds one upstream group."""
    return build(file_payload([lambda lines: upstream_payload(upstream, lines)], ('upstream', upstream.name)))


def strip_lines(payload):
    """A payload without line numbers (and without comments), for comparisons."""
    result = []
    for stmt in payload:
        if stmt['directive'] == '#':
            continue
        item = {'directive': stmt['directive'], 'args': list(stmt.get('args', []))}
        if 'block' in stmt and stmt['block'] is not None:
            item['block'] = strip_lines(stmt['block'])
        result.append(item)
    return result


def upstream_options_from_block(name, block):
    """Read a parsed ``upstream`` block back into the ``upstream`` module's options.

    Returns ``(options, unknown)``: ``unknown`` lists ``{directive, args,
    line}`` of what the options cannot express (a server parameter they lack
    comes as its ``server`` line's address and that parameter; an ``include``
    inside the group is one of them).
    """
    options = {'name': name, 'method': 'round_robin', 'hash_key': None, 'consistent': False,
               'random_two': False, 'least_time': None, 'servers': [], 'keepalive': None,
               'keepalive_requests': None, 'keepalive_time': None, 'keepalive_timeout': None, 'zone': None,
               'resolver': None, 'resolver_timeout': None, 'sticky': None, 'ntlm': False, 'queue': None,
               'queue_timeout': None}
    unknown = []
    for stmt in block:
        directive, line = stmt['directive'], stmt.get('line')
        args = [nginx_value(arg) for arg in stmt.get('args', [])]
        if directive == 'server' and args:
            server = {'address': args[0], 'weight': None, 'max_fails': None, 'fail_timeout': None,
                      'max_conns': None, 'backup': False, 'down': False, 'resolve': False,
                      'slow_start': None, 'route': None, 'drain': False}
            for param in args[1:]:
                key, sep, value = param.partition('=')
                if sep and key in ('weight', 'max_fails', 'max_conns'):
                    server[key] = int(value) if value.isdigit() else value
                elif sep and key in ('fail_timeout', 'slow_start', 'route'):
                    server[key] = value
                elif not sep and key in _SERVER_FLAG_PARAMS:
                    server[key] = True
                else:
                    unknown.append({'directive': 'server', 'args': [args[0], param], 'line': line})
            options['servers'].append(_compact(server))
        elif directive in ('least_conn', 'ip_hash') and not args:
            options['method'] = directive
        elif directive == 'hash' and args:
            options['method'] = 'hash'
            options['hash_key'] = args[0]
            options['consistent'] = 'consistent' in args[1:]
        elif directive == 'random':
            options['method'] = 'random'
            options['random_two'] = 'two' in args
            for arg in args:
                if arg.startswith('least_time='):
                    options['least_time'] = arg.split('=', 1)[1].replace('_inflight', ' inflight')
        elif directive == 'least_time' and args:
            options['method'] = 'least_time'
            options['least_time'] = ' '.join(args)
        elif directive == 'keepalive' and len(args) == 1:
            options['keepalive'] = int(args[0]) if args[0].isdigit() else args[0]
        elif directive == 'keepalive_requests' and len(args) == 1:
            options['keepalive_requests'] = int(args[0]) if args[0].isdigit() else args[0]
        elif directive in ('keepalive_time', 'keepalive_timeout', 'resolver_timeout') and len(args) == 1:
            options[directive] = args[0]
        elif directive == 'zone' and args:
            options['zone'] = ' '.join(args)
        elif directive == 'resolver' and args:
            options['resolver'] = list(args)
        elif directive == 'sticky' and args:
            options['sticky'] = list(args)
        elif directive == 'ntlm':
            options['ntlm'] = True
        elif directive == 'queue' and args:
            options['queue'] = int(args[0]) if args[0].isdigit() else args[0]
            for arg in args[1:]:
                if arg.startswith('timeout='):
                    options['queue_timeout'] = arg.split('=', 1)[1]
        elif directive == '#':
            continue
        else:
            unknown.append({'directive': directive, 'args': args, 'line': line})
    return _compact(options), unknown


def _compact(options):
    return dict((key, value) for key, value in options.items() if value is not None)


# --------------------------------------------------------------------------
# log formats, vhosts and the shared websocket map
# --------------------------------------------------------------------------

UPGRADE_VARIABLE = '$balancer_connection_upgrade'


def log_format_payload(log_format, lines=None):
    lines = lines or _Lines()
    args = [log_format.name]
    if log_format.escape:
        args.append('escape=' + log_format.escape)
    return _stmt(lines, 'log_format', args + [variable_arg(part) for part in log_format.format])


def render_log_format(log_format):
    return build(file_payload([lambda lines: log_format_payload(log_format, lines)], ('log_format', log_format.name)))


def websocket_map_payload(lines=None):
    """``map $http_upgrade $balancer_connection_upgrade``: 'upgrade' for upgrades, empty otherwise.

    An empty Connection value is not sent, so plain requests keep upstream keepalive.
    """
    lines = lines or _Lines()
    head = _stmt(lines, 'map', ['$http_upgrade', UPGRADE_VARIABLE], block=[])
    head['block'].append(_stmt(lines, 'default', ['upgrade']))
    head['block'].append(_stmt(lines, '', ['']))
    return head


WEBSOCKET_MAP_ITEM = ('map', 'websocket')


def render_websocket_map():
    return build(file_payload([websocket_map_payload], WEBSOCKET_MAP_ITEM))


def location_headers(vhost, location):
    """Every ``proxy_set_header`` of a location, in a stable order.

    All of them are written in each location: Nginx drops inherited
    ``proxy_set_header`` lines as soon as a level sets one of its own.  Header
    names ignore letter case: a location's ``host`` replaces the vhost's
    ``Host``.  A location that proxies to an upstream group speaks HTTP/1.1
    with an empty ``Connection`` header (so the group's keepalive works, and
    is never stale when keepalive changes); a websocket location passes the
    upgrade instead.
    """
    headers = {}
    for source in (vhost.proxy_headers, location.headers or {}):
        for name, value in source.items():
            headers[name.lower()] = (name, value)
    if location.websocket:
        headers['upgrade'] = ('Upgrade', '$http_upgrade')
        headers['connection'] = ('Connection', UPGRADE_VARIABLE)
    elif location.upstream is not None and 'connection' not in headers:
        headers['connection'] = ('Connection', '')
    return [headers[key] for key in sorted(headers)]


def location_payload(vhost, location, lines):
    args = [location.modifier, location.path] if location.modifier else [location.path]
    head = _stmt(lines, 'location', args, block=[])
    block = head['block']
    target = location.__getattribute__('pass') or 'http://' + location.upstream
    block.append(_stmt(lines, 'proxy_pass', [target]))
    if location.upstream is not None or location.websocket:
        block.append(_stmt(lines, 'proxy_http_version', ['1.1']))
    for name, value in location_headers(vhost, location):
        block.append(_stmt(lines, 'proxy_set_header', [name, variable_arg(value)]))
    if location.next_upstream:
        block.append(_stmt(lines, 'proxy_next_upstream', location.next_upstream))
    for key in ('next_upstream_tries', 'next_upstream_timeout', 'connect_timeout', 'read_timeout', 'send_timeout'):
        value = getattr(location, key)
        if value is not None:
            block.append(_stmt(lines, 'proxy_' + key, [value]))
    return head


def vhost_payload(vhost, lines=None):
    lines = lines or _Lines()
    head = _stmt(lines, 'server', [], block=[])
    block = head['block']
    for item in vhost.listen:
        block.append(_stmt(lines, 'listen', item.split()))
    if vhost.server_name:
        block.append(_stmt(lines, 'server_name', vhost.server_name))
    if vhost.ssl_certificate:
        block.append(_stmt(lines, 'ssl_certificate', [vhost.ssl_certificate]))
        block.append(_stmt(lines, 'ssl_certificate_key', [vhost.ssl_certificate_key]))
    if vhost.access_log:
        args = [vhost.access_log['path']]
        if vhost.access_log.get('format'):
            args.append(vhost.access_log['format'])
        block.append(_stmt(lines, 'access_log', args))
    for location in vhost.locations:
        block.append(location_payload(vhost, location, lines))
    return head


def render_vhost(vhost):
    return build(file_payload([lambda lines: vhost_payload(vhost, lines)], ('vhost', vhost.name)))
