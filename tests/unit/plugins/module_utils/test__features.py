# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/_features.py: the version/edition table and its gate."""

from __future__ import annotations

import pytest

from ansible_collections.balancer.nginx.plugins.module_utils import _features
from ansible_collections.balancer.nginx.plugins.module_utils._errors import FeatureError
from ansible_collections.balancer.nginx.plugins.module_utils._features import (
    FEATURES, NginxInfo, is_available, parse_nginx_version, require)
from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Upstream

DEBIAN12_V = """nginx version: nginx/1.22.1
built with OpenSSL 3.0.11 19 Sep 2023
TLS SNI support enabled
configure arguments: --with-cc-opt='-g -O2' --prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf
"""

DEBIAN13_V = """nginx version: nginx/1.26.3
built with OpenSSL 3.5.0 8 Apr 2025
TLS SNI support enabled
configure arguments: --prefix=/usr/share/nginx
"""

PLUS_V = """nginx version: nginx/1.25.5 (nginx-plus-r32)
built by gcc 12.2.0 (Debian 12.2.0-14)
built with OpenSSL 3.0.11 19 Sep 2023
TLS SNI support enabled
configure arguments: --prefix=/etc/nginx --build=nginx-plus-r32
"""


@pytest.mark.parametrize('output, expected', [
    (DEBIAN12_V, NginxInfo((1, 22, 1), False)),
    (DEBIAN13_V, NginxInfo((1, 26, 3), False)),
    (PLUS_V, NginxInfo((1, 25, 5), True)),
    ('nginx version: nginx/1.22.1', NginxInfo((1, 22, 1), False)),
    ('nginx version: nginx/1.26.3\n', NginxInfo((1, 26, 3), False)),
    ('nginx version: nginx/1.25.5 (nginx-plus-r32)', NginxInfo((1, 25, 5), True)),
    ('nginx version: nginx/1.27.4 (nginx-plus-r34-p1)', NginxInfo((1, 27, 4), True)),
    ('nginx version: openresty/1.21.4.1', NginxInfo((1, 21, 4), False)),
    # a warning printed before the version line
    ('nginx: [warn] could not build optimal types_hash\nnginx version: nginx/1.24.0\n',
     NginxInfo((1, 24, 0), False)),
])
def test_parse_nginx_version(output, expected):
    info = parse_nginx_version(output)
    assert info == expected
    assert isinstance(info.version, tuple)


@pytest.mark.parametrize('output', [
    None, '', 'garbage', 'nginx: command not found', 'Apache/2.4.57 (Debian)', 'nginx version: nginx/',
    'nginx version: nginx/1.22', 'sh: 1: nginx: not found\n',
])
def test_parse_nginx_version_garbage_is_none(output):
    assert parse_nginx_version(output) is None


def test_nginx_info_describe_and_as_dict():
    assert NginxInfo((1, 22, 1), False).describe() == 'open source Nginx 1.22.1'
    assert NginxInfo((1, 25, 5), True).describe() == 'NGINX Plus 1.25.5'
    assert NginxInfo((1, 22, 1), False).as_dict() == {'version': '1.22.1', 'plus': False}
    assert NginxInfo((1, 25, 5), True).as_dict() == {'version': '1.25.5', 'plus': True}
    assert NginxInfo((1, 26, 3), False).version_string == '1.26.3'


# -- the table ------------------------------------------------------------------

def test_table_holds_the_documented_facts():
    assert all(key == feature.key for key, feature in FEATURES.items())
    assert dict((k, f.since) for k, f in FEATURES.items()) == {
        'random': (1, 15, 1),
        'least_time': (1, 31, 0),
        'random_least_time': None,
        'sticky': (1, 29, 6),
        'zone': (1, 9, 0),
        'keepalive_requests': (1, 15, 3),
        'keepalive_timeout': (1, 15, 3),
        'keepalive_time': (1, 19, 10),
        'resolver': (1, 27, 3),
        'resolver_timeout': (1, 27, 3),
        'ntlm': None,
        'queue': None,
        'health_check': None,
        'max_conns': (1, 11, 5),
        'resolve': (1, 27, 3),
        'route': (1, 29, 6),
        'drain': (1, 29, 6),
        'slow_start': None,
    }


def _before(version):
    major, minor, patch = version
    if patch:
        return (major, minor, patch - 1)
    return (major, minor - 1, 99)


def _after(version):
    major, minor, patch = version
    return (major, minor + 1, 0)


def _text(version):
    return '.'.join(str(p) for p in version)


