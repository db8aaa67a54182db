# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_vhost.py: Location, Vhost, their payload, and the websocket map.

Golden files live in ``golden/vhost_*.conf`` (see conftest.py for updating
them); tests/nginx/test_golden_files_pass_nginx_t.py runs a real ``nginx -t``
over them.
"""

from __future__ import annotations

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _inspect, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import MANAGED_HEADER, is_managed, managed_item
from ansible_collections.balancer.nginx.plugins.module_utils._vhost import (
    LOCATION_STATEMENTS, SERVER_STATEMENTS, STREAM_SERVER_STATEMENTS, WEBSOCKET_MAP_ITEM, Vhost,
    websocket_map_payload)
from ansible_collections.balancer.nginx.tests.unit import nginx_reader

HEADER_LINE = MANAGED_HEADER + '\n'

DEFAULT_HEADERS = {
    'Host': '$host',
    'X-Real-IP': '$remote_addr',
    'X-Forwarded-For': '$proxy_add_x_forwarded_for',
    'X-Forwarded-Proto': '$scheme',
}


def refused(options, prefix=''):
    with pytest.raises(ModelError) as info:
        Vhost.from_options(options, prefix)
    return str(info.value)


def render(model):
    """The file the vhost module writes for ``model``: its canaries' split_clients, then the server."""
    return _render.build(_render.file_payload(model.statements(), ('vhost', model.name)))


def lines_of(text):
    return text.split('\n')


# --------------------------------------------------------------------------
# Vhost basics
# --------------------------------------------------------------------------

def vhost(**options):
    options.setdefault('name', 'shop')
    if 'locations' not in options:
        options.setdefault('upstream', 'app')
    return Vhost.from_options(options)


@pytest.mark.parametrize('server_name, expected', [
    ('shop.example.com', ['shop.example.com']),
    ('shop.example.com  www.shop.example.com', ['shop.example.com', 'www.shop.example.com']),
    (['shop.example.com', 'a.example.com b.example.com'], ['shop.example.com', 'a.example.com', 'b.example.com']),
    (['*.example.com', '.example.org', '_'], ['*.example.com', '.example.org', '_']),
    (None, []),
    ([], []),
])
def test_server_name_string_or_list(server_name, expected):
    assert vhost(server_name=server_name).values['server_name'] == expected


def test_listen_default():
    assert vhost().values['listen'] == ['80', '[::]:80']
    # the default list is not shared between models
    vhost().values['listen'].append('8080')
    assert vhost().values['listen'] == ['80', '[::]:80']


@pytest.mark.parametrize('listen, expected', [
    (443, ['443']),
    ('8080', ['8080']),
    (['443 ssl', '[::]:443 ssl'], ['443 ssl', '[::]:443 ssl']),
])
def test_listen_given(listen, expected):
    assert vhost(listen=listen).values['listen'] == expected


def test_listen_empty_refused():
    assert refused({'name': 'shop', 'upstream': 'app', 'listen': []}) == (
        'listen: is empty; give at least one address or port, e.g. 80.')


def test_upstream_becomes_location_slash():
    model = vhost(upstream='app')
    assert [(loc.path, loc.upstream, loc.literal) for loc in model.locations] == [('/', 'app', None)]


def test_defaults_to_options():
    assert vhost().to_options() == {
        'name': 'shop', 'server_name': [], 'listen': ['80', '[::]:80'],
        # split_key has a default, so every location carries it (it only matters with split)
        'locations': [{'path': '/', 'upstream': 'app', 'split_key': '$request_id', 'websocket': False,
                       'headers': {}}],
        'proxy_headers': DEFAULT_HEADERS,
    }


@pytest.mark.parametrize('options', [{'name': 'shop'}, {'name': 'shop', 'locations': []}])
def test_one_of_upstream_and_locations_is_needed(options):
    assert refused(options) == (
        'upstream: a vhost needs exactly one of upstream and locations; set upstream (proxied at /) or list '
        'locations.')


def test_upstream_and_locations_exclude_each_other():
    assert refused({'name': 'shop', 'upstream': 'app', 'locations': [{'path': '/', 'upstream': 'app'}]}) == (
        'locations: cannot be combined with upstream; keep one of upstream and locations.')


def test_absent_needs_neither_upstream_nor_locations():
    assert Vhost.from_options({'name': 'shop', 'state': 'absent'}).locations == []


def test_unknown_option_refused():
    assert refused({'name': 'v', 'upstream': 'a', 'websocket': True}, 'vhosts[0].') == (
        'vhosts[0]: has unknown option(s) websocket; use only name, state, server_name, listen, upstream, locations, '
        'proxy_headers, access_log, ssl_certificate, ssl_certificate_key.')


# --------------------------------------------------------------------------
# Location
# --------------------------------------------------------------------------

def location(**options):
    return Vhost.from_options({'name': 'shop', 'locations': [options]}).locations[0]


def location_refused(options):
    return refused({'name': 'shop', 'locations': [options]})


def test_location_needs_upstream_pass_or_split():
    # the fix names the choices again
    assert location_refused({'path': '/'}) == (
        'locations[0]: needs one of upstream, pass, split; set upstream to a group name, split to a canary between '
        'groups, or pass to a URL such as http://127.0.0.1:8080.')


@pytest.mark.parametrize('given, message', [
    ({'upstream': 'app', 'pass': 'http://x'},
     'locations[0].pass: cannot be combined with locations[0].upstream; keep one of upstream and pass and split.'),
    ({'upstream': 'app', 'split': [{'upstream': 'a', 'percent': 90}, {'upstream': 'b'}]},
     'locations[0].split: cannot be combined with locations[0].upstream; keep one of upstream and pass and split.'),
    ({'pass': 'http://x', 'split': [{'upstream': 'a', 'percent': 90}, {'upstream': 'b'}]},
     'locations[0].split: cannot be combined with locations[0].pass; keep one of upstream and pass and split.'),
], ids=['upstream-pass', 'upstream-split', 'pass-split'])
def test_location_upstream_pass_and_split_exclude_each_other(given, message):
    assert location_refused(dict(given, path='/')) == message


@pytest.mark.parametrize('url', ['http://127.0.0.1:8080', 'https://api.example.com/v1/', 'http://unix:/run/a.sock:'])
def test_pass_http_urls_accepted(url):
    assert location(path='/', **{'pass': url}).literal == url


@pytest.mark.parametrize('url', ['ftp://files', '127.0.0.1:8080', 'app', 'HTTP://x'])
def test_pass_must_be_http_url(url):
    assert location_refused({'path': '/', 'pass': url}) == (
        "locations[0].pass: %r must be an http:// or https:// URL; give e.g. http://127.0.0.1:8080." % url)


def test_location_modifier_split():
    loc = location(path='= /health', upstream='app')
    assert (loc.modifier, loc.path, loc.full_path) == ('=', '/health', '= /health')
    loc = location(path='^~   /static', upstream='app')
    assert (loc.modifier, loc.path, loc.full_path) == ('^~', '/static', '^~ /static')


def test_location_path_defaults_to_slash():
    assert location(upstream='app').path == '/'


@pytest.mark.parametrize('path, message', [
    ('= ', "locations[0].path: '=' has the modifier = but no path or regex after it; write e.g. \"= /exact\", "
           "\"^~ /static/\" or \"~ \\.php$\"."),
    ('api', "locations[0].path: 'api' must start with \"/\" (a prefix) or \"@\" (a named location), or with a "
            "modifier and a space; write e.g. /api/, \"= /exact\" or \"~ ^/v[0-9]+/\"."),
    ('=/x', "locations[0].path: '=/x' must start with \"/\" (a prefix) or \"@\" (a named location), or with a "
            "modifier and a space; write e.g. /api/, \"= /exact\" or \"~ ^/v[0-9]+/\"."),
])
def test_location_path_grammar(path, message):
    assert location_refused({'path': path, 'upstream': 'app'}) == message


