# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Features by version and edition: what the proxy's ``nginx -V`` says, and the gate.

The facts (since which open source Nginx version each feature exists,
``None``: NGINX Plus only) are declared with the options in ``_options``.  A
request for a feature the proxy lacks is refused with the version it needs,
and ``nginx_plus: true`` (or a proxy that reports NGINX Plus) lifts the Plus
gate.  Standard library only: the target-side modules parse ``nginx -V`` with
it too.
"""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.balancer.nginx.plugins.module_utils import _options
from ansible_collections.balancer.nginx.plugins.module_utils._errors import FeatureError

# The facts (since which version each feature exists) are declared with the options, in _options.
FEATURES = _options.FEATURES

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
    return feature.since is not None and tuple(info.version) >= feature.since


def require(key, option, info, nginx_plus=False):
    """Raise :class:`FeatureError` unless ``key`` is available.

    ``option`` is the option path the user wrote (an option path such as ``servers[0].NAME``).
    """
    if is_available(key, info, nginx_plus):
        return
    feature = FEATURES[key]
    if feature.since is None:
        raise FeatureError(
            option,
            'is an NGINX Plus feature (%s) and the proxy runs %s' % (feature.title, info.describe()),
            'remove it, or set nginx_plus: true if the proxy runs NGINX Plus')
    raise FeatureError(
        option,
        'needs Nginx %s or newer (%s) and the proxy runs %s' % (
            _version_text(feature.since), feature.title, info.describe()),
        'upgrade Nginx to %s or newer, remove the option, or set nginx_plus: true if the proxy runs NGINX Plus'
        % _version_text(feature.since))
