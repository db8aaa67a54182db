# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.module_utils._options import SERVER_OPTIONS


def _is_ipv6(text):
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


OVERRIDES = ('weight', 'backup', 'down', 'max_fails', 'fail_timeout', 'max_conns', 'port')


def upstream_servers(hosts, hostvars, port=80):
    """Inventory hosts -> the ``servers`` list of balancer.nginx.upstream."""
    if isinstance(hosts, str):
        hosts = [hosts]
    servers = []
    for index, host in enumerate(hosts or []):
        variables = hostvars[host] if host in hostvars else {}
        override = variables.get('balancer_server') or {}
        if not isinstance(override, dict):
            raise AnsibleFilterError('balancer.nginx.upstream_servers: %s: balancer_server must be a dict of %s'
                                     % (host, ', '.join(OVERRIDES)))
        unknown = sorted(set(override) - set(OVERRIDES))
        if unknown:
            raise AnsibleFilterError('balancer.nginx.upstream_servers: %s: balancer_server has unknown key(s) %s; '
                                     'use %s' % (host, ', '.join(unknown), ', '.join(OVERRIDES)))
        address = str(variables.get('ansible_host') or host)
        if _is_ipv6(address):
            address = '[%s]' % address  # an IPv6 address needs brackets before the port
        address = '%s:%s' % (address, override.get('port', port))
        server = {'address': address}
        for key in OVERRIDES:
            if key != 'port' and override.get(key) is not None:
                server[key] = override[key]
        try:
            SERVER_OPTIONS.validate(server, 'servers[%d].' % index, 'server options')
        except BalancerError as exc:
            raise AnsibleFilterError('balancer.nginx.upstream_servers: host %s: %s' % (host, exc))
        servers.append(server)
    return servers


class FilterModule(object):
    def filters(self):
        return {'upstream_servers': upstream_servers}
