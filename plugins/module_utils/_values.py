# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Value kinds: what a single option value may be, checked once, with messages that name the option.

Each kind is one function ``(option path, value) -> normalized value`` that
raises :class:`ModelError` naming the option, the value, the rule and the
fix.  ``_options`` declares which kind each option is; ``validate`` in
``_options`` calls them.  Nginx's own syntax rules live here: a value never
smuggles syntax into the configuration, never makes Nginx emit a control
character, and keeps the characters the user wrote.  Standard library only
(the target-side modules check addresses and paths with it too).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError

# Characters that would end an argument, open or close a block, start a
# comment or a quoted string: Nginx syntax smuggled into a bare word.
SYNTAX_CHARS = frozenset(';{}"\'#\\`')
# the first character of a bare word that Nginx would read as syntax or as white space (a plain space allowed
# or not): what check_syntax refuses
_SYNTAX_OR_SPACE = re.compile('[%s \t\r\n\f\v]' % re.escape(''.join(sorted(SYNTAX_CHARS))))
_SYNTAX_OR_TAB = re.compile('[%s\t\r\n\f\v]' % re.escape(''.join(sorted(SYNTAX_CHARS))))

NAME_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
_HOST_RE = re.compile(r'^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?(:(\d{1,5}))?$')
_V6_RE = re.compile(r'^\[[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?\](:(\d{1,5}))?$')
_UNIX_RE = re.compile(r'^unix:/[^\s]+$')
_TIME_RE = re.compile(r'^(\d+(ms|[smhdwMy])?)$|^(\d+(ms|[smhdwMy]))+$')
_SIZE_RE = re.compile(r'^\d+[kKmM]?$')
_LABEL_RE = re.compile(r'^[A-Za-z0-9_.-]{1,64}$')
_VARIABLE_RE = re.compile(r'\$(?:\{[A-Za-z0-9_]+\}|[A-Za-z0-9_]+)')
HEADER_NAME_RE = re.compile(r'^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$')

# Unicode gives control characters no name; these are the ones people meet.
_CONTROL_NAMES = {'\x00': 'NUL', '\t': 'TAB', '\n': 'LF', '\x0b': 'VT', '\x0c': 'FF', '\r': 'CR', '\x1b': 'ESC',
                  '\x7f': 'DEL'}


def describe_char(char: str) -> str:
    """``U+00A0 (NO-BREAK SPACE)``: a character named so that a message shows what cannot be seen."""
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, '')
    return 'U+%04X' % ord(char) + (' (%s)' % name if name else '')


def check_printable(option: str, value: str, what: str) -> None:
    """Refuse what Nginx would turn into, or what cannot be written as, the characters the user typed.

    Control characters (CR, LF, TAB, NUL, ...) would reach requests, responses
    or log lines; invisible and non-printing Unicode (NBSP, U+2028, zero-width
    characters, ...) cannot be written into a quoted argument literally.  Both
    are refused, naming the option and the character.
    """
    if value.isprintable():     # every character printable (the common case, in one C loop)
        return
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


def check_listen_values(option: str, values, what: str) -> None:
    """Each value of a listening directive: not blank (Nginx refuses an empty one), one word plus its flags."""
    for index, value in enumerate(values):
        path = '%s[%d]' % (option, index)
        if not value.strip():
            raise ModelError(path, 'is empty', 'give an address or a port, e.g. 80', value=value)
        check_syntax(path, value, what, allow_space=True)


def check_syntax(option: str, value: str, what: str, allow_space: bool = False) -> None:
    """A value Nginx reads as one bare word (a name, an address, a time): no syntax, no white space."""
    found = (_SYNTAX_OR_TAB if allow_space else _SYNTAX_OR_SPACE).search(value)
    if found is not None:
        char = found.group()
        raise ModelError(option, 'contains %r, which Nginx would read as syntax, not as part of %s' % (char, what),
                         'remove it', value=value)
    check_printable(option, value, what)


def check_text(option: str, value: str, what: str, variables: bool = False) -> None:
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


