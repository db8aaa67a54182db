# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis strategies and the options that take free text, shared by the property tests.

Every place below is an option whose value the renderer quotes and escapes
(as opposed to bare words such as addresses, which are refused outright when
they hold syntax).  ``PLACES`` maps a place to ``(make options, option path,
directive, which argument of it holds the value)``.
"""

from __future__ import annotations

from hypothesis import strategies as st

# Characters that matter to Nginx's tokenizer, to crossplane's quoting, to
# variables and to terminals, mixed with ordinary text.
TRICKY = (list(';{}#"\'\\ $\t\r\n\x00\x0b\x1b\x7f\x85\xa0\u2028\u200b\ufeffé日')
          + ['\\r', '\\n', '\\t', '${host}', '$host', '\\\\'])
tricky_text = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(min_size=1, max_size=3)),
                       max_size=12).map(''.join)
any_text = st.one_of(tricky_text, st.text(max_size=30))

APP = {'upstream': 'app'}


def _vhost(**extra):
    options = {'name': 'v', 'listen': ['127.0.0.1:18999']}
    options.update(extra)
    return options


PLACES = {
    'proxy_header': (lambda v: _vhost(upstream='app', proxy_headers={'X-Value': v}), 'proxy_headers.X-Value',
                     'proxy_set_header', 1),
    'location_header': (lambda v: _vhost(locations=[dict(APP, path='/', headers={'X-Value': v})]),
                        'locations[0].headers.X-Value', 'proxy_set_header', 1),
    'regex_path': (lambda v: _vhost(locations=[dict(APP, path='~ ' + v)]), 'locations[0].path', 'location', 1),
    'prefix_path': (lambda v: _vhost(locations=[dict(APP, path='/' + v)]), 'locations[0].path', 'location', 0),
    'server_name_regex': (lambda v: _vhost(upstream='app', server_name=['~' + v]), 'server_name[0]', 'server_name',
                          0),
    'log_format': (lambda v: {'name': 'fmt', 'format': v}, 'format', 'log_format', 1),
    'hash_key': (lambda v: {'name': 'g', 'method': 'hash', 'hash_key': v, 'servers': ['127.0.0.1:8081']},
                 'hash_key', 'hash', 0),
}
KIND = {'log_format': 'log_format', 'hash_key': 'upstream'}


def written(place, value):
    """The value as the option holds it (paths and regex names carry their prefix)."""
    return {'prefix_path': '/' + value, 'server_name_regex': '~' + value}.get(place, value)
