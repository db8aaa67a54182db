# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_stream_proxy.py: a server {} of the stream context, its rules, payload and read-back.

Golden files live in ``golden/stream_proxy_*.conf`` (see conftest.py for
updating them).  Expected texts are written out here, never rendered by the
code under test.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _inspect, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import MANAGED_HEADER, is_managed, managed_item
from ansible_collections.balancer.nginx.plugins.module_utils._stream_proxy import StreamProxy
from ansible_collections.balancer.nginx.tests.unit import nginx_reader

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')
HEADER = MANAGED_HEADER + '\n'
NAMES = ('name, state, listen, upstream, proxy_timeout, connect_timeout, next_upstream, next_upstream_tries, '
         'next_upstream_timeout')


def opts(**kw):
    base = {'name': 'pg', 'listen': '5432', 'upstream': 'pg'}
    base.update(kw)
    return base


def refused(options, prefix=''):
    with pytest.raises(ModelError) as info:
        StreamProxy.from_options(options, prefix)
    return str(info.value)


def item_refused(options):
    """The message the stream_proxy module gives (its action plugin describes the item, unprefixed)."""
    with pytest.raises(ModelError) as info:
        _engine.describe('/etc/nginx/conf.d', prefixed=False, stream_proxies=[options])
    return str(info.value)


def render(model):
    """The file the stream_proxy module writes for ``model``."""
    return _render.build(_render.file_payload(model.statements(), ('stream_proxy', model.name)))


# --------------------------------------------------------------------------
# listen: a string or a list
# --------------------------------------------------------------------------

@pytest.mark.parametrize('listen, expected', [
    ('5432', ['5432']),
    (5432, ['5432']),
    ('53 udp', ['53 udp']),
    ('127.0.0.1:6000', ['127.0.0.1:6000']),
    ('[::]:5432', ['[::]:5432']),
    (['5432', '[::]:5432'], ['5432', '[::]:5432']),
    (['53 udp', '[::]:53 udp reuseport'], ['53 udp', '[::]:53 udp reuseport']),
    # a string with commas is a list, as Ansible's type=list makes it
    ('5432, 5433', ['5432', '5433']),
], ids=['port', 'number', 'udp', 'address', 'v6', 'list', 'udp-list', 'commas'])
def test_listen_string_or_list(listen, expected):
    assert StreamProxy.from_options(opts(listen=listen)).values['listen'] == expected


@pytest.mark.parametrize('listen, lines', [
    ('5432', ['listen 5432;']),
    ('53 udp', ['listen 53 udp;']),
    ('53  udp', ['listen 53 udp;']),                 # the words of a listen value, as Nginx reads them
    (['127.0.0.1:6000 udp', '[::1]:6000 udp'], ['listen 127.0.0.1:6000 udp;', 'listen [::1]:6000 udp;']),
])
def test_each_listen_value_is_one_listen_line(listen, lines):
    text = render(StreamProxy.from_options(opts(listen=listen)))
    assert [line.strip() for line in text.split('\n') if line.strip().startswith('listen')] == lines
    assert nginx_reader.statements(text, 'listen') == [line[len('listen '):-1].split(' ') for line in lines]


LISTEN_REQUIRED = ('listen: is required: a stream proxy listens on a port; give e.g. "5432", "53 udp" or '
                   '"127.0.0.1:6000".')


@pytest.mark.parametrize('options, message', [
    ({'name': 'pg', 'upstream': 'pg'}, LISTEN_REQUIRED),
    (opts(listen=None), LISTEN_REQUIRED),
    (opts(listen=[]), LISTEN_REQUIRED),
    ({'name': 'pg', 'listen': '5432'},
     'upstream: is required: the stream group to proxy to; give the name of an upstream with context: stream.'),
    (opts(upstream=None),
     'upstream: is required: the stream group to proxy to; give the name of an upstream with context: stream.'),
    ({'listen': '5432', 'upstream': 'pg'}, 'name: is required; give a name such as backend_pool.'),
], ids=['no-listen', 'listen-null', 'listen-empty', 'no-upstream', 'upstream-null', 'no-name'])
def test_required(options, message):
    assert refused(options) == message
    assert refused(options, 'stream_proxies[1].') == 'stream_proxies[1].' + message


