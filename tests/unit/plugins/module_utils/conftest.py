# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Golden files of the rendering tests (``golden/NAME.conf``).

After a deliberate change to the rendering, ``BALANCER_UPDATE_GOLDEN=1`` rewrites
the files and fails the test, so that an update never passes by comparing the
output with itself: rerun without it and review ``git diff`` of golden/.
"""

from __future__ import annotations

import os

import pytest

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')


@pytest.fixture
def golden():
    def check(name, text):
        path = os.path.join(GOLDEN, name + '.conf')
        data = text.encode('utf-8')
        if os.environ.get('BALANCER_UPDATE_GOLDEN'):
            with open(path, 'wb') as handle:
                handle.write(data)
            pytest.fail('rewrote %s (BALANCER_UPDATE_GOLDEN is set); review the diff and rerun without it' % path)
        with open(path, 'rb') as handle:
            assert data == handle.read()
    return check