VERSIONED = sorted(k for k, f in FEATURES.items() if f.since is not None)
PLUS_ONLY = sorted(k for k, f in FEATURES.items() if f.since is None)


@pytest.mark.parametrize('key', VERSIONED)
def test_versioned_feature_refused_below_its_version(key):
    feature = FEATURES[key]
    below = _before(feature.since)
    info = NginxInfo(below, False)
    assert not is_available(key, info)
    with pytest.raises(FeatureError) as exc:
        require(key, 'some.option', info)
    since = _text(feature.since)
    assert str(exc.value) == (
        'some.option: needs Nginx %s or newer (%s) and the proxy runs open source Nginx %s; '
        'upgrade Nginx to %s or newer, remove the option, or set nginx_plus: true if the proxy runs NGINX Plus.'
        % (since, feature.title, _text(below), since))
    assert exc.value.option == 'some.option'


@pytest.mark.parametrize('key', VERSIONED)
def test_versioned_feature_accepted_at_and_after_its_version(key):
    since = FEATURES[key].since
    for version in (since, _after(since), (2, 0, 0)):
        info = NginxInfo(version, False)
        assert is_available(key, info)
        assert require(key, 'x', info) is None


@pytest.mark.parametrize('key', VERSIONED)
def test_versioned_feature_below_its_version_accepted_with_plus(key):
    below = _before(FEATURES[key].since)
    assert require(key, 'x', NginxInfo(below, False), nginx_plus=True) is None
    assert require(key, 'x', NginxInfo(below, True)) is None


@pytest.mark.parametrize('key', PLUS_ONLY)
@pytest.mark.parametrize('version', [(1, 22, 1), (1, 31, 0), (9, 99, 99)])
def test_plus_only_feature_refused_on_open_source_at_any_version(key, version):
    info = NginxInfo(version, False)
    assert not is_available(key, info)
    with pytest.raises(FeatureError) as exc:
        require(key, 'opt', info)
    assert str(exc.value) == (
        'opt: is an NGINX Plus feature (%s) and the proxy runs open source Nginx %s; '
        'remove it, or set nginx_plus: true if the proxy runs NGINX Plus.' % (FEATURES[key].title, _text(version)))


@pytest.mark.parametrize('key', PLUS_ONLY)
def test_plus_only_feature_accepted_with_nginx_plus_or_on_plus(key):
    assert require(key, 'opt', NginxInfo((1, 22, 1), False), nginx_plus=True) is None
    assert require(key, 'opt', NginxInfo((1, 25, 5), True)) is None
    assert is_available(key, NginxInfo((1, 25, 5), True))


def test_literal_messages():
    with pytest.raises(FeatureError) as exc:
        require('resolve', 'servers[1].resolve', parse_nginx_version(DEBIAN12_V))
    assert str(exc.value) == (
        'servers[1].resolve: needs Nginx 1.27.3 or newer (server parameter resolve) and the proxy runs open '
        'source Nginx 1.22.1; upgrade Nginx to 1.27.3 or newer, remove the option, or set nginx_plus: true if '
        'the proxy runs NGINX Plus.')
    with pytest.raises(FeatureError) as exc:
        require('ntlm', 'ntlm', parse_nginx_version(DEBIAN13_V))
    assert str(exc.value) == (
        'ntlm: is an NGINX Plus feature (ntlm) and the proxy runs open source Nginx 1.26.3; '
        'remove it, or set nginx_plus: true if the proxy runs NGINX Plus.')


def test_unknown_key_is_a_programming_error():
    with pytest.raises(KeyError):
        require('no_such_feature', 'x', NginxInfo((1, 22, 1), False))


# -- Upstream.check_features: the option path named --------------------------

S = {'address': '10.0.0.1:80'}


def up(**kw):
    options = {'name': 'app', 'servers': [dict(S)]}
    options.update(kw)
    return Upstream.from_options(options)


