# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The typed model: an upstream group and its servers.

``Upstream.from_options`` takes the ``upstream`` module's options (as Ansible
normalized them, or a plain dict with keys left out) and either returns a
validated model or raises :class:`ModelError` naming the option path, the
value, the rule and the fix.  Every rule Nginx itself would reject, and every
rule the guide warns about, lives here once.  Data in, data out: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils import _features

METHODS = ('round_robin', 'least_conn', 'ip_hash', 'hash', 'random', 'least_time')
NO_BACKUP_METHODS = ('ip_hash', 'hash', 'random')
LEAST_TIME_MODES = ('header', 'last_byte', 'header inflight', 'last_byte inflight')

# Characters that would end an argument, open or close a block, start a
# comment or a quoted string: Nginx syntax smuggled into a value.
SYNTAX_CHARS = frozenset(';{}"\'#\\`')

_NAME_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
_HOST_RE = re.compile(r'^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?(:(\d{1,5}))?$')
_V6_RE = re.compile(r'^\[[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?\](:(\d{1,5}))?$')
_UNIX_RE = re.compile(r'^unix:/[^\s]+$')
_TIME_RE = re.compile(r'^(\d+(ms|[smhdwMy])?)$|^(\d+(ms|[smhdwMy]))+$')
_SIZE_RE = re.compile(r'^\d+[kKmM]?$')
_ROUTE_RE = re.compile(r'^[A-Za-z0-9_.-]{1,64}$')

SERVER_KEYS = ('address', 'weight', 'max_fails', 'fail_timeout', 'max_conns', 'backup', 'down',
               'resolve', 'slow_start', 'route', 'drain')
UPSTREAM_KEYS = ('name', 'method', 'hash_key', 'consistent', 'random_two', 'least_time', 'servers',
                 'keepalive', 'keepalive_requests', 'keepalive_time', 'keepalive_timeout', 'zone',
                 'resolver', 'resolver_timeout', 'sticky', 'ntlm', 'queue', 'queue_timeout')
_FLAGS = ('backup', 'down', 'resolve', 'drain')


# Unicode gives control characters no name; these are the ones people meet.
_CONTROL_NAMES = {'\x00': 'NUL', '\t': 'TAB', '\n': 'LF', '\x0b': 'VT', '\x0c': 'FF', '\r': 'CR', '\x1b': 'ESC',
                  '\x7f': 'DEL'}


def describe_char(char):
    """``U+00A0 (NO-BREAK SPACE)``: a character named so that a message shows what cannot be seen."""
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, '')
    return 'U+%04X' % ord(char) + (' (%s)' % name if name else '')


def check_printable(option, value, what):
    """Refuse what Nginx would turn into, or what cannot be written as, the characters the user typed.

    Control characters (CR, LF, TAB, NUL, ...) would reach requests, responses
    or log lines; invisible and non-printing Unicode (NBSP, U+2028, zero-width
    characters, ...) cannot be written into a quoted argument literally.  Both
    are refused, naming the option and the character.
    """
    for char in value:
        if char.isprintable():
            continue
        code = ord(char)
        if char in '\n\r':
            raise ModelError(option, 'contains a line break (%s), which Nginx would pass on into requests and log '
                             'lines' % describe_char(char),
                             'split it into a list of strings instead' if what == 'a log format' else 'remove it',
                             value=value)
        if code < 32 or 127 <= code < 160:
            raise ModelError(option, 'contains the control character %s, which Nginx would pass on into requests '
                             'and log lines' % describe_char(char), 'remove it', value=value)
        raise ModelError(option, 'contains the invisible character %s, which cannot be written into %s literally'
                         % (describe_char(char), what), 'remove it, or use a plain space', value=value)


def check_syntax(option, value, what, allow_space=False):
    """A value Nginx reads as one bare word (a name, an address, a time): no syntax, no white space."""
    for char in value:
        if char in SYNTAX_CHARS or (char in ' \t\r\n\f\v' and not (allow_space and char == ' ')):
            raise ModelError(
                option,
                'contains %r, which Nginx would read as syntax, not as part of %s' % (char, what),
                'remove it', value=value)
    check_printable(option, value, what)


