# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_model.py: every validation rule, with its exact message."""

from __future__ import annotations

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _model, _render
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._model import Server, Upstream
from ansible_collections.balancer.nginx.tests.unit import nginx_reader

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
     "hash_key: '$remote_addr' is only used with method=hash (method is round_robin); "
     'set method: hash or remove hash_key.'),
    ('hash_key-with-least_conn', opts(method='least_conn', hash_key='$remote_addr'),
     "hash_key: '$remote_addr' is only used with method=hash (method is least_conn); "
     'set method: hash or remove hash_key.'),
    ('consistent-without-hash', opts(method='least_conn', consistent=True),
     'consistent: only applies to method=hash (method is least_conn); '
     'set method: hash with a hash_key, or remove consistent.'),
    ('consistent-round_robin', opts(consistent='true'),
     'consistent: only applies to method=hash (method is round_robin); '
     'set method: hash with a hash_key, or remove consistent.'),
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
     "least_time: 'header' only applies to method=least_time or method=random with random_two; "
     'set the method, or remove least_time.'),
    ('least_time-random-without-two', opts(method='random', least_time='last_byte'),
     "least_time: 'last_byte' only applies to method=least_time or method=random with random_two; "
     'set the method, or remove least_time.'),
    ('least_time-random-inflight', opts(method='random', random_two=True, least_time='header inflight'),
     "least_time: 'header inflight' must be header or last_byte with method=random; use header or last_byte."),
    # method
    ('method-unknown', opts(method='fastest'),
     "method: 'fastest' is not a balancing method; "
     'use one of round_robin, least_conn, ip_hash, hash, random, least_time.'),
    # servers
    ('servers-empty', opts(servers=[]),
     'servers: is empty: an upstream needs at least one server; add a server, or use state: absent to remove the group.'),
    ('servers-missing', {'name': 'app'},
     'servers: is empty: an upstream needs at least one server; add a server, or use state: absent to remove the group.'),
    ('servers-not-a-list', opts(servers={'address': 'a:80'}),
     'servers: must be a list of servers; give a list of {address: host:port}.'),
    ('server-not-a-dict', opts(servers=[A, 42]),
     'servers[1]: 42 must be a dict with an address (or an address string); write {address: host:port}.'),
    ('server-unknown-key', opts(servers=[{'address': 'a:80', 'wieght': 3}]),
     'servers[0]: has unknown option(s) wieght; use only address, weight, max_fails, fail_timeout, max_conns, '
     'backup, down, resolve, slow_start, route, drain.'),
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
    ('fail_timeout-bool', opts(servers=[dict(A, fail_timeout=True)]),
     'servers[0].fail_timeout: true must be a time such as 10s; give a number of seconds or 10s, 1m, 500ms.'),
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
     'keepalive_requests: has no effect without keepalive; '
     'set keepalive (the number of idle connections to keep), or remove keepalive_requests.'),
    ('keepalive_time-without-keepalive', opts(keepalive_time='1h'),
     'keepalive_time: has no effect without keepalive; '
     'set keepalive (the number of idle connections to keep), or remove keepalive_time.'),
    ('keepalive_timeout-without-keepalive', opts(keepalive_timeout='60s'),
     'keepalive_timeout: has no effect without keepalive; '
     'set keepalive (the number of idle connections to keep), or remove keepalive_timeout.'),
    # resolver_timeout / queue_timeout
    ('resolver_timeout-without-resolver', opts(resolver_timeout='5s'),
     'resolver_timeout: has no effect without resolver; set resolver, or remove resolver_timeout.'),
    ('resolver_timeout-empty-resolver', opts(resolver=[], resolver_timeout='5s'),
     'resolver_timeout: has no effect without resolver; set resolver, or remove resolver_timeout.'),
    ('queue_timeout-without-queue', opts(queue_timeout='30s'),
     'queue_timeout: has no effect without queue; set queue, or remove queue_timeout.'),
    # sticky
    ('sticky-bad-kind', opts(sticky=['session', 'srv_id']),
     "sticky: ['session', 'srv_id'] must start with cookie, route or learn; give e.g. [cookie, srv_id, expires=1h]."),
    ('sticky-empty', opts(sticky=[]),
     'sticky: [] must start with cookie, route or learn; give e.g. [cookie, srv_id, expires=1h].'),
    ('sticky-string-bad-kind', opts(sticky='hash $cookie'),
     "sticky: 'hash $cookie' must start with cookie, route or learn; give e.g. [cookie, srv_id, expires=1h]."),
    # route
    ('route-bad', opts(servers=[dict(A, route='a/b')]),
     "servers[0].route: 'a/b' is not a valid route name; use letters, digits, \"_\", \"-\", \".\"."),
    # names
    ('name-missing', {'servers': [A]},
     'name: is required and must be a non-empty string; give a name such as backend_pool.'),
    ('name-empty', opts(name=''),
     'name: is required and must be a non-empty string; give a name such as backend_pool.'),
    ('name-not-a-string', opts(name=42),
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
]


