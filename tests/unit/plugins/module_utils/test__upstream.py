# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_upstream.py: every rule of a group with its exact message, its payload, its inverse read.

Golden files live in ``golden/upstream_*.conf`` (see conftest.py for updating
them); tests/nginx/test_golden_files_pass_nginx_t.py runs a real ``nginx -t``
over them.  Expected texts are written out here, never rendered by the code
under test.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _inspect, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._nginx import MANAGED_HEADER, is_managed, managed_item
from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Server, Upstream
from ansible_collections.balancer.nginx.tests.unit import nginx_reader

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')
HEADER = MANAGED_HEADER + '\n'

A = {'address': '10.0.0.1:80'}
B = {'address': '10.0.0.2:80'}


def opts(**kw):
    base = {'name': 'app', 'servers': [dict(A), dict(B)]}
    base.update(kw)
    return base


def refused(options, prefix=''):
    with pytest.raises(ModelError) as info:
        Upstream.from_options(options, prefix=prefix)
    return str(info.value)


def render(model):
    """The file the upstream module writes for ``model``."""
    return _render.render_file(model.payload, ('upstream', model.name))


NO_SERVERS = ('servers: is empty: an upstream needs at least one server; add a server, or use state: absent to '
              'remove the group.')
BACKUP_FIX = ('(Nginx rejects it or silently ignores it, depending on the order of the lines); '
              'remove backup from the server, or use method round_robin or least_conn.')

