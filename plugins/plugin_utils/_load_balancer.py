# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data shaping of the ``load_balancer`` role, as plain functions (controller side).

The role's templates only place values (STYLE: no logic in Jinja); what the
role decides - which variables are unknown, which servers to probe, which
vhost answers where and with which shares, what a rollback writes and
removes, which ports and sources a backend's firewall scopes - is decided
here, and each function is exposed as a filter in ``plugins/filter/``.

Inputs are the role's variables as the user wrote them; errors are
:class:`ModelError` naming the role variable (or the item in it), the value
and the fix.
"""

from __future__ import annotations

import difflib
import ipaddress
import re

from ansible_collections.balancer.nginx.plugins.module_utils._balance import split_range
from ansible_collections.balancer.nginx.plugins.module_utils._engine import target_path
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError

ROLE = 'balancer.nginx.load_balancer'
PREFIX = 'load_balancer_'
UPSTREAM_DEBUG = 'upstream_debug'
DEFAULT_LOG_DIR = '/var/log/nginx'
DEFAULT_CONF_DIR = '/etc/nginx/conf.d'
DEFAULT_LISTEN = ['80', '[::]:80']

# Methods whose split follows the weights (least_conn with one request at a
# time falls back to weighted round robin among equally idle servers).
WEIGHTED_METHODS = ('round_robin', 'least_conn')


# -- small helpers -----------------------------------------------------------

def _is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def split_hostport(address, default_port=80):
    """``host:port``, ``[v6]:port``, ``host`` -> ``(host, port)``; ``(address, None)`` for ``unix:``."""
    if address.startswith('unix:'):
        return address, None
    if address.startswith('['):
        host, dummy, rest = address[1:].partition(']')
        port = rest[1:] if rest.startswith(':') else ''
    elif address.count(':') == 1:
        host, dummy, port = address.partition(':')
    else:
        host, port = address, ''
    return host, int(port) if port.isdigit() else default_port


def join_hostport(host, port):
    """The address the way Nginx writes ``$upstream_addr``: ``1.2.3.4:80``, ``[::1]:80``."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return '%s:%s' % (host, port)
    if ip.version == 6:
        return '[%s]:%s' % (ip.compressed, port)
    return '%s:%s' % (ip.compressed, port)


def _items(value, option):
    """A list of dicts (the role's list variables), or a clear error."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ModelError(option, 'must be a list of dicts', 'write it as a YAML list', value=value)
    return list(value)


def _present(items):
    return [i for i in items if isinstance(i, dict) and (i.get('state') or 'present') == 'present']


def _locations(vhost):
    """The vhost's locations, with the ``upstream`` shorthand as a location ``/``."""
    if vhost.get('upstream'):
        return [{'path': '/', 'upstream': vhost['upstream']}]
    return [loc for loc in (vhost.get('locations') or []) if isinstance(loc, dict)]


def _split_groups(location):
    """``[(group, share)]`` of a ``split`` location; the last item without ``percent`` takes the rest."""
    items = [s for s in (location.get('split') or []) if isinstance(s, dict) and s.get('upstream')]
    given = sum(float(s['percent']) for s in items if s.get('percent') is not None)
    return [(s['upstream'], float(s['percent']) if s.get('percent') is not None else 100.0 - given) for s in items]


def _location_groups(location):
    """Upstream groups a location proxies to."""
    if location.get('upstream'):
        return [location['upstream']]
    return [group for group, dummy in _split_groups(location)]


# -- the unknown-variable guard ------------------------------------------------

def declared_names(declared):
    """Variable names from a list, an ``argument_specs`` mapping or the whole ``meta/argument_specs.yml``."""
    if isinstance(declared, dict):
        specs = declared.get('argument_specs', declared)
        names = set()
        for entry in specs.values():
            if isinstance(entry, dict):
                names.update((entry.get('options') or {}).keys())
        return sorted(names)
    if isinstance(declared, (list, tuple, set)):
        return sorted(set(str(n) for n in declared))
    raise ModelError('declared', 'must be a list of names or the argument specs of the role',
                     "give lookup('ansible.builtin.file', role_path ~ '/meta/argument_specs.yml') | from_yaml")


def closest_name(name, candidates):
    """The candidate most like ``name`` (difflib's ratio; ties go to the first in sorted order)."""
    best, best_ratio = None, -1.0
    for candidate in sorted(candidates):
        ratio = difflib.SequenceMatcher(None, name, candidate).ratio()
        if ratio > best_ratio:
            best, best_ratio = candidate, ratio
    return best