def check_name(option: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise ModelError(option, 'is required and must be a non-empty string',
                         'give a name such as backend_pool')
    check_syntax(option, value, 'a name')
    if not NAME_RE.match(value):
        raise ModelError(option, 'is not a valid name (letters, digits, "_", "-" and "." only, '
                         'at most 128, not starting with "-" or ".")',
                         'rename it, e.g. backend_pool', value=value)
    return value


def check_address(option: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise ModelError(option, 'is required', 'give host:port, [v6]:port or unix:/path')
    check_syntax(option, value, 'an address')
    if value.startswith('unix:'):
        if _UNIX_RE.match(value):
            return value
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
    return value


def as_time(option: str, value):
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


def as_int(option: str, value, minimum=None, maximum=None):
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
    too_small = minimum is not None and number < minimum
    if too_small or (maximum is not None and number > maximum):
        if maximum is None:
            bound = 'at least %d' % minimum
        elif minimum is None:
            bound = 'at most %d' % maximum
        else:
            bound = 'from %d to %d' % (minimum, maximum)
        raise ModelError(option, 'must be %s' % bound, 'give a value %s' % bound, value=value)
    return number


def as_float(option: str, value, minimum=None, maximum=None) -> float:
    if isinstance(value, bool):
        raise ModelError(option, 'must be a number', 'give a number', value=value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ModelError(option, 'must be a number', 'give a number', value=value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ModelError(option, 'must be from %s to %s' % (minimum, maximum), 'give a number in that range',
                         value=value)
    return number


def as_percent(option: str, value) -> float:
    """A share of requests, as the canary split takes it: more than 0, at most 100, at most two decimals."""
    if isinstance(value, bool):
        raise ModelError(option, 'must be a percentage such as 10 or 12.5', 'give a number', value=value)
    try:
        number = Decimal(str(value).strip().rstrip('%').strip())
    except (InvalidOperation, ValueError):
        raise ModelError(option, 'must be a percentage such as 10 or 12.5', 'give a number', value=value)
    if not number.is_finite() or number <= 0 or number > 100:
        raise ModelError(option, 'must be more than 0 and at most 100', 'give a share such as 10 or 12.5',
                         value=value)
    if number != number.quantize(Decimal('0.01')):
        raise ModelError(option, 'has more than two decimals, which Nginx does not take', 'round it, e.g. 33.33',
                         value=value)
    return float(number)


def percent_text(number: float) -> str:
    """``90%``, ``12.5%``, ``33.33%``: how Nginx is given a percentage."""
    return ('%.2f' % number).rstrip('0').rstrip('.') + '%'


def as_bool(option: str, value) -> bool:
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


def as_name_and_size(option: str, value, what: str) -> str:
    """``NAME`` or ``NAME SIZE`` (a shared memory area), white space normalized."""
    check_syntax(option, str(value), what, allow_space=True)
    text = ' '.join(str(value).split())
    parts = text.split(' ')
    if len(parts) > 2 or not NAME_RE.match(parts[0]) or (len(parts) == 2 and not _SIZE_RE.match(parts[1])):
        raise ModelError(option, 'is not "NAME" or "NAME SIZE"', 'give e.g. backend or "backend 64k"', value=value)
    return text


def as_label(option: str, value, what: str) -> str:
    """A short label: letters, digits, "_", "-", "." (at most 64)."""
    text = str(value)
    check_syntax(option, text, what)
    if not _LABEL_RE.match(text):
        raise ModelError(option, 'is not a valid %s name' % what.split(' ', 1)[-1], 'use letters, digits, "_", "-", "."',
                         value=text)
    return text


def as_words(option: str, value, what: str) -> list:
    """A list of bare words (a string is split on white space)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        words = str(value).split()
    elif isinstance(value, list):
        words = [str(item) for item in value]
    else:
        raise ModelError(option, 'must be a list of words (or one string of them)', 'give e.g. [a, b]', value=value)
    for index, word in enumerate(words):
        check_syntax('%s[%d]' % (option, index), word, what)
    return words


def as_token(option: str, value, what: str) -> str:
    """One bare word: no syntax, no white space."""
    text = str(value)
    check_syntax(option, text, what)
    return text


def as_text(option: str, value, what: str, variables: bool = False) -> str:
    text = str(value)
    check_text(option, text, what, variables)
    return text
