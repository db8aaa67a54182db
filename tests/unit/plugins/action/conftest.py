# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugins keep crossplane's parses under ANSIBLE_HOME between runs: in these tests, in a
temporary directory, never in the user's own ~/.ansible."""

from __future__ import annotations

import pytest

from ansible import constants as C


@pytest.fixture(autouse=True)
def _private_ansible_home(tmp_path, monkeypatch):
    monkeypatch.setattr(C, 'ANSIBLE_HOME', str(tmp_path / 'ansible-home'), raising=False)