def test_location_unknown_key_refused():
    assert location_refused({'path': '/', 'upstream': 'a', 'bogus': 1}) == (
        'locations[0]: has unknown option(s) bogus; use only path, upstream, pass, split, split_key, backend_tls, '
        'next_upstream, next_upstream_tries, next_upstream_timeout, connect_timeout, read_timeout, send_timeout, '
        'websocket, headers.')


def test_location_must_be_dict():
    # Worse than before the table: "must be a dict with a path and an upstream or a pass; write {path: /,
    # upstream: NAME}".
    assert refused({'name': 'shop', 'locations': ['/']}) == (
        "locations[0]: '/' must be a dict of location options; write {path: ...}.")


@pytest.mark.parametrize('given, expected', [
    ('error timeout', ['error', 'timeout']),
    (['error', 'timeout', 'http_502', 'http_503', 'http_504'], ['error', 'timeout', 'http_502', 'http_503',
                                                                'http_504']),
    (['off'], ['off']),
    ('off', ['off']),
], ids=['string', 'list', 'off-list', 'off-string'])
def test_next_upstream_accepted(given, expected):
    assert location(upstream='app', next_upstream=given).values['next_upstream'] == expected


def test_next_upstream_invalid_condition_named():
    options = {'name': 'shop', 'locations': [
        {'path': '/a', 'upstream': 'app'},
        {'path': '/', 'upstream': 'app', 'next_upstream': ['error', 'http_501']},
    ]}
    assert refused(options) == (
        "locations[1].next_upstream[1]: 'http_501' is not a proxy_next_upstream condition; use error, timeout, "
        "invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, "
        "off.")


def test_next_upstream_off_alone():
    assert location_refused({'path': '/', 'upstream': 'a', 'next_upstream': ['error', 'off']}) == (
        'locations[0].next_upstream: combines off with other conditions; use off alone, or drop it.')


def test_retry_warning_when_non_idempotent():
    model = Vhost.from_options({'name': 'shop', 'locations': [
        {'path': '/a', 'upstream': 'app', 'next_upstream': ['error']},
        {'path': '/', 'upstream': 'app', 'next_upstream': ['error', 'non_idempotent']},
    ]})
    assert model.retry_warnings('vhosts[3].') == [
        'vhosts[3].locations[1].next_upstream: includes non_idempotent, so POST, LOCK and PATCH requests may be '
        'sent to more than one server']
    assert vhost().retry_warnings() == []


@pytest.mark.parametrize('key, value, problem', [
    ('next_upstream_tries', -1, "locations[0].next_upstream_tries: -1 must be at least 0; give a value at least 0."),
    ('next_upstream_timeout', 'soon', "locations[0].next_upstream_timeout: 'soon' is not an Nginx time; give a "
                                      "value such as 10s, 1m, 500ms or 1m30s."),
    ('read_timeout', '30x', "locations[0].read_timeout: '30x' is not an Nginx time; give a value such as 10s, "
                            "1m, 500ms or 1m30s."),
])
def test_location_numbers_and_times(key, value, problem):
    assert location_refused({'path': '/', 'upstream': 'a', key: value}) == problem


def test_headers_kept_and_none_is_empty():
    loc = location(upstream='app', headers={'X-Request-Id': '$request_id', 'X-Empty': None, 'X-Q': 'say "hi"'})
    assert loc.headers == {'X-Empty': '', 'X-Q': 'say "hi"', 'X-Request-Id': '$request_id'}


def test_invalid_header_name_refused():
    assert location_refused({'path': '/', 'upstream': 'a', 'headers': {'Bad Name': 'x'}}) == (
        "locations[0].headers: 'Bad Name' has an invalid header name; use letters, digits and -.")
    assert refused({'name': 'shop', 'upstream': 'a', 'proxy_headers': {'Bad:': 'x'}}) == (
        "proxy_headers: 'Bad:' has an invalid header name; use letters, digits and -.")


def test_headers_must_be_dicts():
    # the fix names an example again
    assert location_refused({'path': '/', 'upstream': 'a', 'headers': ['x']}) == (
        "locations[0].headers: ['x'] must be a dict; write {X-Request-Id: $request_id}.")
    assert refused({'name': 'shop', 'upstream': 'a', 'proxy_headers': 'Host'}) == (
        "proxy_headers: 'Host' must be a dict; write {Host: $host}.")


def test_proxy_headers_replace_the_defaults():
    assert vhost(proxy_headers={'Host': '$http_host'}).proxy_headers == {'Host': '$http_host'}
    assert vhost(proxy_headers={}).proxy_headers == {}


# --------------------------------------------------------------------------
# injection attempts
# --------------------------------------------------------------------------

INJECTIONS = [(';', "';'"), ('{', "'{'"), ('}', "'}'"), ('\n', "'\\n'"), ('#', "'#'")]

# Bare words (addresses, names, paths of files): any syntax character is refused.
# option given -> (option path in the message, what the value is described as)
PLACES = [
    ('listen', lambda v: {'upstream': 'app', 'listen': ['80', '8080' + v + 'y']}, 'listen[1]',
     'a listen address'),
    ('pass', lambda v: {'locations': [{'path': '/', 'pass': 'http://x' + v + 'y'}]}, 'locations[0].pass', 'a URL'),
    # the option given is named (before the table: locations[0].upstream, the location it stands for)
    ('upstream', lambda v: {'upstream': 'x' + v + 'y'}, 'upstream', 'a name'),
    ('location_upstream', lambda v: {'locations': [{'path': '/', 'upstream': 'x' + v + 'y'}]},
     'locations[0].upstream', 'a name'),
    ('access_log', lambda v: {'upstream': 'app', 'access_log': {'path': '/var/log/x' + v + 'y'}},
     'access_log.path', 'a file path'),
    ('access_log_format', lambda v: {'upstream': 'app', 'access_log': {'path': '/l', 'format': 'x' + v + 'y'}},
     'access_log.format', 'a name'),
    ('ssl', lambda v: {'upstream': 'app', 'ssl_certificate': '/c' + v + 'y', 'ssl_certificate_key': '/k'},
     'ssl_certificate', 'a file path'),
    ('ssl_key', lambda v: {'upstream': 'app', 'ssl_certificate': '/c', 'ssl_certificate_key': '/k' + v + 'y'},
     'ssl_certificate_key', 'a file path'),
]

INJECTION_CASES = [
    pytest.param(place, make, option, what, char, shown, id='%s-%r' % (place, char))
    for place, make, option, what in PLACES for char, shown in INJECTIONS
]


@pytest.mark.parametrize('place, make, option, what, char, shown', INJECTION_CASES)
def test_injection_refused(place, make, option, what, char, shown):
    options = dict(make(char), name='shop')
    value = [v for v in _strings(options) if char in v][0]
    assert refused(options) == (
        '%s: %r contains %s, which Nginx would read as syntax, not as part of %s; remove it.'
        % (option, value, shown, what))


# Free text (header values, location paths): syntax characters are kept literally (the renderer quotes
# and escapes them, see the payload tests below), line breaks are refused.
TEXT_PLACES = [
    ('path', lambda v: {'locations': [{'path': '/a', 'upstream': 'app'}, {'path': '/x' + v + 'y', 'upstream': 'app'}]},
     'locations[1].path', lambda m: m.locations[1].path[1:]),
    ('header', lambda v: {'locations': [{'path': '/', 'upstream': 'app', 'headers': {'X-A': 'x' + v + 'y'}}]},
     'locations[0].headers.X-A', lambda m: m.locations[0].headers['X-A']),
    ('proxy_header', lambda v: {'upstream': 'app', 'proxy_headers': {'Host': 'x' + v + 'y'}},
     'proxy_headers.Host', lambda m: m.proxy_headers['Host']),
]


@pytest.mark.parametrize('char', [';', '{', '}', '#', '"', "'", '\\'], ids=repr)
@pytest.mark.parametrize('place, make, option, get', TEXT_PLACES, ids=[p[0] for p in TEXT_PLACES])
def test_syntax_in_free_text_is_kept_literally(place, make, option, get, char):
    model = Vhost.from_options(dict(make(char), name='shop'))
    assert get(model) == 'x' + char + 'y'