def undeclared_vars(names, declared, prefix=PREFIX, role=ROLE):
    """``[{name, closest, message}]`` for each name with ``prefix`` that ``declared`` does not hold."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(',') if n.strip()]
    known = declared_names(declared)
    known_set = set(known)
    result = []
    for name in sorted(set(str(n) for n in names or [])):
        if not name.startswith(prefix) or name in known_set:
            continue
        closest = closest_name(name, known)
        message = '%s is declared by no entry point of %s' % (name, role)
        message += '; did you mean %s?' % closest if closest else '.'
        result.append({'name': name, 'closest': closest, 'message': message})
    return result


# -- main: default access logs and the preflight -----------------------------

def default_access_logs(vhosts, log_dir=DEFAULT_LOG_DIR, log_format=UPSTREAM_DEBUG):
    """Every present vhost without ``access_log`` gets ``<log_dir>/<name>.upstream.log`` in ``log_format``."""
    result = []
    for vhost in _items(vhosts, 'load_balancer_vhosts'):
        wants_log = isinstance(vhost, dict) and vhost.get('name') and vhost.get('access_log') is None
        if wants_log and (vhost.get('state') or 'present') == 'present':
            vhost = dict(vhost)
            vhost['access_log'] = {'path': '%s/%s.upstream.log' % (log_dir.rstrip('/'), vhost['name']),
                                   'format': log_format}
        result.append(vhost)
    return result


def _http_groups(upstreams):
    """The present groups of the http context (stream groups live in a namespace of their own)."""
    return [g for g in _present(_items(upstreams, 'load_balancer_upstreams')) if (g.get('context') or 'http') == 'http']


def _tls_probes(vhosts):
    """Group name -> backend_probe ``tls`` options, for each group a location reaches with ``backend_tls``.

    The name verified is the one Nginx verifies: ``backend_tls.name``, else the
    group's name (the host of ``proxy_pass https://GROUP``).  A name built from
    variables is only known per request, so the probe then checks that the
    backend speaks TLS without verifying it.
    """
    probes = {}
    for vhost in _present(_items(vhosts, 'load_balancer_vhosts')):
        for location in _locations(vhost):
            backend_tls = location.get('backend_tls')
            if not isinstance(backend_tls, dict):
                continue
            for group in _location_groups(location):
                name = backend_tls.get('name') or group
                verify = backend_tls.get('verify') is not False and '$' not in str(name)
                probes.setdefault(group, {'verify': verify,
                                          'trusted_certificate': backend_tls.get('trusted_certificate'),
                                          'name': str(name) if verify else None})
    return probes


def upstream_probes(upstreams, min_healthy=None, vhosts=None):
    """What to probe per group: ``[{name, label, backends, min_healthy}]``, plus ``tls`` for HTTPS backends.

    With ``min_healthy`` (the preflight), every server that is not ``down``
    is probed and ``min(min_healthy, servers)`` must answer.  Without it
    (verify), the servers that are neither ``backup`` nor ``down`` are probed
    and every one must answer.  Unix sockets cannot be probed over TCP; a
    group with nothing to probe is left out, and so are stream groups (they
    speak no HTTP; the role checks them with ``stream_checks``).  A group
    that a location of ``vhosts`` reaches with ``backend_tls`` is probed over
    HTTPS as Nginx will reach it (``tls``, see ``backend_probe``).
    """
    whole = isinstance(min_healthy, int) and not isinstance(min_healthy, bool)
    if min_healthy is not None and not (whole and min_healthy >= 0):
        raise ModelError('load_balancer_probe_min_healthy', 'must be a whole number of at least 0', 'give e.g. 1',
                         value=min_healthy)
    tls = _tls_probes(vhosts)
    probes = []
    for group in _http_groups(upstreams):
        backends = []
        for server in group.get('servers') or []:
            if not isinstance(server, dict) or not isinstance(server.get('address'), str):
                continue
            address = server['address']
            if server.get('down') or address.startswith('unix:'):
                continue
            if min_healthy is None and server.get('backup'):
                continue
            if address not in backends:
                backends.append(address)
        if backends:
            need = len(backends) if min_healthy is None else min(min_healthy, len(backends))
            probe = {'name': group.get('name'), 'label': 'group %s' % group.get('name'), 'backends': backends,
                     'min_healthy': need}
            if group.get('name') in tls:
                probe['tls'] = tls[group['name']]
                probe['label'] += ' over TLS'
            probes.append(probe)
    return probes


def _listen_values(listen):
    return listen if isinstance(listen, list) else [listen] if listen not in (None, '') else []


def _connect_address(address):
    """``(host, port)`` to connect to for a listen address (a wildcard becomes loopback), or ``None``."""
    if address.isdigit():
        return '127.0.0.1', int(address)
    if address.startswith('unix:'):
        return None
    host, port = split_hostport(address, default_port=None)
    if port is None:
        return None
    if host in ('*', '0.0.0.0', ''):
        host = '127.0.0.1'
    elif host == '::':
        host = '::1'
    return host, port


def stream_checks(stream_proxies, upstreams=None):
    """TCP connections that prove the stream proxies are up: ``[{label, host, port}]``.

    One per TCP ``listen`` address of each present stream proxy (a wildcard is
    reached on loopback) and one per server, neither ``backup`` nor ``down``,
    of each stream group of ``upstreams`` that such a TCP listener proxies to.
    UDP has no connection to open: UDP listeners and groups only UDP
    listeners reach are left out.
    """
    groups = dict((g.get('name'), g) for g in _present(_items(upstreams, 'load_balancer_upstreams'))
                  if g.get('context') == 'stream')
    checks, seen, tcp_groups = [], set(), []

    def add(label, target):
        if target is not None and target not in seen:
            seen.add(target)
            checks.append({'label': label, 'host': target[0], 'port': target[1]})

    for proxy in _present(_items(stream_proxies, 'load_balancer_stream_proxies')):
        for value in _listen_values(proxy.get('listen')):
            words = str(value).split()
            if not words or 'udp' in words[1:]:
                continue
            add('stream proxy %s listens on %s' % (proxy.get('name'), words[0]), _connect_address(words[0]))
            if proxy.get('upstream') and proxy['upstream'] not in tcp_groups:
                tcp_groups.append(proxy['upstream'])
    for name in tcp_groups:
        for server in (groups.get(name) or {}).get('servers') or []:
            if not isinstance(server, dict) or not isinstance(server.get('address'), str):
                continue
            if server.get('backup') or server.get('down'):
                continue
            host, port = split_hostport(server['address'], default_port=None)
            if port is not None:
                add('stream group %s server %s' % (name, server['address']), (host, port))
    return checks


# -- verify --------------------------------------------------------------------

def _pass_target(url):
    """``(host, port, scheme)`` of a literal ``pass`` URL (port ``None`` when it names none), ``None`` with variables."""
    match = re.match(r'^(https?)://([^/?#]+)', url or '')
    if not match or '$' in match.group(2) or match.group(2).startswith('unix:'):
        return None
    host, port = split_hostport(match.group(2), default_port=None)
    return host, port, match.group(1)


def server_hostnames(upstreams, vhosts=None):
    """Host names (not IP addresses) of the servers and literal ``pass`` targets, which Nginx resolves."""
    names = set()
    for group in _present(_items(upstreams, 'load_balancer_upstreams')):
        for server in group.get('servers') or []:
            if isinstance(server, dict) and isinstance(server.get('address'), str):
                host, port = split_hostport(server['address'])
                if port is not None and not _is_ip(host):
                    names.add(host)
    for vhost in _present(_items(vhosts, 'load_balancer_vhosts')):
        for location in _locations(vhost):
            target = _pass_target(location.get('pass'))
            if target and not _is_ip(target[0]):
                names.add(target[0])
    return sorted(names)


def resolved_addresses(resolved, host):
    """IP addresses of ``host`` in the order Nginx uses them (IPv4 first), from ``getent ahosts`` output or a list."""
    value = (resolved or {}).get(host)
    if value is None:
        return []
    if isinstance(value, str):
        rows = [line.split() for line in value.splitlines()]
        found = [row[0] for row in rows if row[1:2] == ['STREAM']]
        if not found:
            found = [line.split()[0] for line in value.splitlines() if line.split()]
    else:
        found = [str(v) for v in value]
    found = [a for a in found if _is_ip(a)]
    ordered = []
    by_version = sorted(found, key=lambda a: ipaddress.ip_address(a).version)   # stable: IPv4 first, order kept
    for address in by_version:
        if address not in ordered:
            ordered.append(address)
    return ordered


def server_ids(address, resolved):
    """The ``$upstream_addr`` values one ``server`` line can show (a host name may stand for several)."""
    host, port = split_hostport(address)
    if port is None:
        return [address]
    if _is_ip(host):
        return [join_hostport(host, port)]
    addresses = resolved_addresses(resolved, host)
    if not addresses:
        return ['%s:%s' % (host, port)]
    return [join_hostport(a, port) for a in addresses]


def _listen_url(listen):
    """``(base_url, reason)``: where to send requests for the first ``listen`` value."""
    values = listen if isinstance(listen, list) else [listen] if listen else DEFAULT_LISTEN
    first = str(values[0]).split()
    if not first:
        return None, 'its first listen value is empty'
    address = first[0]
    if 'ssl' in first[1:] or 'quic' in first[1:]:
        return None, 'its first listen value %r is TLS, and the check speaks plain http' % values[0]
    if address.startswith('unix:'):
        return None, 'its first listen value %r is a unix socket' % values[0]
    if address.isdigit():
        host, port = '127.0.0.1', int(address)
    else:
        host, port = split_hostport(address)
        if host in ('*', '0.0.0.0', ''):
            host = '127.0.0.1'
        elif host == '::':
            host = '::1'
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        version = 4
    shown = '[%s]' % host if version == 6 else host
    return 'http://%s:%d' % (shown, port), None


def _host_header(server_name):
    """The Host header for the first ``server_name`` (a wildcard gets a name it matches), or ``None``."""
    names = server_name if isinstance(server_name, list) else [server_name] if server_name else []
    if not names:
        return None
    first = (str(names[0]).split() or [''])[0]
    if first in ('_', '') or first.startswith('~'):
        return None
    if first.startswith('*.'):
        return 'www.' + first[2:]
    if first.startswith('.'):
        return first[1:]
    if first.endswith('.*'):
        return first[:-2] + '.com'
    return first


def _location_target(path):
    """The request target for a location path, or ``None`` for regex and named locations."""
    parts = str(path or '/').split()
    if len(parts) == 2 and parts[0] in ('=', '^~'):
        parts = parts[1:]
    if len(parts) != 1 or not parts[0].startswith('/'):
        return None
    return parts[0]


def _group_expectation(group, resolved):
    """``(mode, weights, labels, note)`` for one upstream group."""
    method = group.get('method') or 'round_robin'
    servers = [s for s in group.get('servers') or [] if isinstance(s, dict) and isinstance(s.get('address'), str)]
    labels = {}
    for server in servers:
        for sid in server_ids(server['address'], resolved):
            labels.setdefault(sid, server['address'])
    if method not in WEIGHTED_METHODS:
        members = {}
        for server in servers:
            if not server.get('down'):
                for sid in server_ids(server['address'], resolved):
                    members.setdefault(sid, server['address'])
        return 'members', None, members, 'method %s: the split depends on the keys, every answer must come ' \
                                         'from a server of the group' % method
    weights = {}

    def add(server, weight):
        for sid in server_ids(server['address'], resolved):
            weights[sid] = weights.get(sid, 0) + weight

    for server in servers:
        # a draining server takes only the requests bound to it (sticky): none of the check's, which send no cookie
        active = not server.get('backup') and not server.get('down') and not server.get('drain')
        add(server, int(server.get('weight') or 1) if active else 0)
    if not any(weights.values()):
        weights = {}
        for server in servers:
            add(server, int(server.get('weight') or 1) if server.get('backup') and not server.get('down') else 0)
    if not any(weights.values()):
        return 'status', None, labels, 'group %s has no server that can take traffic' % group.get('name')
    return 'weights', weights, labels, None


def verify_plan(vhosts, upstreams, resolved=None):
    """One check per vhost location that proxies somewhere: where to send, what to expect.

    Each check: ``vhost``, ``location``, ``url``, ``host_header`` (absent when
    the vhost has no usable server_name), ``access_log`` (absent when the
    vhost writes no ``upstream_debug`` log), ``identify_by``, ``mode``
    (``weights``: the shares of the group's weights, ``members``: every answer
    from a server of the group, ``status``: only the status codes, ``skip``:
    nothing can be sent), ``expect_weights`` (with ``weights``), ``labels``
    (``$upstream_addr`` to the server as written), ``groups`` and ``note``.
    """
    groups = dict((g.get('name'), g) for g in _http_groups(upstreams))
    checks = []
    for vhost in _present(_items(vhosts, 'load_balancer_vhosts')):
        base_url, reason = _listen_url(vhost.get('listen'))
        host_header = _host_header(vhost.get('server_name'))
        log = vhost.get('access_log') or {}
        log_path = log.get('path') if log.get('format') == UPSTREAM_DEBUG and log.get('path') != 'off' else None
        locations = [loc for loc in _locations(vhost)
                     if loc.get('upstream') or loc.get('split') or loc.get('pass')]
        if not locations:
            checks.append({'vhost': vhost['name'], 'location': None, 'mode': 'skip', 'groups': [],
                           'note': 'it proxies nowhere', 'labels': {}})
            continue
        for location in locations:
            check = {'vhost': vhost['name'], 'location': location.get('path') or '/', 'labels': {},
                     'groups': _location_groups(location)}
            target = _location_target(location.get('path'))
            if reason:
                check.update(mode='skip', note=reason)
            elif target is None:
                check.update(mode='skip', note='location %r is a regex or named location; no request target '
                                               'can be derived' % location.get('path'))
            else:
                check['url'] = base_url + target
                if host_header:
                    check['host_header'] = host_header
                check.update(_expectation(location, groups, resolved))
                if check['mode'] in ('weights', 'members') and log_path is None:
                    check.update(mode='status', note='the vhost writes no upstream_debug access log, so only the '
                                                     'status codes are checked')
                if check['mode'] != 'weights':
                    check.pop('expect_weights', None)
            if log_path and check['mode'] != 'skip':
                check['access_log'] = log_path
                check['identify_by'] = 'log'
            else:
                check['identify_by'] = 'header'
            checks.append(check)
    return checks


def _expectation(location, groups, resolved):
    if location.get('upstream'):
        group = groups.get(location['upstream'])
        if group is None:
            return {'mode': 'status', 'note': 'group %s is not described in load_balancer_upstreams, so only the '
                                              'status codes are checked' % location['upstream']}
        mode, weights, labels, note = _group_expectation(group, resolved)
        result = {'mode': mode, 'labels': labels, 'method': group.get('method') or 'round_robin'}
        if weights:
            result['expect_weights'] = weights
        if note:
            result['note'] = note
        return result
    if location.get('split'):
        members, group_of = {}, {}
        for name in _location_groups(location):
            if name not in groups:
                return {'mode': 'status', 'note': 'group %s of the split is not described in load_balancer_upstreams, '
                                                  'so only the status codes are checked' % name}
            dummy, dummy, labels, dummy = _group_expectation(dict(groups[name], method='members'), resolved)
            members.update(labels)
            for sid in labels:
                group_of.setdefault(sid, name)
        shares = _split_groups(location)
        return {'mode': 'members', 'labels': members, 'group_of': group_of,
                'split_shares': dict((name, percent) for name, percent in shares),
                'note': 'split between groups %s: every answer must come from one of their servers, and each '
                        'group must take its share' % ', '.join('%s %g%%' % share for share in shares)}
    target = _pass_target(location.get('pass'))
    if target is None:
        return {'mode': 'status', 'note': 'pass %s names no fixed backend, so only the status codes are checked'
                                          % location.get('pass')}
    host, port, scheme = target
    if port is None and host in groups:
        return _expectation({'upstream': host}, groups, resolved)
    if port is None and not _is_ip(host) and not resolved_addresses(resolved, host):
        return {'mode': 'status', 'note': 'pass %s may name a group outside load_balancer_upstreams, so only the '
                                          'status codes are checked' % location.get('pass')}
    address = '%s:%s' % ('[%s]' % host if ':' in host else host, port or (443 if scheme == 'https' else 80))
    ids = server_ids(address, resolved)
    return {'mode': 'weights', 'expect_weights': dict((i, 1) for i in ids),
            'labels': dict((i, address) for i in ids), 'note': 'pass %s: one backend' % location.get('pass')}


def _share(count, total):
    return '%.1f%%' % (100.0 * count / total) if total else '-'


def verify_report(results, tolerance=0.1):
    """One table per vhost from the registered ``balance_check`` loop, and the problems, naming what is off.

    ``tolerance`` widens the range a split group's count may take (see ``split_range``).

    Returns ``[{vhost, lines, problems}]`` in the order of the vhosts.
    """
    reports = []
    by_vhost = {}
    for result in results or []:
        check = result.get('item') or {}
        name = check.get('vhost')
        if name not in by_vhost:
            by_vhost[name] = {'vhost': name, 'lines': [], 'problems': []}
            reports.append(by_vhost[name])
        _report_check(by_vhost[name], check, result, tolerance)
    return reports


def _report_check(report, check, result, tolerance=0.1):
    lines, problems = report['lines'], report['problems']
    where = 'vhost %s' % check.get('vhost')
    if check.get('location'):
        where += ', location %s' % check['location']
    if check.get('mode') == 'skip' or result.get('skipped'):
        lines.append('%s: not checked: %s' % (where, check.get('note') or 'skipped'))
        return
    head = '%s: %s requests to %s' % (where, result.get('requests', '?'), check.get('url'))
    if check.get('host_header'):
        head += ' (Host: %s)' % check['host_header']
    if check.get('groups'):
        head += ' -> group %s' % ', '.join(check['groups'])
    if check.get('access_log'):
        head += '; backends read from %s' % check['access_log']
    lines.append(head)
    if check.get('note'):
        lines.append('  note: %s' % check['note'])
    distribution = result.get('distribution') or {}
    total = sum(distribution.values())
    labels = check.get('labels') or {}
    expected = result.get('expected') or {}
    mode = check.get('mode')
    if mode in ('weights', 'members'):
        rows = list(check.get('expect_weights') or labels)
        rows += [k for k in sorted(distribution) if k not in rows]
        width = max([len(_label(r, labels)) for r in rows] + [len('backend')])
        lines.append('  %-*s %9s %7s  %s' % (width, 'backend', 'requests', 'share', 'expected'))
        for row in rows:
            count = distribution.get(row, 0)
            if mode == 'weights':
                want = ('%d (%s)' % (expected[row], _share(expected[row], total)) if row in expected
                        else 'not a server of this location')
            else:
                want = 'member' if row in labels else 'NOT A MEMBER'
            lines.append('  %-*s %9d %7s  %s' % (width, _label(row, labels), count, _share(count, total), want))
        if mode == 'members':
            for row in sorted(distribution):
                if row not in labels and distribution[row]:
                    problems.append('%s: %d of %d requests were answered by %s, which is not a server of group %s.'
                                    % (where, distribution[row], total, row, ', '.join(check.get('groups') or [])))
        if check.get('split_shares') and total:
            _report_split(where, check, distribution, total, lines, problems, tolerance)
    statuses = result.get('statuses') or {}
    if statuses:
        lines.append('  statuses: %s' % ', '.join('%s x%d' % (code, statuses[code]) for code in sorted(statuses)))
    if result.get('failed'):
        problems.append('%s: %s' % (where, result.get('msg') or 'the check failed'))


def _report_split(where, check, distribution, total, lines, problems, tolerance):
    """Each group's measured share of a split against its percent (a binomial range, see split_range)."""
    counts = dict((name, 0) for name in check['split_shares'])
    for row, count in distribution.items():
        name = (check.get('group_of') or {}).get(row)
        if name in counts:
            counts[name] += count
    width = max([len(name) for name in counts] + [len('group')])
    lines.append('  %-*s %9s %7s  %s' % (width, 'group', 'requests', 'share', 'configured (allowed)'))
    for name, percent in check['split_shares'].items():
        low, high = split_range(total, percent, tolerance)
        row = (width, name, counts[name], _share(counts[name], total), percent, low, high)
        lines.append('  %-*s %9d %7s  %g%% (%d to %d)' % row)
        if not low <= counts[name] <= high:
            problems.append('%s: group %s took %d of %d requests (%s), but the split gives it %g%% (%d to %d '
                            'allowed); check the split of this location on the proxy.'
                            % (where, name, counts[name], total, _share(counts[name], total), percent, low, high))