_VARIABLE_RE = re.compile(r'\$(?:\{[A-Za-z0-9_]+\}|[A-Za-z0-9_]+)')


def check_text(option, value, what, variables=False):
    """Free text that the renderer quotes and escapes (a header value, a log format, a regex).

    Any printable character is kept literally: quotes, semicolons, braces
    and backslashes included (the renderer doubles a backslash that Nginx
    would read as an escape).  Refused: control and invisible characters, a
    leading "#" (crossplane leaves it unquoted and Nginx would read a
    comment) and, where Nginx compiles variables (``variables``), a "$" that
    does not start one.
    """
    check_printable(option, value, what)
    if value.startswith('#'):
        raise ModelError(option, 'starts with "#", which Nginx would read as the start of a comment',
                         'remove the leading "#"', value=value)
    if variables:
        rest = _VARIABLE_RE.sub('', value)
        if '$' in rest:
            raise ModelError(option, 'has a "$" that does not start a variable ($name or ${name}); Nginx has no '
                             'way to write a literal "$" in %s' % what, 'remove it, or complete the variable name',
                             value=value)
    elif '${' in value:
        # Nothing expands variables here, and crossplane (which inspects the configuration) misreads "${...}"
        # at the end of an unquoted argument.
        raise ModelError(option, 'contains "${", which is no variable in %s and which the configuration '
                         'parser misreads' % what, 'remove the braces', value=value)


def check_name(option, value):
    if not isinstance(value, str) or not value:
        raise ModelError(option, 'is required and must be a non-empty string',
                         'give a name such as backend_pool')
    check_syntax(option, value, 'a name')
    if not _NAME_RE.match(value):
        raise ModelError(option, 'is not a valid name (letters, digits, "_", "-" and "." only, '
                         'at most 128, not starting with "-" or ".")',
                         'rename it, e.g. backend_pool', value=value)


def check_address(option, value):
    if not isinstance(value, str) or not value:
        raise ModelError(option, 'is required', 'give host:port, [v6]:port or unix:/path')
    check_syntax(option, value, 'an address')
    if value.startswith('unix:'):
        if _UNIX_RE.match(value):
            return
        raise ModelError(option, 'is not a valid unix socket address',
                         'give an absolute path such as unix:/run/app.sock', value=value)
    match = _V6_RE.match(value) or _HOST_RE.match(value)
    if not match:
        raise ModelError(option, 'is not an address Nginx accepts in an upstream',
                         'give host:port, [v6]:port or unix:/path (no scheme, no path)', value=value)
    port = match.group(match.re.groups)
    if port is not None and not 1 <= int(port) <= 65535:
        raise ModelError(option, 'has port %s outside 1-65535' % port, 'use a port from 1 to 65535',
                         value=value)