# (id, options, exact message)
RULES = [
    # backup with a method that has no notion of it
    ('backup-ip_hash', opts(method='ip_hash', servers=[A, dict(B, backup=True)]),
     'servers[1].backup: is not allowed with method=ip_hash ' + BACKUP_FIX),
    ('backup-hash', opts(method='hash', hash_key='$request_uri', servers=[dict(A, backup=True), B]),
     'servers[0].backup: is not allowed with method=hash ' + BACKUP_FIX),
    ('backup-random', opts(method='random', random_two=True, servers=[A, dict(B, backup='yes')]),
     'servers[1].backup: is not allowed with method=random ' + BACKUP_FIX),
    # hash
    ('hash-without-key', opts(method='hash'),
     'hash_key: is required with method=hash; set hash_key to the key to hash, e.g. $request_uri or $remote_addr.'),
    ('hash-blank-key', opts(method='hash', hash_key='   '),
     'hash_key: is required with method=hash; set hash_key to the key to hash, e.g. $request_uri or $remote_addr.'),
    ('hash_key-without-hash', opts(hash_key='$remote_addr'),
     "hash_key: '$remote_addr' only applies to method=hash (method is round_robin); "
     'set method: hash, or remove hash_key.'),
    ('hash_key-with-least_conn', opts(method='least_conn', hash_key='$remote_addr'),
     "hash_key: '$remote_addr' only applies to method=hash (method is least_conn); "
     'set method: hash, or remove hash_key.'),
    ('consistent-without-hash', opts(method='least_conn', consistent=True),
     'consistent: only applies to method=hash (method is least_conn); set method: hash, or remove consistent.'),
    ('consistent-round_robin', opts(consistent='true'),
     'consistent: only applies to method=hash (method is round_robin); set method: hash, or remove consistent.'),
    # random
    ('random_two-without-random', opts(random_two=True),
     'random_two: only applies to method=random (method is round_robin); set method: random, or remove random_two.'),
    ('random_two-with-ip_hash', opts(method='ip_hash', random_two=True),
     'random_two: only applies to method=random (method is ip_hash); set method: random, or remove random_two.'),
    # least_time
    ('least_time-bad-mode', opts(method='least_time', least_time='fastest'),
     "least_time: 'fastest' is not a least_time mode; "
     'use one of header, last_byte, header inflight, last_byte inflight.'),
    ('least_time-required', opts(method='least_time'),
     'least_time: is required with method=least_time; set least_time to header or last_byte.'),
    ('least_time-round_robin', opts(least_time='header'),
     "least_time: 'header' only applies to method=least_time or method=random (method is round_robin); "
     'set method: least_time, or remove least_time.'),
    ('least_time-random-without-two', opts(method='random', least_time='last_byte'),
     "least_time: 'last_byte' applies to method=random only with random_two; "
     'set random_two: true, or remove least_time.'),
    ('least_time-random-inflight', opts(method='random', random_two=True, least_time='header inflight'),
     "least_time: 'header inflight' must be header or last_byte with method=random; use header or last_byte."),
    # method
    ('method-unknown', opts(method='fastest'),
     "method: 'fastest' is not a balancing method; "
     'use one of round_robin, least_conn, ip_hash, hash, random, least_time.'),
    ('method-a-list', opts(method=['hash']),
     "method: ['hash'] must be a single value, not a list; give one value."),
    # servers
    ('servers-empty', opts(servers=[]), NO_SERVERS),
    ('servers-missing', {'name': 'app'}, NO_SERVERS),
    ('servers-not-a-list', opts(servers={'address': 'a:80'}),
     "servers: {'address': 'a:80'} must be a list; give a list of {address: host:port} (or of address strings)."),
    ('server-not-a-dict', opts(servers=[A, 42]),
     'servers[1]: 42 must be a dict of server options; write {address: ...}.'),
    ('server-unknown-key', opts(servers=[{'address': 'a:80', 'wieght': 3}]),
     'servers[0]: has unknown option(s) wieght; use only address, weight, max_conns, max_fails, fail_timeout, '
     'slow_start, route, backup, down, drain, resolve.'),
    ('server-without-address', opts(servers=[{'weight': 3}]),
     'servers[0].address: is required; give host:port, [v6]:port or unix:/path.'),
    ('server-address-wiring', opts(servers=[A, {'address': 'http://10.0.0.1:80'}]),
     "servers[1].address: 'http://10.0.0.1:80' is not an address Nginx accepts in an upstream; "
     'give host:port, [v6]:port or unix:/path (no scheme, no path).'),
    # numbers
    ('weight-zero', opts(servers=[dict(A, weight=0)]),
     'servers[0].weight: 0 must be from 1 to 1000000; give a value from 1 to 1000000.'),
    ('weight-too-big', opts(servers=[A, dict(B, weight=1000001)]),
     'servers[1].weight: 1000001 must be from 1 to 1000000; give a value from 1 to 1000000.'),
    ('weight-word', opts(servers=[dict(A, weight='heavy')]),
     "servers[0].weight: 'heavy' must be a whole number; give a number."),
    ('weight-float', opts(servers=[dict(A, weight=1.5)]),
     'servers[0].weight: 1.5 must be a whole number; give a number.'),
    ('weight-bool', opts(servers=[dict(A, weight=True)]),
     'servers[0].weight: true must be a whole number; give a number.'),
    ('max_fails-negative', opts(servers=[dict(A, max_fails=-1)]),
     'servers[0].max_fails: -1 must be at least 0; give a value at least 0.'),
    ('max_conns-negative', opts(servers=[dict(A, max_conns=-5)]),
     'servers[0].max_conns: -5 must be at least 0; give a value at least 0.'),
    ('max_conns-word', opts(servers=[dict(A, max_conns='many')]),
     "servers[0].max_conns: 'many' must be a whole number; give a number."),
    ('keepalive-zero', opts(keepalive=0),
     'keepalive: 0 must be at least 1; give a value at least 1.'),
    ('keepalive_requests-zero', opts(keepalive=8, keepalive_requests=0),
     'keepalive_requests: 0 must be at least 1; give a value at least 1.'),
    ('queue-zero', opts(queue=0),
     'queue: 0 must be at least 1; give a value at least 1.'),
    # times
    ('fail_timeout-unit', opts(servers=[dict(A, fail_timeout='10x')]),
     "servers[0].fail_timeout: '10x' is not an Nginx time; give a value such as 10s, 1m, 500ms or 1m30s."),
    ('fail_timeout-negative', opts(servers=[dict(A, fail_timeout='-1s')]),
     "servers[0].fail_timeout: '-1s' is not an Nginx time; give a value such as 10s, 1m, 500ms or 1m30s."),
    # a time option tells true and false from a time (YAML's true is shown as true, not as Python's 'True')
    ('fail_timeout-bool', opts(servers=[dict(A, fail_timeout=True)]),
     'servers[0].fail_timeout: true must be a time such as 10s; give a number of seconds or 10s, 1m, 500ms.'),
    ('keepalive_timeout-false', opts(keepalive=8, keepalive_timeout=False),
     'keepalive_timeout: false must be a time such as 10s; give a number of seconds or 10s, 1m, 500ms.'),
    ('fail_timeout-space', opts(servers=[dict(A, fail_timeout='1 m')]),
     "servers[0].fail_timeout: '1 m' contains ' ', which Nginx would read as syntax, not as part of a time; "
     'remove it.'),
    ('keepalive_time-word', opts(keepalive=8, keepalive_time='soon'),
     "keepalive_time: 'soon' is not an Nginx time; give a value such as 10s, 1m, 500ms or 1m30s."),
    ('keepalive_timeout-word', opts(keepalive=8, keepalive_timeout='60 s'),
     "keepalive_timeout: '60 s' contains ' ', which Nginx would read as syntax, not as part of a time; remove it."),
    ('slow_start-word', opts(servers=[dict(A, slow_start='later')]),
     "servers[0].slow_start: 'later' is not an Nginx time; give a value such as 10s, 1m, 500ms or 1m30s."),
    ('resolver_timeout-word', opts(resolver=['127.0.0.53'], resolver_timeout='1x'),
     "resolver_timeout: '1x' is not an Nginx time; give a value such as 10s, 1m, 500ms or 1m30s."),
    # booleans
    ('backup-not-bool', opts(servers=[dict(A, backup='maybe')]),
     "servers[0].backup: 'maybe' must be true or false; give true or false."),
    ('down-not-bool', opts(servers=[dict(A, down=2)]),
     'servers[0].down: 2 must be true or false; give true or false.'),
    # zone
    ('zone-three-words', opts(zone='backend 64k extra'),
     "zone: 'backend 64k extra' is not \"NAME\" or \"NAME SIZE\"; give e.g. backend or \"backend 64k\"."),
    ('zone-bad-size', opts(zone='backend 64x'),
     "zone: 'backend 64x' is not \"NAME\" or \"NAME SIZE\"; give e.g. backend or \"backend 64k\"."),
    ('zone-bad-name', opts(zone='-backend'),
     "zone: '-backend' is not \"NAME\" or \"NAME SIZE\"; give e.g. backend or \"backend 64k\"."),
    # resolve
    ('resolve-without-zone', opts(servers=[A, {'address': 'api.internal:8080', 'resolve': True}]),
     'servers[1].resolve: needs the group in a shared memory zone; set zone, e.g. zone: "app 64k".'),
    ('resolve-unix-socket', opts(zone='app 64k', servers=[{'address': 'unix:/run/app.sock', 'resolve': True}]),
     'servers[0].resolve: cannot apply to a unix socket; remove resolve from this server.'),
    # keepalive_* without keepalive
    ('keepalive_requests-without-keepalive', opts(keepalive_requests=100),
     'keepalive_requests: has no effect without keepalive; set keepalive, or remove keepalive_requests.'),
    ('keepalive_time-without-keepalive', opts(keepalive_time='1h'),
     'keepalive_time: has no effect without keepalive; set keepalive, or remove keepalive_time.'),
    ('keepalive_timeout-without-keepalive', opts(keepalive_timeout='60s'),
     'keepalive_timeout: has no effect without keepalive; set keepalive, or remove keepalive_timeout.'),
    # resolver_timeout / queue_timeout
    ('resolver_timeout-without-resolver', opts(resolver_timeout='5s'),
     'resolver_timeout: has no effect without resolver; set resolver, or remove resolver_timeout.'),
    ('resolver_timeout-empty-resolver', opts(resolver=[], resolver_timeout='5s'),
     'resolver_timeout: has no effect without resolver; set resolver, or remove resolver_timeout.'),
    ('queue_timeout-without-queue', opts(queue_timeout='30s'),
     'queue_timeout: has no effect without queue; set queue, or remove queue_timeout.'),
    # sticky
    ('sticky-bad-kind', opts(sticky=['session', 'srv_id']),
     "sticky: ['session', 'srv_id'] must start with cookie, route or learn; give e.g. [cookie, srv_id, "
     "expires=1h]."),
    ('sticky-empty', opts(sticky=[]),
     'sticky: [] must start with cookie, route or learn; give e.g. [cookie, srv_id, expires=1h].'),
    ('sticky-string-bad-kind', opts(sticky='hash $cookie'),
     "sticky: 'hash $cookie' must start with cookie, route or learn; give e.g. [cookie, srv_id, expires=1h]."),
    # route
    ('route-bad', opts(servers=[dict(A, route='a/b')]),
     "servers[0].route: 'a/b' is not a valid route name; use letters, digits, \"_\", \"-\", \".\"."),
    # names
    ('name-missing', {'servers': [A]},
     'name: is required; give a name such as backend_pool.'),
    ('name-empty', opts(name=''),
     'name: is required and must be a non-empty string; give a name such as backend_pool.'),
    ('name-leading-dash', opts(name='-app'),
     "name: '-app' is not a valid name (letters, digits, \"_\", \"-\" and \".\" only, at most 128, "
     "not starting with \"-\" or \".\"); rename it, e.g. backend_pool."),
    ('name-slash', opts(name='a/b'),
     "name: 'a/b' is not a valid name (letters, digits, \"_\", \"-\" and \".\" only, at most 128, "
     "not starting with \"-\" or \".\"); rename it, e.g. backend_pool."),
    ('name-too-long', opts(name='a' * 129),
     "name: '%s' is not a valid name (letters, digits, \"_\", \"-\" and \".\" only, at most 128, "
     "not starting with \"-\" or \".\"); rename it, e.g. backend_pool." % ('a' * 129)),
    ('name-space', opts(name='my app'),
     "name: 'my app' contains ' ', which Nginx would read as syntax, not as part of a name; remove it."),
    # the options themselves
    ('not-a-dict', ['app'],
     "options: ['app'] must be a dict of upstream options; write {name: ...}."),
    ('unknown-option', opts(bogus=1, conf_dir='/x'),
     'options: has unknown option(s) bogus, conf_dir; use only name, state, context, method, hash_key, consistent, '
     'random_two, least_time, servers, keepalive, keepalive_requests, keepalive_time, keepalive_timeout, zone, '
     'resolver, resolver_timeout, sticky, ntlm, queue, queue_timeout.'),
    ('state-unknown', opts(state='gone'),
     "state: 'gone' is not a state; use one of present, absent."),
]