# (id, model options, nginx version, feature key, option path)
GATES = [
    ('random', dict(method='random'), (1, 15, 0), 'random', 'method'),
    ('least_time', dict(method='least_time', least_time='header'), (1, 30, 9), 'least_time', 'method'),
    ('random_least_time', dict(method='random', random_two=True, least_time='last_byte'), (1, 31, 0),
     'random_least_time', 'least_time'),
    ('sticky', dict(sticky=['cookie', 'srv_id']), (1, 29, 5), 'sticky', 'sticky'),
    ('zone', dict(zone='app 64k'), (1, 8, 1), 'zone', 'zone'),
    ('keepalive_requests', dict(keepalive=8, keepalive_requests=100), (1, 15, 2), 'keepalive_requests',
     'keepalive_requests'),
    ('keepalive_timeout', dict(keepalive=8, keepalive_timeout='60s'), (1, 15, 2), 'keepalive_timeout',
     'keepalive_timeout'),
    ('keepalive_time', dict(keepalive=8, keepalive_time='1h'), (1, 19, 9), 'keepalive_time', 'keepalive_time'),
    ('resolver', dict(resolver=['127.0.0.53']), (1, 26, 3), 'resolver', 'resolver'),
    ('resolver_timeout', dict(resolver=['127.0.0.53'], resolver_timeout='5s'), (1, 26, 3), 'resolver',
     'resolver'),
    ('ntlm', dict(ntlm=True), (1, 31, 0), 'ntlm', 'ntlm'),
    ('queue', dict(queue=10, queue_timeout='30s'), (1, 31, 0), 'queue', 'queue'),
    ('max_conns', dict(servers=[S, dict(S, max_conns=10)]), (1, 11, 4), 'max_conns', 'servers[1].max_conns'),
    ('resolve', dict(zone='app 64k', servers=[S, {'address': 'api.internal:80', 'resolve': True}]), (1, 22, 1),
     'resolve', 'servers[1].resolve'),
    ('route', dict(servers=[dict(S, route='a')]), (1, 29, 5), 'route', 'servers[0].route'),
    ('drain', dict(servers=[S, S, dict(S, drain=True)]), (1, 29, 5), 'drain', 'servers[2].drain'),
    ('slow_start', dict(servers=[dict(S, slow_start='30s')]), (1, 31, 0), 'slow_start', 'servers[0].slow_start'),
]


@pytest.mark.parametrize('options, version, key, option', [g[1:] for g in GATES], ids=[g[0] for g in GATES])
def test_check_features_names_the_option(options, version, key, option):
    model = up(**options)
    info = NginxInfo(version, False)
    with pytest.raises(FeatureError) as exc:
        model.check_features(info)
    assert exc.value.option == option
    # the same message require() gives for that key
    with pytest.raises(FeatureError) as direct:
        require(key, option, info)
    assert str(exc.value) == str(direct.value)
    # lifted by nginx_plus, and by a proxy that is NGINX Plus
    assert model.check_features(info, nginx_plus=True) is None
    assert model.check_features(NginxInfo(version, True)) is None


def test_every_feature_of_the_table_is_exercised():
    exercised = set(g[3] for g in GATES) | set(k for g in GATES for k, dummy in up(**g[1]).features())
    # health_check has no option in the upstream module (it belongs to a location)
    assert set(FEATURES) - exercised == {'health_check'}


def test_check_features_with_prefix():
    model = up(zone='app 64k', servers=[S, {'address': 'api.internal:80', 'resolve': True}])
    with pytest.raises(FeatureError) as exc:
        model.check_features(NginxInfo((1, 22, 1), False), prefix='upstreams[3].')
    assert str(exc.value) == (
        'upstreams[3].servers[1].resolve: needs Nginx 1.27.3 or newer (server parameter resolve) and the proxy '
        'runs open source Nginx 1.22.1; upgrade Nginx to 1.27.3 or newer, remove the option, or set nginx_plus: '
        'true if the proxy runs NGINX Plus.')


def test_check_features_accepts_what_the_proxy_has():
    model = up(method='random', random_two=True, zone='app 64k', keepalive=8, keepalive_time='1h',
               keepalive_requests=100, keepalive_timeout='60s', servers=[dict(S, max_conns=10)])
    assert model.check_features(NginxInfo((1, 22, 1), False)) is None
    assert model.check_features(NginxInfo((1, 19, 10), False)) is None
    with pytest.raises(FeatureError) as exc:
        model.check_features(NginxInfo((1, 19, 9), False))
    assert exc.value.option == 'keepalive_time'


def test_check_features_reports_the_first_in_option_order():
    # in the table's order: method, then servers (where the option is declared), then the group directives
    model = up(method='random', zone='z', servers=[dict(S, max_conns=1)])
    with pytest.raises(FeatureError) as exc:
        model.check_features(NginxInfo((1, 0, 0), False))
    assert exc.value.option == 'method'
    with pytest.raises(FeatureError) as exc:
        up(zone='z', servers=[dict(S, max_conns=1)]).check_features(NginxInfo((1, 0, 0), False))
    assert exc.value.option == 'servers[0].max_conns'


def test_module_uses_only_the_standard_library():
    # target-side modules import _features: it must not pull in crossplane or Ansible runtime code
    source = open(_features.__file__).read()
    assert 'crossplane' not in source
    assert 'import ansible.' not in source
