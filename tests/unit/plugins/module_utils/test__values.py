# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_values.py: every value kind on its own, with its exact message.

The kinds are called here directly with the option path a module would give
them; test__options.py shows which option uses which kind, and
test__upstream.py / test__vhost.py / test__log_format.py show the kinds at
work inside a whole item.
"""

from __future__ import annotations

import ast
import sys

import pytest
from hypothesis import example, given, strategies as st

from ansible_collections.balancer.nginx.plugins.module_utils import _values
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError


def refused(function, *args):
    with pytest.raises(ModelError) as info:
        function(*args)
    return str(info.value)


# -- characters ----------------------------------------------------------------------

@pytest.mark.parametrize('char, shown', [
    ('\t', 'U+0009 (TAB)'),
    ('\n', 'U+000A (LF)'),
    ('\r', 'U+000D (CR)'),
    ('\x00', 'U+0000 (NUL)'),
    ('\x1b', 'U+001B (ESC)'),
    ('\x7f', 'U+007F (DEL)'),
    ('\x85', 'U+0085'),
    ('\xa0', 'U+00A0 (NO-BREAK SPACE)'),
    ('\u2028', 'U+2028 (LINE SEPARATOR)'),
    ('\U000e0001', 'U+E0001 (LANGUAGE TAG)'),
], ids=repr)
def test_describe_char(char, shown):
    assert _values.describe_char(char) == shown


def test_syntax_characters_are_the_documented_set():
    # DESIGN.md: ";", "{", "}", newlines, quotes and "#" never get into a bare word; "\" and "`" neither.
    assert _values.SYNTAX_CHARS == frozenset(';{}"\'#\\`')


@pytest.mark.parametrize('value, message', [
    ('a\nb', "format: 'a\\nb' contains a line break (U+000A (LF)), which Nginx would pass on into requests and "
             "log lines; split it into a list of strings instead."),
    ('a\x1bb', "format: 'a\\x1bb' contains the control character U+001B (ESC), which Nginx would pass on into "
               "requests and log lines; remove it."),
    ('a\ufeffb', "format: 'a\\ufeffb' contains the invisible character U+FEFF (ZERO WIDTH NO-BREAK SPACE), which "
                 "cannot be written into a log format literally; remove it, or use a plain space."),
], ids=['line-break', 'control', 'invisible'])
def test_check_printable_in_a_log_format(value, message):
    assert refused(_values.check_printable, 'format', value, 'a log format') == message


def test_check_printable_line_break_elsewhere_is_removed_not_split():
    assert refused(_values.check_printable, 'x', 'a\rb', 'a header value') == (
        "x: 'a\\rb' contains a line break (U+000D (CR)), which Nginx would pass on into requests and log lines; "
        "remove it.")


@pytest.mark.parametrize('value', ['plain', 'é 日本', "quotes ' \" and ;{}#\\", ''], ids=repr)
def test_check_printable_accepts_printable_text(value):
    assert _values.check_printable('x', value, 'a header value') is None


INJECTION_CHARS = [';', '{', '}', '"', "'", '#', '\\', '`', ' ', '\t', '\n']


@pytest.mark.parametrize('char', INJECTION_CHARS, ids=repr)
def test_check_syntax_refuses_every_syntax_character(char):
    value = 'a' + char + 'b'
    assert refused(_values.check_syntax, 'name', value, 'a name') == (
        'name: %r contains %r, which Nginx would read as syntax, not as part of a name; remove it.' % (value, char))


def test_check_syntax_literal_message():
    # the table above builds its messages with %r; one literal check of the shape
    assert refused(_values.check_syntax, 'servers[0].address', '10.0.0.1:80;\nserver evil:80', 'an address') == (
        "servers[0].address: '10.0.0.1:80;\\nserver evil:80' contains ';', which Nginx would read as syntax, not as "
        "part of an address; remove it.")


def test_check_syntax_allow_space_allows_a_plain_space_only():
    assert _values.check_syntax('zone', 'app 64k', 'a zone', allow_space=True) is None
    assert refused(_values.check_syntax, 'zone', 'app\t64k', 'a zone', True) == (
        "zone: 'app\\t64k' contains '\\t', which Nginx would read as syntax, not as part of a zone; remove it.")


def test_check_syntax_also_refuses_invisible_characters():
    assert refused(_values.check_syntax, 'name', 'a\xa0b', 'a name') == (
        "name: 'a\\xa0b' contains the invisible character U+00A0 (NO-BREAK SPACE), which cannot be written into a "
        "name literally; remove it, or use a plain space.")


# -- free text -----------------------------------------------------------------------

@pytest.mark.parametrize('value', ['say "hi"', "it's", 'a;b{c}', 'C:\\', '$host $uri', '${host}x', ''], ids=repr)
def test_check_text_keeps_syntax_and_variables(value):
    assert _values.check_text('headers.X-A', value, 'a header value', variables=True) is None


def test_check_text_refuses_a_leading_hash():
    assert refused(_values.check_text, 'headers.X-A', '#x', 'a header value') == (
        "headers.X-A: '#x' starts with \"#\", which Nginx would read as the start of a comment; remove the leading "
        "\"#\".")


@pytest.mark.parametrize('value', ['price: 5$', '$', '${host', '$-x'], ids=repr)
def test_check_text_refuses_a_dollar_that_starts_no_variable(value):
    assert refused(_values.check_text, 'format', value, 'a log format', True) == (
        'format: %r has a "$" that does not start a variable ($name or ${name}); Nginx has no way to write a '
        'literal "$" in a log format; remove it, or complete the variable name.' % value)


def test_check_text_without_variables_refuses_braces_after_a_dollar():
    assert refused(_values.check_text, 'locations[0].path', '/x${a}', 'a location path') == (
        "locations[0].path: '/x${a}' contains \"${\", which is no variable in a location path and which the "
        "configuration parser misreads; remove the braces.")
    assert _values.check_text('locations[0].path', '/x$a', 'a location path') is None


def test_as_text_is_a_string_check_text_accepts():
    assert _values.as_text('headers.X-A', 5, 'a header value') == '5'
    assert _values.as_text('hash_key', '$host $uri', 'a hash key', variables=True) == '$host $uri'
    assert refused(_values.as_text, 'hash_key', '$', 'a hash key', True) == (
        "hash_key: '$' has a \"$\" that does not start a variable ($name or ${name}); Nginx has no way to write a "
        "literal \"$\" in a hash key; remove it, or complete the variable name.")


# -- names -------------------------------------------------------------------------

@pytest.mark.parametrize('value', ['app', 'backend_pool', 'a.b-c_1', '_', '9', 'a' * 128])
def test_check_name_returns_a_valid_name(value):
    assert _values.check_name('name', value) == value


@pytest.mark.parametrize('value', [None, '', 42, ['app']], ids=repr)
def test_check_name_needs_a_non_empty_string(value):
    assert refused(_values.check_name, 'name', value) == (
        'name: is required and must be a non-empty string; give a name such as backend_pool.')


NOT_A_NAME = ('is not a valid name (letters, digits, "_", "-" and "." only, at most 128, not starting with "-" or '
              '"."); rename it, e.g. backend_pool.')


@pytest.mark.parametrize('value', ['-app', '.app', 'a/b', 'a,b', 'a:b', 'é', 'a' * 129])
def test_check_name_grammar(value):
    assert refused(_values.check_name, 'name', value) == 'name: %r %s' % (value, NOT_A_NAME)


def test_check_name_syntax_first():
    assert refused(_values.check_name, 'name', 'my app') == (
        "name: 'my app' contains ' ', which Nginx would read as syntax, not as part of a name; remove it.")


# -- addresses ---------------------------------------------------------------------

@pytest.mark.parametrize('address', [
    '10.0.0.1:8080',
    'backend.example.com:80',
    'backend',
    'backend_1',
    '10.0.0.1',
    'localhost:1',
    'localhost:65535',
    '[2001:db8::10]:8080',
    '[::1]',
    '[fe80::1%eth0]:80',
    'unix:/run/app.sock',
    'unix:/var/run/app/backend.sock',
])
def test_valid_addresses(address):
    assert _values.check_address('servers[0].address', address) == address


NOT_AN_ADDRESS = ('is not an address Nginx accepts in an upstream; '
                  'give host:port, [v6]:port or unix:/path (no scheme, no path).')


@pytest.mark.parametrize('address, message', [
    ('http://10.0.0.1:80', "servers[0].address: 'http://10.0.0.1:80' " + NOT_AN_ADDRESS),
    ('https://backend', "servers[0].address: 'https://backend' " + NOT_AN_ADDRESS),
    ('10.0.0.1:80/app', "servers[0].address: '10.0.0.1:80/app' " + NOT_AN_ADDRESS),
    ('backend:http', "servers[0].address: 'backend:http' " + NOT_AN_ADDRESS),
    ('backend:123456', "servers[0].address: 'backend:123456' " + NOT_AN_ADDRESS),
    ('2001:db8::1', "servers[0].address: '2001:db8::1' " + NOT_AN_ADDRESS),
    ('[2001:db8::1]:', "servers[0].address: '[2001:db8::1]:' " + NOT_AN_ADDRESS),
    ('-backend:80', "servers[0].address: '-backend:80' " + NOT_AN_ADDRESS),
    ('backend:0', "servers[0].address: 'backend:0' has port 0 outside 1-65535; use a port from 1 to 65535."),
    ('backend:65536',
     "servers[0].address: 'backend:65536' has port 65536 outside 1-65535; use a port from 1 to 65535."),
    ('[::1]:99999', "servers[0].address: '[::1]:99999' has port 99999 outside 1-65535; use a port from 1 to 65535."),
    ('unix:', "servers[0].address: 'unix:' is not a valid unix socket address; "
              'give an absolute path such as unix:/run/app.sock.'),
    ('unix:run/app.sock', "servers[0].address: 'unix:run/app.sock' is not a valid unix socket address; "
                          'give an absolute path such as unix:/run/app.sock.'),
    ('', 'servers[0].address: is required; give host:port, [v6]:port or unix:/path.'),
    (None, 'servers[0].address: is required; give host:port, [v6]:port or unix:/path.'),
    ('10.0.0.1 80', "servers[0].address: '10.0.0.1 80' contains ' ', which Nginx would read as syntax, "
                    'not as part of an address; remove it.'),
])
def test_invalid_addresses(address, message):
    assert refused(_values.check_address, 'servers[0].address', address) == message


# -- times, numbers, booleans ----------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('10', '10'), ('30s', '30s'), ('500ms', '500ms'), ('1m30s', '1m30s'), ('1h', '1h'), ('2d', '2d'), ('1w', '1w'),
    ('1M', '1M'), ('1y', '1y'), (10, '10'), (None, None),
])
def test_valid_times(value, expected):
    assert _values.as_time('fail_timeout', value) == expected


@pytest.mark.parametrize('value', ['10x', '-1s', '1.5s', 's', '', '1 m'], ids=repr)
def test_invalid_times(value):
    message = refused(_values.as_time, 'fail_timeout', value)
    if ' ' in value:
        assert message == ("fail_timeout: '1 m' contains ' ', which Nginx would read as syntax, not as part of a "
                           "time; remove it.")
    else:
        assert message == ("fail_timeout: %r is not an Nginx time; give a value such as 10s, 1m, 500ms or 1m30s."
                           % value)


def test_a_boolean_is_not_a_time():
    assert refused(_values.as_time, 'fail_timeout', True) == (
        'fail_timeout: true must be a time such as 10s; give a number of seconds or 10s, 1m, 500ms.')


@pytest.mark.parametrize('value, minimum, maximum, expected', [
    (3, 1, None, 3), ('3', 1, None, 3), (' 7', 0, None, 7), (0, 0, None, 0), (1000000, 1, 1000000, 1000000),
    (None, 1, None, None),
])
def test_as_int_accepts(value, minimum, maximum, expected):
    assert _values.as_int('weight', value, minimum, maximum) == expected


@pytest.mark.parametrize('value, minimum, maximum, message', [
    ('heavy', 1, None, "weight: 'heavy' must be a whole number; give a number."),
    (1.5, 1, None, 'weight: 1.5 must be a whole number; give a number.'),
    ('07', 1, None, "weight: '07' must be a whole number; give a number."),
    ('1e3', 1, None, "weight: '1e3' must be a whole number; give a number."),
    ([1], 1, None, 'weight: [1] must be a whole number; give a number.'),
    (True, 1, None, 'weight: true must be a whole number; give a number.'),
    (0, 1, None, 'weight: 0 must be at least 1; give a value at least 1.'),
    (0, 1, 1000000, 'weight: 0 must be from 1 to 1000000; give a value from 1 to 1000000.'),
    (1000001, 1, 1000000, 'weight: 1000001 must be from 1 to 1000000; give a value from 1 to 1000000.'),
])
def test_as_int_refuses(value, minimum, maximum, message):
    assert refused(_values.as_int, 'weight', value, minimum, maximum) == message


def test_as_int_with_only_a_maximum():
    # An Option may declare a maximum without a minimum (both default to None in as_int's signature).
    assert _values.as_int('queue', 5, None, 10) == 5
    assert refused(_values.as_int, 'queue', 11, None, 10) == 'queue: 11 must be at most 10; give a value at most 10.'


@pytest.mark.parametrize('value, expected', [
    (True, True), (False, False), (None, False), ('yes', True), ('Yes', True), ('true', True), ('on', True),
    ('1', True), ('no', False), ('false', False), ('off', False), ('0', False), (1, True), (0, False),
])
def test_as_bool(value, expected):
    assert _values.as_bool('backup', value) is expected


@pytest.mark.parametrize('value, shown', [('maybe', "'maybe'"), (2, '2'), ('', "''")])
def test_as_bool_refuses(value, shown):
    assert refused(_values.as_bool, 'backup', value) == 'backup: %s must be true or false; give true or false.' % shown


# -- the composite kinds ---------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('app', 'app'), ('app 64k', 'app 64k'), ('  app   64k ', 'app 64k'), ('a 10M', 'a 10M'), ('a 1024', 'a 1024'),
])
def test_name_and_size(value, expected):
    assert _values.as_name_and_size('zone', value, 'a zone') == expected


@pytest.mark.parametrize('value', ['backend 64k extra', 'backend 64x', '-backend', 'a 1.5m'])
def test_name_and_size_refused(value):
    assert refused(_values.as_name_and_size, 'zone', value, 'a zone') == (
        'zone: %r is not "NAME" or "NAME SIZE"; give e.g. backend or "backend 64k".' % value)


def test_name_and_size_syntax():
    assert refused(_values.as_name_and_size, 'zone', 'app}', 'a zone') == (
        "zone: 'app}' contains '}', which Nginx would read as syntax, not as part of a zone; remove it.")


@pytest.mark.parametrize('value', ['a', 'r1', 'a.b-c_d', 'x' * 64])
def test_label(value):
    assert _values.as_label('servers[0].route', value, 'a route') == value


@pytest.mark.parametrize('value', ['a/b', 'x' * 65, 'é'])
def test_label_refused(value):
    assert refused(_values.as_label, 'servers[0].route', value, 'a route') == (
        'servers[0].route: %r is not a valid route name; use letters, digits, "_", "-", ".".' % value)


@pytest.mark.parametrize('value, expected', [
    ('10.0.0.2 valid=30s', ['10.0.0.2', 'valid=30s']),
    (['10.0.0.2', 'ipv6=off'], ['10.0.0.2', 'ipv6=off']),
    (['a', 5], ['a', '5']),
    ('', []),
    ([], []),
])
def test_words(value, expected):
    assert _values.as_words('resolver', value, 'a resolver address') == expected


def test_words_name_the_word():
    assert refused(_values.as_words, 'resolver', '10.0.0.2 b#', 'a resolver address') == (
        "resolver[1]: 'b#' contains '#', which Nginx would read as syntax, not as part of a resolver address; "
        "remove it.")


def test_token():
    assert _values.as_token('access_log.path', '/var/log/nginx/x.log', 'a file path') == '/var/log/nginx/x.log'
    assert _values.as_token('access_log.path', 5, 'a file path') == '5'
    assert refused(_values.as_token, 'access_log.path', '/var/log/x y', 'a file path') == (
        "access_log.path: '/var/log/x y' contains ' ', which Nginx would read as syntax, not as part of a file path; "
        "remove it.")


def test_header_names():
    for name in ('Host', 'X-Request-Id', "!#$%&'*+.^_`|~-"):
        assert _values.HEADER_NAME_RE.match(name)
    for name in ('Bad Name', 'Bad:', 'é', ''):
        assert not _values.HEADER_NAME_RE.match(name)


def imported_modules(module):
    """Top-level names of what ``module``'s source imports."""
    tree = ast.parse(open(module.__file__).read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_module_uses_only_the_standard_library():
    # target-side modules (backend_probe) import _values: the standard library and _errors, nothing else
    engine = 'ansible_collections.balancer.nginx.plugins.module_utils.'
    for name in imported_modules(_values):
        assert name.split('.')[0] in sys.stdlib_module_names or name == engine + '_errors', name


# -- check_syntax and check_printable against the character-by-character rule they implement ----------------------

def first_refused(value, allow_space):
    """What check_syntax names, character by character: the first syntax or white-space character, or else the
    first character that is not printable (None: the value is accepted)."""
    for char in value:
        if char in _values.SYNTAX_CHARS or (char in ' \t\r\n\f\v' and not (allow_space and char == ' ')):
            return 'syntax', char
    for char in value:
        if not char.isprintable():
            return 'printable', char
    return None


@given(st.text(alphabet=st.sampled_from(sorted(_values.SYNTAX_CHARS) + list(' \t\r\n\f\v\x00\x7f\xa0\u2028\u200b'))
               | st.characters(), max_size=12), st.booleans())
@example('abc', False)
@example('a b', True)
@example('a b', False)
@example('a\u200bb;', False)
@example('', False)
def test_check_syntax_refuses_exactly_the_first_character_of_the_rule(value, allow_space):
    expected = first_refused(value, allow_space)
    try:
        _values.check_syntax('opt', value, 'a word', allow_space=allow_space)
    except ModelError as exc:
        assert expected is not None
        kind, char = expected
        if kind == 'syntax':
            assert 'contains %r, which Nginx would read as syntax' % char in str(exc)
        else:
            assert _values.describe_char(char) in str(exc)
    else:
        assert expected is None
