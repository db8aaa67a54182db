# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of Nginx features by version and edition.

Each entry says since which open source Nginx version a feature exists
(``None``: NGINX Plus only).  The proxy's ``nginx -V`` decides; a request for a
feature the proxy lacks is refused with the version it needs, and
``nginx_plus: true`` (or a proxy that reports NGINX Plus) lifts the Plus gate.
Standard library only: the target-side modules parse ``nginx -V`` with it too.
"""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.balancer.nginx.plugins.module_utils._errors import FeatureError

Feature = namedtuple('Feature', ['title', 'oss_since'])

FEATURES = {
    # upstream methods and their options
    'random': Feature('method=random', (1, 15, 1)),
    'least_time': Feature('method=least_time', (1, 31, 0)),
    'random_least_time': Feature('random two least_time', None),
    'sticky': Feature('sticky', (1, 29, 6)),
    # group directives
    'zone': Feature('zone', (1, 9, 0)),
    'keepalive_requests': Feature('keepalive_requests in upstream', (1, 15, 3)),
    'keepalive_timeout': Feature('keepalive_timeout in upstream', (1, 15, 3)),
    'keepalive_time': Feature('keepalive_time', (1, 19, 10)),
    'resolver': Feature('resolver in upstream', (1, 27, 3)),
    'resolver_timeout': Feature('resolver_timeout in upstream', (1, 27, 3)),
    'ntlm': Feature('ntlm', None),
    'queue': Feature('queue', None),
    'health_check': Feature('health_check', None),
    # server parameters
    'max_conns': Feature('server parameter max_conns', (1, 11, 5)),
    'resolve': Feature('server parameter resolve', (1, 27, 3)),
    'route': Feature('server parameter route', (1, 29, 6)),
    'drain': Feature('server parameter drain', (1, 29, 6)),
    'slow_start': Feature('server parameter slow_start', None),
}

_VERSION_RE = re.compile(r'nginx version:\s*(?:[\w.-]+/)?(\d+)\.(\d+)\.(\d+)(.*)')


class NginxInfo(namedtuple('NginxInfo', ['version', 'plus'])):
    """What ``nginx -V`` says: the version tuple and whether it is NGINX Plus."""

    @property
    def version_string(self):
        return '.'.join(str(p) for p in self.version)

    def describe(self):
        if self.plus:
            return 'NGINX Plus ' + self.version_string
        return 'open source Nginx ' + self.version_string

    def as_dict(self):
        return {'version': self.version_string, 'plus': self.plus}


def parse_nginx_version(output):
    """Parse ``nginx -V`` output (it prints to stderr) into :class:`NginxInfo`.

    Returns ``None`` when no version line is found.
    """
    for line in (output or '').splitlines():
        match = _VERSION_RE.search(line)
        if match:
            version = tuple(int(match.group(i)) for i in (1, 2, 3))
            plus = 'plus' in match.group(4).lower() or 'nginx-plus' in line.lower()
            return NginxInfo(version, plus)
    return None


def _version_text(version):
    return '.'.join(str(p) for p in version)


def is_available(key, info, nginx_plus=False):
    """True when the feature ``key`` is available on the proxy described by ``info``."""
    feature = FEATURES[key]
    if nginx_plus or info.plus:
        return True
    return feature.oss_since is not None and tuple(info.version) >= feature.oss_since


def require(key, option, info, nginx_plus=False):
    """Raise :class:`FeatureError` unless ``key`` is available.

    ``option`` is the option path the user wrote (``servers[0].resolve``).
    """
    if is_available(key, info, nginx_plus):
        return
    feature = FEATURES[key]
    if feature.oss_since is None:
        raise FeatureError(
            option,
            'is an NGINX Plus feature (%s) and the proxy runs %s' % (feature.title, info.describe()),
            'remove it, or set nginx_plus: true if the proxy runs NGINX Plus')
    raise FeatureError(
        option,
        'needs Nginx %s or newer (%s) and the proxy runs %s' % (
            _version_text(feature.oss_since), feature.title, info.describe()),
        'upgrade Nginx to %s or newer, remove the option, or set nginx_plus: true if the proxy runs NGINX Plus'
        % _version_text(feature.oss_since))
