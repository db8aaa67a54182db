# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests of rendering: for any string, in every free-text option, what Nginx reads is what was written.

For each option that the renderer quotes and escapes, and any string:

- either the model refuses it, naming that option, for one of the reasons
  the safety rules give (a control or invisible character, a leading "#", a
  "$" that starts no variable, nothing at all), and only for those;
- or the rendered file parses back to its payload (crossplane) and Nginx's own
  tokenizer (the independent reader in tests/unit/nginx_reader.py) reads
  exactly the value: no control character can come out of it, and
  backslashes stay literal.

A sample of accepted values also goes through a real ``nginx -t`` in
tests/nginx (``make integration``).
"""

from __future__ import annotations

import re

import crossplane
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._log_format import LogFormat
from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Upstream
from ansible_collections.balancer.nginx.plugins.module_utils._vhost import Vhost
from ansible_collections.balancer.nginx.tests.unit import nginx_reader
from ansible_collections.balancer.nginx.tests.unit.value_strategies import KIND, PLACES, any_text, written

VARIABLE_PLACES = ('proxy_header', 'location_header', 'log_format', 'hash_key')
REASONS = ('contains a line break', 'contains the control character', 'contains the invisible character',
           'starts with "#"', 'does not start a variable', 'is required', 'is an empty regex', 'has the modifier',
           'which is no variable')


def build(place, value):
    """``(model holding the value, rendered text)``."""
    make = PLACES[place][0]
    kind = KIND.get(place, 'vhost')
    model = {'log_format': LogFormat, 'upstream': Upstream, 'vhost': Vhost}[kind].from_options(make(value))
    payload = _render.file_payload([model.payload])
    text = _render.build(payload)
    _inspect.check_roundtrip(text, payload)   # raises "report this as a bug" if crossplane reads something else
    return model, text


def held(place, model):
    """What the model holds for the option (paths lose surrounding white space)."""
    if place in ('proxy_header', 'location_header'):
        return model.proxy_headers['X-Value'] if place == 'proxy_header' else model.locations[0].headers['X-Value']
    if place in ('regex_path', 'prefix_path'):
        return model.locations[0].path
    if place == 'server_name_regex':
        return model.values['server_name'][0]
    if place == 'log_format':
        return model.format[0]
    return model.values['hash_key']


def read_back(place, text):
    """What Nginx reads as the option's value."""
    directive, index = PLACES[place][2], PLACES[place][3]
    found = nginx_reader.statements(text, directive)
    if directive == 'proxy_set_header':
        found = [args for args in found if args[0] == 'X-Value']
        return found[0][1]
    return found[0][index]


def acceptable(place, value):
    """What the safety rules accept: printable, no leading "#", "$" only starting variables, not blank."""
    value = written(place, value)
    if place == 'regex_path':
        value = '~ ' + value
    if place in ('regex_path', 'prefix_path'):
        if not value.isprintable():
            return False
        parts = value.strip(' ').split(' ', 1)
        if place == 'regex_path':
            if len(parts) < 2 or not parts[1].lstrip(' '):
                return False
            value = parts[1].lstrip(' ')
        else:
            value = value.strip(' ')
    if place == 'hash_key' and not value.strip():
        return False
    if place == 'server_name_regex' and value == '~':
        return False
    if not value.isprintable() or value.startswith('#'):
        return False
    if place in VARIABLE_PLACES and '$' in _render_variables_removed(value):
        return False
    if place not in VARIABLE_PLACES and '${' in value:
        return False
    return True


def _render_variables_removed(value):
    return re.sub(r'\$(?:\{[A-Za-z0-9_]+\}|[A-Za-z0-9_]+)', '', value)


@pytest.mark.parametrize('place', sorted(PLACES))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=any_text)
def test_nginx_reads_what_was_written_or_the_option_is_refused(place, value):
    try:
        model, text = build(place, value)
    except ModelError as exc:
        assert exc.option == PLACES[place][1]
        assert any(reason in str(exc) for reason in REASONS), str(exc)
        assert not acceptable(place, value), 'valid input refused: %s' % exc
        return
    assert acceptable(place, value), 'accepted although the rules refuse it: %r' % value
    expected = held(place, model)
    if place in VARIABLE_PLACES:
        # a trailing ${name} is written $name: the same to Nginx
        expected = re.sub(r'\$\{([A-Za-z0-9_]+)\}$', r'$\1', expected)
    assert read_back(place, text) == expected
    assert all(char.isprintable() for char in expected)
    if place not in ('regex_path', 'prefix_path'):
        assert held(place, model) == written(place, value)


@pytest.mark.parametrize('value', ['\\r\\n', 'a\\', '\\\\', '\\"', "\\'", '\\t', 'C:\\dir\\', '\\\\n'], ids=repr)
@pytest.mark.parametrize('place', sorted(PLACES))
def test_backslashes_stay_literal(place, value):
    # The characters Nginx reads as escapes, in every free-text option: they reach Nginx as typed.
    model, text = build(place, 'x' + value)
    assert read_back(place, text) == written(place, 'x' + value)


