# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_log_format.py: a named log format, the ready upstream_debug format, its payload."""

from __future__ import annotations

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _options, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._log_format import LogFormat
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import MANAGED_HEADER
from ansible_collections.balancer.nginx.tests.unit import nginx_reader

# Written out here, not imported: DESIGN.md promises exactly this text.
UPSTREAM_DEBUG_FORMAT = ('$remote_addr $host $request status=$status upstream=$upstream_addr '
                         'upstream_status=$upstream_status upstream_response_time=$upstream_response_time')
HEADER_LINE = MANAGED_HEADER + '\n'


def refused(options, prefix=''):
    with pytest.raises(ModelError) as info:
        LogFormat.from_options(options, prefix)
    return str(info.value)


def render(model):
    return _render.render_file(model.payload, ('log_format', model.name))


def lines_of(text):
    return text.split('\n')


# --------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------

def test_upstream_debug_without_format_gets_the_ready_format():
    model = LogFormat.from_options({'name': 'upstream_debug'})
    assert model.to_options() == {'name': 'upstream_debug', 'format': [UPSTREAM_DEBUG_FORMAT], 'escape': None}
    assert _options.UPSTREAM_DEBUG_FORMAT == UPSTREAM_DEBUG_FORMAT


def test_upstream_debug_with_a_format_keeps_the_given_one():
    model = LogFormat.from_options({'name': 'upstream_debug', 'format': '$status'})
    assert model.format == ['$status']


def test_other_names_need_a_format():
    assert refused({'name': 'main'}) == (
        'format: is required (only upstream_debug has a ready format); give the format string, '
        'e.g. "$remote_addr $status $upstream_addr".')


def test_format_string_becomes_one_part():
    assert LogFormat.from_options({'name': 'main', 'format': '$remote_addr $status'}).format == [
        '$remote_addr $status']


def test_list_format_is_kept_as_written():
    parts = ['{"addr":"$remote_addr",', ' "up":"$upstream_addr" ', '}']
    model = LogFormat.from_options({'name': 'j', 'format': parts, 'escape': 'json'})
    assert model.format == parts
    assert model.to_options() == {'name': 'j', 'format': parts, 'escape': 'json'}


@pytest.mark.parametrize('escape', [None, 'default', 'json', 'none'])
def test_escape_choices(escape):
    assert LogFormat.from_options({'name': 'main', 'format': '$status', 'escape': escape}).escape == escape


def test_unknown_escape_refused():
    assert refused({'name': 'main', 'format': '$status', 'escape': 'xml'}) == (
        "escape: 'xml' is not an escape mode; use one of default, json, none.")


LF = 'contains a line break (U+000A (LF)), which Nginx would pass on into requests and log lines; ' \
    'split it into a list of strings instead.'
CR = LF.replace('U+000A (LF)', 'U+000D (CR)')


@pytest.mark.parametrize('fmt, message', [
    ('$a\n$b', "format: '$a\\n$b' " + LF),
    ('$a\r$b', "format: '$a\\r$b' " + CR),
    (['$a', '$b\n'], "format[1]: '$b\\n' " + LF),
    (['$a\n'], "format: '$a\\n' " + LF),
])
def test_line_breaks_refused(fmt, message):
    assert refused({'name': 'main', 'format': fmt}) == message


@pytest.mark.parametrize('fmt', [[], 5, {'a': 1}], ids=repr)
def test_format_must_be_string_or_list(fmt):
    assert refused({'name': 'main', 'format': fmt}) == (
        'format: must be a string or a non-empty list of strings; give the format string.')


def test_combined_cannot_be_redefined():
    assert refused({'name': 'combined', 'format': '$status'}) == (
        "name: 'combined' is built into Nginx and cannot be redefined; choose another name.")


def test_log_format_prefix_names_the_site_item():
    assert refused({'name': 'main'}, 'log_formats[2].') == (
        'log_formats[2].format: is required (only upstream_debug has a ready format); give the format string, '
        'e.g. "$remote_addr $status $upstream_addr".')