def as_time(option, value):
    """Nginx time value (``10``, ``30s``, ``1m30s``, ``500ms``) as a string."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ModelError(option, 'must be a time such as 10s', 'give a number of seconds or 10s, 1m, 500ms',
                         value=value)
    text = str(value)
    check_syntax(option, text, 'a time')
    if not _TIME_RE.match(text):
        raise ModelError(option, 'is not an Nginx time', 'give a value such as 10s, 1m, 500ms or 1m30s',
                         value=value)
    return text


def as_int(option, value, minimum, maximum=None):
    if value is None:
        return None
    if isinstance(value, bool):
        raise ModelError(option, 'must be a whole number', 'give a number', value=value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ModelError(option, 'must be a whole number', 'give a number', value=value)
    if str(number) != str(value).strip():
        raise ModelError(option, 'must be a whole number', 'give a number', value=value)
    if number < minimum or (maximum is not None and number > maximum):
        bound = 'at least %d' % minimum if maximum is None else 'from %d to %d' % (minimum, maximum)
        raise ModelError(option, 'must be %s' % bound, 'give a value %s' % bound, value=value)
    return number


def as_bool(option, value):
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('yes', 'true', 'on', '1'):
        return True
    if text in ('no', 'false', 'off', '0'):
        return False
    raise ModelError(option, 'must be true or false', 'give true or false', value=value)


def compact(options):
    """Leave out unset (None) values: Ansible refuses an explicit null for an option with choices."""
    return dict((key, value) for key, value in options.items() if value is not None)


def _unknown_keys(option, given, known):
    extra = sorted(set(given) - set(known))
    if extra:
        raise ModelError(option, 'has unknown option(s) %s' % ', '.join(extra),
                         'use only %s' % ', '.join(known))


class Server(object):
    """One ``server`` line of an upstream group."""

    __slots__ = SERVER_KEYS

    def __init__(self, **values):
        for key in SERVER_KEYS:
            setattr(self, key, values.get(key))

    @classmethod
    def from_options(cls, options, path):
        if isinstance(options, str):
            options = {'address': options}
        if not isinstance(options, dict):
            raise ModelError(path, 'must be a dict with an address (or an address string)',
                             'write {address: host:port}', value=options)
        _unknown_keys(path, options, SERVER_KEYS)
        check_address(path + '.address', options.get('address'))
        route = options.get('route')
        if route is not None:
            route = str(route)
            check_syntax(path + '.route', route, 'a route')
            if not _ROUTE_RE.match(route):
                raise ModelError(path + '.route', 'is not a valid route name', 'use letters, digits, "_", "-", "."',
                                 value=route)
        return cls(
            address=options['address'],
            weight=as_int(path + '.weight', options.get('weight'), 1, 1000000),
            max_fails=as_int(path + '.max_fails', options.get('max_fails'), 0),
            fail_timeout=as_time(path + '.fail_timeout', options.get('fail_timeout')),
            max_conns=as_int(path + '.max_conns', options.get('max_conns'), 0),
            backup=as_bool(path + '.backup', options.get('backup')),
            down=as_bool(path + '.down', options.get('down')),
            resolve=as_bool(path + '.resolve', options.get('resolve')),
            slow_start=as_time(path + '.slow_start', options.get('slow_start')),
            route=route,
            drain=as_bool(path + '.drain', options.get('drain')),
        )

    def to_options(self):
        """The server's options; unset ones (None) are left out so the dict can be passed back as is."""
        return compact(dict((key, getattr(self, key)) for key in SERVER_KEYS))

    def __eq__(self, other):
        return isinstance(other, Server) and self.to_options() == other.to_options()

    def __repr__(self):
        return 'Server(%r)' % self.to_options()