# The builder writes what crossplane.build writes, byte for byte, for any payload of the shapes the kinds make
# (and for any argument text at all): comments on their own line or glued to a statement, blocks, nested blocks.
SPECIAL = ['$host', '${a}b', 'a b', '"', "'", '{', '}', ';', '\\', 'a\\', '$', '#x', '', '10.0.0.1:80']
ARGS = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(SPECIAL)), max_size=4)


def statements(depth, args=ARGS):
    """Payloads of comments, statements and blocks nested ``depth`` deep, their arguments drawn from ``args``."""
    comment = st.fixed_dictionaries({'directive': st.just('#'), 'comment': st.text(max_size=10),
                                     'line': st.integers(0, 6)})
    plain = st.fixed_dictionaries({'directive': st.from_regex(r'[a-z_]{1,8}', fullmatch=True), 'args': args,
                                   'line': st.integers(0, 6)})
    if depth == 0:
        return st.lists(st.one_of(comment, plain), max_size=5)
    block = st.fixed_dictionaries({'directive': st.from_regex(r'[a-z_]{1,8}', fullmatch=True), 'args': args,
                                   'line': st.integers(0, 6), 'block': statements(depth - 1, args)})
    return st.lists(st.one_of(comment, plain, block), max_size=5)


@settings(max_examples=400, deadline=None)
@given(statements(2))
def test_build_writes_what_crossplane_writes(payload):
    assert _render.build(payload) == crossplane.build(payload, indent=4, tabs=False, header=False) + '\n'


def test_build_hands_an_if_to_crossplane():
    payload = [{'directive': 'if', 'args': ['$a', '=', 'b c'], 'line': 1, 'block': [
        {'directive': 'return', 'args': ['204'], 'line': 2}]}]
    assert _render.build(payload) == "if ($a = 'b c') {\n    return 204;\n}\n"


PLAIN = st.lists(st.one_of(st.from_regex(r'[A-Za-z0-9_.:/=+,@%*~?&!|<>()\[\]$-]{1,10}', fullmatch=True),
                           st.sampled_from(['10.0.0.1:80', 'weight=3', 'max_fails=2', '$host', 'http://$c', '',
                                            '$', 'a$', '$$x', '$remote_addr'])), max_size=4)


def crossplane_reads(text, tmp_path):
    name = tmp_path / 'x.conf'
    name.write_bytes(text.encode('utf-8', 'surrogateescape'))
    config = crossplane.parse(str(name), single=True, strict=False, check_ctx=False, check_args=False,
                              comments=False, catch_errors=True)['config'][0]
    return config.get('parsed'), config.get('errors')


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statements(2, PLAIN))
@example(payload=[{'directive': 'if', 'args': [], 'line': 0}])     # found by Hypothesis: crossplane writes "if ();"
def test_the_parse_known_without_parsing_is_crossplane_s(tmp_path, payload):
    # parsed_form answers only for plain tokens and one-line comments, and then exactly what crossplane reads
    form = _render.parsed_form(payload)
    parsed, errors = crossplane_reads(_render.build(payload), tmp_path)
    if form is None:
        # only an argument that ends with "$" is quoted, and only a comment with a line break or an "if" (whose
        # arguments crossplane writes in parentheses) is unknown
        assert any(arg.endswith('$') for arg in _all_args(payload)) or any(
            '\n' in c or '\r' in c for c in _all_comments(payload)) or 'if' in _all_directives(payload)
    else:
        assert errors == []
        assert form == parsed


def _all_args(block):
    for stmt in block:
        yield from stmt.get('args', [])
        yield from _all_args(stmt.get('block') or [])


def _all_directives(block):
    for stmt in block:
        yield stmt['directive']
        yield from _all_directives(stmt.get('block') or [])


def _all_comments(block):
    for stmt in block:
        if stmt['directive'] == '#':
            yield stmt['comment']
        yield from _all_comments(stmt.get('block') or [])


def test_a_payload_to_quote_is_parsed():
    assert _render.parsed_form([{'directive': 'return', 'args': ['200', 'a b'], 'line': 1}]) is None
    assert _render.parsed_form([{'directive': 'listen', 'args': ['80'], 'line': 1}]) == [
        {'directive': 'listen', 'line': 1, 'args': ['80']}]
    # variables and the empty argument read back as written; a "$" at the end is quoted, so parsed
    header = [{'directive': 'proxy_set_header', 'args': ['Connection', ''], 'line': 1},
              {'directive': 'proxy_set_header', 'args': ['X-Forwarded-For', '$proxy_add_x_forwarded_for'],
               'line': 2}]
    assert _render.build(header) == ("proxy_set_header Connection '';\n"
                                     'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n')
    assert _render.parsed_form(header) == header
    assert _render.parsed_form([{'directive': 'return', 'args': ['200', 'a$'], 'line': 1}]) is None
