# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_options.py: the one declaration per option drives everything.

What the table must give, and these tests check from outside the code that
uses it:

- the argument specs (test_module_docs.py compares them with each module's
  documentation; here: their shape and rules);
- validation with option-path messages, the same through ``upstream`` and
  through a ``site`` item;
- rendering and the inverse read of every declared directive and server
  parameter, value for value, and of whole groups through crossplane;
- the feature gates of every gated option;
- issue 11's criterion: each directive name lives in one engine file;
- adding a directive is one entry.
"""

from __future__ import annotations

import ast
import os
import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _inspect, _options, _render, _specs
from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError, ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._log_format import LogFormat
from ansible_collections.balancer.nginx.plugins.module_utils._stream_proxy import StreamProxy
from ansible_collections.balancer.nginx.plugins.module_utils._options import (
    DIRECTIVE, FLAG, PARAM, Group, Option)
from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Server, Upstream
from ansible_collections.balancer.nginx.plugins.module_utils._vhost import Vhost

ENGINE = os.path.dirname(os.path.abspath(_options.__file__))
GROUPS = {
    'UPSTREAM_OPTIONS': _options.UPSTREAM_OPTIONS,
    'SERVER_OPTIONS': _options.SERVER_OPTIONS,
    'LOCATION_OPTIONS': _options.LOCATION_OPTIONS,
    'VHOST_OPTIONS': _options.VHOST_OPTIONS,
    'ACCESS_LOG_OPTIONS': _options.ACCESS_LOG_OPTIONS,
    'LOG_FORMAT_OPTIONS': _options.LOG_FORMAT_OPTIONS,
    'BACKEND_TLS_OPTIONS': _options.BACKEND_TLS_OPTIONS,
    'SPLIT_OPTIONS': _options.SPLIT_OPTIONS,
    'STREAM_PROXY_OPTIONS': _options.STREAM_PROXY_OPTIONS,
    'COMMON': _options.COMMON,
    'STREAM_COMMON': _options.STREAM_COMMON,
    'FILE_COMMON': _options.FILE_COMMON,
    'SITE_OPTIONS': _options.SITE_OPTIONS,
}
ALL_OPTIONS = [(group_name, option) for group_name, group in sorted(GROUPS.items()) for option in group.options]


def option_id(entry):
    return '%s.%s' % (entry[0], entry[1].name)


# --------------------------------------------------------------------------
# the declarations are consistent
# --------------------------------------------------------------------------

def test_every_group_of_the_module_is_tested():
    declared = sorted(name for name in dir(_options) if isinstance(getattr(_options, name), Group))
    assert declared == sorted(GROUPS)


@pytest.mark.parametrize('group_name', sorted(GROUPS))
def test_option_names_are_unique_and_looked_up(group_name):
    group = GROUPS[group_name]
    assert len(group.names()) == len(set(group.names()))
    assert all(group[option.name] is option for option in group.options)


@pytest.mark.parametrize('group_name, option', ALL_OPTIONS, ids=[option_id(e) for e in ALL_OPTIONS])
def test_declaration_is_complete(group_name, option):
    group = GROUPS[group_name]
    assert option.type in ('str', 'int', 'float', 'bool', 'list', 'dict', 'path', 'raw')
    assert (option.elements is not None) == (option.type == 'list')
    assert option.kind in (None, 'name', 'address', 'time', 'name_size', 'label', 'token', 'text', 'variables',
                           'words', 'sticky', 'onoff', 'percent')
    assert option.render in (None, DIRECTIVE, PARAM, FLAG)
    if option.render is not None:
        assert option.directive
    if option.render == FLAG:
        assert option.type == 'bool' and option.default is False
    if option.render == DIRECTIVE:
        assert option.place in ('head', 'method', 'body', 'tail')
    if option.feature is not None:
        assert option.feature in _options.FEATURES
    for choice, key in option.choice_features:
        assert choice in option.choices and key in _options.FEATURES
    for choice, contexts in option.choice_contexts:
        assert choice in option.choices and set(contexts) <= {'http', 'stream'}
    if option.always:
        # written even at its default: an on/off directive whose Nginx default differs
        assert option.kind == 'onoff' and option.render == DIRECTIVE and option.default is not None
    if option.requires is not None:
        assert option.requires in group.by_name
    for rule in (option.applies_to, option.required_with):
        if rule is not None:
            assert rule[0] in group.by_name
    if option.required_with is not None:
        assert option.hint
    assert set(option.contexts) <= {'http', 'stream'}
    if option.choices is not None:
        assert option.noun, 'a choice needs a noun for its message'
    for names in group.mutually_exclusive + group.required_one_of + group.required_together:
        assert set(names) <= set(group.by_name)


def test_directives_and_parameters_are_declared_once_per_group():
    for group in GROUPS.values():
        for render in (DIRECTIVE, PARAM, FLAG):
            declared = [o.directive for o in group.options if o.render == render]
            assert len(declared) == len(set(declared))
            assert set(group.by_directive(render)) == set(declared)


def imported_modules(path):
    """Every module the source at ``path`` imports (``from package import module`` as package.module)."""
    tree = ast.parse(open(path).read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module.endswith('.module_utils'):
                names.update(node.module + '.' + alias.name for alias in node.names)
            else:
                names.add(node.module)
    return names


def test_the_table_is_standard_library_only():
    # target-side modules import _features, which imports the table
    engine = 'ansible_collections.balancer.nginx.plugins.module_utils.'
    for name in imported_modules(_options.__file__):
        assert name.split('.')[0] in sys.stdlib_module_names or name in (engine + '_values', engine + '_errors'), name


# --------------------------------------------------------------------------
# argument specs
# --------------------------------------------------------------------------

def test_option_spec_shapes():
    assert _options.METHOD.spec() == {
        'type': 'str', 'default': 'round_robin',
        'choices': ['round_robin', 'least_conn', 'ip_hash', 'hash', 'random', 'least_time']}
    assert _options.HASH_KEY.spec() == {'type': 'str', 'no_log': False}
    assert _options.ADDRESS.spec() == {'type': 'str', 'required': True}
    assert _options.FILE_COMMON['attributes'].spec() == {'type': 'str', 'aliases': ['attr']}
    assert _options.NEXT_UPSTREAM_OPTION.spec() == {
        'type': 'list', 'elements': 'str',
        'choices': ['error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403',
                    'http_404', 'http_429', 'non_idempotent', 'off']}
    assert _options.VHOST_ACCESS_LOG.spec() == {
        'type': 'dict', 'options': {'path': {'type': 'str', 'required': True}, 'format': {'type': 'str'}}}


def test_a_default_in_a_spec_is_a_copy():
    spec = _options.LISTEN_OPTION.spec()
    spec['default'].append('8080')
    assert _options.LISTEN_OPTION.default == ['80', '[::]:80']


def test_module_spec_is_the_common_options_plus_the_item():
    spec = _specs.module_spec('log_format')
    assert spec == dict(_options.COMMON.spec(), name={'type': 'str', 'required': True},
                        state={'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
                        format={'type': 'raw'},
                        escape={'type': 'str', 'choices': ['default', 'json', 'none']},
                        path={'type': 'path'})
    # site has no path (each item carries its own) and writes stream files too
    assert sorted(_specs.module_spec('site')) == sorted(_options.COMMON.names() + [
        'stream_conf_dir', 'upstreams', 'vhosts', 'log_formats', 'stream_proxies', 'exclusive'])


@pytest.mark.parametrize('kind, stream', [('upstream', True), ('stream_proxy', True), ('site', True),
                                          ('vhost', False), ('log_format', False)])
def test_the_modules_that_write_stream_files_take_stream_conf_dir(kind, stream):
    assert (_options.common_of(kind) is _options.STREAM_COMMON) == stream
    assert (_options.common_of(kind) is _options.COMMON) == (not stream)
    assert _options.STREAM_COMMON.names() == _options.COMMON.names() + ['stream_conf_dir']
    assert ('stream_conf_dir' in _specs.module_spec(kind)) == stream
    assert _options.STREAM_CONF_DIR.spec() == {'type': 'path', 'default': '/etc/nginx/stream.d'}


def test_site_items_are_the_single_modules_items():
    assert _options.SITE_LISTS == {'upstreams': 'upstream', 'vhosts': 'vhost', 'log_formats': 'log_format',
                                   'stream_proxies': 'stream_proxy'}
    for kind, group in _options.ITEMS.items():
        assert group.names() == {'upstream': _options.UPSTREAM_OPTIONS, 'vhost': _options.VHOST_OPTIONS,
                                 'log_format': _options.LOG_FORMAT_OPTIONS,
                                 'stream_proxy': _options.STREAM_PROXY_OPTIONS}[kind].names() + ['path']
    assert _options.STREAM_PROXY_OPTIONS.names() == [
        'name', 'state', 'listen', 'upstream', 'proxy_timeout', 'connect_timeout', 'next_upstream',
        'next_upstream_tries', 'next_upstream_timeout']
    assert _options.SITE_OPTIONS.spec()['stream_proxies'] == {'type': 'list', 'elements': 'dict', 'default': []}


def test_server_spec_is_generated_with_its_options():
    assert _specs.module_spec('upstream')['servers'] == {
        'type': 'list', 'elements': 'dict', 'options': {
            'address': {'type': 'str', 'required': True},
            'weight': {'type': 'int'}, 'max_conns': {'type': 'int'}, 'max_fails': {'type': 'int'},
            'fail_timeout': {'type': 'str'}, 'slow_start': {'type': 'str'}, 'route': {'type': 'str'},
            'backup': {'type': 'bool', 'default': False}, 'down': {'type': 'bool', 'default': False},
            'drain': {'type': 'bool', 'default': False}, 'resolve': {'type': 'bool', 'default': False}}}


# --------------------------------------------------------------------------
# every declared directive and parameter renders and reads back
# --------------------------------------------------------------------------

# (group, option) -> (value as given, what Nginx gets: the directive's arguments, or the server parameter)
RENDERED = {
    ('UPSTREAM_OPTIONS', 'keepalive'): (16, ['16']),
    ('UPSTREAM_OPTIONS', 'keepalive_requests'): (1000, ['1000']),
    ('UPSTREAM_OPTIONS', 'keepalive_time'): ('1h', ['1h']),
    ('UPSTREAM_OPTIONS', 'keepalive_timeout'): ('60s', ['60s']),
    ('UPSTREAM_OPTIONS', 'zone'): ('app 64k', ['app', '64k']),
    ('UPSTREAM_OPTIONS', 'resolver'): (['10.0.0.2', 'valid=30s'], ['10.0.0.2', 'valid=30s']),
    ('UPSTREAM_OPTIONS', 'resolver_timeout'): ('5s', ['5s']),
    ('UPSTREAM_OPTIONS', 'sticky'): (['cookie', 'srv_id', 'expires=1h'], ['cookie', 'srv_id', 'expires=1h']),
    ('UPSTREAM_OPTIONS', 'ntlm'): (True, []),
    ('SERVER_OPTIONS', 'weight'): (3, 'weight=3'),
    ('SERVER_OPTIONS', 'max_conns'): (100, 'max_conns=100'),
    ('SERVER_OPTIONS', 'max_fails'): (0, 'max_fails=0'),
    ('SERVER_OPTIONS', 'fail_timeout'): ('1m30s', 'fail_timeout=1m30s'),
    ('SERVER_OPTIONS', 'slow_start'): ('30s', 'slow_start=30s'),
    ('SERVER_OPTIONS', 'route'): ('r1', 'route=r1'),
    ('SERVER_OPTIONS', 'backup'): (True, 'backup'),
    ('SERVER_OPTIONS', 'down'): (True, 'down'),
    ('SERVER_OPTIONS', 'drain'): (True, 'drain'),
    ('SERVER_OPTIONS', 'resolve'): (True, 'resolve'),
    ('LOCATION_OPTIONS', 'next_upstream'): (['error', 'timeout', 'http_502'], ['error', 'timeout', 'http_502']),
    ('LOCATION_OPTIONS', 'next_upstream_tries'): (3, ['3']),
    ('LOCATION_OPTIONS', 'next_upstream_timeout'): ('10s', ['10s']),
    ('LOCATION_OPTIONS', 'connect_timeout'): ('2s', ['2s']),
    ('LOCATION_OPTIONS', 'read_timeout'): ('30s', ['30s']),
    ('LOCATION_OPTIONS', 'send_timeout'): ('500ms', ['500ms']),
    ('VHOST_OPTIONS', 'ssl_certificate'): ('/etc/ssl/certs/a.pem', ['/etc/ssl/certs/a.pem']),
    ('VHOST_OPTIONS', 'ssl_certificate_key'): ('/etc/ssl/private/a.key', ['/etc/ssl/private/a.key']),
    ('BACKEND_TLS_OPTIONS', 'verify'): (False, ['off']),
    ('BACKEND_TLS_OPTIONS', 'trusted_certificate'): ('/etc/ssl/certs/ca.pem', ['/etc/ssl/certs/ca.pem']),
    ('BACKEND_TLS_OPTIONS', 'server_name'): (False, ['off']),
    ('BACKEND_TLS_OPTIONS', 'name'): ('backend.internal', ['backend.internal']),
    ('BACKEND_TLS_OPTIONS', 'certificate'): ('/etc/ssl/certs/client.pem', ['/etc/ssl/certs/client.pem']),
    ('BACKEND_TLS_OPTIONS', 'certificate_key'): ('/etc/ssl/private/client.key', ['/etc/ssl/private/client.key']),
    ('BACKEND_TLS_OPTIONS', 'protocols'): (['TLSv1.2', 'TLSv1.3'], ['TLSv1.2', 'TLSv1.3']),
    ('STREAM_PROXY_OPTIONS', 'proxy_timeout'): ('10m', ['10m']),
    ('STREAM_PROXY_OPTIONS', 'connect_timeout'): ('1s', ['1s']),
    ('STREAM_PROXY_OPTIONS', 'next_upstream'): (False, ['off']),
    ('STREAM_PROXY_OPTIONS', 'next_upstream_tries'): (2, ['2']),
    ('STREAM_PROXY_OPTIONS', 'next_upstream_timeout'): ('30s', ['30s']),
}
# Written even at their default (Nginx's own default differs): what the default renders.
ALWAYS = {
    ('BACKEND_TLS_OPTIONS', 'verify'): ['on'],
    ('BACKEND_TLS_OPTIONS', 'server_name'): ['on'],
}
RENDERED_OPTIONS = [(g, o) for g, o in ALL_OPTIONS if o.render is not None]


def test_every_rendered_option_has_a_sample():
    assert sorted((g, o.name) for g, o in RENDERED_OPTIONS) == sorted(RENDERED)


@pytest.mark.parametrize('group_name, option', RENDERED_OPTIONS, ids=[option_id(e) for e in RENDERED_OPTIONS])
def test_option_renders_and_reads_back(group_name, option):
    group = GROUPS[group_name]
    given, written = RENDERED[(group_name, option.name)]
    value = _options.coerce(option, given, option.name)
    assert value == given
    if option.render == DIRECTIVE:
        assert option.args(value) == written
        assert option.read(written) == value
        assert group.by_directive()[option.directive] is option
        # and through the renderer every kind uses (the options written at their default left unset)
        values = group.defaults()
        for other in group.options:
            if other.always:
                values[other.name] = None
        values[option.name] = value
        block = []
        _render.directives(group, values, option.place, _render.Lines(), block)
        assert block == [{'directive': option.directive, 'args': written, 'line': 1}]
    else:
        assert option.param(value) == written
        assert option.read_param(written) == value
        # no other parameter takes it for its own
        assert [o.name for o in group.options if o.render in (PARAM, FLAG) and o.read_param(written) is not None] == [
            option.name]
        values = group.defaults()
        values.update({'address': '10.0.0.1:80', option.name: value})
        assert Server(values).args() == ['10.0.0.1:80', written]


@pytest.mark.parametrize('group_name, option', RENDERED_OPTIONS, ids=[option_id(e) for e in RENDERED_OPTIONS])
def test_default_or_unset_renders_nothing(group_name, option):
    group = GROUPS[group_name]
    if option.render == DIRECTIVE:
        values = group.defaults()
        for other in group.options:
            if other is not option:
                values[other.name] = None
        block = []
        _render.directives(group, values, option.place, _render.Lines(), block)
        if (group_name, option.name) in ALWAYS:
            assert block == [{'directive': option.directive, 'args': ALWAYS[(group_name, option.name)], 'line': 1}]
        else:
            assert block == []
        # unset, nothing at all
        values[option.name] = None
        block = []
        _render.directives(group, values, option.place, _render.Lines(), block)
        assert block == []
    else:
        values = group.defaults()
        values['address'] = '10.0.0.1:80'
        assert Server(values).args() == ['10.0.0.1:80']


@pytest.mark.parametrize('option, args', [
    (_options.UPSTREAM_OPTIONS['keepalive'], ['many']),
    (_options.UPSTREAM_OPTIONS['keepalive'], ['8', '16']),
    (_options.UPSTREAM_OPTIONS['keepalive'], []),
    (_options.UPSTREAM_OPTIONS['ntlm'], ['on']),
    (_options.UPSTREAM_OPTIONS['resolver'], []),
    (_options.UPSTREAM_OPTIONS['zone'], ['a', '1m', 'x']),
    (_options.LOCATION_OPTIONS['read_timeout'], ['1s', '2s']),
], ids=repr)
def test_read_refuses_what_the_option_cannot_hold(option, args):
    with pytest.raises(ValueError):
        option.read(args)


@pytest.mark.parametrize('option, param', [
    (_options.SERVER_OPTIONS['weight'], 'max_fails=3'),
    (_options.SERVER_OPTIONS['weight'], 'weight'),
    (_options.SERVER_OPTIONS['backup'], 'backup=1'),
    (_options.SERVER_OPTIONS['backup'], 'backups'),
], ids=repr)
def test_read_param_of_another_parameter_is_none(option, param):
    assert option.read_param(param) is None


# --------------------------------------------------------------------------
# a whole group through crossplane and back
# --------------------------------------------------------------------------

ADDRESSES = ('10.0.0.1:80', '10.0.0.2', 'backend.internal:8080', '[2001:db8::1]:443', '[::1]', 'unix:/run/app.sock')
times = st.builds('{}{}'.format, st.integers(0, 999), st.sampled_from(['', 'ms', 's', 'm', 'h', 'd']))
maybe = st.booleans


@st.composite
def servers(draw, method, zone):
    server = {'address': draw(st.sampled_from(ADDRESSES))}
    for name, strategy in (('weight', st.integers(1, 1000000)), ('max_conns', st.integers(0, 10000)),
                           ('max_fails', st.integers(0, 100)), ('fail_timeout', times), ('slow_start', times),
                           ('route', st.from_regex(r'[A-Za-z0-9_.-]{1,8}', fullmatch=True)),
                           ('down', st.booleans()), ('drain', st.booleans())):
        if draw(maybe()):
            server[name] = draw(strategy)
    if method in ('round_robin', 'least_conn') and draw(maybe()):
        server['backup'] = draw(st.booleans())
    if zone is not None and not server['address'].startswith('unix:') and draw(maybe()):
        server['resolve'] = draw(st.booleans())
    return server


@st.composite
def upstream_options(draw):
    method = draw(st.sampled_from(['round_robin', 'least_conn', 'ip_hash', 'hash', 'random', 'least_time']))
    options = {'name': draw(st.from_regex(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}', fullmatch=True)), 'method': method}
    if method == 'hash':
        options['hash_key'] = draw(st.sampled_from(['$remote_addr', '$request_uri', '$host $request_uri',
                                                    'a;b{c}#d', "it's \"quoted\"", 'C:\\path\\', '${host}x']))
        options['consistent'] = draw(st.booleans())
    if method == 'random':
        options['random_two'] = draw(st.booleans())
        if options['random_two'] and draw(maybe()):
            options['least_time'] = draw(st.sampled_from(['header', 'last_byte']))
    if method == 'least_time':
        options['least_time'] = draw(st.sampled_from(['header', 'last_byte', 'header inflight',
                                                      'last_byte inflight']))
    zone = draw(st.none() | st.sampled_from(['shared', 'shared 64k', 'z 1m']))
    if zone is not None:
        options['zone'] = zone
    options['servers'] = draw(st.lists(servers(method, zone), min_size=1, max_size=4))
    if draw(maybe()):
        options['keepalive'] = draw(st.integers(1, 1000))
        for name, strategy in (('keepalive_requests', st.integers(1, 100000)), ('keepalive_time', times),
                               ('keepalive_timeout', times)):
            if draw(maybe()):
                options[name] = draw(strategy)
    if draw(maybe()):
        options['resolver'] = draw(st.lists(st.sampled_from(['10.0.0.2', '[::1]:5353', 'valid=30s', 'ipv6=off']),
                                            min_size=1, max_size=3))
        if draw(maybe()):
            options['resolver_timeout'] = draw(times)
    if draw(maybe()):
        options['sticky'] = [draw(st.sampled_from(['cookie', 'route', 'learn']))] + draw(
            st.lists(st.sampled_from(['srv_id', 'expires=1h', 'path=/', '$route_cookie']), max_size=3))
    if draw(maybe()):
        options['ntlm'] = draw(st.booleans())
    if draw(maybe()):
        options['queue'] = draw(st.integers(1, 1000))
        if draw(maybe()):
            options['queue_timeout'] = draw(times)
    return options


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(options=upstream_options())
def test_a_group_reads_back_to_its_options(options):
    model = Upstream.from_options(options)
    text = _render.render_file(model.payload, ('upstream', model.name))
    parsed = _inspect.parse_text(text)
    assert [s['directive'] for s in parsed] == ['upstream']
    read, unknown = Upstream.read(_render.nginx_value(parsed[0]['args'][0]), parsed[0]['block'])
    assert unknown == []
    assert read == model.to_options()
    assert Upstream.from_options(read) == model


def test_a_trailing_braced_variable_reads_back_as_the_same_variable():
    # "hash ${host}" is written "hash $host" (the same to Nginx; crossplane misreads the braces at the end of an
    # unquoted argument): read back, it is $host, which renders the same bytes.
    model = Upstream.from_options({'name': 'g', 'method': 'hash', 'hash_key': '${host}', 'servers': ['a:80']})
    text = _render.render_file(model.payload, ('upstream', 'g'))
    assert '    hash $host;\n' in text
    read, unknown = Upstream.read('g', _inspect.parse_text(text)[0]['block'])
    assert (read['hash_key'], unknown) == ('$host', [])
    assert _render.render_file(Upstream.from_options(read).payload, ('upstream', 'g')) == text


# --------------------------------------------------------------------------
# the feature gates
# --------------------------------------------------------------------------

# (group, option) -> (the options a group needs for it, the option path named)
GATED = {
    ('SERVER_OPTIONS', 'max_conns'): ({'servers': [{'address': 'a:80', 'max_conns': 5}]}, 'servers[0].max_conns'),
    ('SERVER_OPTIONS', 'slow_start'): ({'servers': [{'address': 'a:80', 'slow_start': '30s'}]},
                                       'servers[0].slow_start'),
    ('SERVER_OPTIONS', 'route'): ({'servers': [{'address': 'a:80', 'route': 'r1'}]}, 'servers[0].route'),
    ('SERVER_OPTIONS', 'drain'): ({'servers': [{'address': 'a:80', 'drain': True}]}, 'servers[0].drain'),
    ('SERVER_OPTIONS', 'resolve'): ({'zone': 'z', 'servers': [{'address': 'a:80', 'resolve': True}]},
                                    'servers[0].resolve'),
    ('UPSTREAM_OPTIONS', 'keepalive_requests'): ({'keepalive': 8, 'keepalive_requests': 10}, 'keepalive_requests'),
    ('UPSTREAM_OPTIONS', 'keepalive_time'): ({'keepalive': 8, 'keepalive_time': '1h'}, 'keepalive_time'),
    ('UPSTREAM_OPTIONS', 'keepalive_timeout'): ({'keepalive': 8, 'keepalive_timeout': '60s'}, 'keepalive_timeout'),
    ('UPSTREAM_OPTIONS', 'zone'): ({'zone': 'z'}, 'zone'),
    ('UPSTREAM_OPTIONS', 'resolver'): ({'resolver': ['10.0.0.2']}, 'resolver'),
    ('UPSTREAM_OPTIONS', 'resolver_timeout'): ({'resolver': ['10.0.0.2'], 'resolver_timeout': '5s'},
                                               'resolver_timeout'),
    ('UPSTREAM_OPTIONS', 'sticky'): ({'sticky': ['cookie', 'srv_id']}, 'sticky'),
    ('UPSTREAM_OPTIONS', 'ntlm'): ({'ntlm': True}, 'ntlm'),
    ('UPSTREAM_OPTIONS', 'queue'): ({'queue': 10}, 'queue'),
}
GATED_OPTIONS = [(g, o) for g, o in ALL_OPTIONS if o.feature is not None]
# Features no option declares: the engine's own, each with the place that gates it.
UNDECLARED_FEATURES = {
    'random_least_time': 'Upstream.features: random with least_time, a pair of options',
    'health_check': '_inspect.unsupported_features: a location directive the vhost options do not have',
}


def test_every_gated_option_has_a_case():
    assert sorted((g, o.name) for g, o in GATED_OPTIONS) == sorted(GATED)


@pytest.mark.parametrize('group_name, option', GATED_OPTIONS, ids=[option_id(e) for e in GATED_OPTIONS])
def test_every_gated_option_appears_in_features(group_name, option):
    extra, path = GATED[(group_name, option.name)]
    options = {'name': 'g', 'servers': [{'address': 'a:80'}]}
    options.update(extra)
    values = _options.UPSTREAM_OPTIONS.validate(options)
    assert (option.feature, path) in _options.UPSTREAM_OPTIONS.features(values)
    assert (option.feature, 'upstreams[2].' + path) in _options.UPSTREAM_OPTIONS.features(values, 'upstreams[2].')
    # and the model asks the gate for it
    assert (option.feature, path) in Upstream.from_options(options).features()


@pytest.mark.parametrize('method, key', [('random', 'random'), ('least_time', 'least_time')])
def test_every_gated_choice_appears_in_features(method, key):
    assert dict(_options.METHOD.choice_features) == {'random': 'random', 'least_time': 'least_time'}
    options = {'name': 'g', 'method': method, 'servers': ['a:80']}
    if method == 'least_time':
        options['least_time'] = 'header'
    assert Upstream.from_options(options).features() == [(key, 'method')]


def test_every_feature_is_gated_somewhere():
    declared = set(o.feature for g, o in ALL_OPTIONS if o.feature) | set(
        key for g, o in ALL_OPTIONS for choice, key in o.choice_features)
    assert set(_options.FEATURES) - declared == set(UNDECLARED_FEATURES)


def test_plain_values_use_no_feature():
    values = _options.UPSTREAM_OPTIONS.validate({'name': 'g', 'method': 'least_conn', 'keepalive': 8,
                                                 'servers': [{'address': 'a:80', 'weight': 2, 'backup': True,
                                                              'max_fails': 1, 'fail_timeout': '5s'}]})
    assert _options.UPSTREAM_OPTIONS.features(values) == []


# --------------------------------------------------------------------------
# one rule, one message: Upstream.from_options and a site item
# --------------------------------------------------------------------------

S = ['10.0.0.1:80']
MODELS = {'upstream': Upstream, 'vhost': Vhost, 'log_format': LogFormat, 'stream_proxy': StreamProxy}
WRONG = {
    'upstream': [
        {'name': 'app', 'servers': [{'address': '10.0.0.1:80', 'weight': 0}]},
        {'name': 'app', 'servers': [{'address': '10.0.0.1:80', 'wieght': 3}]},
        {'name': 'app', 'servers': [{'address': 'http://x'}]},
        {'name': 'app', 'servers': [42]},
        {'name': 'app', 'servers': {'address': 'a:80'}},
        {'name': 'app', 'servers': []},
        {'name': 'app', 'method': 'fastest', 'servers': S},
        {'name': 'app', 'method': 'hash', 'servers': S},
        {'name': 'app', 'hash_key': '$uri', 'servers': S},
        {'name': 'app', 'consistent': True, 'servers': S},
        {'name': 'app', 'random_two': True, 'servers': S},
        {'name': 'app', 'method': 'least_time', 'servers': S},
        {'name': 'app', 'method': 'random', 'least_time': 'header', 'servers': S},
        {'name': 'app', 'method': 'ip_hash', 'servers': S + [{'address': '10.0.0.2:80', 'backup': True}]},
        {'name': 'app', 'keepalive_time': '1h', 'servers': S},
        {'name': 'app', 'resolver_timeout': '5s', 'servers': S},
        {'name': 'app', 'queue_timeout': '5s', 'servers': S},
        {'name': 'app', 'zone': 'a b c', 'servers': S},
        {'name': 'app', 'sticky': ['session'], 'servers': S},
        {'name': 'app', 'servers': [{'address': 'a:80', 'resolve': True}]},
        {'name': 'app', 'servers': [{'address': 'a:80', 'fail_timeout': '10x'}]},
        {'name': 'app', 'servers': [{'address': 'a:80', 'backup': 'maybe'}]},
        {'name': 'app', 'keepalive': 'many', 'servers': S},
        {'name': 'app', 'state': 'gone', 'servers': S},
        {'name': 'a;b', 'servers': S},
        {'name': 'app', 'bogus': 1, 'servers': S},
    ],
    'vhost': [
        {'name': 'v'},
        {'name': 'v', 'locations': [{'path': '/'}]},
        {'name': 'v', 'locations': [{'path': '/', 'upstream': 'a', 'next_upstream': ['nope']}]},
        {'name': 'v', 'locations': [{'path': '/', 'upstream': 'a', 'read_timeout': 'soon'}]},
        {'name': 'v', 'locations': [{'path': 'api', 'upstream': 'a'}]},
        {'name': 'v', 'upstream': 'a', 'ssl_certificate': '/c.pem'},
        {'name': 'v', 'upstream': 'a', 'access_log': {'format': 'main'}},
        {'name': 'v', 'upstream': 'a', 'listen': []},
        {'name': 'v', 'upstream': 'a', 'proxy_headers': {'Bad Name': 'x'}},
        {'name': 'v', 'upstream': 'a', 'server_name': 'a;b'},
        {'name': 'v', 'upstream': 'a', 'websocket': True},
    ],
    'log_format': [
        {'name': 'main'},
        {'name': 'combined', 'format': '$status'},
        {'name': 'm', 'format': '$status', 'escape': 'xml'},
        {'name': 'm', 'format': ['$a', '$b\n']},
        {'name': 'm', 'format': '$status', 'x': 1},
    ],
    'stream_proxy': [
        {'name': 'pg', 'upstream': 'pg'},
        {'name': 'pg', 'listen': '5432'},
        {'name': 'pg', 'listen': [], 'upstream': 'pg'},
        {'name': 'pg', 'listen': ['5432;'], 'upstream': 'pg'},
        {'name': 'pg', 'listen': '5432', 'upstream': 'p g'},
        {'name': 'pg', 'listen': '5432', 'upstream': 'pg', 'proxy_timeout': 'soon'},
        {'name': 'pg', 'listen': '5432', 'upstream': 'pg', 'next_upstream': 'maybe'},
        {'name': 'pg', 'listen': '5432', 'upstream': 'pg', 'next_upstream_tries': -1},
        {'name': 'pg', 'listen': '5432', 'upstream': 'pg', 'read_timeout': '1s'},
    ],
}
WRONG_CASES = [(kind, options) for kind in sorted(WRONG) for options in WRONG[kind]]


def single_module(kind, options):
    """What the single module (its action plugin) does with a task's item options before it reads the proxy."""
    return _engine.describe('/etc/nginx/conf.d', prefixed=False, **{_engine.GROUPS[kind]: [dict(options)]})