@pytest.mark.parametrize('char, name', [('\n', 'U+000A (LF)'), ('\r', 'U+000D (CR)')])
@pytest.mark.parametrize('place, make, option, get', TEXT_PLACES, ids=[p[0] for p in TEXT_PLACES])
def test_line_break_in_free_text_refused(place, make, option, get, char, name):
    assert refused(dict(make(char), name='shop')) == (
        '%s: %r contains a line break (%s), which Nginx would pass on into requests and log lines; remove it.'
        % (option, ('/x' if place == 'path' else 'x') + char + 'y', name))


@pytest.mark.parametrize('char, shown', [
    ('\t', 'the control character U+0009 (TAB)'),
    ('\x00', 'the control character U+0000 (NUL)'),
    ('\x7f', 'the control character U+007F (DEL)'),
    ('\x85', 'the control character U+0085'),
    ('\xa0', 'the invisible character U+00A0 (NO-BREAK SPACE)'),
    ('\u2028', 'the invisible character U+2028 (LINE SEPARATOR)'),
    ('\u200b', 'the invisible character U+200B (ZERO WIDTH SPACE)'),
], ids=repr)
def test_control_and_invisible_characters_in_a_header_value_refused(char, shown):
    value = 'hello' + char + 'X-Injected: yes'
    message = refused({'name': 'shop', 'upstream': 'app', 'proxy_headers': {'X-Note': value}})
    fix = 'remove it, or use a plain space' if 'invisible' in shown else 'remove it'
    assert message == ('proxy_headers.X-Note: %r contains %s, which %s; %s.' % (
        value, shown, 'cannot be written into a header value literally' if 'invisible' in shown
        else 'Nginx would pass on into requests and log lines', fix))


@pytest.mark.parametrize('value', [
    'for=$remote_addr;proto=$scheme',          # RFC 7239 Forwarded
    '${host}:${server_port}',                  # braces after "$"
    'hello\\r\\nX-Injected: yes',              # the two characters backslash and r, kept as written
    'C:\\', 'a "quoted" word', "it's", '', 'é 日本',
], ids=repr)
def test_header_values_that_nginx_accepts_are_kept(value):
    model = Vhost.from_options({'name': 'shop', 'upstream': 'app', 'proxy_headers': {'Forwarded': value}})
    assert model.proxy_headers == {'Forwarded': value}


@pytest.mark.parametrize('value', ['price: 5$', '$', '${host', '$-x'], ids=repr)
def test_a_dollar_that_starts_no_variable_refused(value):
    message = refused({'name': 'shop', 'upstream': 'app', 'proxy_headers': {'X-A': value}})
    assert message == ('proxy_headers.X-A: %r has a "$" that does not start a variable ($name or ${name}); Nginx '
                       'has no way to write a literal "$" in a header value; remove it, or complete the variable '
                       'name.' % value)


def test_header_names_differing_in_case_are_one_header():
    assert refused({'name': 'shop', 'upstream': 'app', 'proxy_headers': {'Host': '$host', 'host': 'x'}}) == (
        "proxy_headers.host: 'x' names the same header as proxy_headers.Host (header names ignore letter case); "
        "keep one of them.")


def _strings(options):
    if isinstance(options, dict):
        for value in options.values():
            yield from _strings(value)
    elif isinstance(options, list):
        for value in options:
            yield from _strings(value)
    elif isinstance(options, str):
        yield options


def test_server_name_newline_is_a_separator():
    # A newline in server_name separates names like a space: it never reaches the file as syntax.
    assert vhost(server_name='a.example.com\nb.example.com').values['server_name'] == ['a.example.com',
                                                                                       'b.example.com']


@pytest.mark.parametrize('char', [';', '{', '}', '#'], ids=repr)
def test_server_name_syntax_refused(char):
    assert refused({'name': 'shop', 'upstream': 'app', 'server_name': ['ok.example.com', 'x' + char + 'y']}) == (
        "server_name[1]: %r is not a server name; give a host name such as www.example.com, a wildcard name such "
        "as *.example.com, a regex starting with \"~\", or \"\"." % ('x' + char + 'y'))


@pytest.mark.parametrize('server_name', [
    '~^(?<sub>.+)\\.example\\.com$',      # a named capture
    '~^www\\d{1,3}\\.example\\.net$',     # a quantifier
    '~^(www|api)\\.example\\.org$',
], ids=repr)
def test_regex_server_names_nginx_accepts(server_name):
    assert vhost(server_name=server_name).values['server_name'] == [server_name]


def test_empty_server_name_names_requests_without_host():
    assert vhost(server_name=['example.com', '']).values['server_name'] == ['example.com', '']
    assert vhost(server_name='').values['server_name'] == ['']


def test_an_empty_regex_server_name_refused():
    assert refused({'name': 'shop', 'upstream': 'app', 'server_name': '~'}) == (
        "server_name[0]: '~' is an empty regex; write the expression after \"~\".")


def test_location_regex_with_a_quantifier():
    loc = location(path='~ ^/api/v\\d{1,2}/', upstream='app')
    assert (loc.modifier, loc.path) == ('~', '^/api/v\\d{1,2}/')


@pytest.mark.parametrize('name', ['a"b', "a'b", 'a`b', 'a/b', 'a,b'])
def test_server_name_other_bad_characters(name):
    assert refused({'name': 'shop', 'upstream': 'app', 'server_name': name}) == (
        "server_name[0]: %r is not a server name; give a host name such as www.example.com, a wildcard name such "
        "as *.example.com, a regex starting with \"~\", or \"\"." % name)


@pytest.mark.parametrize('server_name', ['~^(www\\.)?example\\.com$', '~^api\\d+\\.example\\.net$'])
def test_regex_server_name_with_escaped_dots_accepted(server_name):
    # Nginx regex names need "\" (an unescaped "." matches any character); crossplane quotes and round-trips
    # such names (see test__render.py).
    assert vhost(server_name=server_name).values['server_name'] == [server_name]


def test_regex_location_with_backslash_accepted():
    # ~ and ~* take regexes, which need "\" to match a literal dot.
    loc = location(path='~* \\.(png|jpg)$', upstream='app')
    assert (loc.modifier, loc.path) == ('~*', '\\.(png|jpg)$')


def test_duplicate_location_paths_refused():
    assert refused({'name': 'shop', 'locations': [
        {'path': '/', 'upstream': 'a'}, {'path': '/api', 'upstream': 'b'}, {'path': '/', 'upstream': 'c'}]}) == (
        "locations[2].path: '/' repeats locations[0].path; give each one its own path.")


def test_duplicate_location_paths_compare_modifier_and_path():
    # '= /x' and '/x' are different locations; '=  /x' is the same as '= /x'
    model = vhost(locations=[{'path': '= /x', 'upstream': 'a'}, {'path': '/x', 'upstream': 'a'}])
    assert [loc.full_path for loc in model.locations] == ['= /x', '/x']
    assert refused({'name': 'shop', 'locations': [
        {'path': '= /x', 'upstream': 'a'}, {'path': '=  /x', 'upstream': 'a'}]}, 'vhosts[1].') == (
        "vhosts[1].locations[1].path: '= /x' repeats locations[0].path; give each one its own path.")


@pytest.mark.parametrize('given', [{'ssl_certificate': '/etc/ssl/a.pem'}, {'ssl_certificate_key': '/etc/ssl/a.key'}])
def test_ssl_certificate_and_key_together(given):
    assert refused(dict(given, name='shop', upstream='app')) == (
        'ssl_certificate: and ssl_certificate_key go together; give both, or neither.')


def test_ssl_both_kept():
    model = vhost(ssl_certificate='/etc/ssl/a.pem', ssl_certificate_key='/etc/ssl/a.key')
    assert (model.values['ssl_certificate'], model.values['ssl_certificate_key']) == (
        '/etc/ssl/a.pem', '/etc/ssl/a.key')