def _label(address, labels):
    written = labels.get(address)
    if written and written != address:
        return '%s (%s)' % (written, address)
    return address


# -- rollback ------------------------------------------------------------------

def _check_target(target, option):
    if not isinstance(target, str) or not target:
        raise ModelError(option, 'must be one backend host:port', 'give e.g. 10.0.0.11:8080', value=target)
    if '://' in target or '/' in target or target.startswith('unix:') or any(c.isspace() for c in target) \
            or any(c in target for c in ';{}"\'#$'):
        raise ModelError(option, 'is not a backend host:port', 'give e.g. 10.0.0.11:8080 (no scheme, no path)',
                         value=target)
    return target


def _first_server(group):
    for server in group.get('servers') or []:
        if isinstance(server, dict) and not server.get('backup') and not server.get('down') \
                and isinstance(server.get('address'), str) and not server['address'].startswith('unix:'):
            return server['address']
    return None


def rollback_plan(vhosts, upstreams, vhost=None, to=None, live=None, conf_dir=DEFAULT_CONF_DIR):
    """What a rollback writes: each location that used a group proxies to one backend.

    ``vhost``: the one vhost to roll back (default: every vhost). ``to``: one
    ``host:port`` for every location, or a dict group -> ``host:port``
    (default per location: its group's first server that is neither backup
    nor down; a split location takes the group with the largest share).
    ``live``: ``config_info``'s ``upstreams``, to find references outside the
    role's vhosts and servers of groups the role does not describe.

    Returns ``{vhosts, remove, keep, targets, probes, lines}``: the
    rolled-back vhosts, ``upstreams`` items with ``state: absent`` for the
    groups that nothing refers to any more, the groups kept with the reason,
    per location ``{vhost, location, group, target}``, the probe of the
    targets (as :func:`upstream_probes` gives it) and a readable summary.
    """
    all_vhosts = _present(_items(vhosts, 'load_balancer_vhosts'))
    groups = dict((g.get('name'), g) for g in _http_groups(upstreams))
    live = live or {}
    if to is not None and not isinstance(to, (str, dict)):
        raise ModelError('load_balancer_rollback_to', 'must be one host:port or a dict of group name to host:port',
                         'give e.g. 10.0.0.11:8080 or {app: 10.0.0.11:8080}', value=to)
    if vhost is not None:
        chosen = [v for v in all_vhosts if v.get('name') == vhost]
        if not chosen:
            raise ModelError('load_balancer_rollback_vhost', 'is not a vhost of load_balancer_vhosts (known: %s)'
                             % (', '.join(sorted(str(v.get('name')) for v in all_vhosts)) or 'none'),
                             'give the name of one of them, or leave it out to roll back every vhost', value=vhost)
    else:
        chosen = all_vhosts
    chosen_names = set(v['name'] for v in chosen)

    def target_for(group):
        if isinstance(to, str):
            return _check_target(to, 'load_balancer_rollback_to')
        if isinstance(to, dict) and group in to:
            return _check_target(to[group], 'load_balancer_rollback_to[%r]' % group)
        first = _first_server(groups[group]) if group in groups else None
        if first is None and group in live:
            first = _first_server((live[group] or {}).get('options') or {})
        if first is None:
            raise ModelError('load_balancer_rollback_to', 'names no backend for group %s, which has no server that is '
                             'neither backup nor down' % group,
                             'give load_balancer_rollback_to: {%s: HOST:PORT}' % group)
        return first

    rolled, targets, used = [], [], []
    for item in chosen:
        new = dict(item)
        new_locations = []
        for location in _locations(item):
            groups_here = _location_groups(location)
            if not groups_here:
                new_locations.append(location)
                continue
            if location.get('split'):
                shares = _split_groups(location)
                group = max(shares, key=lambda share: share[1])[0]
            else:
                group = groups_here[0]
            target = target_for(group)
            changed = dict((k, v) for k, v in location.items() if k not in ('upstream', 'split', 'split_key'))
            entry = {'vhost': item['name'], 'location': location.get('path') or '/', 'group': group,
                     'target': target}
            if isinstance(location.get('backend_tls'), dict):
                # the backend speaks TLS; keep verifying the name Nginx verified through the group
                tls = dict(location['backend_tls'])
                tls['name'] = tls.get('name') or group
                changed['backend_tls'] = tls
                changed['pass'] = 'https://%s' % target
                entry['tls'] = _tls_probes([{'name': item['name'], 'locations': [
                    {'path': '/', 'upstream': group, 'backend_tls': tls}]}])[group]
            else:
                changed['pass'] = 'http://%s' % target
            new_locations.append(changed)
            targets.append(entry)
            for name in groups_here:
                if name not in used:
                    used.append(name)
        new.pop('upstream', None)
        new['locations'] = new_locations
        rolled.append(new)

    still_used = set()
    for item in all_vhosts:
        if item['name'] not in chosen_names:
            for location in _locations(item):
                still_used.update(_location_groups(location))
    chosen_files = set(target_path(v, v['name'], 'vhost', conf_dir) for v in chosen)
    remove, keep = [], []
    for name in used:
        outside = [r for r in (live.get(name) or {}).get('references') or [] if r.get('file') not in chosen_files]
        if name in still_used:
            keep.append({'name': name, 'reason': 'another vhost of load_balancer_vhosts proxies to it'})
        elif outside:
            keep.append({'name': name, 'reason': 'still referred to at %s' % ', '.join(
                '%s:%s' % (r.get('file'), r.get('line')) for r in outside)})
        elif name not in groups:
            keep.append({'name': name, 'reason': 'it is not described in load_balancer_upstreams'})
        else:
            item = {'name': name, 'state': 'absent'}
            if groups[name].get('path'):
                item['path'] = groups[name]['path']
            remove.append(item)
    lines = ['vhost %(vhost)s, location %(location)s: group %(group)s -> %(target)s' % t for t in targets]
    lines += ['group %s: removed, nothing refers to it any more' % r['name'] for r in remove]
    lines += ['group %(name)s: kept, %(reason)s' % k for k in keep]
    probes = []
    for entry in targets:
        tls = entry.get('tls')
        probe = next((p for p in probes if p.get('tls') == tls), None)
        if probe is None:
            probe = {'name': None, 'label': 'rollback targets' + (' over TLS' if tls else ''), 'backends': [],
                     'min_healthy': 0}
            if tls:
                probe['tls'] = tls
            probes.append(probe)
        if entry['target'] not in probe['backends']:
            probe['backends'].append(entry['target'])
            probe['min_healthy'] = len(probe['backends'])
    return {'vhosts': rolled, 'remove': remove, 'keep': keep, 'targets': targets, 'lines': lines or ['nothing to roll back'],
            'probes': probes}