class Upstream(object):
    """An ``upstream NAME {}`` group, validated."""

    __slots__ = UPSTREAM_KEYS

    def __init__(self, **values):
        for key in UPSTREAM_KEYS:
            setattr(self, key, values.get(key))

    @classmethod
    def from_options(cls, options, prefix=''):
        """Validate the ``upstream`` module's options; ``prefix`` prepends to option paths."""
        def opt(name):
            return prefix + name

        known = UPSTREAM_KEYS + ('state',)
        given = dict((k, v) for k, v in options.items() if k in known)
        check_name(opt('name'), given.get('name'))
        method = given.get('method') or 'round_robin'
        if method not in METHODS:
            raise ModelError(opt('method'), 'is not a balancing method', 'use one of %s' % ', '.join(METHODS),
                             value=method)

        raw_servers = given.get('servers')
        if raw_servers is None:
            raw_servers = []
        if not isinstance(raw_servers, list):
            raise ModelError(opt('servers'), 'must be a list of servers', 'give a list of {address: host:port}')
        if not raw_servers and given.get('state', 'present') != 'absent':
            raise ModelError(opt('servers'), 'is empty: an upstream needs at least one server',
                             'add a server, or use state: absent to remove the group')
        servers = [Server.from_options(s, '%sservers[%d]' % (prefix, i)) for i, s in enumerate(raw_servers)]

        hash_key = given.get('hash_key')
        if hash_key is not None:
            hash_key = str(hash_key)
            if not hash_key.strip():
                hash_key = None
            else:
                check_text(opt('hash_key'), hash_key, 'a hash key', variables=True)
        consistent = as_bool(opt('consistent'), given.get('consistent'))
        random_two = as_bool(opt('random_two'), given.get('random_two'))
        least_time = given.get('least_time')
        if method == 'hash' and hash_key is None:
            raise ModelError(opt('hash_key'), 'is required with method=hash',
                             'set hash_key to the key to hash, e.g. $request_uri or $remote_addr')
        if hash_key is not None and method != 'hash':
            raise ModelError(opt('hash_key'), 'is only used with method=hash (method is %s)' % method,
                             'set method: hash or remove hash_key', value=hash_key)
        if consistent and method != 'hash':
            raise ModelError(opt('consistent'), 'only applies to method=hash (method is %s)' % method,
                             'set method: hash with a hash_key, or remove consistent')
        if random_two and method != 'random':
            raise ModelError(opt('random_two'), 'only applies to method=random (method is %s)' % method,
                             'set method: random, or remove random_two')
        if least_time is not None:
            if least_time not in LEAST_TIME_MODES:
                raise ModelError(opt('least_time'), 'is not a least_time mode',
                                 'use one of %s' % ', '.join(LEAST_TIME_MODES), value=least_time)
            if method == 'random' and random_two and least_time not in ('header', 'last_byte'):
                raise ModelError(opt('least_time'), 'must be header or last_byte with method=random',
                                 'use header or last_byte', value=least_time)
            if not (method == 'least_time' or (method == 'random' and random_two)):
                raise ModelError(opt('least_time'), 'only applies to method=least_time or method=random '
                                 'with random_two', 'set the method, or remove least_time', value=least_time)
        elif method == 'least_time':
            raise ModelError(opt('least_time'), 'is required with method=least_time',
                             'set least_time to header or last_byte')

        if method in NO_BACKUP_METHODS:
            for index, server in enumerate(servers):
                if server.backup:
                    raise ModelError(
                        '%sservers[%d].backup' % (prefix, index),
                        'is not allowed with method=%s (Nginx rejects it or silently ignores it, '
                        'depending on the order of the lines)' % method,
                        'remove backup from the server, or use method round_robin or least_conn')

        zone = given.get('zone')
        if zone is not None:
            check_syntax(opt('zone'), str(zone), 'a zone', allow_space=True)
            zone = ' '.join(str(zone).split())
            parts = zone.split(' ')
            if len(parts) > 2 or not _NAME_RE.match(parts[0]) or (len(parts) == 2 and not _SIZE_RE.match(parts[1])):
                raise ModelError(opt('zone'), 'is not "NAME" or "NAME SIZE"', 'give e.g. backend or "backend 64k"',
                                 value=given.get('zone'))
        for index, server in enumerate(servers):
            if server.resolve and zone is None:
                raise ModelError('%sservers[%d].resolve' % (prefix, index),
                                 'needs the group in a shared memory zone', 'set zone, e.g. zone: "%s 64k"'
                                 % given['name'])
            if server.resolve and server.address.startswith('unix:'):
                raise ModelError('%sservers[%d].resolve' % (prefix, index), 'cannot apply to a unix socket',
                                 'remove resolve from this server')

        keepalive = as_int(opt('keepalive'), given.get('keepalive'), 1)
        keepalive_requests = as_int(opt('keepalive_requests'), given.get('keepalive_requests'), 1)
        keepalive_time = as_time(opt('keepalive_time'), given.get('keepalive_time'))
        keepalive_timeout = as_time(opt('keepalive_timeout'), given.get('keepalive_timeout'))
        for key, value in (('keepalive_requests', keepalive_requests), ('keepalive_time', keepalive_time),
                           ('keepalive_timeout', keepalive_timeout)):
            if value is not None and keepalive is None:
                raise ModelError(opt(key), 'has no effect without keepalive',
                                 'set keepalive (the number of idle connections to keep), or remove %s' % key)

        resolver = given.get('resolver')
        if resolver is not None:
            if isinstance(resolver, str):
                resolver = resolver.split()
            resolver = [str(r) for r in resolver]
            if not resolver:
                resolver = None
            for index, item in enumerate(resolver or []):
                check_syntax('%s[%d]' % (opt('resolver'), index), item, 'a resolver address')
        resolver_timeout = as_time(opt('resolver_timeout'), given.get('resolver_timeout'))
        if resolver_timeout is not None and resolver is None:
            raise ModelError(opt('resolver_timeout'), 'has no effect without resolver',
                             'set resolver, or remove resolver_timeout')

        sticky = given.get('sticky')
        if sticky is not None:
            if isinstance(sticky, str):
                sticky = sticky.split()
            sticky = [str(s) for s in sticky]
            if not sticky or sticky[0] not in ('cookie', 'route', 'learn'):
                raise ModelError(opt('sticky'), 'must start with cookie, route or learn',
                                 'give e.g. [cookie, srv_id, expires=1h]', value=given.get('sticky'))
            for index, item in enumerate(sticky):
                check_syntax('%s[%d]' % (opt('sticky'), index), item, 'a sticky argument')
        queue = as_int(opt('queue'), given.get('queue'), 1)
        queue_timeout = as_time(opt('queue_timeout'), given.get('queue_timeout'))
        if queue_timeout is not None and queue is None:
            raise ModelError(opt('queue_timeout'), 'has no effect without queue', 'set queue, or remove queue_timeout')

        return cls(
            name=given['name'], method=method, hash_key=hash_key, consistent=consistent, random_two=random_two,
            least_time=least_time, servers=servers, keepalive=keepalive, keepalive_requests=keepalive_requests,
            keepalive_time=keepalive_time, keepalive_timeout=keepalive_timeout, zone=zone, resolver=resolver,
            resolver_timeout=resolver_timeout, sticky=sticky, ntlm=as_bool(opt('ntlm'), given.get('ntlm')),
            queue=queue, queue_timeout=queue_timeout)

    def features(self, prefix=''):
        """(feature key, option path) pairs this group uses, for the version gate."""
        used = []
        if self.method == 'random':
            used.append(('random', prefix + 'method'))
        if self.method == 'least_time':
            used.append(('least_time', prefix + 'method'))
        if self.method == 'random' and self.least_time:
            used.append(('random_least_time', prefix + 'least_time'))
        for key in ('zone', 'keepalive_requests', 'keepalive_timeout', 'keepalive_time', 'resolver',
                    'resolver_timeout', 'sticky', 'queue'):
            if getattr(self, key) is not None:
                used.append((key, prefix + key))
        if self.ntlm:
            used.append(('ntlm', prefix + 'ntlm'))
        for index, server in enumerate(self.servers):
            path = '%sservers[%d].' % (prefix, index)
            for key in ('max_conns', 'slow_start', 'route'):
                if getattr(server, key) is not None:
                    used.append((key, path + key))
            for key in ('resolve', 'drain'):
                if getattr(server, key):
                    used.append((key, path + key))
        return used

    def check_features(self, info, nginx_plus=False, prefix=''):
        """Refuse what the proxy's Nginx (``info``: NginxInfo) lacks."""
        for key, option in self.features(prefix):
            _features.require(key, option, info, nginx_plus)

    def to_options(self):
        """The normalized ``upstream`` module options (``name`` included, ``state`` not)."""
        options = dict((key, getattr(self, key)) for key in UPSTREAM_KEYS)
        options['servers'] = [s.to_options() for s in self.servers]
        if self.resolver is not None:
            options['resolver'] = list(self.resolver)
        if self.sticky is not None:
            options['sticky'] = list(self.sticky)
        return compact(options)

    def __eq__(self, other):
        return isinstance(other, Upstream) and self.to_options() == other.to_options()

    def __repr__(self):
        return 'Upstream(%r)' % self.to_options()