def test_access_log_string_or_dict():
    assert vhost(access_log='/var/log/nginx/shop.log').log == {'path': '/var/log/nginx/shop.log', 'format': None}
    assert vhost(access_log={'path': '/var/log/x.log', 'format': 'upstream_debug'}).log == {
        'path': '/var/log/x.log', 'format': 'upstream_debug'}


def test_access_log_path_required():
    assert refused({'name': 'shop', 'upstream': 'a', 'access_log': {'format': 'main'}}) == (
        'access_log.path: is required; give a log file path, or off.')


def test_websocket_flag():
    model = vhost(locations=[{'path': '/', 'upstream': 'a'}, {'path': '/ws', 'upstream': 'a', 'websocket': True}])
    assert model.uses_websocket() is True
    assert vhost().uses_websocket() is False


def test_prefix_used_in_every_path():
    assert refused({'name': 'shop', 'locations': [{'path': '/', 'pass': 'ftp://x'}]}, 'vhosts[1].') == (
        "vhosts[1].locations[0].pass: 'ftp://x' must be an http:// or https:// URL; give e.g. "
        "http://127.0.0.1:8080.")


# --------------------------------------------------------------------------
# websocket map
# --------------------------------------------------------------------------

def test_websocket_map_text():
    assert _render.render_file(websocket_map_payload, WEBSOCKET_MAP_ITEM) == (
        HEADER_LINE
        + '# balancer.nginx item: map websocket\n'
        + 'map $http_upgrade $balancer_connection_upgrade {\n'
          '    default upgrade;\n'
          "    '' '';\n"
          '}\n')


def test_websocket_map_round_trip():
    payload = _render.file_payload([websocket_map_payload])
    assert _render.strip_lines(_inspect.parse_text(_render.build(payload))) == _render.strip_lines(payload)


# --------------------------------------------------------------------------
# the payload
# --------------------------------------------------------------------------

# golden name -> vhost options
CASES = {
    'vhost_simple': {'name': 'shop', 'server_name': 'shop.example.com www.shop.example.com', 'upstream': 'app'},
    'vhost_keepalive': {'name': 'api', 'server_name': ['api.example.com'], 'upstream': 'api'},
    'vhost_locations': {
        'name': 'portal',
        'server_name': 'portal.example.com',
        'access_log': {'path': '/var/log/nginx/portal.log', 'format': 'upstream_debug'},
        'locations': [
            {'path': '/', 'upstream': 'app', 'next_upstream': ['error', 'timeout', 'http_502'],
             'next_upstream_tries': 2, 'next_upstream_timeout': '5s', 'connect_timeout': '2s',
             'read_timeout': '30s', 'send_timeout': '30s', 'headers': {'X-Request-Id': '$request_id'}},
            {'path': '/ws', 'upstream': 'plain', 'websocket': True},
            {'path': '= /health', 'pass': 'http://127.0.0.1:8080/healthz'},
            {'path': '/legacy', 'upstream': 'plain'},
        ],
    },
    'vhost_tls': {
        'name': 'secure', 'server_name': 'secure.example.com', 'listen': ['443 ssl', '[::]:443 ssl'],
        'ssl_certificate': '/etc/ssl/certs/secure.pem', 'ssl_certificate_key': '/etc/ssl/private/secure.key',
        'access_log': '/var/log/nginx/secure.log',
        'proxy_headers': {'Host': '$host', 'X-Empty': ''},
        'upstream': 'app',
    },
    # issue 12: a canary between two groups, and verified TLS to the backends with a client certificate; the
    # files they name are the ones tests/nginx gives vhost_tls
    'vhost_split': {
        'name': 'shop', 'server_name': 'shop.example.com',
        'locations': [
            {'path': '/', 'split': [{'upstream': 'app', 'percent': 90}, {'upstream': 'api'}],
             'split_key': '$remote_addr'},
            {'path': '/beta/', 'split': [{'upstream': 'app', 'percent': 12.5}, {'upstream': 'api', 'percent': 37.5},
                                         {'upstream': 'plain'}]},
        ],
    },
    'vhost_backend_tls': {
        'name': 'secure-backends', 'server_name': 'secure.example.com',
        'locations': [
            {'path': '/', 'upstream': 'app', 'backend_tls': {
                'name': 'secure.example.com', 'trusted_certificate': '/etc/ssl/certs/secure.pem',
                'certificate': '/etc/ssl/certs/secure.pem', 'certificate_key': '/etc/ssl/private/secure.key',
                'protocols': ['TLSv1.2', 'TLSv1.3']}},
            {'path': '/plain', 'upstream': 'plain'},
        ],
    },
}


def render_case(name):
    return render(Vhost.from_options(dict(CASES[name])))


def payload_of(name):
    model = Vhost.from_options(dict(CASES[name]))
    return _render.file_payload(model.statements(), ('vhost', CASES[name]['name']))


@pytest.mark.parametrize('name', sorted(CASES))
def test_golden(name, golden):
    golden(name, render_case(name))


def test_golden_literal_simple():
    # one golden file spelled out here, so that a reader sees the format without opening golden/
    assert render_case('vhost_simple') == (
        HEADER_LINE
        + '# balancer.nginx item: vhost shop\n'
          'server {\n'
          '    listen 80;\n'
          '    listen [::]:80;\n'
          '    server_name shop.example.com www.shop.example.com;\n'
          '    location / {\n'
          '        proxy_pass http://app;\n'
          '        proxy_http_version 1.1;\n'
          "        proxy_set_header Connection '';\n"
          '        proxy_set_header Host $host;\n'
          '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n'
          '        proxy_set_header X-Forwarded-Proto $scheme;\n'
          '        proxy_set_header X-Real-IP $remote_addr;\n'
          '    }\n'
          '}\n')


@pytest.mark.parametrize('name', sorted(CASES))
def test_byte_stable(name):
    assert render_case(name).encode('utf-8') == render_case(name).encode('utf-8')
    assert _render.build(payload_of(name)) == render_case(name)
    again = Vhost.from_options(dict(Vhost.from_options(dict(CASES[name])).to_options()))
    assert render(again) == render_case(name)


@pytest.mark.parametrize('name', sorted(CASES))
def test_round_trip(name):
    payload = payload_of(name)
    text = _render.build(payload)
    assert _render.strip_lines(_inspect.parse_text(text)) == _render.strip_lines(payload)
    _inspect.check_roundtrip(text, payload)
    assert is_managed(text)
    assert lines_of(text)[1] == '# balancer.nginx item: vhost ' + CASES[name]['name']
    assert managed_item(text) == ('vhost', CASES[name]['name'])


def location_block(text, path):
    """Statements (directive, args) of ``location <path>``, as Nginx reads the rendered text."""
    server = [s for s in nginx_reader.read(text) if s['directive'] == 'server'][0]
    for stmt in server['block']:
        if stmt['directive'] == 'location' and ' '.join(stmt['args']) == path:
            return [(s['directive'], s['args']) for s in stmt['block']]
    raise AssertionError('no location %s' % path)


def headers_of(block):
    return [args for directive, args in block if directive == 'proxy_set_header']


DEFAULT_SORTED = [['Host', '$host'], ['X-Forwarded-For', '$proxy_add_x_forwarded_for'],
                  ['X-Forwarded-Proto', '$scheme'], ['X-Real-IP', '$remote_addr']]
# What a location that proxies to an upstream group adds: HTTP/1.1 without "Connection: close".
UPSTREAM_SORTED = [['Connection', '']] + DEFAULT_SORTED


def test_every_location_carries_all_headers_sorted():
    model = Vhost.from_options({'name': 'v', 'proxy_headers': {'X-B': '2', 'a-first': '1', 'Host': '$host'},
                                'locations': [{'path': '/', 'upstream': 'app'},
                                              {'path': '/x', 'upstream': 'app', 'headers': {'X-Extra': 'e'}},
                                              {'path': '/y', 'pass': 'http://127.0.0.1:81'}]})
    text = render(model)
    assert headers_of(location_block(text, '/')) == [['a-first', '1'], ['Connection', ''], ['Host', '$host'],
                                                     ['X-B', '2']]
    assert headers_of(location_block(text, '/x')) == [['a-first', '1'], ['Connection', ''], ['Host', '$host'],
                                                      ['X-B', '2'], ['X-Extra', 'e']]
    assert headers_of(location_block(text, '/y')) == [['a-first', '1'], ['Host', '$host'], ['X-B', '2']]