@pytest.mark.parametrize('kind, options', WRONG_CASES, ids=['%s-%d' % (k, i) for k in sorted(WRONG)
                                                            for i in range(len(WRONG[k]))])
def test_the_same_wrong_option_gives_the_same_message_through_a_site_item(kind, options):
    with pytest.raises(BalancerError) as alone:
        single_module(kind, options)
    with pytest.raises(BalancerError) as item:
        _engine.describe('/etc/nginx/conf.d', **{_engine.GROUPS[kind]: [dict(options)]})
    prefix = '%s[0]' % _engine.GROUPS[kind]
    message = str(alone.value)
    if message.startswith('options: '):
        expected = prefix + ': ' + message[len('options: '):]
    else:
        expected = prefix + '.' + message
    assert str(item.value) == expected
    assert item.value.option == (prefix if alone.value.option == 'options' else prefix + '.' + alone.value.option)


@pytest.mark.parametrize('kind, options', WRONG_CASES, ids=['%s-%d' % (k, i) for k in sorted(WRONG)
                                                            for i in range(len(WRONG[k]))])
def test_the_model_gives_the_items_message_but_for_unknown_options(kind, options):
    # the item checks unknown options first, naming its own path among the options it takes; every other rule
    # is the model's
    with pytest.raises(BalancerError) as alone:
        single_module(kind, options)
    with pytest.raises(BalancerError) as model:
        MODELS[kind].from_options(dict(options))
    if alone.value.option == 'options' and 'has unknown option(s)' in str(alone.value):
        assert str(alone.value) == str(model.value)[:-1] + ', path.'
    else:
        assert str(alone.value) == str(model.value)