def test_an_empty_listen_value_is_refused():
    # Nginx refuses "listen;" (invalid number of arguments): the model must refuse an empty or blank value
    for listen in ([''], ['5432', ' ']):
        with pytest.raises(ModelError) as info:
            StreamProxy.from_options(opts(listen=listen))
        assert (info.value.option, info.value.value) == ('listen[%d]' % (len(listen) - 1), listen[-1])


def test_absent_needs_neither_listen_nor_upstream_where_items_are_described():
    items = _engine.describe('/etc/nginx/conf.d', stream_proxies=[{'name': 'pg', 'state': 'absent'}])
    assert [(i.kind, i.context, i.path, i.model) for i in items] == [
        ('stream_proxy', 'stream', '/etc/nginx/stream.d/pg.stream.conf', None)]


# --------------------------------------------------------------------------
# the other options and their messages
# --------------------------------------------------------------------------

RULES = [
    ('proxy_timeout-word', opts(proxy_timeout='soon'),
     "proxy_timeout: 'soon' is not an Nginx time; give a value such as 10s, 1m, 500ms or 1m30s."),
    ('proxy_timeout-space', opts(proxy_timeout='10 m'),
     "proxy_timeout: '10 m' contains ' ', which Nginx would read as syntax, not as part of a time; remove it."),
    ('proxy_timeout-bool', opts(proxy_timeout=True),
     'proxy_timeout: true must be a time such as 10s; give a number of seconds or 10s, 1m, 500ms.'),
    ('connect_timeout-word', opts(connect_timeout='1x'),
     "connect_timeout: '1x' is not an Nginx time; give a value such as 10s, 1m, 500ms or 1m30s."),
    ('next_upstream-word', opts(next_upstream='maybe'),
     "next_upstream: 'maybe' must be true or false; give true or false."),
    ('next_upstream_tries-negative', opts(next_upstream_tries=-1),
     'next_upstream_tries: -1 must be at least 0; give a value at least 0.'),
    ('next_upstream_tries-word', opts(next_upstream_tries='x'),
     "next_upstream_tries: 'x' must be a whole number; give a number."),
    ('next_upstream_timeout-word', opts(next_upstream_timeout='later'),
     "next_upstream_timeout: 'later' is not an Nginx time; give a value such as 10s, 1m, 500ms or 1m30s."),
    ('state-unknown', opts(state='gone'), "state: 'gone' is not a state; use one of present, absent."),
    ('listen-a-dict', opts(listen={'port': 5432}),
     "listen: {'port': 5432} must be a list; give a list of values."),
    ('not-a-dict', ['pg'], "options: ['pg'] must be a dict of stream proxy options; write {name: ...}."),
    ('name-bad', opts(name='-pg'),
     "name: '-pg' is not a valid name (letters, digits, \"_\", \"-\" and \".\" only, at most 128, not starting "
     "with \"-\" or \".\"); rename it, e.g. backend_pool."),
    ('upstream-bad', opts(upstream='pg/1'),
     "upstream: 'pg/1' is not a valid name (letters, digits, \"_\", \"-\" and \".\" only, at most 128, not "
     "starting with \"-\" or \".\"); rename it, e.g. backend_pool."),
]