@pytest.mark.parametrize('path, expected', [('/', UPSTREAM_SORTED), ('/a', UPSTREAM_SORTED),
                                            ('= /b', DEFAULT_SORTED)])
def test_default_headers_in_each_location(path, expected):
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'app'}, {'path': '/a', 'upstream': 'other'}, {'path': '= /b', 'pass': 'http://x'}]})
    assert headers_of(location_block(render(model), path)) == expected


def test_location_header_overrides_vhost_header():
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'app', 'headers': {'Host': 'backend.internal'}}]})
    assert headers_of(location_block(render(model), '/'))[1] == ['Host', 'backend.internal']


@pytest.mark.parametrize('name', ['host', 'HOST', 'Host'])
def test_location_header_replaces_the_vhost_header_whatever_its_case(name):
    # Header names ignore case: two lines would send the backend two Host headers.
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'app', 'headers': {name: 'backend.internal'}}]})
    headers = headers_of(location_block(render(model), '/'))
    assert [h for h in headers if h[0].lower() == 'host'] == [[name, 'backend.internal']]
    assert len(headers) == len(UPSTREAM_SORTED)


def test_every_upstream_location_speaks_http11_without_connection_close():
    # Whether or not the group keeps connections alive: turning keepalive on through the upstream module
    # alone can never leave the vhost sending HTTP/1.0.
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'kept'}, {'path': '/b', 'upstream': 'plain'}]})
    text = render(model)
    for path, group in (('/', 'kept'), ('/b', 'plain')):
        block = location_block(text, path)
        assert block[:3] == [('proxy_pass', ['http://' + group]), ('proxy_http_version', ['1.1']),
                             ('proxy_set_header', ['Connection', ''])]
        assert headers_of(block) == UPSTREAM_SORTED


@pytest.mark.parametrize('name', ['Connection', 'connection'])
def test_a_connection_header_of_the_location_is_kept(name):
    model = Vhost.from_options({'name': 'v', 'locations': [
        {'path': '/', 'upstream': 'kept', 'headers': {name: 'close'}}]})
    block = location_block(render(model), '/')
    assert ('proxy_http_version', ['1.1']) in block
    assert [h for h in headers_of(block) if h[0].lower() == 'connection'] == [[name, 'close']]


def test_literal_pass_is_left_to_nginx_defaults():
    model = Vhost.from_options({'name': 'v', 'locations': [{'path': '/', 'pass': 'http://kept'}]})
    block = location_block(render(model), '/')
    assert block[0] == ('proxy_pass', ['http://kept'])
    assert ('proxy_http_version', ['1.1']) not in block
    assert headers_of(block) == DEFAULT_SORTED


def test_websocket_location():
    model = Vhost.from_options({'name': 'v', 'locations': [{'path': '/ws', 'upstream': 'chat', 'websocket': True}]})
    block = location_block(render(model), '/ws')
    assert block[:2] == [('proxy_pass', ['http://chat']), ('proxy_http_version', ['1.1'])]
    assert headers_of(block) == [
        ['Connection', '$balancer_connection_upgrade'], ['Host', '$host'], ['Upgrade', '$http_upgrade'],
        ['X-Forwarded-For', '$proxy_add_x_forwarded_for'], ['X-Forwarded-Proto', '$scheme'],
        ['X-Real-IP', '$remote_addr']]
    assert block.count(('proxy_http_version', ['1.1'])) == 1


@pytest.mark.parametrize('url', ['http://127.0.0.1:8080', 'https://api.example.com/v1/', 'http://unix:/run/a.sock:/'])
def test_literal_pass_rendered_as_given(url):
    model = Vhost.from_options({'name': 'v', 'locations': [{'path': '/', 'pass': url}]})
    text = render(model)
    assert location_block(text, '/')[0] == ('proxy_pass', [url])
    assert '        proxy_pass %s;\n' % url in text


def test_next_upstream_and_timeouts_order():
    model = Vhost.from_options({'name': 'v', 'locations': [{
        'path': '/', 'upstream': 'app', 'send_timeout': '3s', 'read_timeout': '2s', 'connect_timeout': '1s',
        'next_upstream_timeout': '4s', 'next_upstream_tries': 0, 'next_upstream': ['error', 'timeout']}]})
    block = location_block(render(model), '/')
    assert [b for b in block if b[0] != 'proxy_set_header'] == [
        ('proxy_pass', ['http://app']),
        ('proxy_http_version', ['1.1']),
        ('proxy_next_upstream', ['error', 'timeout']),
        ('proxy_next_upstream_tries', ['0']),
        ('proxy_next_upstream_timeout', ['4s']),
        ('proxy_connect_timeout', ['1s']),
        ('proxy_read_timeout', ['2s']),
        ('proxy_send_timeout', ['3s']),
    ]


def test_server_level_order():
    model = Vhost.from_options({
        'name': 'v', 'server_name': 'a.example.com', 'listen': ['443 ssl http2', '80'], 'upstream': 'app',
        'ssl_certificate': '/c.pem', 'ssl_certificate_key': '/k.pem', 'access_log': 'off'})
    server = _inspect.parse_text(render(model))[0]
    assert [(s['directive'], s['args']) for s in server['block'] if s['directive'] != 'location'] == [
        ('listen', ['443', 'ssl', 'http2']), ('listen', ['80']), ('server_name', ['a.example.com']),
        ('ssl_certificate', ['/c.pem']), ('ssl_certificate_key', ['/k.pem']), ('access_log', ['off'])]


def test_no_server_name_line_without_names():
    text = render(Vhost.from_options({'name': 'v', 'upstream': 'app'}))
    assert 'server_name' not in text


# Same rule for header values: accepted by the model means Nginx reads it as written.
@pytest.mark.parametrize('value', ['say "hi"', "it's", '$a $b', '', 'C:\\', 'a\tb', 'hello\\r\\nX-Injected: yes',
                                   'for=$remote_addr;proto=$scheme', '${host}x', 'a\xa0b'], ids=repr)
def test_header_value_accepted_only_if_nginx_reads_it_as_written(value):
    try:
        model = Vhost.from_options({'name': 'v', 'locations': [{'path': '/', 'pass': 'http://x',
                                                                'headers': {'X-A': value}}]})
    except ModelError as exc:
        assert exc.option == 'locations[0].headers.X-A'
        return
    payload = _render.file_payload([model.payload])
    text = _render.build(payload)
    _inspect.check_roundtrip(text, payload)
    assert ['X-A', value] in nginx_reader.statements(text, 'proxy_set_header')


# --------------------------------------------------------------------------
# what a take-over keeps
# --------------------------------------------------------------------------

def test_statements_a_take_over_keeps():
    # every statement the vhost options express, level by level, and nothing else
    assert sorted(SERVER_STATEMENTS) == ['access_log', 'listen', 'location', 'server_name', 'ssl_certificate',
                                         'ssl_certificate_key']
    assert sorted(LOCATION_STATEMENTS) == [
        'proxy_connect_timeout', 'proxy_http_version', 'proxy_next_upstream', 'proxy_next_upstream_timeout',
        'proxy_next_upstream_tries', 'proxy_pass', 'proxy_read_timeout', 'proxy_send_timeout', 'proxy_set_header',
        'proxy_ssl_certificate', 'proxy_ssl_certificate_key', 'proxy_ssl_name', 'proxy_ssl_protocols',
        'proxy_ssl_server_name', 'proxy_ssl_trusted_certificate', 'proxy_ssl_verify']
    # and of a stream proxy's server
    assert sorted(STREAM_SERVER_STATEMENTS) == [
        'listen', 'proxy_connect_timeout', 'proxy_next_upstream', 'proxy_next_upstream_timeout',
        'proxy_next_upstream_tries', 'proxy_pass', 'proxy_timeout']


