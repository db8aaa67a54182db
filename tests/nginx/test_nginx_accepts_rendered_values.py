# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sample of the values the model accepts, rendered and tested by a real ``nginx -t``.

The unit property test (tests/unit/plugins/module_utils/test__render_property.py)
proves that Nginx's tokenizer reads back exactly what was written; this one
proves that Nginx itself accepts the files: for every free-text option, about
forty values drawn by Hypothesis, each in a throwaway configuration tested by
the nginx on PATH. Values whose meaning Nginx judges beyond syntax are drawn
so that they are meaningful: variables Nginx knows, regexes that compile.
Run by ``make integration``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, assume, given, settings

from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.tests.unit.plugins.module_utils.test__render_property import (
    VARIABLE_PLACES, build)
from ansible_collections.balancer.nginx.tests.unit.value_strategies import PLACES, any_text

NGINX = shutil.which('nginx') or '/usr/sbin/nginx'
KNOWN_VARIABLES = {'host', 'remote_addr', 'request_uri', 'status', 'uri', 'scheme', 'server_port'}
REGEX_PLACES = ('regex_path', 'server_name_regex')

MAIN = '''pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 16; }}
http {{
    access_log off;
    client_body_temp_path {root}/t1; proxy_temp_path {root}/t2; fastcgi_temp_path {root}/t3;
    uwsgi_temp_path {root}/t4; scgi_temp_path {root}/t5;
    upstream app {{ server 127.0.0.1:1; }}
    include {root}/conf.d/*.conf;
}}
'''


def nginx_t(root, text):
    os.makedirs(os.path.join(root, 'conf.d'), exist_ok=True)
    with open(os.path.join(root, 'nginx.conf'), 'w') as handle:
        handle.write(MAIN.format(root=root))
    with open(os.path.join(root, 'conf.d', 'value.conf'), 'w', encoding='utf-8') as handle:
        handle.write(text)
    run = subprocess.run([NGINX, '-t', '-c', os.path.join(root, 'nginx.conf')], capture_output=True, timeout=30,
                         check=False)
    return run.returncode, run.stderr.decode('utf-8', 'replace')


def meaningful(place, value):
    if place in VARIABLE_PLACES:
        names = re.findall(r'\$\{?([A-Za-z0-9_]+)', value)
        return all(name in KNOWN_VARIABLES for name in names)
    if place in REGEX_PLACES:
        try:
            re.compile(value)
        except (re.error, RecursionError):
            return False
        return '(?' not in value   # Python's and PCRE's extension syntax differ
    return True


def test_nginx_is_there():
    assert os.access(NGINX, os.X_OK), 'no nginx at %s (make apt installs it)' % NGINX


@pytest.mark.parametrize('place', sorted(PLACES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                 HealthCheck.function_scoped_fixture])
@given(value=any_text)
def test_nginx_t_accepts_what_the_model_accepts(place, value, tmp_path):
    assume(meaningful(place, value))
    try:
        model, text = build(place, value)
    except ModelError:
        assume(False)
    rc, output = nginx_t(str(tmp_path), text)
    assert rc == 0, '%s %r:\n%s\n%s' % (place, value, text, output)