@pytest.mark.parametrize('options, message', [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule(options, message):
    assert refused(options) == message


def test_prefix_prepends_to_every_option_path():
    assert refused(opts(method='ip_hash', servers=[A, dict(B, backup=True)]), prefix='upstreams[2].') == (
        'upstreams[2].servers[1].backup: is not allowed with method=ip_hash ' + BACKUP_FIX)
    assert refused(opts(keepalive_time='1h'), prefix='upstreams[0].') == (
        'upstreams[0].keepalive_time: has no effect without keepalive; '
        'set keepalive (the number of idle connections to keep), or remove keepalive_time.')
    assert refused(opts(name='-x'), prefix='u.').startswith("u.name: '-x' is not a valid name")


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
    assert [s.backup for s in model.servers] == [False, True]


# -- addresses ----------------------------------------------------------------

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
    model = Upstream.from_options(opts(servers=[{'address': address}]))
    assert model.servers[0].address == address


def test_server_given_as_a_string_is_its_address():
    model = Upstream.from_options(opts(servers=['10.0.0.9:80']))
    assert model.servers[0].to_options()['address'] == '10.0.0.9:80'


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
    assert refused(opts(servers=[{'address': address}])) == message


def test_server_without_address_key():
    assert refused(opts(servers=[{'weight': 3}])) == (
        'servers[0].address: is required; give host:port, [v6]:port or unix:/path.')


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
    if field == 'hash_key':
        value = '$request_uri' + char + 'x'
        return opts(method='hash', hash_key=value), 'hash_key', value, 'a hash key'
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
        pytest.fail('accepted and rendered as:\n' + _render.render_upstream(model))
    assert str(info.value) == expected
    assert info.value.option == option
    assert info.value.value == value


@pytest.mark.parametrize('char', [c for c in INJECTION_CHARS if c != '\n'],
                         ids=[i for c, i in zip(INJECTION_CHARS, CHAR_IDS) if c != '\n'])
def test_hash_key_is_free_text_that_nginx_reads_literally(char):
    # A hash key is quoted and escaped by the renderer: syntax characters stay part of the key.
    value = '$request_uri' + char + 'x'
    text = _render.render_upstream(Upstream.from_options(opts(method='hash', hash_key=value)))
    assert nginx_reader.statements(text, 'hash') == [[value]]


def test_hash_key_line_break_refused():
    assert refused(opts(method='hash', hash_key='$uri\nx')) == (
        "hash_key: '$uri\\nx' contains a line break (U+000A (LF)), which Nginx would pass on into requests and log "
        "lines; remove it.")


def test_injection_message_literally():
    # the table above builds messages with %r; one literal check of the shape
    assert refused(opts(servers=[{'address': '10.0.0.1:80;\nserver evil:80'}])) == (
        "servers[0].address: '10.0.0.1:80;\\nserver evil:80' contains ';', which Nginx would read as syntax, "
        'not as part of an address; remove it.')
    assert refused(opts(zone='app}')) == (
        "zone: 'app}' contains '}', which Nginx would read as syntax, not as part of a zone; remove it.")


def test_hash_key_may_hold_spaces():
    model = Upstream.from_options(opts(method='hash', hash_key='$host $request_uri'))
    assert model.hash_key == '$host $request_uri'


# -- accepted models and their normalized options ----------------------------

def test_defaults_and_normalization():
    model = Upstream.from_options({'name': 'app', 'state': 'present', 'servers': [
        {'address': '10.0.0.1:80', 'weight': '3', 'fail_timeout': 10, 'backup': 'yes'}],
        'keepalive': '16', 'zone': '  app   64k ', 'resolver': '10.0.0.2 valid=30s', 'sticky': 'cookie srv_id'})
    # unset (None) values are left out, so that the dict can be passed back to the module as is
    assert model.to_options() == {
        'name': 'app', 'method': 'round_robin', 'consistent': False, 'random_two': False,
        'servers': [{'address': '10.0.0.1:80', 'weight': 3, 'fail_timeout': '10', 'backup': True, 'down': False,
                     'resolve': False, 'drain': False}],
        'keepalive': 16, 'zone': 'app 64k', 'resolver': ['10.0.0.2', 'valid=30s'], 'sticky': ['cookie', 'srv_id'],
        'ntlm': False}


def test_ansible_normalized_options_are_accepted():
    # what validate_argument_spec hands over: every key present, None for unset, plus common options
    options = dict((k, None) for k in _model.UPSTREAM_KEYS)
    options.update(name='app', method='round_robin', consistent=False, random_two=False, ntlm=False,
                   state='present', force=False, conf_dir='/etc/nginx/conf.d', validate=True, mode='0644',
                   servers=[dict((k, None) for k in _model.SERVER_KEYS)])
    options['servers'][0].update(address='10.0.0.1:80', backup=False, down=False, resolve=False, drain=False)
    model = Upstream.from_options(options)
    assert model.servers == [Server(address='10.0.0.1:80', backup=False, down=False, resolve=False, drain=False)]


def test_absent_needs_no_servers():
    model = Upstream.from_options({'name': 'app', 'state': 'absent'})
    assert model.servers == []


@pytest.mark.parametrize('value', ['10', '30s', '500ms', '1m30s', '1h', '2d', 10])
def test_valid_times(value):
    model = Upstream.from_options(opts(servers=[dict(A, fail_timeout=value)]))
    assert model.servers[0].fail_timeout == str(value)


FULL = opts(
    method='least_time', least_time='last_byte inflight',
    servers=[dict(A, weight=5, max_fails=3, fail_timeout='10s', max_conns=100, slow_start='30s', route='a'),
             dict(B, backup=True, down=True, drain=True),
             {'address': 'api.internal:8080', 'resolve': True}],
    keepalive=32, keepalive_requests=1000, keepalive_time='1h', keepalive_timeout='60s', zone='app 64k',
    resolver=['10.0.0.2', 'valid=30s'], resolver_timeout='5s', sticky=['route', '$route_cookie'], ntlm=True,
    queue=10, queue_timeout='30s')


def test_from_options_of_to_options_is_the_same_model():
    model = Upstream.from_options(FULL)
    again = Upstream.from_options(model.to_options())
    assert again == model
    assert again.to_options() == model.to_options()


def test_to_options_copies_lists():
    model = Upstream.from_options(FULL)
    options = model.to_options()
    options['resolver'].append('x')
    options['sticky'].append('x')
    assert model.resolver == ['10.0.0.2', 'valid=30s']
    assert model.sticky == ['route', '$route_cookie']


def test_features_lists_every_gated_option_with_its_path():
    model = Upstream.from_options(FULL)
    assert model.features() == [
        ('least_time', 'method'),
        ('zone', 'zone'), ('keepalive_requests', 'keepalive_requests'), ('keepalive_timeout', 'keepalive_timeout'),
        ('keepalive_time', 'keepalive_time'), ('resolver', 'resolver'), ('resolver_timeout', 'resolver_timeout'),
        ('sticky', 'sticky'), ('queue', 'queue'), ('ntlm', 'ntlm'),
        ('max_conns', 'servers[0].max_conns'), ('slow_start', 'servers[0].slow_start'),
        ('route', 'servers[0].route'),
        ('drain', 'servers[1].drain'),
        ('resolve', 'servers[2].resolve'),
    ]


def test_plain_group_uses_no_gated_feature():
    assert Upstream.from_options(opts(method='least_conn', keepalive=8)).features() == []
    assert Upstream.from_options(opts(method='least_conn', keepalive=8)).keepalive == 8
    assert Upstream.from_options(opts()).keepalive is None