# --------------------------------------------------------------------------
# split: a canary between groups (issue 12)
# --------------------------------------------------------------------------

def split_location(split, **options):
    return dict(options, path=options.get('path', '/'), split=split)


def split_refused(split, **options):
    return location_refused(split_location(split, **options))


NINETY_TEN = [{'upstream': 'app', 'percent': 90}, {'upstream': 'api'}]
DEFAULT_HEADER_LINES = ("        proxy_set_header Connection '';\n"
                        '        proxy_set_header Host $host;\n'
                        '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n'
                        '        proxy_set_header X-Forwarded-Proto $scheme;\n'
                        '        proxy_set_header X-Real-IP $remote_addr;\n')


def test_split_renders_split_clients_before_the_server_and_proxies_to_its_variable():
    model = Vhost.from_options({'name': 'shop', 'locations': [split_location(NINETY_TEN)]})
    assert render(model) == (
        HEADER_LINE
        + '# balancer.nginx item: vhost shop\n'
          'split_clients $request_id $balancer_split_shop_0 {\n'
          '    90% app;\n'
          '    * api;\n'
          '}\n'
          'server {\n'
          '    listen 80;\n'
          '    listen [::]:80;\n'
          '    location / {\n'
          '        proxy_pass http://$balancer_split_shop_0;\n'
          '        proxy_http_version 1.1;\n'
        + DEFAULT_HEADER_LINES
        + '    }\n'
          '}\n')


def test_golden_literal_split():
    assert render_case('vhost_split').split('\n')[:12] == [
        MANAGED_HEADER,
        '# balancer.nginx item: vhost shop',
        'split_clients $remote_addr $balancer_split_shop_0 {',
        '    90% app;',
        '    * api;',
        '}',
        'split_clients $request_id $balancer_split_shop_1 {',
        '    12.5% app;',
        '    37.5% api;',
        '    * plain;',
        '}',
        'server {']
    assert location_block(render_case('vhost_split'), '/beta/')[0] == ('proxy_pass', ['http://$balancer_split_shop_1'])


@pytest.mark.parametrize('vhost_name, variable', [
    ('shop', '$balancer_split_shop_2'),
    ('shop_v2', '$balancer_split_shop_v2_2'),
    # a name that is no variable name gets the first six hex digits of its SHA-1 (printf NAME | sha1sum)
    ('my-shop.v2', '$balancer_split_my_shop_v2_ec9290_2'),
    ('shop-v2', '$balancer_split_shop_v2_9825bb_2'),
    ('api.example', '$balancer_split_api_example_b46756_2'),
])
def test_split_variable_per_vhost_and_location(vhost_name, variable):
    model = Vhost.from_options({'name': vhost_name, 'locations': [
        {'path': '/a', 'upstream': 'app'}, {'path': '/b', 'pass': 'http://x'}, split_location(NINETY_TEN)]})
    assert [loc.variable for loc in model.locations] == [None, None, variable]
    text = render(model)
    assert nginx_reader.statements(text, 'split_clients') == [['$request_id', variable]]
    assert location_block(text, '/')[0] == ('proxy_pass', ['http://' + variable])


def test_two_vhosts_whose_names_differ_only_by_dash_and_underscore_get_different_variables():
    first = Vhost.from_options({'name': 'shop-v2', 'locations': [split_location(NINETY_TEN)]})
    second = Vhost.from_options({'name': 'shop_v2', 'locations': [split_location(NINETY_TEN)]})
    assert (first.locations[0].variable, second.locations[0].variable) == (
        '$balancer_split_shop_v2_9825bb_0', '$balancer_split_shop_v2_0')


@pytest.mark.parametrize('split, buckets', [
    ([{'upstream': 'app', 'percent': 90}, {'upstream': 'api', 'percent': 10}], [['90%', 'app'], ['10%', 'api']]),
    ([{'upstream': 'app', 'percent': 12.5}, {'upstream': 'api'}], [['12.5%', 'app'], ['*', 'api']]),
    ([{'upstream': 'a', 'percent': 33.33}, {'upstream': 'b', 'percent': 33.33}, {'upstream': 'c', 'percent': 33.34}],
     [['33.33%', 'a'], ['33.33%', 'b'], ['33.34%', 'c']]),
    ([{'upstream': 'app', 'percent': 0.01}, {'upstream': 'api'}], [['0.01%', 'app'], ['*', 'api']]),
    ([{'upstream': 'app', 'percent': 99.99}, {'upstream': 'api'}], [['99.99%', 'app'], ['*', 'api']]),
    ([{'upstream': 'app', 'percent': '90'}, {'upstream': 'api'}], [['90%', 'app'], ['*', 'api']]),
    ([{'upstream': 'app', 'percent': '90%'}, {'upstream': 'api'}], [['90%', 'app'], ['*', 'api']]),
    ([{'upstream': 'app', 'percent': 100}], [['100%', 'app']]),
    ([{'upstream': 'app'}], [['*', 'app']]),
], ids=['all-given', 'decimal-and-rest', 'thirds', 'smallest', 'largest', 'string', 'with-percent-sign',
        'one-hundred', 'only-the-rest'])
def test_split_shares(split, buckets):
    text = render(Vhost.from_options({'name': 'shop', 'locations': [split_location(split)]}))
    block = [s for s in nginx_reader.read(text) if s['directive'] == 'split_clients'][0]['block']
    assert [[s['directive']] + s['args'] for s in block] == buckets


def test_split_key():
    model = Vhost.from_options({'name': 'shop', 'locations': [
        split_location(NINETY_TEN, split_key='$remote_addr'),
        split_location(NINETY_TEN, path='/b', split_key='$cookie_user$remote_addr'),
        split_location(NINETY_TEN, path='/c')]})
    assert nginx_reader.statements(render(model), 'split_clients') == [
        ['$remote_addr', '$balancer_split_shop_0'], ['$cookie_user$remote_addr', '$balancer_split_shop_1'],
        ['$request_id', '$balancer_split_shop_2']]


def test_split_key_must_start_its_dollars_as_variables():
    assert split_refused(NINETY_TEN, split_key='$bad$') == (
        "locations[0].split_key: '$bad$' has a \"$\" that does not start a variable ($name or ${name}); Nginx has "
        "no way to write a literal \"$\" in a split key; remove it, or complete the variable name.")


def test_split_groups_and_options():
    model = Vhost.from_options({'name': 'shop', 'locations': [split_location(NINETY_TEN)]})
    assert (model.locations[0].groups(), model.groups()) == (['app', 'api'], ['app', 'api'])
    assert model.locations[0].upstream is None and model.locations[0].literal is None
    assert model.to_options()['locations'] == [{
        'path': '/', 'split': [{'upstream': 'app', 'percent': 90.0}, {'upstream': 'api', 'percent': None}],
        'split_key': '$request_id', 'websocket': False, 'headers': {}}]
    # the options read back into the same model
    again = Vhost.from_options(dict(model.to_options(), name='shop'))
    assert render(again) == render(model)


def test_a_split_location_with_a_websocket():
    model = Vhost.from_options({'name': 'shop', 'locations': [split_location(NINETY_TEN, websocket=True)]})
    block = location_block(render(model), '/')
    assert block[:2] == [('proxy_pass', ['http://$balancer_split_shop_0']), ('proxy_http_version', ['1.1'])]
    assert ['Connection', '$balancer_connection_upgrade'] in headers_of(block)
    assert model.uses_websocket()


SPLIT_EXAMPLE = 'list the groups and their shares, e.g. [{upstream: v1, percent: 90}, {upstream: v2}]'


