# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_model.py: LogFormat, Location and Vhost (the upstream model has its own file)."""

from __future__ import annotations

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _model
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._model import LogFormat, Location, Vhost

# Written out here, not imported: DESIGN.md promises exactly this text.
UPSTREAM_DEBUG_FORMAT = ('$remote_addr $host $request status=$status upstream=$upstream_addr '
                         'upstream_status=$upstream_status upstream_response_time=$upstream_response_time')

DEFAULT_HEADERS = {
    'Host': '$host',
    'X-Real-IP': '$remote_addr',
    'X-Forwarded-For': '$proxy_add_x_forwarded_for',
    'X-Forwarded-Proto': '$scheme',
}


def refused(factory, options, *args):
    with pytest.raises(ModelError) as info:
        factory(options, *args)
    return str(info.value)


# --------------------------------------------------------------------------
# LogFormat
# --------------------------------------------------------------------------

def test_upstream_debug_without_format_gets_the_ready_format():
    model = LogFormat.from_options({'name': 'upstream_debug'})
    assert model.to_options() == {'name': 'upstream_debug', 'format': [UPSTREAM_DEBUG_FORMAT], 'escape': None}
    assert _model.UPSTREAM_DEBUG_FORMAT == UPSTREAM_DEBUG_FORMAT


def test_upstream_debug_with_a_format_keeps_the_given_one():
    model = LogFormat.from_options({'name': 'upstream_debug', 'format': '$status'})
    assert model.format == ['$status']


