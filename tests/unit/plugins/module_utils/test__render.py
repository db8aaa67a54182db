# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_render.py: the primitives every kind renders with.

The payloads of upstreams, vhosts and log formats are tested with their kinds
(test__upstream.py, test__vhost.py, test__log_format.py); what is left here
is what they share: line numbers, statements, Nginx's escapes, the managed
header, the declared directives of a group, and crossplane's build.
"""

from __future__ import annotations

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _options, _render
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import MANAGED_HEADER, is_managed, managed_item
from ansible_collections.balancer.nginx.tests.unit import nginx_reader


def test_lines_hand_out_increasing_numbers():
    lines = _render.Lines()
    assert [lines.next(), lines.next(), lines.next()] == [1, 2, 3]
    lines = _render.Lines(start=7)
    assert [lines.next(), lines.next()] == [7, 8]


def test_stmt_makes_string_arguments_and_numbers_its_line():
    lines = _render.Lines()
    assert _render.stmt(lines, 'keepalive', [16]) == {'directive': 'keepalive', 'args': ['16'], 'line': 1}
    assert _render.stmt(lines, 'upstream', ['app'], block=[]) == {
        'directive': 'upstream', 'args': ['app'], 'line': 2, 'block': []}
    assert _render.stmt(lines, 'ntlm') == {'directive': 'ntlm', 'args': [], 'line': 3}


def test_stmt_escapes_what_nginx_would_unescape():
    assert _render.stmt(_render.Lines(), 'hash', ['a\\nb'])['args'] == ['a\\\\nb']


# -- Nginx's escapes ----------------------------------------------------------------

@pytest.mark.parametrize('value, arg', [
    ('plain', 'plain'),
    ('C:\\dir\\file', 'C:\\dir\\file'),        # before any other character a backslash is kept as it is
    ('a\\nb', 'a\\\\nb'),                       # \n, \t, \r would become control characters
    ('a\\tb', 'a\\\\tb'),
    ('a\\rb', 'a\\\\rb'),
    ('say \\"hi\\"', 'say \\\\"hi\\\\"'),       # before a quote
    ("it\\'s", "it\\\\'s"),
    ('a\\\\b', 'a\\\\\\b'),                     # the first before a backslash, the second kept
    ('ends\\', 'ends\\\\'),                     # at the end
], ids=repr)
def test_nginx_arg_and_nginx_value_are_inverse(value, arg):
    assert _render.nginx_arg(value) == arg
    assert _render.nginx_value(arg) == value


@pytest.mark.parametrize('token, value', [
    ('a\\tb', 'a\tb'), ('a\\nb', 'a\nb'), ('a\\rb', 'a\rb'), ('\\"', '"'), ("\\'", "'"), ('\\\\', '\\'),
    ('\\x', '\\x'), ('plain', 'plain'),
], ids=repr)
def test_nginx_value_reads_like_nginx(token, value):
    assert _render.nginx_value(token) == value
    # the independent reader of tests/unit agrees
    assert nginx_reader.unescape(token) == value


@pytest.mark.parametrize('value, arg', [
    ('$host', '$host'),
    ('${host}', '$host'),
    ('x${host}', 'x$host'),
    ('${host}x', '${host}x'),          # only a trailing one: elsewhere the braces end the name
    ('${a}${b}', '${a}$b'),
    ('no variable}', 'no variable}'),
], ids=repr)
def test_variable_arg_writes_a_trailing_braced_variable_without_braces(value, arg):
    assert _render.variable_arg(value) == arg


# -- the managed header and the item line ----------------------------------------------

def upstream_a(lines):
    head = _render.stmt(lines, 'upstream', ['a'], block=[])
    head['block'].append(_render.stmt(lines, 'server', ['a:80']))
    return head


def test_file_payload_numbers_from_line_one_with_the_header_first():
    payload = _render.file_payload([upstream_a], ('upstream', 'a'))
    assert payload == [
        {'directive': '#', 'args': [], 'line': 1,
         'comment': ' Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.'},
        {'directive': '#', 'args': [], 'line': 2, 'comment': ' balancer.nginx item: upstream a'},
        {'directive': 'upstream', 'args': ['a'], 'line': 3,
         'block': [{'directive': 'server', 'args': ['a:80'], 'line': 4}]},
    ]


def test_file_payload_without_an_item_has_the_header_only():
    payload = _render.file_payload([lambda lines: _render.stmt(lines, 'ntlm')])
    assert [s['directive'] for s in payload] == ['#', 'ntlm']
    assert [s['line'] for s in payload] == [1, 2]


def test_render_file_is_build_of_file_payload():
    text = _render.render_file(upstream_a, ('upstream', 'a'))
    assert text == (
        '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.\n'
        '# balancer.nginx item: upstream a\n'
        'upstream a {\n'
        '    server a:80;\n'
        '}\n')
    assert text.split('\n', 1)[0] == MANAGED_HEADER
    assert is_managed(text)
    assert managed_item(text) == ('upstream', 'a')


def test_build_quotes_what_needs_quoting_and_ends_with_one_newline():
    lines = _render.Lines()
    payload = [_render.stmt(lines, 'log_format', ['m', 'a b', '', "it's", 'x;y'])]
    assert _render.build(payload) == "log_format m 'a b' '' \"it's\" 'x;y';\n"


def test_regex_server_name_and_location_render_and_round_trip():
    # The renderer can write regex names and paths (crossplane quotes them); test__vhost.py has the model side.
    lines = _render.Lines()
    payload = [{'directive': 'server', 'args': [], 'line': lines.next(), 'block': [
        {'directive': 'server_name', 'args': ['~^(www\\.)?example\\.com$'], 'line': lines.next()},
        {'directive': 'location', 'args': ['~*', '\\.(png|jpg)$'], 'line': lines.next(), 'block': []},
    ]}]
    text = _render.build(payload)
    assert _render.strip_lines(_inspect.parse_text(text)) == _render.strip_lines(payload)


def test_strip_lines_drops_comments_and_line_numbers():
    payload = [{'directive': '#', 'args': [], 'line': 1, 'comment': 'x'},
               {'directive': 'upstream', 'args': ['a'], 'line': 2,
                'block': [{'directive': 'server', 'args': ['a:80'], 'line': 3}]}]
    assert _render.strip_lines(payload) == [
        {'directive': 'upstream', 'args': ['a'], 'block': [{'directive': 'server', 'args': ['a:80']}]}]


# -- the declared directives of a group -----------------------------------------------

def test_directives_writes_the_set_options_of_a_place_in_table_order():
    values = _options.UPSTREAM_OPTIONS.defaults()
    values.update(zone='app 64k', resolver=['10.0.0.2', 'valid=30s'], keepalive=8, keepalive_time='1h', ntlm=True)
    head, tail = [], []
    lines = _render.Lines()
    _render.directives(_options.UPSTREAM_OPTIONS, values, 'head', lines, head)
    _render.directives(_options.UPSTREAM_OPTIONS, values, 'tail', lines, tail)
    assert head == [{'directive': 'zone', 'args': ['app', '64k'], 'line': 1},
                    {'directive': 'resolver', 'args': ['10.0.0.2', 'valid=30s'], 'line': 2}]
    assert tail == [{'directive': 'keepalive', 'args': ['8'], 'line': 3},
                    {'directive': 'keepalive_time', 'args': ['1h'], 'line': 4},
                    {'directive': 'ntlm', 'args': [], 'line': 5}]


def test_directives_leave_out_unset_and_default_values():
    block = []
    _render.directives(_options.LOCATION_OPTIONS, _options.LOCATION_OPTIONS.defaults(), 'body', _render.Lines(), block)
    assert block == []


def test_directives_with_variables_write_a_trailing_braced_variable_without_braces():
    group = _options.Group((_options.Option('key', directive='hash_like', render=_options.DIRECTIVE),))
    plain, expanded = [], []
    _render.directives(group, {'key': 'x${a}'}, 'body', _render.Lines(), plain)
    _render.directives(group, {'key': 'x${a}'}, 'body', _render.Lines(), expanded, variables=('key',))
    assert plain == [{'directive': 'hash_like', 'args': ['x${a}'], 'line': 1}]
    assert expanded == [{'directive': 'hash_like', 'args': ['x$a'], 'line': 1}]


# -- the golden files' fixture (conftest.py) ---------------------------------------------

def test_updating_a_golden_file_never_passes(golden, tmp_path, monkeypatch):
    # BALANCER_UPDATE_GOLDEN rewrites the file and fails the test, so an update is reviewed, never compared with
    # itself; without it, a difference fails.
    # the fixture's own module, however pytest imported conftest.py
    monkeypatch.setitem(golden.__globals__, 'GOLDEN', str(tmp_path))
    (tmp_path / 'case.conf').write_bytes(b'old\n')
    monkeypatch.setenv('BALANCER_UPDATE_GOLDEN', '1')
    with pytest.raises(pytest.fail.Exception) as info:
        golden('case', 'new\n')
    assert str(info.value) == ('rewrote %s (BALANCER_UPDATE_GOLDEN is set); review the diff and rerun without it'
                               % (tmp_path / 'case.conf'))
    assert (tmp_path / 'case.conf').read_bytes() == b'new\n'
    monkeypatch.delenv('BALANCER_UPDATE_GOLDEN')
    golden('case', 'new\n')
    with pytest.raises(AssertionError):
        golden('case', 'other\n')