@pytest.mark.parametrize('options, message', [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule(options, message):
    assert refused(options) == message


# --------------------------------------------------------------------------
# unknown options: the model's message, and the item's (the module's and site's), its path included
# --------------------------------------------------------------------------

@pytest.mark.parametrize('extra', [{'websocket': True}, {'read_timeout': '1s'}, {'context': 'stream'},
                                   {'locations': []}])
def test_unknown_options(extra):
    unknown = list(extra)[0]
    assert refused(opts(**extra)) == 'options: has unknown option(s) %s; use only %s.' % (unknown, NAMES)
    assert item_refused(opts(**extra)) == 'options: has unknown option(s) %s; use only %s, path.' % (unknown, NAMES)
    with pytest.raises(ModelError) as info:
        _engine.describe('/etc/nginx/conf.d', stream_proxies=[opts(), dict(opts(name='b'), **extra)])
    assert str(info.value) == 'stream_proxies[1]: has unknown option(s) %s; use only %s, path.' % (unknown, NAMES)


def test_unknown_options_are_listed_sorted():
    assert item_refused(opts(zz=1, aa=2, state='absent')) == (
        'options: has unknown option(s) aa, zz; use only %s, path.' % NAMES)


# --------------------------------------------------------------------------
# syntax smuggled into a bare word is refused
# --------------------------------------------------------------------------

SYNTAX = [(';', "';'"), ('{', "'{'"), ('}', "'}'"), ('#', "'#'"), ('"', '\'"\''), ("'", '"\'"'), ('\\', "'\\\\'"),
          ('`', "'`'"), ('\n', "'\\n'"), ('\t', "'\\t'")]


@pytest.mark.parametrize('char, shown', SYNTAX, ids=[repr(c) for c, s in SYNTAX])
def test_listen_syntax_refused(char, shown):
    value = '5432' + char + 'x'
    assert refused(opts(listen=['53 udp', value])) == (
        "listen[1]: %r contains %s, which Nginx would read as syntax, not as part of a listen address; remove it."
        % (value, shown))


@pytest.mark.parametrize('char, shown', [c for c in SYNTAX if c[0] not in '\t'], ids=[repr(c) for c, s in SYNTAX
                                                                                      if c not in '\t'])
def test_upstream_syntax_refused(char, shown):
    value = 'pg' + char + 'x'
    assert refused(opts(upstream=value)) == (
        "upstream: %r contains %s, which Nginx would read as syntax, not as part of a name; remove it."
        % (value, shown))


def test_syntax_refused_literally():
    # the table above builds messages with %r; one literal check of the shape
    assert refused(opts(listen='5432;\n}\nserver {\n    listen 22')) == (
        "listen[0]: '5432;\\n}\\nserver {\\n    listen 22' contains ';', which Nginx would read as syntax, not as "
        "part of a listen address; remove it.")
    assert refused(opts(proxy_timeout='1s;')) == (
        "proxy_timeout: '1s;' contains ';', which Nginx would read as syntax, not as part of a time; remove it.")


def test_a_line_break_in_listen_is_refused_not_split():
    assert refused(opts(listen='5432\n5433')) == (
        "listen[0]: '5432\\n5433' contains '\\n', which Nginx would read as syntax, not as part of a listen "
        "address; remove it.")


# --------------------------------------------------------------------------
# normalized options
# --------------------------------------------------------------------------

def test_to_options():
    model = StreamProxy.from_options({'name': 'dns', 'state': 'present', 'listen': '53 udp', 'upstream': 'dns',
                                      'proxy_timeout': '2s', 'next_upstream': 'yes', 'next_upstream_tries': '2'})
    assert model.to_options() == {'name': 'dns', 'listen': ['53 udp'], 'upstream': 'dns', 'proxy_timeout': '2s',
                                  'next_upstream': True, 'next_upstream_tries': 2}
    assert (model.name, model.upstream) == ('dns', 'dns')


def test_to_options_copies_lists():
    model = StreamProxy.from_options(opts(listen=['5432']))
    options = model.to_options()
    options['listen'].append('22')
    assert model.to_options()['listen'] == ['5432']


def test_from_options_of_to_options_is_the_same_model():
    model = StreamProxy.from_options(FULL)
    assert StreamProxy.from_options(model.to_options()) == model


def test_explicit_nulls_are_unset():
    # what Ansible hands over for options not given
    options = dict((name, None) for name in NAMES.split(', '))
    options.update(name='pg', listen=['5432'], upstream='pg')
    model = StreamProxy.from_options(options)
    assert model.to_options() == {'name': 'pg', 'listen': ['5432'], 'upstream': 'pg'}
    assert render(model) == SIMPLE_TEXT


# --------------------------------------------------------------------------
# the payload
# --------------------------------------------------------------------------

SIMPLE_TEXT = (HEADER
               + '# balancer.nginx item: stream_proxy pg\n'
               'server {\n'
               '    listen 5432;\n'
               '    proxy_pass pg;\n'
               '}\n')
FULL = {'name': 'dns', 'listen': ['53 udp', '[::]:53 udp'], 'upstream': 'dns', 'proxy_timeout': '2s',
        'connect_timeout': '1s', 'next_upstream': True, 'next_upstream_tries': 2, 'next_upstream_timeout': '10s'}
FULL_TEXT = (HEADER
             + '# balancer.nginx item: stream_proxy dns\n'
             'server {\n'
             '    listen 53 udp;\n'
             '    listen [::]:53 udp;\n'
             '    proxy_pass dns;\n'
             '    proxy_timeout 2s;\n'
             '    proxy_connect_timeout 1s;\n'
             '    proxy_next_upstream on;\n'
             '    proxy_next_upstream_tries 2;\n'
             '    proxy_next_upstream_timeout 10s;\n'
             '}\n')


def test_simple_text():
    assert render(StreamProxy.from_options(opts())) == SIMPLE_TEXT


def test_every_option_rendered_in_table_order():
    assert render(StreamProxy.from_options(FULL)) == FULL_TEXT


@pytest.mark.parametrize('value, line', [(True, 'proxy_next_upstream on;'), (False, 'proxy_next_upstream off;'),
                                         (None, None)])
def test_next_upstream_is_written_as_given(value, line):
    # Nginx's default is on: false writes off, unset writes nothing
    lines = [x.strip() for x in render(StreamProxy.from_options(opts(next_upstream=value))).split('\n')]
    assert [x for x in lines if x.startswith('proxy_next_upstream')] == ([line] if line else [])


GOLDEN_CASES = {
    'stream_proxy_tcp': {'name': 'pg', 'listen': ['15432', '[::]:15432'], 'upstream': 'pg', 'proxy_timeout': '10m',
                         'connect_timeout': '2s', 'next_upstream': True, 'next_upstream_tries': 2,
                         'next_upstream_timeout': '10s'},
    'stream_proxy_udp': {'name': 'dns', 'listen': ['127.0.0.1:10053 udp'], 'upstream': 'dns', 'proxy_timeout': '2s',
                         'next_upstream': False},
}


@pytest.mark.parametrize('name', sorted(GOLDEN_CASES))
def test_golden(name, golden):
    golden(name, render(StreamProxy.from_options(GOLDEN_CASES[name])))


def test_every_golden_file_has_a_case():
    names = [f[:-len('.conf')] for f in os.listdir(GOLDEN) if f.startswith('stream_proxy_') and f.endswith('.conf')]
    assert sorted(names) == sorted(GOLDEN_CASES)


def test_golden_literal_udp():
    assert render(StreamProxy.from_options(GOLDEN_CASES['stream_proxy_udp'])) == (
        HEADER
        + '# balancer.nginx item: stream_proxy dns\n'
        'server {\n'
        '    listen 127.0.0.1:10053 udp;\n'
        '    proxy_pass dns;\n'
        '    proxy_timeout 2s;\n'
        '    proxy_next_upstream off;\n'
        '}\n')


@pytest.mark.parametrize('options', [opts(), FULL] + [GOLDEN_CASES[n] for n in sorted(GOLDEN_CASES)])
def test_round_trip_and_byte_stable(options):
    model = StreamProxy.from_options(options)
    payload = _render.file_payload(model.statements(), ('stream_proxy', model.name))
    text = _render.build(payload)
    assert text == render(model) == render(StreamProxy.from_options(model.to_options()))
    _inspect.check_roundtrip(text, payload)
    assert _render.strip_lines(_inspect.parse_text(text)) == _render.strip_lines(payload)
    assert is_managed(text) and managed_item(text) == ('stream_proxy', model.name)
    numbers = [s['line'] for s in payload] + [s['line'] for s in payload[-1]['block']]
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(isinstance(a, str) for s in payload[-1]['block'] for a in s['args'])


def test_statements_is_the_server_alone():
    model = StreamProxy.from_options(opts())
    assert [make(_render.Lines())['directive'] for make in model.statements()] == ['server']


# --------------------------------------------------------------------------
# what a take-over keeps
# --------------------------------------------------------------------------

@pytest.mark.parametrize('text, lost', [
    ('server {\n    listen 5432;\n    proxy_pass pg;\n    proxy_timeout 10m;\n}\n', []),
    ('server {\n    listen 5432;\n    proxy_pass pg;\n    proxy_buffer_size 16k;\n}\n',
     ['"proxy_buffer_size 16k" at line 4']),
    ('server {\n    listen 5432 ssl;\n    proxy_pass pg;\n    ssl_certificate /c.pem;\n}\n',
     ['"ssl_certificate /c.pem" at line 4']),
    ('server {\n    listen 5432;\n    proxy_pass pg;\n}\nserver {\n    listen 5433;\n    proxy_pass pg;\n}\n',
     ['"server" at line 5']),
    ('upstream pg {\n    server 10.0.0.1:5432;\n}\nserver {\n    listen 5432;\n    proxy_pass pg;\n}\n',
     ['"upstream pg" at line 1']),
], ids=['expressed', 'other-directive', 'tls', 'second-server', 'group-in-the-same-file'])
def test_what_a_take_over_of_a_hand_written_stream_proxy_would_drop(text, lost):
    assert _inspect.unexpressed('stream_proxy', 'pg', text) == lost