def test_other_names_need_a_format():
    assert refused(LogFormat.from_options, {'name': 'main'}) == (
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
    assert refused(LogFormat.from_options, {'name': 'main', 'format': '$status', 'escape': 'xml'}) == (
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
    assert refused(LogFormat.from_options, {'name': 'main', 'format': fmt}) == message


@pytest.mark.parametrize('fmt', [[], 5, {'a': 1}])
def test_format_must_be_string_or_list(fmt):
    assert refused(LogFormat.from_options, {'name': 'main', 'format': fmt}) == (
        'format: must be a string or a non-empty list of strings; give the format string.')


def test_combined_cannot_be_redefined():
    assert refused(LogFormat.from_options, {'name': 'combined', 'format': '$status'}) == (
        "name: 'combined' is built into Nginx and cannot be redefined; choose another name.")


def test_log_format_prefix_names_the_site_item():
    assert refused(LogFormat.from_options, {'name': 'main'}, 'log_formats[2].').startswith(
        'log_formats[2].format: is required')


@pytest.mark.parametrize('name', ['', 'a b', 'a;b', '-x'])
def test_log_format_name_checked(name):
    assert refused(LogFormat.from_options, {'name': name, 'format': '$status'}).startswith('name: ')


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
    assert vhost(server_name=server_name).server_name == expected


def test_listen_default():
    assert vhost().listen == ['80', '[::]:80']
    # the default list is not shared between models
    vhost().listen.append('8080')
    assert vhost().listen == ['80', '[::]:80']


@pytest.mark.parametrize('listen, expected', [
    (443, ['443']),
    ('8080', ['8080']),
    (['443 ssl', '[::]:443 ssl'], ['443 ssl', '[::]:443 ssl']),
])
def test_listen_given(listen, expected):
    assert vhost(listen=listen).listen == expected


def test_listen_empty_refused():
    assert refused(Vhost.from_options, {'name': 'shop', 'upstream': 'app', 'listen': []}) == (
        'listen: is empty; give at least one address or port, e.g. 80.')


def test_upstream_becomes_location_slash():
    model = vhost(upstream='app')
    assert [(loc.path, loc.upstream, getattr(loc, 'pass')) for loc in model.locations] == [('/', 'app', None)]


def test_defaults_to_options():
    assert vhost().to_options() == {
        'name': 'shop', 'server_name': [], 'listen': ['80', '[::]:80'],
        'locations': [{'path': '/', 'upstream': 'app', 'websocket': False, 'headers': {}}],
        'proxy_headers': DEFAULT_HEADERS,
    }


@pytest.mark.parametrize('options', [
    {'name': 'shop'},
    {'name': 'shop', 'locations': []},
    {'name': 'shop', 'upstream': 'app', 'locations': [{'path': '/', 'upstream': 'app'}]},
])
def test_exactly_one_of_upstream_and_locations(options):
    assert refused(Vhost.from_options, options) == (
        'upstream: a vhost needs exactly one of upstream and locations; set upstream (proxied at /) or list '
        'locations.')


# --------------------------------------------------------------------------
# Location
# --------------------------------------------------------------------------

def location(**options):
    return Location.from_options(options, 'locations[0]')


@pytest.mark.parametrize('options', [{'path': '/'}, {'path': '/', 'upstream': 'app', 'pass': 'http://x'}])
def test_location_exactly_one_of_upstream_and_pass(options):
    assert refused(Location.from_options, options, 'locations[0]') == (
        'locations[0]: needs exactly one of upstream and pass; set upstream to a group name, or pass to a URL '
        'such as http://127.0.0.1:8080.')


@pytest.mark.parametrize('url', ['http://127.0.0.1:8080', 'https://api.example.com/v1/', 'http://unix:/run/a.sock:'])
def test_pass_http_urls_accepted(url):
    assert getattr(location(path='/', **{'pass': url}), 'pass') == url


@pytest.mark.parametrize('url', ['ftp://files', '127.0.0.1:8080', 'app', 'HTTP://x'])
def test_pass_must_be_http_url(url):
    assert refused(Location.from_options, {'path': '/', 'pass': url}, 'locations[0]') == (
        "locations[0].pass: %r must be an http:// or https:// URL; give e.g. http://127.0.0.1:8080." % url)


def test_location_modifier_split():
    loc = location(path='= /health', upstream='app')
    assert (loc.modifier, loc.path, loc.full_path) == ('=', '/health', '= /health')
    loc = location(path='^~   /static', upstream='app')
    assert (loc.modifier, loc.path, loc.full_path) == ('^~', '/static', '^~ /static')


def test_location_path_defaults_to_slash():
    assert location(upstream='app').path == '/'


def test_location_unknown_key_refused():
    assert refused(Location.from_options, {'path': '/', 'upstream': 'a', 'bogus': 1}, 'locations[0]') == (
        'locations[0]: has unknown option(s) bogus; use only path, upstream, pass, next_upstream, '
        'next_upstream_tries, next_upstream_timeout, connect_timeout, read_timeout, send_timeout, websocket, '
        'headers.')


def test_location_must_be_dict():
    assert refused(Location.from_options, '/', 'locations[0]') == (
        'locations[0]: must be a dict with a path and an upstream or a pass; write {path: /, upstream: NAME}.')


@pytest.mark.parametrize('given, expected', [
    ('error timeout', ['error', 'timeout']),
    (['error', 'timeout', 'http_502', 'http_503', 'http_504'], ['error', 'timeout', 'http_502', 'http_503',
                                                                'http_504']),
    (['off'], ['off']),
    ('off', ['off']),
])
def test_next_upstream_accepted(given, expected):
    assert location(upstream='app', next_upstream=given).next_upstream == expected


def test_next_upstream_invalid_condition_named():
    options = {'name': 'shop', 'locations': [
        {'path': '/a', 'upstream': 'app'},
        {'path': '/', 'upstream': 'app', 'next_upstream': ['error', 'http_501']},
    ]}
    assert refused(Vhost.from_options, options) == (
        "locations[1].next_upstream[1]: 'http_501' is not a proxy_next_upstream condition; use error, timeout, "
        "invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, "
        "off.")


def test_next_upstream_off_alone():
    assert refused(Location.from_options, {'path': '/', 'upstream': 'a', 'next_upstream': ['error', 'off']},
                   'locations[0]') == (
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
    assert refused(Location.from_options, {'path': '/', 'upstream': 'a', key: value}, 'locations[0]') == problem


def test_headers_kept_and_none_is_empty():
    loc = location(upstream='app', headers={'X-Request-Id': '$request_id', 'X-Empty': None, 'X-Q': 'say "hi"'})
    assert loc.headers == {'X-Empty': '', 'X-Q': 'say "hi"', 'X-Request-Id': '$request_id'}


def test_invalid_header_name_refused():
    assert refused(Location.from_options, {'path': '/', 'upstream': 'a', 'headers': {'Bad Name': 'x'}},
                   'locations[0]') == (
        "locations[0].headers: 'Bad Name' has an invalid header name; use letters, digits and -.")
    assert refused(Vhost.from_options, {'name': 'shop', 'upstream': 'a', 'proxy_headers': {'Bad:': 'x'}}) == (
        "proxy_headers: 'Bad:' has an invalid header name; use letters, digits and -.")


def test_headers_must_be_dicts():
    assert refused(Location.from_options, {'path': '/', 'upstream': 'a', 'headers': ['x']}, 'locations[0]') == (
        'locations[0].headers: must be a dict of header name to value; write {X-Request-Id: $request_id}.')
    assert refused(Vhost.from_options, {'name': 'shop', 'upstream': 'a', 'proxy_headers': 'Host'}) == (
        'proxy_headers: must be a dict of header name to value; write {Host: $host}.')


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
    ('upstream', lambda v: {'upstream': 'x' + v + 'y'}, 'locations[0].upstream', 'a name'),
    ('access_log', lambda v: {'upstream': 'app', 'access_log': {'path': '/var/log/x' + v + 'y'}},
     'access_log.path', 'a file path'),
    ('access_log_format', lambda v: {'upstream': 'app', 'access_log': {'path': '/l', 'format': 'x' + v + 'y'}},
     'access_log.format', 'a name'),
    ('ssl', lambda v: {'upstream': 'app', 'ssl_certificate': '/c' + v + 'y', 'ssl_certificate_key': '/k'},
     'ssl_certificate', 'a file path'),
]

INJECTION_CASES = [
    pytest.param(place, make, option, what, char, shown, id='%s-%r' % (place, char))
    for place, make, option, what in PLACES for char, shown in INJECTIONS
]


@pytest.mark.parametrize('place, make, option, what, char, shown', INJECTION_CASES)
def test_injection_refused(place, make, option, what, char, shown):
    options = dict(make(char), name='shop')
    value = [v for v in _values(options) if char in v][0]
    assert refused(Vhost.from_options, options) == (
        '%s: %r contains %s, which Nginx would read as syntax, not as part of %s; remove it.'
        % (option, value, shown, what))


# Free text (header values, location paths): syntax characters are kept literally (the renderer quotes
# and escapes them, see test__render_vhost.py), line breaks are refused.
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
    assert refused(Vhost.from_options, dict(make(char), name='shop')) == (
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
    message = refused(Vhost.from_options, {'name': 'shop', 'upstream': 'app', 'proxy_headers': {'X-Note': value}})
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


@pytest.mark.parametrize('value, rest', [('price: 5$', '$'), ('$', '$'), ('${host', '${host'), ('$-x', '$-x')])
def test_a_dollar_that_starts_no_variable_refused(value, rest):
    message = refused(Vhost.from_options, {'name': 'shop', 'upstream': 'app', 'proxy_headers': {'X-A': value}})
    assert message == ('proxy_headers.X-A: %r has a "$" that does not start a variable ($name or ${name}); Nginx '
                       'has no way to write a literal "$" in a header value; remove it, or complete the variable '
                       'name.' % value)


def test_header_names_differing_in_case_are_one_header():
    assert refused(Vhost.from_options, {'name': 'shop', 'upstream': 'app',
                                        'proxy_headers': {'Host': '$host', 'host': 'x'}}) == (
        "proxy_headers.host: 'x' names the same header as proxy_headers.Host (header names ignore letter case); "
        "keep one of them.")


def _values(options):
    if isinstance(options, dict):
        for value in options.values():
            yield from _values(value)
    elif isinstance(options, list):
        for value in options:
            yield from _values(value)
    elif isinstance(options, str):
        yield options


def test_server_name_newline_is_a_separator():
    # A newline in server_name separates names like a space: it never reaches the file as syntax.
    assert vhost(server_name='a.example.com\nb.example.com').server_name == ['a.example.com', 'b.example.com']


@pytest.mark.parametrize('char', [';', '{', '}', '#'], ids=repr)
def test_server_name_syntax_refused(char):
    assert refused(Vhost.from_options, {'name': 'shop', 'upstream': 'app',
                                        'server_name': ['ok.example.com', 'x' + char + 'y']}) == (
        "server_name[1]: %r is not a server name; give a host name such as www.example.com, a wildcard name such "
        "as *.example.com, a regex starting with \"~\", or \"\"." % ('x' + char + 'y'))


@pytest.mark.parametrize('server_name', [
    '~^(?<sub>.+)\\.example\\.com$',      # a named capture
    '~^www\\d{1,3}\\.example\\.net$',     # a quantifier
    '~^(www|api)\\.example\\.org$',
], ids=repr)
def test_regex_server_names_nginx_accepts(server_name):
    assert vhost(server_name=server_name).server_name == [server_name]


def test_empty_server_name_names_requests_without_host():
    assert vhost(server_name=['example.com', '']).server_name == ['example.com', '']
    assert vhost(server_name='').server_name == ['']


def test_location_regex_with_a_quantifier():
    loc = location(path='~ ^/api/v\\d{1,2}/', upstream='app')
    assert (loc.modifier, loc.path) == ('~', '^/api/v\\d{1,2}/')


@pytest.mark.parametrize('name', ['a"b', "a'b", 'a`b', 'a/b', 'a,b'])
def test_server_name_other_bad_characters(name):
    message = refused(Vhost.from_options, {'name': 'shop', 'upstream': 'app', 'server_name': name})
    assert message.startswith('server_name[0]: %r ' % name)


@pytest.mark.parametrize('server_name', ['~^(www\\.)?example\\.com$', '~^api\\d+\\.example\\.net$'])
def test_regex_server_name_with_escaped_dots_accepted(server_name):
    # _SERVER_NAME_RE allows "\" and Nginx regex names need it (an unescaped "." matches any character);
    # crossplane quotes and round-trips such names (see test__render_vhost.py).
    assert vhost(server_name=server_name).server_name == [server_name]


def test_regex_location_with_backslash_accepted():
    # LOCATION_MODIFIERS offers ~ and ~*, whose regexes need "\" to match a literal dot.
    loc = location(path='~* \\.(png|jpg)$', upstream='app')
    assert (loc.modifier, loc.path) == ('~*', '\\.(png|jpg)$')


def test_duplicate_location_paths_refused():
    assert refused(Vhost.from_options, {'name': 'shop', 'locations': [
        {'path': '/', 'upstream': 'a'}, {'path': '/api', 'upstream': 'b'}, {'path': '/', 'upstream': 'c'}]}) == (
        "locations[2].path: '/' repeats locations[0].path; give each location its own path.")


def test_duplicate_location_paths_compare_modifier_and_path():
    # '= /x' and '/x' are different locations; '=  /x' is the same as '= /x'
    model = vhost(locations=[{'path': '= /x', 'upstream': 'a'}, {'path': '/x', 'upstream': 'a'}])
    assert [loc.full_path for loc in model.locations] == ['= /x', '/x']
    assert refused(Vhost.from_options, {'name': 'shop', 'locations': [
        {'path': '= /x', 'upstream': 'a'}, {'path': '=  /x', 'upstream': 'a'}]}) == (
        "locations[1].path: '= /x' repeats locations[0].path; give each location its own path.")


@pytest.mark.parametrize('given', [{'ssl_certificate': '/etc/ssl/a.pem'}, {'ssl_certificate_key': '/etc/ssl/a.key'}])
def test_ssl_certificate_and_key_together(given):
    assert refused(Vhost.from_options, dict(given, name='shop', upstream='app')) == (
        'ssl_certificate: and ssl_certificate_key go together; give both, or neither.')


def test_ssl_both_kept():
    model = vhost(ssl_certificate='/etc/ssl/a.pem', ssl_certificate_key='/etc/ssl/a.key')
    assert (model.ssl_certificate, model.ssl_certificate_key) == ('/etc/ssl/a.pem', '/etc/ssl/a.key')


def test_access_log_string_or_dict():
    assert vhost(access_log='/var/log/nginx/shop.log').access_log == {
        'path': '/var/log/nginx/shop.log', 'format': None}
    assert vhost(access_log={'path': '/var/log/x.log', 'format': 'upstream_debug'}).access_log == {
        'path': '/var/log/x.log', 'format': 'upstream_debug'}


def test_access_log_path_required():
    assert refused(Vhost.from_options, {'name': 'shop', 'upstream': 'a', 'access_log': {'format': 'main'}}) == (
        'access_log.path: is required; give a log file path, or off.')


def test_websocket_flag():
    model = vhost(locations=[{'path': '/', 'upstream': 'a'}, {'path': '/ws', 'upstream': 'a', 'websocket': True}])
    assert model.uses_websocket() is True
    assert vhost().uses_websocket() is False


def test_prefix_used_in_every_path():
    assert refused(Vhost.from_options, {'name': 'shop', 'locations': [{'path': '/', 'pass': 'ftp://x'}]},
                   'vhosts[1].') == (
        "vhosts[1].locations[0].pass: 'ftp://x' must be an http:// or https:// URL; give e.g. "
        "http://127.0.0.1:8080.")