@pytest.mark.parametrize('split, message', [
    ([{'upstream': 'app', 'percent': 60}, {'upstream': 'api', 'percent': 50}],
     'locations[0].split: gives 110% of the requests, more than 100%; lower the shares.'),
    ([{'upstream': 'a', 'percent': 50}, {'upstream': 'b', 'percent': 50.01}, {'upstream': 'c'}],
     'locations[0].split: gives 100.01% of the requests, more than 100%; lower the shares.'),
    ([{'upstream': 'app', 'percent': 60}, {'upstream': 'api', 'percent': 30}],
     "locations[0].split: gives only 90% of the requests and no item takes the rest; leave out the last item's "
     "percent, so that it takes the rest."),
    ([{'upstream': 'app', 'percent': 99.99}],
     "locations[0].split: gives only 99.99% of the requests and no item takes the rest; leave out the last item's "
     "percent, so that it takes the rest."),
    ([{'upstream': 'app', 'percent': 60}, {'upstream': 'api', 'percent': 40}, {'upstream': 'rest'}],
     'locations[0].split[2]: would take the rest of the requests, and nothing is left (the others take 100%); '
     'lower the other shares, or remove this item.'),
    ([{'upstream': 'app'}, {'upstream': 'api'}],
     'locations[0].split[0].percent: is required (only the last item may leave it out, to take the rest); give '
     'the share of requests, e.g. 90.'),
    ([{'upstream': 'a', 'percent': 10}, {'upstream': 'b'}, {'upstream': 'c', 'percent': 10}],
     'locations[0].split[1].percent: is required (only the last item may leave it out, to take the rest); give '
     'the share of requests, e.g. 90.'),
    # the rules of a share, each given as a string (how a number is shown is test_a_share_is_shown_as_given's)
    ([{'upstream': 'app', 'percent': '12.345'}, {'upstream': 'api'}],
     "locations[0].split[0].percent: '12.345' has more than two decimals, which Nginx does not take; round it, "
     "e.g. 33.33."),
    ([{'upstream': 'app', 'percent': '0'}, {'upstream': 'api'}],
     "locations[0].split[0].percent: '0' must be more than 0 and at most 100; give a share such as 10 or 12.5."),
    ([{'upstream': 'app', 'percent': '-5'}, {'upstream': 'api'}],
     "locations[0].split[0].percent: '-5' must be more than 0 and at most 100; give a share such as 10 or 12.5."),
    ([{'upstream': 'app', 'percent': '101'}],
     "locations[0].split[0].percent: '101' must be more than 0 and at most 100; give a share such as 10 or 12.5."),
    ([{'upstream': 'app', 'percent': 'nan'}, {'upstream': 'api'}],
     "locations[0].split[0].percent: 'nan' must be more than 0 and at most 100; give a share such as 10 or 12.5."),
    ([{'upstream': 'app', 'percent': 'most'}, {'upstream': 'api'}],
     "locations[0].split[0].percent: 'most' must be a percentage such as 10 or 12.5; give a number."),
    ([{'upstream': 'app', 'percent': [90]}, {'upstream': 'api'}],
     'locations[0].split[0].percent: [90] must be a single value, not a list; give one value.'),
    ([], 'locations[0].split: is empty; ' + SPLIT_EXAMPLE + '.'),
    ('app', "locations[0].split: 'app' must be a list; " + SPLIT_EXAMPLE + '.'),
    (['app'], "locations[0].split[0]: 'app' must be a dict of split options; write {upstream: ...}."),
    ([{'percent': 10}, {'upstream': 'b'}],
     'locations[0].split[0].upstream: is required; give the name of an upstream group.'),
    ([{'upstream': 'a;b', 'percent': 10}, {'upstream': 'b'}],
     "locations[0].split[0].upstream: 'a;b' contains ';', which Nginx would read as syntax, not as part of a name; "
     "remove it."),
    ([{'upstream': 'a', 'percent': 10, 'weight': 3}, {'upstream': 'b'}],
     'locations[0].split[0]: has unknown option(s) weight; use only upstream, percent.'),
], ids=['over-100', 'over-100-by-a-hundredth', 'under-100-no-rest', 'under-100-alone', 'rest-of-zero',
        'percent-missing-first', 'percent-missing-before-the-last', 'three-decimals', 'zero', 'negative',
        'over-100-alone', 'nan', 'a-word', 'a-list', 'empty-list', 'a-string', 'an-item-string', 'no-upstream',
        'upstream-syntax', 'unknown-key'])
def test_split_refusals(split, message):
    assert split_refused(split) == message


@pytest.mark.parametrize('other', [{'upstream': 'app'}, {'pass': 'http://127.0.0.1:8080'}], ids=['upstream', 'pass'])
def test_an_empty_split_is_refused_even_next_to_upstream_or_pass(other):
    # DESIGN: an empty list is refused before nginx -t, whatever else the location says
    assert location_refused(dict(other, path='/', split=[])) == 'locations[0].split: is empty; ' + SPLIT_EXAMPLE + '.'


@pytest.mark.parametrize('percent, message', [
    (0, 'locations[0].split[0].percent: 0 must be more than 0 and at most 100; give a share such as 10 or 12.5.'),
    (True, 'locations[0].split[0].percent: true must be a percentage such as 10 or 12.5; give a number.'),
], ids=['a-number', 'true'])
def test_a_share_is_shown_as_given(percent, message):
    # a number is shown as a number and YAML's true as true, as every other option shows them (_errors.show);
    # _values.as_percent refuses a bool itself, but only ever sees the value made a string
    assert split_refused([{'upstream': 'app', 'percent': percent}, {'upstream': 'api'}]) == message


def test_split_excludes_upstream_and_pass_through_a_site_item_too():
    from ansible_collections.balancer.nginx.plugins.module_utils import _engine
    with pytest.raises(ModelError) as info:
        _engine.describe('/etc/nginx/conf.d', vhosts=[{'name': 'shop', 'locations': [
            {'path': '/', 'pass': 'http://x', 'split': NINETY_TEN}]}])
    assert str(info.value) == ('vhosts[0].locations[0].split: cannot be combined with vhosts[0].locations[0].pass; '
                               'keep one of upstream and pass and split.')


# --------------------------------------------------------------------------
# backend_tls: verified TLS to the backends (issue 12)
# --------------------------------------------------------------------------

TLS = {'name': 'backend.internal', 'trusted_certificate': '/etc/ssl/certs/ca.pem'}
TLS_PATH = 'locations[0].backend_tls.'


def tls_location(tls, **options):
    options.setdefault('upstream', 'cache')
    return dict(options, path=options.get('path', '/'), backend_tls=tls)


def tls_block(tls, **options):
    model = Vhost.from_options({'name': 'v', 'locations': [tls_location(tls, **options)]})
    return location_block(render(model), '/')


def test_backend_tls_directives_and_their_order():
    block = tls_block(dict(TLS, certificate='/etc/ssl/certs/client.pem', certificate_key='/etc/ssl/private/c.key',
                           protocols=['TLSv1.2', 'TLSv1.3']), read_timeout='30s')
    assert [b for b in block if b[0] != 'proxy_set_header'] == [
        ('proxy_pass', ['https://cache']),
        ('proxy_http_version', ['1.1']),
        ('proxy_read_timeout', ['30s']),
        ('proxy_ssl_verify', ['on']),
        ('proxy_ssl_trusted_certificate', ['/etc/ssl/certs/ca.pem']),
        ('proxy_ssl_server_name', ['on']),
        ('proxy_ssl_name', ['backend.internal']),
        ('proxy_ssl_certificate', ['/etc/ssl/certs/client.pem']),
        ('proxy_ssl_certificate_key', ['/etc/ssl/private/c.key']),
        ('proxy_ssl_protocols', ['TLSv1.2', 'TLSv1.3']),
    ]
    assert headers_of(block) == UPSTREAM_SORTED


def test_verify_and_server_name_are_always_written():
    # Nginx's own defaults (verify off, no SNI) differ from the collection's, so both are written explicitly
    assert [b for b in tls_block(dict(TLS)) if b[0].startswith('proxy_ssl_')] == [
        ('proxy_ssl_verify', ['on']), ('proxy_ssl_trusted_certificate', ['/etc/ssl/certs/ca.pem']),
        ('proxy_ssl_server_name', ['on']), ('proxy_ssl_name', ['backend.internal'])]
    assert [b for b in tls_block({'verify': False, 'server_name': False}) if b[0].startswith('proxy_ssl_')] == [
        ('proxy_ssl_verify', ['off']), ('proxy_ssl_server_name', ['off'])]
    assert [b for b in tls_block({'verify': False, 'name': 'backend.internal'}) if b[0].startswith('proxy_ssl_')] == [
        ('proxy_ssl_verify', ['off']), ('proxy_ssl_server_name', ['on']), ('proxy_ssl_name', ['backend.internal'])]