# --------------------------------------------------------------------------
# log formats
# --------------------------------------------------------------------------

ESCAPES = ('default', 'json', 'none')
BUILTIN_LOG_FORMATS = ('combined',)
UPSTREAM_DEBUG = 'upstream_debug'
UPSTREAM_DEBUG_FORMAT = ('$remote_addr $host $request status=$status upstream=$upstream_addr '
                         'upstream_status=$upstream_status upstream_response_time=$upstream_response_time')


class LogFormat(object):
    """A named ``log_format``."""

    __slots__ = ('name', 'format', 'escape')

    def __init__(self, name, format, escape=None):
        self.name = name
        self.format = format
        self.escape = escape

    @classmethod
    def from_options(cls, options, prefix=''):
        check_name(prefix + 'name', options.get('name'))
        name = options['name']
        if name in BUILTIN_LOG_FORMATS:
            raise ModelError(prefix + 'name', 'is built into Nginx and cannot be redefined', 'choose another name',
                             value=name)
        fmt = options.get('format')
        if fmt is None:
            if name != UPSTREAM_DEBUG:
                raise ModelError(prefix + 'format', 'is required (only %s has a ready format)' % UPSTREAM_DEBUG,
                                 'give the format string, e.g. "$remote_addr $status $upstream_addr"')
            fmt = [UPSTREAM_DEBUG_FORMAT]
        if isinstance(fmt, str):
            fmt = [fmt]
        if not isinstance(fmt, list) or not fmt:
            raise ModelError(prefix + 'format', 'must be a string or a non-empty list of strings',
                             'give the format string')
        parts = []
        for index, part in enumerate(fmt):
            part = str(part)
            option = '%sformat[%d]' % (prefix, index) if len(fmt) > 1 else prefix + 'format'
            check_text(option, part, 'a log format', variables=True)
            parts.append(part)
        escape = options.get('escape')
        if escape is not None and escape not in ESCAPES:
            raise ModelError(prefix + 'escape', 'is not an escape mode', 'use one of %s' % ', '.join(ESCAPES),
                             value=escape)
        return cls(name, parts, escape)

    def to_options(self):
        return {'name': self.name, 'format': list(self.format), 'escape': self.escape}