@pytest.mark.parametrize('name, message', [
    ('', 'name: is required and must be a non-empty string; give a name such as backend_pool.'),
    ('a b', "name: 'a b' contains ' ', which Nginx would read as syntax, not as part of a name; remove it."),
    ('a;b', "name: 'a;b' contains ';', which Nginx would read as syntax, not as part of a name; remove it."),
    ('-x', "name: '-x' is not a valid name (letters, digits, \"_\", \"-\" and \".\" only, at most 128, not starting "
           "with \"-\" or \".\"); rename it, e.g. backend_pool."),
])
def test_log_format_name_checked(name, message):
    assert refused({'name': name, 'format': '$status'}) == message


def test_unknown_option_refused():
    assert refused({'name': 'm', 'format': '$status', 'escape': 'json', 'x': 1, 'a': 2}) == (
        'options: has unknown option(s) a, x; use only name, state, format, escape.')


# --------------------------------------------------------------------------
# the payload
# --------------------------------------------------------------------------

def test_upstream_debug_log_format_text():
    assert render(LogFormat.from_options({'name': 'upstream_debug'})) == (
        HEADER_LINE
        + '# balancer.nginx item: log_format upstream_debug\n'
        + "log_format upstream_debug '$remote_addr $host $request status=$status upstream=$upstream_addr "
          "upstream_status=$upstream_status upstream_response_time=$upstream_response_time';\n")


def test_json_log_format_text_and_round_trip():
    parts = ['{"addr":"$remote_addr",', '"up":"$upstream_addr",', '"status":"$status"}']
    model = LogFormat.from_options({'name': 'json_up', 'escape': 'json', 'format': parts})
    text = render(model)
    assert text == (
        HEADER_LINE
        + '# balancer.nginx item: log_format json_up\n'
        + 'log_format json_up escape=json \'{"addr":"$remote_addr",\' \'"up":"$upstream_addr",\' '
          '\'"status":"$status"}\';\n')
    parsed = _inspect.parse_text(text)
    assert [(s['directive'], s['args']) for s in parsed] == [('log_format', ['json_up', 'escape=json'] + parts)]


@pytest.mark.parametrize('escape', ['default', 'none'])
def test_escape_argument(escape):
    text = render(LogFormat.from_options({'name': 'm', 'format': '$status', 'escape': escape}))
    assert lines_of(text)[1:] == ['# balancer.nginx item: log_format m', 'log_format m escape=%s $status;' % escape,
                                  '']


def test_log_format_payload_shape():
    model = LogFormat.from_options({'name': 'm', 'format': ['$a ', '$b']})
    assert model.payload() == {'directive': 'log_format', 'args': ['m', '$a ', '$b'], 'line': 1}


def test_a_trailing_braced_variable_is_written_without_braces():
    # the same to Nginx, and crossplane reads "${name}" at the end of an unquoted argument wrongly
    model = LogFormat.from_options({'name': 'm', 'format': ['$a', '${status}']})
    assert model.format == ['$a', '${status}']
    assert model.payload() == {'directive': 'log_format', 'args': ['m', '$a', '$status'], 'line': 1}


@pytest.mark.parametrize('fmt', [
    'a;b', 'a{b}', "it's", 'say "hi"', '', ' lead', "both ' and \"", 'a #b', 'a#b', '$a $b',
    'C:\\logs\\', 'a\\nb', 'a\\tb', '\\\\', 'é 日本',
], ids=repr)
def test_log_format_round_trips(fmt):
    # crossplane reads back the payload, and Nginx (the independent reader) reads exactly the value.
    model = LogFormat.from_options({'name': 'm', 'format': fmt})
    payload = _render.file_payload([model.payload])
    text = _render.build(payload)
    _inspect.check_roundtrip(text, payload)
    assert nginx_reader.statements(text, 'log_format') == [['m', fmt]]


# A format the model accepts must render to text that Nginx reads as written; otherwise the model must refuse
# it (naming format), never plan_site's check_roundtrip with "report this as a bug in balancer.nginx".
@pytest.mark.parametrize('fmt', ['#$remote_addr', 'C:\\logs\\', '$remote_addr\t$status', 'a\xa0b', 'a\u2028b'],
                         ids=repr)
def test_log_format_accepted_only_if_nginx_reads_it_as_written(fmt):
    try:
        model = LogFormat.from_options({'name': 'm', 'format': fmt})
    except ModelError as exc:
        assert exc.option == 'format'
        return
    payload = _render.file_payload([model.payload])
    text = _render.build(payload)
    _inspect.check_roundtrip(text, payload)
    assert nginx_reader.statements(text, 'log_format') == [['m', fmt]]
