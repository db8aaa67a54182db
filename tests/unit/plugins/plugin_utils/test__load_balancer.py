# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/plugin_utils/_load_balancer.py: the helpers behind the role's filters.

The filters themselves are tested through their plugins in tests/unit/plugins/filter/.
"""

from __future__ import annotations

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.plugin_utils import _load_balancer as lb


@pytest.mark.parametrize('address, expected', [
    ('10.0.0.1:8080', ('10.0.0.1', 8080)),
    ('10.0.0.1', ('10.0.0.1', 80)),
    ('app.internal:3000', ('app.internal', 3000)),
    ('app.internal', ('app.internal', 80)),
    ('[::1]:8081', ('::1', 8081)),
    ('[2001:db8::1]', ('2001:db8::1', 80)),
    ('unix:/run/app.sock', ('unix:/run/app.sock', None)),
])
def test_split_hostport(address, expected):
    assert lb.split_hostport(address) == expected


def test_split_hostport_default_port():
    assert lb.split_hostport('app', default_port=None) == ('app', None)


@pytest.mark.parametrize('host, port, expected', [
    ('10.0.0.1', 80, '10.0.0.1:80'),
    ('::1', 8081, '[::1]:8081'),
    ('0:0:0:0:0:0:0:1', 8081, '[::1]:8081'),
    ('app.internal', 8080, 'app.internal:8080'),
])
def test_join_hostport_writes_what_nginx_logs(host, port, expected):
    assert lb.join_hostport(host, port) == expected


def test_closest_name_prefers_the_most_similar_and_breaks_ties_by_name():
    names = ['load_balancer_upstreams', 'load_balancer_vhosts', 'load_balancer_verify']
    assert lb.closest_name('load_balancer_upstream', names) == 'load_balancer_upstreams'
    assert lb.closest_name('load_balancer_vhost', names) == 'load_balancer_vhosts'
    assert lb.closest_name('x', []) is None
    assert lb.closest_name('ab', ['ac', 'aa']) == 'aa'


def test_declared_names_from_every_shape():
    specs = {'argument_specs': {'main': {'options': {'load_balancer_a': {}, 'load_balancer_b': {}}},
                                'other': {'options': {'load_balancer_c': {}}},
                                'empty': {'short_description': 'no options'}}}
    assert lb.declared_names(specs) == ['load_balancer_a', 'load_balancer_b', 'load_balancer_c']
    assert lb.declared_names(specs['argument_specs']) == ['load_balancer_a', 'load_balancer_b', 'load_balancer_c']
    assert lb.declared_names(('b', 'a', 'a')) == ['a', 'b']
    with pytest.raises(ModelError) as info:
        lb.declared_names('load_balancer_a')
    assert str(info.value).startswith('declared: must be a list of names or the argument specs of the role;')


GETENT = ('10.0.0.5       STREAM app.internal\n10.0.0.5       DGRAM  \n10.0.0.5       RAW    \n'
          '2001:db8::5    STREAM \n2001:db8::5    DGRAM  \n10.0.0.6       STREAM \n')


@pytest.mark.parametrize('resolved, expected', [
    ({'app.internal': GETENT}, ['10.0.0.5', '10.0.0.6', '2001:db8::5']),
    ({'app.internal': ['2001:db8::5', '10.0.0.5', '10.0.0.5']}, ['10.0.0.5', '2001:db8::5']),
    ({'app.internal': '10.0.0.7 app.internal\n'}, ['10.0.0.7']),
    ({'app.internal': ''}, []),
    ({}, []),
    (None, []),
])
def test_resolved_addresses_ipv4_first(resolved, expected):
    assert lb.resolved_addresses(resolved, 'app.internal') == expected


def test_server_ids():
    resolved = {'app.internal': GETENT}
    assert lb.server_ids('app.internal:8080', resolved) == ['10.0.0.5:8080', '10.0.0.6:8080', '[2001:db8::5]:8080']
    assert lb.server_ids('other.internal:8080', resolved) == ['other.internal:8080']
    assert lb.server_ids('10.0.0.1', resolved) == ['10.0.0.1:80']
    assert lb.server_ids('unix:/run/app.sock', resolved) == ['unix:/run/app.sock']


@pytest.mark.parametrize('listen, expected', [
    (None, ('http://127.0.0.1:80', None)),
    (['80', '[::]:80'], ('http://127.0.0.1:80', None)),
    ('8080', ('http://127.0.0.1:8080', None)),
    ([8080], ('http://127.0.0.1:8080', None)),
    (['127.0.0.2:8080 default_server'], ('http://127.0.0.2:8080', None)),
    (['*:81'], ('http://127.0.0.1:81', None)),
    (['0.0.0.0:82'], ('http://127.0.0.1:82', None)),
    (['[::]:83'], ('http://[::1]:83', None)),
    (['[::1]:84'], ('http://[::1]:84', None)),
    (['localhost:85'], ('http://localhost:85', None)),
    (['443 ssl'], (None, "its first listen value '443 ssl' is TLS, and the check speaks plain http")),
    (['unix:/run/nginx.sock'], (None, "its first listen value 'unix:/run/nginx.sock' is a unix socket")),
])
def test_listen_url(listen, expected):
    assert lb._listen_url(listen) == expected


@pytest.mark.parametrize('server_name, expected', [
    (None, None),
    ([], None),
    ('example.com', 'example.com'),
    (['www.example.com', 'example.com'], 'www.example.com'),
    ('example.com www.example.com', 'example.com'),
    (['*.example.com'], 'www.example.com'),
    (['.example.com'], 'example.com'),
    (['www.example.*'], 'www.example.com'),
    (['_'], None),
    (['~^www\\d+\\.example\\.com$'], None),
])
def test_host_header(server_name, expected):
    assert lb._host_header(server_name) == expected


@pytest.mark.parametrize('path, expected', [
    (None, '/'),
    ('/', '/'),
    ('/api/', '/api/'),
    ('= /status', '/status'),
    ('^~ /static/', '/static/'),
    ('~ \\.php$', None),
    ('~* \\.jpg$', None),
    ('@fallback', None),
])
def test_location_target(path, expected):
    assert lb._location_target(path) == expected
