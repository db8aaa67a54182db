# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every kind renders with: crossplane payloads, Nginx's escapes, the managed header, the build.

Rendering never pastes strings: a kind (``_upstream``, ``_vhost``,
``_log_format``) builds crossplane's payload (``directive``, ``args``,
``line``, optional ``block``) and ``crossplane.build`` writes and quotes.
Same model, same bytes.  The directives an option declares are written by
``directives`` from the table (``_options``).  Controller side only
(crossplane).
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

from ansible_collections.balancer.nginx.plugins.module_utils import _options
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import ITEM_LINE, MANAGED_HEADER

HEADER = MANAGED_HEADER[1:]  # crossplane writes '#' + comment


class Lines(object):
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


def stmt(lines, directive, args=(), block=None):
    stmt = {'directive': directive, 'args': [nginx_arg(str(a)) for a in args], 'line': lines.next()}
    if block is not None:
        stmt['block'] = block
    return stmt


def header_payload(lines):
    return {'directive': '#', 'args': [], 'line': lines.next(), 'comment': HEADER}


def item_payload(lines, kind, name):
    """The second line of a managed file: which item it holds (two items never share a file)."""
    return {'directive': '#', 'args': [], 'line': lines.next(), 'comment': (ITEM_LINE % (kind, name))[1:]}


def directives(group, values, place, lines, block, variables=()):
    """Append the DIRECTIVE options of ``group`` that go at ``place`` and are set in ``values``, in table order.

    ``variables`` names options whose arguments Nginx expands (see variable_arg).
    """
    for option in group.options:
        if option.render == _options.DIRECTIVE and option.place == place and option.is_set(values[option.name]):
            args = option.args(values[option.name])
            if option.name in variables:
                args = [variable_arg(arg) for arg in args]
            block.append(stmt(lines, option.directive, args))


def file_payload(statements, item=None):
    """Header comment (and the item line: ``(kind, name)``) plus statements, renumbered from line 1."""
    lines = Lines()
    payload = [header_payload(lines)]
    if item is not None:
        payload.append(item_payload(lines, *item))
    for make in statements:
        payload.append(make(lines))
    return payload


# An argument of these characters only is one crossplane never quotes (no space, brace, semicolon, quote,
# backslash or "#"; a "$" that does not end it, as in $host): it is written as it is, and read back as it is.
# Any other goes through crossplane's own quoting.
PLAIN_ARG = re.compile(r'(?:[A-Za-z0-9_.:/=+,@%*~?&!|<>()\[\]-]|\$(?!\Z))+\Z')
INDENT = ' ' * 4


def quoted(arg):
    """``arg`` as crossplane.build writes it."""
    if PLAIN_ARG.match(arg):
        return arg
    return crossplane.build([{'directive': 'x', 'args': [arg]}])[2:-1]


def build(payload):
    """Payload -> text, byte for byte what ``crossplane.build(payload, indent=4)`` writes, one final newline.

    crossplane's builder looks at every character of every argument to decide on quotes (most of a converge's
    rendering time at a thousand groups); this writes the same layout and asks crossplane only about the
    arguments it might quote. A payload with what only crossplane knows how to write (``if``, a Lua block) is
    handed to crossplane whole.
    """
    out = []
    try:
        _build_block(out, payload, 0, 0)
    except _Whole:
        return crossplane.build(payload, indent=4, tabs=False, header=False) + '\n'
    return ''.join(out) + '\n'


class _Whole(Exception):
    """The payload needs crossplane.build itself."""


def _check_plain_directive(directive):
    """Raise ``_Whole`` for a directive only crossplane knows how to write (``if``, a Lua block, anything quoted)."""
    if directive == 'if' or directive in crossplane.builder.EXTERNAL_BUILDERS or not PLAIN_ARG.match(directive):
        raise _Whole()


def _build_block(out, block, depth, last_line):
    margin = INDENT * depth
    for stmt in block:
        directive = stmt['directive']
        line = stmt.get('line', 0)
        if directive == '#':
            if line == last_line:
                out.append(' #' + stmt['comment'])
                continue
            text = '#' + stmt['comment']
        else:
            _check_plain_directive(directive)
            args = stmt['args']
            text = directive + ' ' + ' '.join(quoted(arg) for arg in args) if args else directive
        if out:
            out.append('\n')
        out.append(margin)
        out.append(text)
        if directive != '#':
            if stmt.get('block') is None:
                out.append(';')
            else:
                out.append(' {')
                _build_block(out, stmt['block'], depth + 1, line)
                out.append('\n' + margin + '}')
        last_line = line


def parsed_form(payload):
    """What crossplane's parser (comments dropped) reads back from ``build(payload)``, or None.

    Known without parsing when every directive and argument is plain (``PLAIN_ARG``: nothing to quote, escape
    or expand; or the empty argument) and no comment holds a line break: each token is then read back as it
    was written, and each statement on the line ``build`` put it on. A tests/unit property test holds this against crossplane.parse.
    None for any other payload: it is parsed.
    """
    statements = []
    lines = [0]
    try:
        _parsed_block(statements, payload, 0, lines)
    except _Whole:
        return None
    return statements


def _parsed_block(statements, block, last_line, lines):
    for stmt in block:
        directive = stmt['directive']
        line = stmt.get('line', 0)
        if directive == '#':
            if '\n' in stmt['comment'] or '\r' in stmt['comment']:
                raise _Whole()
            if line == last_line:
                lines[0] = lines[0] or 1    # glued to the line before, or the first text of line 1
                continue
            lines[0] += 1
        else:
            _check_plain_directive(directive)
            if not all(arg == '' or PLAIN_ARG.match(arg) for arg in stmt['args']):
                raise _Whole()      # the empty argument is written '' and read back as the empty string
            lines[0] += 1
            parsed = {'directive': directive, 'line': lines[0], 'args': list(stmt['args'])}
            if stmt.get('block') is not None:
                parsed['block'] = []
                _parsed_block(parsed['block'], stmt['block'], line, lines)
                lines[0] += 1
            statements.append(parsed)
        last_line = line


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


def render_file(make, item):
    """Text of a managed file holding the statement ``make(lines)`` for ``item`` (``(kind, name)``)."""
    return build(file_payload([make], item))