# --------------------------------------------------------------------------
# vhosts
# --------------------------------------------------------------------------

NEXT_UPSTREAM = ('error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504',
                 'http_403', 'http_404', 'http_429', 'non_idempotent', 'off')
LOCATION_MODIFIERS = ('=', '~', '~*', '^~')
DEFAULT_LISTEN = ['80', '[::]:80']
DEFAULT_PROXY_HEADERS = {
    'Host': '$host',
    'X-Real-IP': '$remote_addr',
    'X-Forwarded-For': '$proxy_add_x_forwarded_for',
    'X-Forwarded-Proto': '$scheme',
}
LOCATION_KEYS = ('path', 'upstream', 'pass', 'next_upstream', 'next_upstream_tries', 'next_upstream_timeout',
                 'connect_timeout', 'read_timeout', 'send_timeout', 'websocket', 'headers')
_HEADER_NAME_RE = re.compile(r'^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$')
# A plain (not regex) server name: a host name, a wildcard name (*.example.com,
# www.example.*, .example.com), "_" or "" (requests without a Host header).
_SERVER_NAME_RE = re.compile(r'^[A-Za-z0-9_.*-]*$')


def headers_from(option, headers, example):
    """A dict of header name to value, checked; names that differ only in letter case are one header."""
    if not isinstance(headers, dict):
        raise ModelError(option, 'must be a dict of header name to value', 'write {%s}' % example)
    clean = {}
    seen = {}
    for name in sorted(headers, key=str):
        text = str(name)
        if not _HEADER_NAME_RE.match(text):
            raise ModelError(option, 'has an invalid header name', 'use letters, digits and -', value=name)
        if text.lower() in seen:
            raise ModelError('%s.%s' % (option, text), 'names the same header as %s.%s (header names ignore '
                             'letter case)' % (option, seen[text.lower()]), 'keep one of them', value=headers[name])
        seen[text.lower()] = text
        value = '' if headers[name] is None else str(headers[name])
        check_text('%s.%s' % (option, text), value, 'a header value', variables=True)
        clean[text] = value
    return clean