@pytest.mark.parametrize('options, message', [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule(options, message):
    assert refused(options) == message


def test_a_name_that_is_no_string_is_refused_where_items_are_described():
    # The item (upstream module or site) checks the name as given, before the table makes it a string.
    with pytest.raises(ModelError) as info:
        _engine.describe('/etc/nginx/conf.d', upstreams=[opts(name=42)])
    assert str(info.value) == (
        'upstreams[0].name: is required and must be a non-empty string; give a name such as backend_pool.')


def test_prefix_prepends_to_every_option_path():
    assert refused(opts(method='ip_hash', servers=[A, dict(B, backup=True)]), prefix='upstreams[2].') == (
        'upstreams[2].servers[1].backup: is not allowed with method=ip_hash ' + BACKUP_FIX)
    assert refused(opts(keepalive_time='1h'), prefix='upstreams[0].') == (
        'upstreams[0].keepalive_time: has no effect without keepalive; set keepalive, or remove keepalive_time.')
    assert refused(opts(name='-x'), prefix='u.') == (
        "u.name: '-x' is not a valid name (letters, digits, \"_\", \"-\" and \".\" only, at most 128, not starting "
        "with \"-\" or \".\"); rename it, e.g. backend_pool.")
    assert refused(opts(bogus=1), prefix='upstreams[4].') == (
        'upstreams[4]: has unknown option(s) bogus; use only name, state, context, method, hash_key, consistent, '
        'random_two, least_time, servers, keepalive, keepalive_requests, keepalive_time, keepalive_timeout, zone, '
        'resolver, resolver_timeout, sticky, ntlm, queue, queue_timeout.')


def test_a_scalar_for_a_list_of_words_is_a_one_word_list():
    # Every other list option takes a scalar as a one-item list (as Ansible's type=list does); a number given
    # for resolver or sticky must not escape validation as a TypeError.
    assert Upstream.from_options(opts(resolver=5)).values['resolver'] == ['5']
    assert refused(opts(sticky=5)) == (
        'sticky: 5 must start with cookie, route or learn; give e.g. [cookie, srv_id, expires=1h].')


# -- the stream context ------------------------------------------------------

def stream(**kw):
    return opts(context='stream', **kw)


HTTP_ONLY = ' does not exist in the stream context; remove it (it is for the http context).'
# DESIGN: a stream group takes the methods round_robin, least_conn, hash and random
STREAM_METHODS = 'use one of round_robin, least_conn, hash, random.'


@pytest.mark.parametrize('options, message', [
    (stream(method='ip_hash'), "method: 'ip_hash' does not exist in the stream context; " + STREAM_METHODS),
    (stream(keepalive=8), 'keepalive:' + HTTP_ONLY),
    (stream(keepalive=8, keepalive_requests=100), 'keepalive:' + HTTP_ONLY),
    (stream(keepalive_requests=100), 'keepalive_requests:' + HTTP_ONLY),
    (stream(keepalive_time='1h'), 'keepalive_time:' + HTTP_ONLY),
    (stream(keepalive_timeout='60s'), 'keepalive_timeout:' + HTTP_ONLY),
    (stream(sticky=['cookie', 'srv_id']), 'sticky:' + HTTP_ONLY),
    (stream(ntlm=True), 'ntlm:' + HTTP_ONLY),
    (stream(queue=10), 'queue:' + HTTP_ONLY),
    (stream(queue_timeout='30s'), 'queue_timeout:' + HTTP_ONLY),
    (stream(servers=[dict(A, route='r1')]), 'servers[0].route:' + HTTP_ONLY),
    (stream(servers=[A, dict(B, drain=True)]), 'servers[1].drain:' + HTTP_ONLY),
    (opts(context='udp'), "context: 'udp' is not a context; use one of http, stream."),
], ids=['ip_hash', 'keepalive', 'keepalive-with-requests', 'keepalive_requests', 'keepalive_time',
        'keepalive_timeout', 'sticky', 'ntlm', 'queue', 'queue_timeout', 'route', 'drain', 'unknown-context'])
def test_refused_in_the_stream_context(options, message):
    assert refused(options) == message
    # and with the prefix of a site item
    assert refused(options, prefix='upstreams[3].') == 'upstreams[3].' + message


@pytest.mark.parametrize('options, message', [
    # Nginx's stream upstream has no least_time (open source), and NGINX Plus's takes connect, first_byte and
    # last_byte there, not header: DESIGN and the module's documentation give a stream group four methods.
    (stream(method='least_time', least_time='header'),
     "method: 'least_time' does not exist in the stream context; " + STREAM_METHODS),
    (stream(method='random', random_two=True, least_time='header'), 'least_time:' + HTTP_ONLY),
], ids=['method-least_time', 'random-least_time'])
def test_least_time_refused_in_the_stream_context(options, message):
    assert refused(options) == message


def test_the_methods_of_a_stream_group():
    for method, extra, line in (('round_robin', {}, None), ('least_conn', {}, 'least_conn;'),
                                ('hash', {'hash_key': '$remote_addr', 'consistent': True},
                                 'hash $remote_addr consistent;'),
                                ('random', {'random_two': True}, 'random two;')):
        model = Upstream.from_options(stream(method=method, **extra))
        lines = render(model).split('\n')
        assert model.context == 'stream'
        assert lines[3] == ('    ' + line if line else '    server 10.0.0.1:80;'), method


def test_false_and_unset_http_only_options_are_no_use_of_them():
    # what Ansible hands over for options not given (None, or a flag at its default) is not a use
    model = Upstream.from_options(stream(ntlm=False, keepalive=None, sticky=None, queue=None,
                                         servers=[dict(A, drain=False, route=None)]))
    assert model.context == 'stream'


def test_the_http_context_is_the_default():
    assert Upstream.from_options(opts()).context == 'http'
    assert Upstream.from_options(opts(context=None)).context == 'http'
    assert Upstream.from_options(opts(context='http', keepalive=8)).values['keepalive'] == 8


STREAM_OPTIONS = {
    'name': 'pg', 'context': 'stream', 'method': 'least_conn', 'zone': 'pg 64k',
    'servers': [{'address': '10.0.0.31:5432', 'weight': 2, 'max_fails': 2, 'fail_timeout': '10s'},
                {'address': '10.0.0.32:5432', 'max_conns': 100},
                {'address': '10.0.0.33:5432', 'backup': True},
                {'address': 'unix:/run/pg.sock', 'down': True}],
}
# every line of it is open source Nginx's stream upstream (1.11.5: max_conns), so that it passes nginx -t
STREAM_TEXT = (HEADER
               + '# balancer.nginx item: upstream pg\n'
               'upstream pg {\n'
               '    zone pg 64k;\n'
               '    least_conn;\n'
               '    server 10.0.0.31:5432 weight=2 max_fails=2 fail_timeout=10s;\n'
               '    server 10.0.0.32:5432 max_conns=100;\n'
               '    server 10.0.0.33:5432 backup;\n'
               '    server unix:/run/pg.sock down;\n'
               '}\n')


def test_stream_group():
    model = Upstream.from_options(STREAM_OPTIONS)
    assert model.context == 'stream'
    assert render(model) == STREAM_TEXT
    assert model.to_options() == {
        'name': 'pg', 'context': 'stream', 'method': 'least_conn', 'consistent': False, 'random_two': False,
        'zone': 'pg 64k', 'ntlm': False,
        'servers': [{'address': '10.0.0.31:5432', 'weight': 2, 'max_fails': 2, 'fail_timeout': '10s',
                     'backup': False, 'down': False, 'drain': False, 'resolve': False},
                    {'address': '10.0.0.32:5432', 'max_conns': 100, 'backup': False, 'down': False, 'drain': False,
                     'resolve': False},
                    {'address': '10.0.0.33:5432', 'backup': True, 'down': False, 'drain': False, 'resolve': False},
                    {'address': 'unix:/run/pg.sock', 'backup': False, 'down': True, 'drain': False,
                     'resolve': False}]}


def test_re_resolving_exists_in_the_stream_context():
    model = Upstream.from_options(stream(zone='app 64k', resolver=['10.0.0.2', 'valid=30s'], resolver_timeout='5s',
                                         servers=[{'address': 'db.internal:5432', 'resolve': True}]))
    assert render(model) == (HEADER + '# balancer.nginx item: upstream app\n'
                             'upstream app {\n'
                             '    zone app 64k;\n'
                             '    resolver 10.0.0.2 valid=30s;\n'
                             '    resolver_timeout 5s;\n'
                             '    server db.internal:5432 resolve;\n'
                             '}\n')
    # and it is gated by the version as in the http context
    assert model.features() == [('resolve', 'servers[0].resolve'), ('zone', 'zone'), ('resolver', 'resolver'),
                                ('resolver_timeout', 'resolver_timeout')]


def test_stream_group_golden(golden):
    golden('upstream_stream', render(Upstream.from_options(STREAM_OPTIONS)))


def test_stream_group_reads_back_with_its_context():
    parsed = _inspect.parse_text(STREAM_TEXT)
    options, unknown = Upstream.read('pg', parsed[0]['block'], 'stream')
    assert unknown == []
    assert options == Upstream.from_options(STREAM_OPTIONS).to_options()
    assert options['context'] == 'stream'
    # read back and passed to the module again, it is the same group in the same context
    assert Upstream.from_options(options) == Upstream.from_options(STREAM_OPTIONS)
    # the same block read as an http group says so
    assert Upstream.read('pg', parsed[0]['block'])[0]['context'] == 'http'


def test_a_stream_group_that_nginx_holds_with_http_only_directives_reads_them_back_for_the_model_to_refuse():
    # a hand-written stream group with keepalive (which Nginx's stream upstream lacks): read as written, and the
    # options passed back to the module are refused naming it
    text = 'upstream pg {\n    server a:5432;\n    keepalive 8;\n}\n'
    options, unknown = Upstream.read('pg', _inspect.parse_text(text)[0]['block'], 'stream')
    assert (options['keepalive'], unknown) == (8, [])
    assert refused(options) == 'keepalive:' + HTTP_ONLY


# -- backup whatever the order of the keys -----------------------------------

@pytest.mark.parametrize('method, extra', [
    ('ip_hash', {}),
    ('hash', {'hash_key': '$remote_addr'}),
    ('random', {}),
    ('random', {'random_two': True}),
])
@pytest.mark.parametrize('order', ['method-first', 'servers-first', 'backup-before-address'])
def test_backup_refused_whatever_the_order(method, extra, order):
    backup_server = {'address': 'b:80', 'backup': True}
    if order == 'backup-before-address':
        backup_server = {'backup': True, 'address': 'b:80'}
    if order == 'servers-first':
        options = {'servers': [{'address': 'a:80'}, backup_server], 'name': 'app'}
        options.update(extra)
        options['method'] = method
    else:
        options = {'name': 'app', 'method': method}
        options.update(extra)
        options['servers'] = [{'address': 'a:80'}, backup_server]
    assert refused(options) == 'servers[1].backup: is not allowed with method=%s %s' % (method, BACKUP_FIX)


@pytest.mark.parametrize('method', ['round_robin', 'least_conn'])
def test_backup_allowed_with_round_robin_and_least_conn(method):
    model = Upstream.from_options(opts(method=method, servers=[A, dict(B, backup=True)]))
    assert [s.values['backup'] for s in model.servers] == [False, True]


# -- servers ------------------------------------------------------------------

def test_server_given_as_a_string_is_its_address():
    model = Upstream.from_options(opts(servers=['10.0.0.9:80']))
    assert model.servers[0].to_options() == {'address': '10.0.0.9:80', 'backup': False, 'down': False,
                                             'drain': False, 'resolve': False}
    assert model.servers[0].address == '10.0.0.9:80'


@pytest.mark.parametrize('value', ['10', '30s', '500ms', '1m30s', '1h', '2d', 10])
def test_server_times_are_kept_as_strings(value):
    model = Upstream.from_options(opts(servers=[dict(A, fail_timeout=value)]))
    assert model.servers[0].values['fail_timeout'] == str(value)


# -- injection ----------------------------------------------------------------

INJECTION_CHARS = [';', '{', '}', '\n', '"', "'", '#', '\\']
CHAR_IDS = ['semicolon', 'open-brace', 'close-brace', 'newline', 'double-quote', 'single-quote', 'hash',
            'backslash']


def _injection_case(field, char):
    """(options, option path in the message, refused value, what) for one field."""
    if field == 'address':
        value = '10.0.0.1' + char + ':80'
        return opts(servers=[{'address': value}]), 'servers[0].address', value, 'an address'
    if field == 'name':
        value = 'app' + char + 'x'
        return opts(name=value), 'name', value, 'a name'
    if field == 'zone':
        value = 'backend' + char + '64k'
        return opts(zone=value), 'zone', value, 'a zone'
    if field == 'resolver':
        value = '127.0.0.53' + char + 'x'
        return opts(resolver=['10.0.0.2', value]), 'resolver[1]', value, 'a resolver address'
    if field == 'sticky':
        value = 'srv_id' + char + 'x'
        return opts(sticky=['cookie', value]), 'sticky[1]', value, 'a sticky argument'
    if field == 'route':
        value = 'a' + char + 'b'
        return opts(servers=[A, dict(B, route=value)]), 'servers[1].route', value, 'a route'
    raise AssertionError(field)


@pytest.mark.parametrize('char', INJECTION_CHARS, ids=CHAR_IDS)
@pytest.mark.parametrize('field', ['address', 'name', 'zone', 'resolver', 'sticky', 'route'])
def test_injection_refused(field, char):
    options, option, value, what = _injection_case(field, char)
    expected = '%s: %r contains %r, which Nginx would read as syntax, not as part of %s; remove it.' % (
        option, value, char, what)
    with pytest.raises(ModelError) as info:
        model = Upstream.from_options(options)
        # Should it get here, show what would have reached the file.
        pytest.fail('accepted and rendered as:\n' + render(model))
    assert str(info.value) == expected
    assert info.value.option == option
    assert info.value.value == value


def test_injection_message_literally():
    # the table above builds messages with %r; one literal check of the shape
    assert refused(opts(servers=[{'address': '10.0.0.1:80;\nserver evil:80'}])) == (
        "servers[0].address: '10.0.0.1:80;\\nserver evil:80' contains ';', which Nginx would read as syntax, "
        'not as part of an address; remove it.')
    assert refused(opts(zone='app}')) == (
        "zone: 'app}' contains '}', which Nginx would read as syntax, not as part of a zone; remove it.")


@pytest.mark.parametrize('char', [c for c in INJECTION_CHARS if c != '\n'],
                         ids=[i for c, i in zip(INJECTION_CHARS, CHAR_IDS) if c != '\n'])
def test_hash_key_is_free_text_that_nginx_reads_literally(char):
    # A hash key is quoted and escaped by the renderer: syntax characters stay part of the key.
    value = '$request_uri' + char + 'x'
    text = render(Upstream.from_options(opts(method='hash', hash_key=value)))
    assert nginx_reader.statements(text, 'hash') == [[value]]


def test_hash_key_line_break_refused():
    assert refused(opts(method='hash', hash_key='$uri\nx')) == (
        "hash_key: '$uri\\nx' contains a line break (U+000A (LF)), which Nginx would pass on into requests and log "
        "lines; remove it.")


def test_hash_key_may_hold_spaces():
    model = Upstream.from_options(opts(method='hash', hash_key='$host $request_uri'))
    assert model.values['hash_key'] == '$host $request_uri'


# -- accepted models and their normalized options ----------------------------

def test_defaults_and_normalization():
    model = Upstream.from_options({'name': 'app', 'state': 'present', 'servers': [
        {'address': '10.0.0.1:80', 'weight': '3', 'fail_timeout': 10, 'backup': 'yes'}],
        'keepalive': '16', 'zone': '  app   64k ', 'resolver': '10.0.0.2 valid=30s', 'sticky': 'cookie srv_id'})
    # unset (None) values are left out, so that the dict can be passed back to the module as is
    assert model.to_options() == {
        'name': 'app', 'context': 'http', 'method': 'round_robin', 'consistent': False, 'random_two': False,
        'servers': [{'address': '10.0.0.1:80', 'weight': 3, 'fail_timeout': '10', 'backup': True, 'down': False,
                     'drain': False, 'resolve': False}],
        'keepalive': 16, 'zone': 'app 64k', 'resolver': ['10.0.0.2', 'valid=30s'], 'sticky': ['cookie', 'srv_id'],
        'ntlm': False}


def test_explicit_nulls_are_unset():
    # what Ansible hands over for options not given: every key present, None when unset
    names = ('name', 'state', 'context', 'method', 'hash_key', 'consistent', 'random_two', 'least_time', 'servers', 'keepalive',
             'keepalive_requests', 'keepalive_time', 'keepalive_timeout', 'zone', 'resolver', 'resolver_timeout',
             'sticky', 'ntlm', 'queue', 'queue_timeout')
    server_names = ('address', 'weight', 'max_conns', 'max_fails', 'fail_timeout', 'slow_start', 'route', 'backup',
                    'down', 'drain', 'resolve')
    options = dict((key, None) for key in names)
    options.update(name='app', servers=[dict((key, None) for key in server_names)])
    options['servers'][0]['address'] = '10.0.0.1:80'
    model = Upstream.from_options(options)
    assert model.servers == [Server({'address': '10.0.0.1:80', 'weight': None, 'max_conns': None, 'max_fails': None,
                                     'fail_timeout': None, 'slow_start': None, 'route': None, 'backup': False,
                                     'down': False, 'drain': False, 'resolve': False})]
    assert model.to_options() == {
        'name': 'app', 'context': 'http', 'method': 'round_robin', 'consistent': False, 'random_two': False,
        'ntlm': False, 'servers': [{'address': '10.0.0.1:80', 'backup': False, 'down': False, 'drain': False,
                                    'resolve': False}]}


def test_absent_needs_no_servers():
    model = Upstream.from_options({'name': 'app', 'state': 'absent'})
    assert model.servers == []


FULL = opts(
    method='least_time', least_time='last_byte inflight',
    servers=[dict(A, weight=5, max_fails=3, fail_timeout='10s', max_conns=100, slow_start='30s', route='a'),
             dict(B, backup=True, down=True, drain=True),
             {'address': 'api.internal:8080', 'resolve': True}],
    keepalive=32, keepalive_requests=1000, keepalive_time='1h', keepalive_timeout='60s', zone='app 64k',
    resolver=['10.0.0.2', 'valid=30s'], resolver_timeout='5s', sticky=['route', '$route_cookie'], ntlm=True,
    queue=10, queue_timeout='30s')
FULL_OPTIONS = {
    'name': 'app', 'context': 'http', 'method': 'least_time', 'consistent': False, 'random_two': False,
    'least_time': 'last_byte inflight',
    'servers': [{'address': '10.0.0.1:80', 'weight': 5, 'max_conns': 100, 'max_fails': 3, 'fail_timeout': '10s',
                 'slow_start': '30s', 'route': 'a', 'backup': False, 'down': False, 'drain': False, 'resolve': False},
                {'address': '10.0.0.2:80', 'backup': True, 'down': True, 'drain': True, 'resolve': False},
                {'address': 'api.internal:8080', 'backup': False, 'down': False, 'drain': False, 'resolve': True}],
    'keepalive': 32, 'keepalive_requests': 1000, 'keepalive_time': '1h', 'keepalive_timeout': '60s',
    'zone': 'app 64k', 'resolver': ['10.0.0.2', 'valid=30s'], 'resolver_timeout': '5s',
    'sticky': ['route', '$route_cookie'], 'ntlm': True, 'queue': 10, 'queue_timeout': '30s'}
FULL_TEXT = (HEADER
             + '# balancer.nginx item: upstream app\n'
             'upstream app {\n'
             '    zone app 64k;\n'
             '    resolver 10.0.0.2 valid=30s;\n'
             '    resolver_timeout 5s;\n'
             '    least_time last_byte inflight;\n'
             '    sticky route $route_cookie;\n'
             '    server 10.0.0.1:80 weight=5 max_conns=100 max_fails=3 fail_timeout=10s slow_start=30s route=a;\n'
             '    server 10.0.0.2:80 backup down drain;\n'
             '    server api.internal:8080 resolve;\n'
             '    keepalive 32;\n'
             '    keepalive_requests 1000;\n'
             '    keepalive_time 1h;\n'
             '    keepalive_timeout 60s;\n'
             '    ntlm;\n'
             '    queue 10 timeout=30s;\n'
             '}\n')


def test_every_option_of_a_full_group():
    model = Upstream.from_options(FULL)
    assert model.to_options() == FULL_OPTIONS
    assert render(model) == FULL_TEXT


def test_from_options_of_to_options_is_the_same_model():
    model = Upstream.from_options(FULL)
    again = Upstream.from_options(model.to_options())
    assert again == model
    assert again.to_options() == FULL_OPTIONS


def test_to_options_copies_lists():
    model = Upstream.from_options(FULL)
    options = model.to_options()
    options['resolver'].append('x')
    options['sticky'].append('x')
    options['servers'][0]['weight'] = 1
    assert model.to_options() == FULL_OPTIONS


def test_features_lists_every_gated_option_with_its_path():
    # in option order: the method, the servers (where the servers option is declared), then the group directives
    model = Upstream.from_options(FULL)
    assert model.features() == [
        ('least_time', 'method'),
        ('max_conns', 'servers[0].max_conns'), ('slow_start', 'servers[0].slow_start'),
        ('route', 'servers[0].route'),
        ('drain', 'servers[1].drain'),
        ('resolve', 'servers[2].resolve'),
        ('keepalive_requests', 'keepalive_requests'), ('keepalive_time', 'keepalive_time'),
        ('keepalive_timeout', 'keepalive_timeout'), ('zone', 'zone'), ('resolver', 'resolver'),
        ('resolver_timeout', 'resolver_timeout'), ('sticky', 'sticky'), ('ntlm', 'ntlm'), ('queue', 'queue'),
    ]
    assert Upstream.from_options(opts(method='random', random_two=True, least_time='header')).features(
        'upstreams[1].') == [('random', 'upstreams[1].method'), ('random_least_time', 'upstreams[1].least_time')]


def test_plain_group_uses_no_gated_feature():
    assert Upstream.from_options(opts(method='least_conn', keepalive=8)).features() == []
    assert Upstream.from_options(opts(method='least_conn', keepalive=8)).values['keepalive'] == 8
    assert Upstream.from_options(opts()).values['keepalive'] is None


# --------------------------------------------------------------------------
# the payload: golden files, byte stability, order
# --------------------------------------------------------------------------

# golden file name (without upstream_ and .conf) -> upstream module options
CASES = {
    'round_robin_weights': {
        'name': 'app',
        'servers': [{'address': '10.0.0.11:8080', 'weight': 3}, {'address': '10.0.0.12:8080', 'weight': 2},
                    {'address': '10.0.0.13:8080'}],
    },
    'least_conn': {
        'name': 'api', 'method': 'least_conn',
        'servers': [{'address': 'api1.internal:9000'}, {'address': 'api2.internal:9000'}],
        'keepalive': 16,
    },
    'ip_hash': {
        'name': 'sessions', 'method': 'ip_hash',
        'servers': [{'address': '10.0.1.1:80'}, {'address': '10.0.1.2:80', 'down': True}],
    },
    'hash_consistent': {
        'name': 'cache', 'method': 'hash', 'hash_key': '$request_uri', 'consistent': True,
        'servers': [{'address': '10.0.2.1:80'}, {'address': '10.0.2.2:80'}, {'address': '10.0.2.3:80'}],
    },
    'random_two': {
        'name': 'pool', 'method': 'random', 'random_two': True,
        'servers': [{'address': '10.0.3.1:80'}, {'address': '10.0.3.2:80'}, {'address': '10.0.3.3:80'}],
    },
    'keepalive': {
        'name': 'kept', 'method': 'least_conn',
        'servers': [{'address': '127.0.0.1:8081'}, {'address': '127.0.0.1:8082'}],
        'keepalive': 32, 'keepalive_requests': 1000, 'keepalive_time': '1h', 'keepalive_timeout': '60s',
    },
    'server_parameters': {
        'name': 'params',
        'servers': [
            {'address': '10.0.4.1:80', 'weight': 5, 'max_fails': 3, 'fail_timeout': '10s', 'max_conns': 100},
            {'address': '10.0.4.2:80', 'max_fails': 0},
            {'address': '10.0.4.3:80', 'down': True},
            {'address': '10.0.4.4:80', 'backup': True, 'fail_timeout': '1m30s'},
        ],
    },
    'zone_resolve_resolver': {
        'name': 'dynamic', 'zone': 'dynamic 64k', 'resolver': ['10.0.0.2', 'valid=30s', 'ipv6=off'],
        'resolver_timeout': '5s',
        'servers': [{'address': 'app.service.internal:8080', 'resolve': True, 'max_fails': 2},
                    {'address': '10.0.5.2:8080'}],
    },
    'unix_and_v6': {
        'name': 'local',
        'servers': [{'address': 'unix:/run/app.sock', 'weight': 2}, {'address': '[2001:db8::10]:8080'},
                    {'address': '[::1]:8080', 'backup': True}],
    },
    'plus_features': {
        'name': 'plus', 'method': 'least_time', 'least_time': 'last_byte inflight', 'zone': 'plus',
        'sticky': ['cookie', 'srv_id', 'expires=1h', 'path=/'],
        'servers': [{'address': '10.0.6.1:80', 'slow_start': '30s', 'route': 'a'},
                    {'address': '10.0.6.2:80', 'route': 'b', 'drain': True}],
        'keepalive': 8, 'ntlm': True, 'queue': 100, 'queue_timeout': '70s',
    },
    'random_two_least_time': {
        'name': 'rnd', 'method': 'random', 'random_two': True, 'least_time': 'last_byte',
        'servers': [{'address': '10.0.7.1:80'}, {'address': '10.0.7.2:80'}],
    },
}


def model(case):
    return Upstream.from_options(CASES[case])


@pytest.mark.parametrize('case', sorted(CASES))
def test_golden(case, golden):
    golden('upstream_' + case, render(model(case)))


def test_every_golden_file_has_a_case():
    names = [f for f in os.listdir(GOLDEN) if f.startswith('upstream_') and f.endswith('.conf')]
    # the http cases, and the stream group (test_stream_group_golden)
    assert sorted(f[len('upstream_'):-len('.conf')] for f in names) == sorted(list(CASES) + ['stream'])


def test_golden_literal_round_robin():
    # one golden file spelled out here, so that a reader sees the format without opening golden/
    assert render(model('round_robin_weights')) == (
        '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.\n'
        '# balancer.nginx item: upstream app\n'
        'upstream app {\n'
        '    server 10.0.0.11:8080 weight=3;\n'
        '    server 10.0.0.12:8080 weight=2;\n'
        '    server 10.0.0.13:8080;\n'
        '}\n')


@pytest.mark.parametrize('case', sorted(CASES))
def test_byte_stable(case):
    first = render(model(case))
    second = render(model(case))
    third = render(Upstream.from_options(model(case).to_options()))
    assert first.encode('utf-8') == second.encode('utf-8') == third.encode('utf-8')


@pytest.mark.parametrize('case', sorted(CASES))
def test_header_line_first_and_one_final_newline(case):
    text = render(model(case))
    assert text.split('\n', 1)[0] == MANAGED_HEADER
    assert text.split('\n')[1] == '# balancer.nginx item: upstream ' + CASES[case]['name']
    assert managed_item(text) == ('upstream', CASES[case]['name'])
    assert is_managed(text)
    assert is_managed(text.encode('utf-8'))
    assert text.endswith('}\n') and not text.endswith('\n\n')
    assert '\t' not in text


@pytest.mark.parametrize('case', sorted(CASES))
def test_payload_parses_back_to_itself(case):
    upstream = model(case)
    payload = _render.file_payload([upstream.payload], ('upstream', CASES[case]['name']))
    text = _render.build(payload)
    assert text == render(upstream)
    assert _inspect.check_roundtrip(text, payload) is None
    assert _render.strip_lines(_inspect.parse_text(text)) == _render.strip_lines(payload)


@pytest.mark.parametrize('case', sorted(CASES))
def test_line_numbers_increase(case):
    upstream = model(case)
    payload = _render.file_payload([upstream.payload], ('upstream', upstream.name))
    assert [s['directive'] for s in payload] == ['#', '#', 'upstream']
    numbers = [payload[0]['line'], payload[1]['line'], payload[2]['line']] + [s['line'] for s in payload[2]['block']]
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(isinstance(a, str) for s in payload[2]['block'] for a in s['args'])


METHOD_DIRECTIVES = ('least_conn', 'ip_hash', 'hash', 'random', 'least_time')


@pytest.mark.parametrize('case', sorted(CASES))
def test_method_before_servers_and_keepalive_after_method(case):
    upstream = model(case)
    directives = [s['directive'] for s in _inspect.parse_text(render(upstream))[0]['block']]
    servers = [i for i, d in enumerate(directives) if d == 'server']
    assert len(servers) == len(upstream.servers)
    methods = [i for i, d in enumerate(directives) if d in METHOD_DIRECTIVES]
    if upstream.method == 'round_robin':
        assert methods == []
    else:
        assert len(methods) == 1
        assert methods[0] < min(servers)
        if 'keepalive' in directives:
            assert methods[0] < directives.index('keepalive')
    if 'keepalive' in directives:
        assert directives.index('keepalive') > max(servers)
        for key in ('keepalive_requests', 'keepalive_time', 'keepalive_timeout'):
            if key in directives:
                assert directives.index(key) > directives.index('keepalive')


@pytest.mark.parametrize('options, line', [
    ({'method': 'least_conn'}, 'least_conn;'),
    ({'method': 'ip_hash'}, 'ip_hash;'),
    ({'method': 'hash', 'hash_key': '$remote_addr'}, 'hash $remote_addr;'),
    ({'method': 'hash', 'hash_key': '$remote_addr', 'consistent': True}, 'hash $remote_addr consistent;'),
    ({'method': 'hash', 'hash_key': '$host $request_uri'}, "hash '$host $request_uri';"),
    ({'method': 'hash', 'hash_key': '${host}'}, 'hash $host;'),
    ({'method': 'random'}, 'random;'),
    ({'method': 'random', 'random_two': True}, 'random two;'),
    ({'method': 'random', 'random_two': True, 'least_time': 'header'}, 'random two least_time=header;'),
    ({'method': 'least_time', 'least_time': 'header'}, 'least_time header;'),
    ({'method': 'least_time', 'least_time': 'header inflight'}, 'least_time header inflight;'),
])
def test_method_lines(options, line):
    opts_ = {'name': 'g', 'servers': [{'address': 'a:80'}]}
    opts_.update(options)
    upstream = Upstream.from_options(opts_)
    text = render(upstream)
    assert text.split('\n')[:3] == [MANAGED_HEADER, '# balancer.nginx item: upstream g', 'upstream g {']
    assert text.split('\n')[3] == '    ' + line


@pytest.mark.parametrize('server, line', [
    ({'address': 'a:80'}, 'server a:80;'),
    ({'address': 'a:80', 'weight': 2, 'max_conns': 5, 'max_fails': 1, 'fail_timeout': '5s', 'slow_start': '1m',
      'route': 'r1', 'backup': True, 'down': True, 'drain': True, 'resolve': True},
     'server a:80 weight=2 max_conns=5 max_fails=1 fail_timeout=5s slow_start=1m route=r1 backup down drain '
     'resolve;'),
    ({'address': 'unix:/run/a.sock', 'max_fails': 0}, 'server unix:/run/a.sock max_fails=0;'),
    ({'address': '[::1]:80', 'fail_timeout': 10}, 'server [::1]:80 fail_timeout=10;'),
])
def test_server_lines(server, line):
    upstream = Upstream.from_options({'name': 'g', 'zone': 'g', 'servers': [server]})
    assert upstream.servers[0].args() == line[len('server '):-1].split(' ')
    assert '    ' + line in render(upstream).split('\n')


# --------------------------------------------------------------------------
# the inverse read
# --------------------------------------------------------------------------

def read_text(name, text):
    return Upstream.read(name, _inspect.parse_text(text)[0]['block'])


@pytest.mark.parametrize('case', sorted(CASES))
def test_round_trip(case):
    upstream = model(case)
    text = render(upstream)
    parsed = _inspect.parse_text(text)
    assert [s['directive'] for s in parsed] == ['upstream']
    assert parsed[0]['args'] == [upstream.name]
    options, unknown = Upstream.read(upstream.name, parsed[0]['block'])
    assert unknown == []
    assert options == upstream.to_options()
    assert Upstream.from_options(options) == upstream


def test_read_of_the_full_group():
    assert read_text('app', FULL_TEXT) == (FULL_OPTIONS, [])


@pytest.mark.parametrize('line, options', [
    ('least_conn;', {'method': 'least_conn'}),
    ('ip_hash;', {'method': 'ip_hash'}),
    ('hash $remote_addr;', {'method': 'hash', 'hash_key': '$remote_addr', 'consistent': False}),
    ('hash $remote_addr consistent;', {'method': 'hash', 'hash_key': '$remote_addr', 'consistent': True}),
    ("hash '$host $request_uri';", {'method': 'hash', 'hash_key': '$host $request_uri', 'consistent': False}),
    ('random;', {'method': 'random'}),
    ('random two;', {'method': 'random', 'random_two': True}),
    ('random two least_time=header;', {'method': 'random', 'random_two': True, 'least_time': 'header'}),
    ('random two least_time=last_byte_inflight;',
     {'method': 'random', 'random_two': True, 'least_time': 'last_byte inflight'}),
    ('least_time header;', {'method': 'least_time', 'least_time': 'header'}),
    ('least_time header inflight;', {'method': 'least_time', 'least_time': 'header inflight'}),
])
def test_read_method_lines(line, options):
    expected = {'name': 'g', 'context': 'http', 'method': 'round_robin', 'consistent': False, 'random_two': False,
                'ntlm': False,
                'servers': [{'address': 'a:80', 'backup': False, 'down': False, 'drain': False, 'resolve': False}]}
    expected.update(options)
    assert read_text('g', 'upstream g {\n    %s\n    server a:80;\n}\n' % line) == (expected, [])


def test_options_from_hand_written_block():
    text = (
        'upstream legacy {\n'
        '    # a comment\n'
        '    server 10.0.0.1:80 weight=2 max_fails=3 fail_timeout=10s;\n'
        '    server 10.0.0.2:80 backup;\n'
        '    server 10.0.0.3:80 unknown_param=1;\n'
        '    keepalive 8;\n'
        '    health_check interval=5;\n'
        '    queue 10 timeout=30s;\n'
        '}\n')
    options, unknown = read_text('legacy', text)
    assert unknown == [{'directive': 'server', 'args': ['10.0.0.3:80', 'unknown_param=1'], 'line': 5},
                       {'directive': 'health_check', 'args': ['interval=5'], 'line': 7}]
    assert options == {
        'name': 'legacy', 'context': 'http', 'method': 'round_robin', 'consistent': False, 'random_two': False, 'ntlm': False,
        'keepalive': 8, 'queue': 10, 'queue_timeout': '30s',
        'servers': [
            {'address': '10.0.0.1:80', 'weight': 2, 'max_fails': 3, 'fail_timeout': '10s',
             'backup': False, 'down': False, 'resolve': False, 'drain': False},
            {'address': '10.0.0.2:80', 'backup': True, 'down': False, 'resolve': False, 'drain': False},
            {'address': '10.0.0.3:80', 'backup': False, 'down': False, 'resolve': False, 'drain': False},
        ]}


@pytest.mark.parametrize('line, unknown', [
    # what the options cannot express comes back, never silently dropped
    ('keepalive many;', {'directive': 'keepalive', 'args': ['many'], 'line': 3}),
    ('keepalive 8 16;', {'directive': 'keepalive', 'args': ['8', '16'], 'line': 3}),
    ('ntlm on;', {'directive': 'ntlm', 'args': ['on'], 'line': 3}),
    ('ip_hash x;', {'directive': 'ip_hash', 'args': ['x'], 'line': 3}),
    ('hash;', {'directive': 'hash', 'args': [], 'line': 3}),
    ('hash $a $b;', {'directive': 'hash', 'args': ['$a', '$b'], 'line': 3}),
    ('random three;', {'directive': 'random', 'args': ['three'], 'line': 3}),
    ('least_time;', {'directive': 'least_time', 'args': [], 'line': 3}),
    ('queue 10 limit=5;', {'directive': 'queue', 'args': ['10', 'limit=5'], 'line': 3}),
    ('include /etc/nginx/servers.conf;', {'directive': 'include', 'args': ['/etc/nginx/servers.conf'], 'line': 3}),
    ('server 10.0.0.9:80 weight;', {'directive': 'server', 'args': ['10.0.0.9:80', 'weight'], 'line': 3}),
    ('server 10.0.0.9:80 backup=1;', {'directive': 'server', 'args': ['10.0.0.9:80', 'backup=1'], 'line': 3}),
])
def test_read_returns_what_the_options_cannot_express(line, unknown):
    options, found = read_text('g', 'upstream g {\n    server a:80;\n    %s\n}\n' % line)
    assert found == [unknown]


def test_read_of_a_parameter_with_a_wrong_value_keeps_the_text():
    # weight=x is a weight the options cannot hold as a number: it is read as written, for the model to refuse
    options, unknown = read_text('g', 'upstream g {\n    server a:80 weight=x;\n}\n')
    assert (options['servers'], unknown) == (
        [{'address': 'a:80', 'weight': 'x', 'backup': False, 'down': False, 'drain': False, 'resolve': False}], [])


def test_read_undoes_nginx_escapes():
    options, unknown = read_text('g', 'upstream g {\n    hash "$http_x\\"y";\n    server a:80;\n}\n')
    assert (options['hash_key'], unknown) == ('$http_x"y', [])