@pytest.mark.parametrize('kind, message', [
    ('upstream', 'has unknown option(s) bogus; use only name, state, context, method, hash_key, consistent, '
                 'random_two, least_time, servers, keepalive, keepalive_requests, keepalive_time, keepalive_timeout, '
                 'zone, resolver, resolver_timeout, sticky, ntlm, queue, queue_timeout, path.'),
    ('vhost', 'has unknown option(s) bogus; use only name, state, server_name, listen, upstream, locations, '
              'proxy_headers, access_log, ssl_certificate, ssl_certificate_key, path.'),
    ('log_format', 'has unknown option(s) bogus; use only name, state, format, escape, path.'),
    ('stream_proxy', 'has unknown option(s) bogus; use only name, state, listen, upstream, proxy_timeout, '
                     'connect_timeout, next_upstream, next_upstream_tries, next_upstream_timeout, path.'),
])
@pytest.mark.parametrize('state', ['present', 'absent'])
def test_one_unknown_option_message_for_the_module_and_the_site_item(kind, message, state):
    # present or absent: an unknown option is refused the same way, its own path listed
    options = {'name': 'x', 'state': state, 'bogus': 1}
    with pytest.raises(ModelError) as alone:
        single_module(kind, options)
    assert str(alone.value) == 'options: ' + message
    with pytest.raises(ModelError) as item:
        _engine.describe('/etc/nginx/conf.d',
                         **{_engine.GROUPS[kind]: [{'name': 'a', 'state': 'absent'}, dict(options)]})
    assert str(item.value) == '%s[1]: %s' % (_engine.GROUPS[kind], message)