class Location(object):
    __slots__ = LOCATION_KEYS + ('modifier',)

    def __init__(self, **values):
        for key in LOCATION_KEYS + ('modifier',):
            setattr(self, key, values.get(key))

    @classmethod
    def from_options(cls, options, prefix):
        if not isinstance(options, dict):
            raise ModelError(prefix, 'must be a dict with a path and an upstream or a pass',
                             'write {path: /, upstream: NAME}')
        _unknown_keys(prefix, options, LOCATION_KEYS)
        raw_path = str(options.get('path') or '/')
        check_printable(prefix + '.path', raw_path, 'a location path')
        raw_path = raw_path.strip(' ')
        parts = raw_path.split(' ', 1)
        modifier = None
        if parts[0] in LOCATION_MODIFIERS:
            modifier, path = parts[0], (parts[1] if len(parts) == 2 else '').lstrip(' ')
            if not path:
                raise ModelError(prefix + '.path', 'has the modifier %s but no path or regex after it' % modifier,
                                 'write e.g. "= /exact", "^~ /static/" or "~ \\.php$"', value=raw_path)
        else:
            path = raw_path
            if not path.startswith(('/', '@')):
                # Nginx would read a leading "=", "~" or "^~" glued to the path as a modifier.
                raise ModelError(prefix + '.path', 'must start with "/" (a prefix) or "@" (a named location), or '
                                 'with a modifier and a space', 'write e.g. /api/, "= /exact" or "~ ^/v[0-9]+/"',
                                 value=raw_path)
        check_text(prefix + '.path', path, 'a location path')
        upstream, literal = options.get('upstream'), options.get('pass')
        if (upstream is None) == (literal is None):
            raise ModelError(prefix, 'needs exactly one of upstream and pass',
                             'set upstream to a group name, or pass to a URL such as http://127.0.0.1:8080')
        if upstream is not None:
            check_name(prefix + '.upstream', upstream)
        if literal is not None:
            literal = str(literal)
            check_syntax(prefix + '.pass', literal, 'a URL')
            if not (literal.startswith('http://') or literal.startswith('https://')):
                raise ModelError(prefix + '.pass', 'must be an http:// or https:// URL',
                                 'give e.g. http://127.0.0.1:8080', value=literal)
        next_upstream = options.get('next_upstream')
        if next_upstream is not None:
            if isinstance(next_upstream, str):
                next_upstream = next_upstream.split()
            next_upstream = [str(n) for n in next_upstream]
            for index, item in enumerate(next_upstream):
                if item not in NEXT_UPSTREAM:
                    raise ModelError('%s.next_upstream[%d]' % (prefix, index), 'is not a proxy_next_upstream '
                                     'condition', 'use %s' % ', '.join(NEXT_UPSTREAM), value=item)
            if 'off' in next_upstream and len(next_upstream) > 1:
                raise ModelError(prefix + '.next_upstream', 'combines off with other conditions',
                                 'use off alone, or drop it')
        clean = headers_from(prefix + '.headers', options.get('headers') or {}, 'X-Request-Id: $request_id')
        return cls(path=path, modifier=modifier, upstream=upstream, **{
            'pass': literal,
            'next_upstream': next_upstream,
            'next_upstream_tries': as_int(prefix + '.next_upstream_tries', options.get('next_upstream_tries'), 0),
            'next_upstream_timeout': as_time(prefix + '.next_upstream_timeout', options.get('next_upstream_timeout')),
            'connect_timeout': as_time(prefix + '.connect_timeout', options.get('connect_timeout')),
            'read_timeout': as_time(prefix + '.read_timeout', options.get('read_timeout')),
            'send_timeout': as_time(prefix + '.send_timeout', options.get('send_timeout')),
            'websocket': as_bool(prefix + '.websocket', options.get('websocket')),
            'headers': clean,
        })

    @property
    def full_path(self):
        return (self.modifier + ' ' + self.path) if self.modifier else self.path

    def to_options(self):
        options = dict((key, getattr(self, key)) for key in LOCATION_KEYS)
        options['path'] = self.full_path
        return options


