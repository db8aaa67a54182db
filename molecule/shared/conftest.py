"""Linked as tests/conftest.py by the scenarios whose verifiers use lab_ops.

Through the link, this file's real directory is molecule/shared: it goes on
sys.path, so the tests can import lab_ops, and lab_ops' fixtures become
available to them.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from lab_ops import baseline  # pylint: disable=unused-import  # noqa: E402,F401 (a fixture, used by name)