# -- firewall ------------------------------------------------------------------

def _hostvar(hostvars, host, name, default=None):
    try:
        value = hostvars[host][name]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def backend_ports(proxies, hostvars, names, variable='load_balancer_upstreams'):
    """TCP ports of every server, in the proxies' upstream groups (``variable``), whose host is one of ``names``."""
    wanted = set()
    for name in names or []:
        if name:
            wanted.add(str(name).lower())
            if _is_ip(str(name)):
                wanted.add(ipaddress.ip_address(str(name)).compressed)
    ports = set()
    for proxy in proxies or []:
        upstreams = _hostvar(hostvars, proxy, variable, [])
        for group in _present(upstreams if isinstance(upstreams, list) else []):
            for server in group.get('servers') or []:
                if not isinstance(server, dict) or not isinstance(server.get('address'), str):
                    continue
                host, port = split_hostport(server['address'])
                if port is None:
                    continue
                key = ipaddress.ip_address(host).compressed if _is_ip(host) else host.lower()
                if key in wanted:
                    ports.add(port)
    return sorted(ports)


def proxy_addresses(proxies, hostvars):
    """``[{host, address}]``: each proxy's ``ansible_host`` when it is an IP, else its gathered default IPv4.

    ``address`` is ``None`` while no facts were gathered from a proxy whose
    ``ansible_host`` is a name (gather them with a delegated ``setup``).
    """
    result = []
    for proxy in proxies or []:
        host = str(_hostvar(hostvars, proxy, 'ansible_host', proxy))
        if _is_ip(host):
            address = host
        else:
            facts = _hostvar(hostvars, proxy, 'ansible_facts', {}) or {}
            default = facts.get('default_ipv4') or {}
            address = default.get('address') or None
        result.append({'host': proxy, 'address': address})
    return result