class Vhost(object):
    __slots__ = ('name', 'server_name', 'listen', 'locations', 'proxy_headers', 'access_log',
                 'ssl_certificate', 'ssl_certificate_key')

    def __init__(self, **values):
        for key in self.__slots__:
            setattr(self, key, values.get(key))

    @classmethod
    def from_options(cls, options, prefix=''):
        check_name(prefix + 'name', options.get('name'))
        server_name = options.get('server_name')
        if server_name is None:
            server_name = []
        if isinstance(server_name, str):
            server_name = [server_name]
        names = []
        for index, item in enumerate(server_name):
            item = str(item)
            # A regex (~...) is one name whatever it holds; "" names requests without a Host header; other
            # strings may hold several names separated by spaces, tabs or line breaks.
            if item.startswith('~') or item == '':
                names.append(item)
                continue
            separated = item.replace('\t', ' ').replace('\r', ' ').replace('\n', ' ')
            check_printable('%sserver_name[%d]' % (prefix, index), separated, 'a server name')
            names.extend(name for name in separated.split(' ') if name)
        server_name = names
        for index, item in enumerate(server_name):
            option = '%sserver_name[%d]' % (prefix, index)
            if item.startswith('~'):
                check_text(option, item, 'a server name regex')
                if len(item) == 1:
                    raise ModelError(option, 'is an empty regex', 'write the expression after "~"', value=item)
                continue
            check_printable(option, item, 'a server name')
            if not _SERVER_NAME_RE.match(item):
                raise ModelError(option, 'is not a server name', 'give a host name such as www.example.com, a '
                                 'wildcard name such as *.example.com, a regex starting with "~", or ""',
                                 value=item)
        listen = options.get('listen')
        if listen is None:
            listen = list(DEFAULT_LISTEN)
        if isinstance(listen, (str, int)):
            listen = [listen]
        listen = [str(item) for item in listen]
        if not listen:
            raise ModelError(prefix + 'listen', 'is empty', 'give at least one address or port, e.g. 80')
        for index, item in enumerate(listen):
            check_syntax('%slisten[%d]' % (prefix, index), item, 'a listen address', allow_space=True)
        upstream, raw_locations = options.get('upstream'), options.get('locations')
        if (upstream is None) == (not raw_locations):
            raise ModelError(prefix + 'upstream', 'a vhost needs exactly one of upstream and locations',
                             'set upstream (proxied at /) or list locations')
        if upstream is not None:
            raw_locations = [{'path': '/', 'upstream': upstream}]
        locations = [Location.from_options(item, '%slocations[%d]' % (prefix, index))
                     for index, item in enumerate(raw_locations)]
        seen = {}
        for index, location in enumerate(locations):
            if location.full_path in seen:
                raise ModelError('%slocations[%d].path' % (prefix, index), 'repeats locations[%d].path'
                                 % seen[location.full_path], 'give each location its own path',
                                 value=location.full_path)
            seen[location.full_path] = index
        proxy_headers = options.get('proxy_headers')
        if proxy_headers is None:
            proxy_headers = dict(DEFAULT_PROXY_HEADERS)
        headers = headers_from(prefix + 'proxy_headers', proxy_headers, 'Host: $host')
        access_log = options.get('access_log')
        if access_log is not None:
            if isinstance(access_log, str):
                access_log = {'path': access_log}
            path = access_log.get('path')
            if not path:
                raise ModelError(prefix + 'access_log.path', 'is required', 'give a log file path, or off')
            check_syntax(prefix + 'access_log.path', str(path), 'a file path')
            fmt = access_log.get('format')
            if fmt is not None:
                check_name(prefix + 'access_log.format', fmt)
            access_log = {'path': str(path), 'format': fmt}
        cert, key = options.get('ssl_certificate'), options.get('ssl_certificate_key')
        if (cert is None) != (key is None):
            raise ModelError(prefix + 'ssl_certificate', 'and ssl_certificate_key go together',
                             'give both, or neither')
        for option, value in (('ssl_certificate', cert), ('ssl_certificate_key', key)):
            if value is not None:
                check_syntax(prefix + option, str(value), 'a file path')
        return cls(name=options['name'], server_name=server_name, listen=listen, locations=locations,
                   proxy_headers=headers, access_log=access_log, ssl_certificate=cert, ssl_certificate_key=key)

    def to_options(self):
        return compact({'name': self.name, 'server_name': list(self.server_name), 'listen': list(self.listen),
                        'locations': [compact(loc.to_options()) for loc in self.locations],
                        'proxy_headers': dict(self.proxy_headers), 'access_log': self.access_log,
                        'ssl_certificate': self.ssl_certificate, 'ssl_certificate_key': self.ssl_certificate_key})

    def uses_websocket(self):
        return any(loc.websocket for loc in self.locations)

    def retry_warnings(self, prefix=''):
        return ['%slocations[%d].next_upstream: includes non_idempotent, so POST, LOCK and PATCH requests may be '
                'sent to more than one server' % (prefix, index)
                for index, loc in enumerate(self.locations) if loc.next_upstream and 'non_idempotent' in loc.next_upstream]
