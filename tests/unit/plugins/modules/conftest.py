# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a target module's ``main()`` in-process: its arguments patched in, its exit captured, HTTP stubbed.

Only ``ansible.module_utils`` is used, so these tests also run in
ansible-test's target environment.
"""

from __future__ import annotations

import http.client

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result)
        self.result = result
        self.failed = failed


@pytest.fixture
def run_module(monkeypatch):
    """``run_module(module, args)`` -> ``(result, failed)``."""

    def exit_json(self, **result):
        raise ModuleExit(result, False)

    def fail_json(self, msg, **result):
        result['msg'] = msg
        raise ModuleExit(result, True)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def run(module, args):
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as info:
                module.main()
        return info.value.result, info.value.failed

    return run


class FakeResponse(object):
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def read(self, limit):
        return self.body[:limit]


class FakeNetwork(object):
    """Stands in for ``http.client.HTTPConnection``: ``answer(host, port, target, headers)`` decides."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = []

    def connection(self, host, port, timeout):
        network = self

        class Connection(object):
            def request(self, method, target, headers):
                network.requests.append((host, port, method, target, dict(headers)))
                self.result = network.answer(host, port, target, headers)
                if isinstance(self.result, Exception):
                    raise self.result

            def getresponse(self):
                status, headers, body = self.result
                message = http.client.HTTPMessage()
                for key, value in headers.items():
                    message[key] = value
                return FakeResponse(status, message, body)

            def close(self):
                pass

        return Connection()


@pytest.fixture
def network(monkeypatch):
    """``network(answer)`` installs a :class:`FakeNetwork` in place of ``http.client.HTTPConnection``."""

    def install(answer):
        fake = FakeNetwork(answer)
        monkeypatch.setattr(http.client, 'HTTPConnection', fake.connection)
        return fake

    return install