def test_a_message_naming_two_options_prefixes_both():
    with pytest.raises(ModelError) as alone:
        Vhost.from_options({'name': 'v', 'locations': [{'path': '/', 'upstream': 'a', 'pass': 'http://x'}]})
    assert str(alone.value) == (
        'locations[0].pass: cannot be combined with locations[0].upstream; keep one of upstream and pass and split.')
    with pytest.raises(ModelError) as item:
        _engine.describe('/etc/nginx/conf.d', vhosts=[
            {'name': 'v', 'locations': [{'path': '/', 'upstream': 'a', 'pass': 'http://x'}]}])
    assert str(item.value) == ('vhosts[0].locations[0].pass: cannot be combined with vhosts[0].locations[0].upstream; '
                               'keep one of upstream and pass and split.')
    with pytest.raises(ModelError) as item:
        _engine.describe('/etc/nginx/conf.d', vhosts=[{'name': 'v', 'upstream': 'a', 'locations': [{'upstream': 'a'}]}])
    assert str(item.value) == ('vhosts[0].locations: cannot be combined with vhosts[0].upstream; keep one of upstream '
                               'and locations.')


# --------------------------------------------------------------------------
# issue 11: each directive name lives in one engine file
# --------------------------------------------------------------------------

def directive_names():
    """Every Nginx name of the upstream and vhost groups: directives, server parameters, the statements of a vhost."""
    names = set(o.directive for group in (_options.UPSTREAM_OPTIONS, _options.SERVER_OPTIONS,
                                          _options.LOCATION_OPTIONS, _options.VHOST_OPTIONS,
                                          _options.ACCESS_LOG_OPTIONS, _options.BACKEND_TLS_OPTIONS,
                                          _options.SPLIT_OPTIONS, _options.STREAM_PROXY_OPTIONS)
                for o in group.options if o.directive)
    names.update(_options.METHOD_DIRECTIVES)
    names.update([_options.LISTEN, _options.SERVER_NAME, _options.PROXY_PASS, _options.PROXY_HTTP_VERSION,
                  _options.PROXY_SET_HEADER, _options.ACCESS_LOG, _options.LOCATION, _options.HEALTH_CHECK,
                  _options.SPLIT_CLIENTS])
    return names