def test_backend_tls_text():
    model = Vhost.from_options({'name': 'v', 'locations': [tls_location(dict(TLS))]})
    assert render(model) == (
        HEADER_LINE
        + '# balancer.nginx item: vhost v\n'
          'server {\n'
          '    listen 80;\n'
          '    listen [::]:80;\n'
          '    location / {\n'
          '        proxy_pass https://cache;\n'
          '        proxy_http_version 1.1;\n'
        + DEFAULT_HEADER_LINES
        + '        proxy_ssl_verify on;\n'
          '        proxy_ssl_trusted_certificate /etc/ssl/certs/ca.pem;\n'
          '        proxy_ssl_server_name on;\n'
          '        proxy_ssl_name backend.internal;\n'
          '    }\n'
          '}\n')


def test_mutual_tls_pair():
    block = tls_block(dict(TLS, certificate='/etc/ssl/certs/client.pem', certificate_key='/etc/ssl/private/c.key'))
    assert [b for b in block if b[0] in ('proxy_ssl_certificate', 'proxy_ssl_certificate_key')] == [
        ('proxy_ssl_certificate', ['/etc/ssl/certs/client.pem']),
        ('proxy_ssl_certificate_key', ['/etc/ssl/private/c.key'])]


def test_https_with_a_literal_pass_and_with_a_split():
    block = tls_block({'verify': False, 'server_name': False}, upstream=None, **{'pass': 'https://10.0.0.5:8443/'})
    assert block[0] == ('proxy_pass', ['https://10.0.0.5:8443/'])
    assert ('proxy_http_version', ['1.1']) not in block
    model = Vhost.from_options({'name': 'v', 'locations': [
        dict(split_location(NINETY_TEN), backend_tls=dict(TLS))]})
    assert location_block(render(model), '/')[0] == ('proxy_pass', ['https://$balancer_split_v_0'])


def test_golden_literal_backend_tls():
    assert [line.strip() for line in render_case('vhost_backend_tls').split('\n')
            if 'proxy_ssl_' in line or 'proxy_pass' in line] == [
        'proxy_pass https://app;',
        'proxy_ssl_verify on;',
        'proxy_ssl_trusted_certificate /etc/ssl/certs/secure.pem;',
        'proxy_ssl_server_name on;',
        'proxy_ssl_name secure.example.com;',
        'proxy_ssl_certificate /etc/ssl/certs/secure.pem;',
        'proxy_ssl_certificate_key /etc/ssl/private/secure.key;',
        'proxy_ssl_protocols TLSv1.2 TLSv1.3;',
        'proxy_pass http://plain;']


def test_backend_tls_options():
    model = Vhost.from_options({'name': 'v', 'locations': [tls_location(dict(TLS))]})
    assert model.locations[0].tls == {'verify': True, 'trusted_certificate': '/etc/ssl/certs/ca.pem',
                                      'server_name': True, 'name': 'backend.internal', 'certificate': None,
                                      'certificate_key': None, 'protocols': None}
    assert model.to_options()['locations'][0]['backend_tls'] == model.locations[0].tls
    assert render(Vhost.from_options(dict(model.to_options(), name='v'))) == render(model)


NAME_REQUIRED = ("locations[0].backend_tls.name: is required when verify or server_name is true (the group's name "
                 "is not a DNS name); give the name the backends' certificates carry, e.g. backend.internal.")


@pytest.mark.parametrize('tls, extra, message', [
    ({}, {}, NAME_REQUIRED),
    ({'trusted_certificate': '/etc/ssl/certs/ca.pem'}, {}, NAME_REQUIRED),
    ({'verify': False}, {}, NAME_REQUIRED),
    ({'server_name': False, 'trusted_certificate': '/etc/ssl/certs/ca.pem'}, {}, NAME_REQUIRED),
    ({'name': 'backend.internal'}, {},
     "locations[0].backend_tls.trusted_certificate: is required with verify: true; give the CA file that signed the "
     "backends' certificates, or set verify: false."),
    ({'name': 'backend.internal', 'server_name': False}, {},
     "locations[0].backend_tls.trusted_certificate: is required with verify: true; give the CA file that signed the "
     "backends' certificates, or set verify: false."),
    ({'verify': False, 'server_name': False}, {'upstream': None, 'pass': 'http://10.0.0.5:8080'},
     "locations[0].pass: 'http://10.0.0.5:8080' is not an https:// URL, but backend_tls asks for TLS; write "
     "https://, or remove backend_tls."),
    (dict(TLS, certificate='/etc/ssl/certs/client.pem'), {},
     'locations[0].backend_tls.certificate: and certificate_key go together; give both, or neither.'),
    (dict(TLS, certificate_key='/etc/ssl/private/c.key'), {},
     'locations[0].backend_tls.certificate: and certificate_key go together; give both, or neither.'),
    (dict(TLS, protocols=['TLSv1.2', 'SSLv3']), {},
     "locations[0].backend_tls.protocols[1]: 'SSLv3' is not a TLS protocol; use TLSv1, TLSv1.1, TLSv1.2, TLSv1.3."),
    (dict(TLS, verify='maybe'), {}, "locations[0].backend_tls.verify: 'maybe' must be true or false; give true or "
                                    "false."),
    (dict(TLS, trusted_certificate='/etc/ssl/ca.pem;'), {},
     "locations[0].backend_tls.trusted_certificate: '/etc/ssl/ca.pem;' contains ';', which Nginx would read as "
     "syntax, not as part of a file path; remove it."),
    (dict(TLS, name='backend.internal$'), {},
     "locations[0].backend_tls.name: 'backend.internal$' has a \"$\" that does not start a variable ($name or "
     "${name}); Nginx has no way to write a literal \"$\" in a TLS name; remove it, or complete the variable name."),
    (dict(TLS, sni=True), {},
     'locations[0].backend_tls: has unknown option(s) sni; use only verify, trusted_certificate, server_name, name, '
     'certificate, certificate_key, protocols.'),
    ('on', {}, "locations[0].backend_tls: 'on' must be a dict of backend TLS options; write {verify: ...}."),
], ids=['empty', 'ca-only', 'sni-without-name', 'verify-without-name', 'verify-without-ca',
        'verify-without-ca-nor-sni', 'pass-not-https', 'certificate-without-key', 'key-without-certificate',
        'protocol', 'verify-word', 'ca-syntax', 'name-dollar', 'unknown', 'not-a-dict'])
def test_backend_tls_refusals(tls, extra, message):
    location = tls_location(tls, **extra)
    if location.get('upstream') is None:
        del location['upstream']
    assert location_refused(location) == message


def test_protocols_given_as_one_string():
    block = tls_block(dict(TLS, protocols='TLSv1.2 TLSv1.3'))
    assert ('proxy_ssl_protocols', ['TLSv1.2', 'TLSv1.3']) in block


def test_to_options_returns_copies():
    model = Vhost.from_options({'name': 'v', 'server_name': 'a.example.com', 'locations': [
        dict(split_location(NINETY_TEN), headers={'X-A': '1'}),
        tls_location(dict(TLS, protocols=['TLSv1.3']), path='/tls')]})
    before = render(model)
    options = model.to_options()
    options['listen'].append('8080')
    options['server_name'].append('b.example.com')
    options['proxy_headers']['X-B'] = '2'
    options['locations'][0]['split'][0]['percent'] = 50
    options['locations'][0]['headers']['X-A'] = 'changed'
    options['locations'][1]['backend_tls']['protocols'].append('TLSv1.2')
    options['locations'][1]['backend_tls']['name'] = 'other.internal'
    assert render(model) == before
    assert model.to_options()['locations'][1]['backend_tls']['protocols'] == ['TLSv1.3']