def firewall_scope(ports, sources):
    """Validated ``{ports, ipv4, ipv6}`` for the firewall: sorted ports, sources (addresses or networks) by family."""
    clean_ports = set()
    for index, port in enumerate(ports or []):
        value = int(port) if isinstance(port, str) and port.isdigit() else port
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise ModelError('load_balancer_firewall_ports[%d]' % index, 'is not a TCP port',
                             'give a number from 1 to 65535', value=port)
        clean_ports.add(value)
    ipv4, ipv6 = [], []
    for index, source in enumerate(sources or []):
        try:
            network = ipaddress.ip_network(str(source), strict=False)
        except ValueError:
            raise ModelError('load_balancer_firewall_allow[%d]' % index, 'is not an IP address or network',
                             'give e.g. 10.0.0.5 or 10.0.0.0/24', value=source)
        single = network.num_addresses == 1
        text = str(network.network_address) if single else str(network)
        family = ipv4 if network.version == 4 else ipv6
        if text not in family:
            family.append(text)
    return {'ports': sorted(clean_ports), 'ipv4': sorted(ipv4, key=_net_key), 'ipv6': sorted(ipv6, key=_net_key)}


def _net_key(text):
    network = ipaddress.ip_network(text, strict=False)
    return (int(network.network_address), network.prefixlen)