# Names of the groups that are words of every module, not directives one file could own.
NOT_CHECKED = {
    'upstream': 'the name of the upstream module and of the item kind, used by every engine file',
    'server': 'a server of a group and a virtual server: the words of every module (backend_probe, balance_check)',
}

# (file, name) -> (how many times the word may stand there, why): prose or code that names another module's
# public option, never the directive itself.
ALLOWED = {
    ('_balance.py', 'weight'): (
        35, "the weights of split_by_weight and balance_check's expect_weights (their public inputs and messages); "
            '_balance never writes or reads the server parameter'),
    ('_commit.py', 'backup'): (5, "the commit module's public option backup (a copy of the file before it changes)"),
    ('_specs.py', 'backup'): (1, "the commit module's argument spec: its option backup"),
    ('_engine.py', 'backup'): (1, "'backup copies': the common option backup (copies of files), checked against "
                                  'backup_dir'),
    ('_probe.py', 'backup'): (1, "backend_probe's public result key targets[].backup (its docstring)"),
    ('_probe.py', 'down'): (2, "backend_probe's public result: skipped servers 'marked down' (the upstream module's "
                               'servers[].down, named in the docstring and the reason)'),
    ('_specs.py', 'access_log'): (2, "balance_check's public option access_log (its spec and its required_if)"),
}


def word_lines(name):
    """``{file: [line, ...]}`` where ``name`` stands as a whole word (as grep -w finds it), docstrings included."""
    pattern = re.compile(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])' % re.escape(name))
    found = {}
    for file_name in sorted(os.listdir(ENGINE)):
        if file_name.endswith('.py'):
            with open(os.path.join(ENGINE, file_name), encoding='utf-8') as handle:
                for number, line in enumerate(handle, 1):
                    found.setdefault(file_name, []).extend(['%d: %s' % (number, line.strip())]
                                                           * len(pattern.findall(line)))
    return dict((file_name, lines) for file_name, lines in found.items() if lines)


def word_counts(name):
    """``{file: count}`` of ``name`` as a whole word in every engine file."""
    return dict((file_name, len(lines)) for file_name, lines in word_lines(name).items())


def test_the_checked_names_are_the_groups_names():
    # a lower bound written out, so that a directive leaving the table does not leave this check unnoticed
    assert directive_names() >= {
        'keepalive', 'keepalive_requests', 'keepalive_time', 'keepalive_timeout', 'zone', 'resolver',
        'resolver_timeout', 'sticky', 'ntlm', 'queue', 'least_conn', 'ip_hash', 'hash', 'random', 'least_time',
        'weight', 'max_conns', 'max_fails', 'fail_timeout', 'slow_start', 'route', 'backup', 'down', 'drain',
        'resolve', 'proxy_next_upstream', 'proxy_next_upstream_tries', 'proxy_next_upstream_timeout',
        'proxy_connect_timeout', 'proxy_read_timeout', 'proxy_send_timeout', 'ssl_certificate',
        'ssl_certificate_key', 'listen', 'server_name', 'proxy_pass', 'proxy_http_version', 'proxy_set_header',
        'access_log', 'location', 'health_check',
        # issue 12: TLS to the backends, the canary, the stream proxy
        'proxy_ssl_verify', 'proxy_ssl_trusted_certificate', 'proxy_ssl_server_name', 'proxy_ssl_name',
        'proxy_ssl_certificate', 'proxy_ssl_certificate_key', 'proxy_ssl_protocols', 'split_clients',
        'proxy_timeout'}
    assert not set(NOT_CHECKED) & directive_names()


@pytest.mark.parametrize('name', sorted(directive_names()))
def test_each_directive_name_lives_in_one_engine_file(name):
    lines = word_lines(name)
    assert '_options.py' in lines
    elsewhere = dict((file_name, found) for file_name, found in lines.items()
                     if file_name != '_options.py' and ALLOWED.get((file_name, name), (None,))[0] != len(found))
    assert elsewhere == {}, '%r is also in %s' % (name, elsewhere)


@pytest.mark.parametrize('file_name, name', sorted(ALLOWED))
def test_every_allowed_occurrence_is_still_there(file_name, name):
    # an allowance that no longer matches is removed, so the list never grows stale
    assert word_counts(name).get(file_name) == ALLOWED[(file_name, name)][0]


# --------------------------------------------------------------------------
# adding a directive is one entry
# --------------------------------------------------------------------------

# The README's example: one Option, nothing else.
BUFFERING = Option('buffering', type='bool', kind='onoff', default=True, directive='proxy_buffering',
                   render=DIRECTIVE)
WITH_BUFFERING = _options.LOCATION_OPTIONS.with_options(BUFFERING)


def test_a_new_directive_validates():
    values = WITH_BUFFERING.validate({'path': '/', 'upstream': 'app', 'buffering': 'off'}, 'locations[0].')
    assert values['buffering'] is False
    assert WITH_BUFFERING.validate({'upstream': 'app'})['buffering'] is True
    with pytest.raises(ModelError) as info:
        WITH_BUFFERING.validate({'upstream': 'app', 'buffering': 'maybe'}, 'locations[0].')
    assert str(info.value) == "locations[0].buffering: 'maybe' must be true or false; give true or false."
    # the rules of the group stay
    with pytest.raises(ModelError) as info:
        WITH_BUFFERING.validate({'buffering': False}, 'locations[0].')
    assert str(info.value) == (
        'locations[0]: needs one of upstream, pass, split; set upstream to a group name, split to a canary between '
        'groups, or pass to a URL such as http://127.0.0.1:8080.')


def test_a_new_directive_has_its_spec():
    spec = WITH_BUFFERING.spec()
    assert spec['buffering'] == {'type': 'bool', 'default': True}
    assert list(spec) == _options.LOCATION_OPTIONS.names() + ['buffering']
    assert WITH_BUFFERING.rules() == {'mutually_exclusive': [['upstream', 'pass', 'split']],
                                      'required_one_of': [['upstream', 'pass', 'split']]}


def test_a_new_directive_renders_where_declared():
    values = WITH_BUFFERING.validate({'upstream': 'app', 'buffering': False, 'read_timeout': '30s'})
    block = []
    _render.directives(WITH_BUFFERING, values, 'body', _render.Lines(), block)
    assert block == [{'directive': 'proxy_read_timeout', 'args': ['30s'], 'line': 1},
                     {'directive': 'proxy_buffering', 'args': ['off'], 'line': 2}]
    # the default writes nothing: Nginx's own default applies
    block = []
    _render.directives(WITH_BUFFERING, WITH_BUFFERING.validate({'upstream': 'app', 'buffering': True}), 'body',
                       _render.Lines(), block)
    assert block == []


def test_a_new_directive_reads_back():
    text = _render.build([{'directive': 'location', 'args': ['/'], 'line': 1, 'block': [
        {'directive': 'proxy_buffering', 'args': ['off'], 'line': 2},
        {'directive': 'proxy_read_timeout', 'args': ['30s'], 'line': 3}]}])
    assert text == 'location / {\n    proxy_buffering off;\n    proxy_read_timeout 30s;\n}\n'
    read = {}
    for statement in _inspect.parse_text(text)[0]['block']:
        option = WITH_BUFFERING.by_directive()[statement['directive']]
        read[option.name] = option.read(statement['args'])
    assert read == {'buffering': False, 'read_timeout': '30s'}
    assert BUFFERING.read(['on']) is True
    with pytest.raises(ValueError):
        BUFFERING.read(['maybe'])


def test_the_table_is_not_changed_by_a_new_group():
    assert 'buffering' not in _options.LOCATION_OPTIONS.by_name
    assert 'proxy_buffering' not in _options.LOCATION_OPTIONS.by_directive()


# --------------------------------------------------------------------------
# the generic rules, one by one
# --------------------------------------------------------------------------

def group_of(*options, **rules):
    return Group(tuple(options), **rules)


def refused(group, given, prefix=''):
    with pytest.raises(ModelError) as info:
        group.validate(given, prefix)
    return str(info.value)


def test_required_and_hint():
    group = group_of(Option('a', required=True), Option('b', required=True, hint='give b, e.g. 1'))
    assert refused(group, {'b': 1}) == 'a: is required; give a.'
    assert refused(group, {'a': 1}, 'x.') == 'x.b: is required; give b, e.g. 1.'


def test_requires():
    group = group_of(Option('a', type='int'), Option('b', type='int', requires='a'))
    assert refused(group, {'b': 1}) == 'b: has no effect without a; set a, or remove b.'
    assert group.validate({'a': 1, 'b': 2}) == {'a': 1, 'b': 2}


def test_applies_to_and_required_with():
    group = group_of(Option('mode', choices=('x', 'y'), default='x', noun='a mode'),
                     Option('key', applies_to=('mode', ('y',)), required_with=('mode', 'y'), hint='set key'),
                     Option('flag', type='bool', default=False, applies_to=('mode', ('y',))))
    assert refused(group, {'key': 'k'}) == "key: 'k' only applies to mode=y (mode is x); set mode: y, or remove key."
    assert refused(group, {'flag': True}) == 'flag: only applies to mode=y (mode is x); set mode: y, or remove flag.'
    assert refused(group, {'mode': 'y'}) == 'key: is required with mode=y; set key.'
    assert refused(group, {'mode': 'z'}) == "mode: 'z' is not a mode; use one of x, y."


def test_required_together_one_of_and_mutually_exclusive():
    group = group_of(Option('a'), Option('b'), Option('c'), required_together=(('a', 'b'),),
                     required_one_of=(('a', 'c'),), mutually_exclusive=(('b', 'c'),))
    assert refused(group, {'b': '1'}, 'x.') == 'x.a: and b go together; give both, or neither.'
    assert refused(group, {}, 'x.') == 'x: needs one of a, c; set one of them.'
    assert refused(group, {}) == 'a: needs one of a, c; set one of them.'
    # an empty list given for one of them is named, with its hint
    listed = group_of(Option('a'), Option('c', type='list', elements='str', hint='list the cs'),
                      required_one_of=(('a', 'c'),))
    assert refused(listed, {'c': []}, 'x.') == 'x.c: is empty; list the cs.'
    assert refused(group_of(Option('a'), Option('c', type='list', elements='str'), required_one_of=(('a', 'c'),),
                            one_of_hint='set a or c'), {}, 'x.') == 'x: needs one of a, c; set a or c.'
    assert refused(group, {'a': '1', 'b': '1', 'c': '1'}, 'x.') == (
        'x.c: cannot be combined with x.b; keep one of b and c.')


@pytest.mark.parametrize('option, raw, expected', [
    (_options.LISTEN_OPTION, '80, 8080', ['80', '8080']),            # commas make a list, as Ansible's type=list
    (_options.LISTEN_OPTION, '443 ssl', ['443 ssl']),                # no comma: one value, its words kept
    (_options.LISTEN_OPTION, 8080, ['8080']),                        # a number is a one-item list
    (_options.NEXT_UPSTREAM_OPTION, 'error timeout', ['error', 'timeout']),     # choices: white space too
    (_options.NEXT_UPSTREAM_OPTION, 'error, timeout http_502', ['error', 'timeout', 'http_502']),
    (_options.BACKEND_TLS_OPTIONS['protocols'], 'TLSv1.2,TLSv1.3', ['TLSv1.2', 'TLSv1.3']),
    (_options.STREAM_LISTEN, '53 udp, 5353 udp', ['53 udp', '5353 udp']),
], ids=['commas', 'one', 'number', 'choices-spaces', 'choices-both', 'protocols', 'stream-listen'])
def test_a_string_or_a_number_for_a_list(option, raw, expected):
    assert _options.coerce(option, raw, option.name) == expected


@pytest.mark.parametrize('raw, message', [
    (True, 'listen: true must be a list; give a list of values.'),
    ({'port': 80}, "listen: {'port': 80} must be a list; give a list of values."),
])
def test_what_is_no_list_is_refused(raw, message):
    with pytest.raises(ModelError) as info:
        _options.coerce(_options.LISTEN_OPTION, raw, 'listen')
    assert str(info.value) == message


def test_contexts():
    group = group_of(Option('keepalive', type='int', contexts=('http',)))
    assert group.validate({'keepalive': 8}) == {'keepalive': 8}
    with pytest.raises(ModelError) as info:
        group.validate({'keepalive': 8}, context='stream')
    assert str(info.value) == ('keepalive: does not exist in the stream context; remove it (it is for the http '
                               'context).')


def test_shorthand_and_aliases():
    group = group_of(Option('path', required=True), Option('format'), Option('attributes', aliases=('attr',)),
                     shorthand='path')
    assert group.validate('/var/log/x.log') == {'path': '/var/log/x.log', 'format': None, 'attributes': None}
    assert group.validate({'path': '/l', 'attr': '+i'})['attributes'] == '+i'
    assert refused(group, 5, 'x.') == 'x: 5 must be a dict of options; write {path: ...}.'


def test_is_set():
    assert _options.BACKUP.is_set(True) and not _options.BACKUP.is_set(False)
    assert not _options.ZONE.is_set(None) and _options.ZONE.is_set('z')
    assert not _options.NEXT_UPSTREAM_OPTION.is_set([]) and not _options.HEADERS.is_set({})
    assert BUFFERING.is_set(False) and not BUFFERING.is_set(True) and not BUFFERING.is_set(None)


def test_compact_leaves_out_none_only():
    compacted = _options.compact({'a': None, 'b': False, 'c': 0, 'd': [], 'e': ''})
    assert compacted == {'b': False, 'c': 0, 'd': [], 'e': ''}


def test_validate_does_not_change_what_it_is_given():
    given = {'name': 'app', 'servers': [{'address': 'a:80', 'weight': '3'}], 'zone': ' z  64k '}
    copy = {'name': 'app', 'servers': [{'address': 'a:80', 'weight': '3'}], 'zone': ' z  64k '}
    _options.UPSTREAM_OPTIONS.validate(given)
    assert given == copy
