# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A task argument that names one variable of plain data, taken without templating every value of it.

``upstreams: "{{ load_balancer_upstreams }}"`` with a thousand groups is about
100,000 values. ansible-core 2.19 templates each of them on its own as it
finalizes the task's arguments (seconds at a thousand groups, more than the
collection's own work), although a string without a template start renders
to itself. ``plain_variable`` looks the variable up and walks its value once:
when every value is a dict, a list, a string without ``{{``, ``{%`` or ``{#``,
a number, a boolean or null, it returns a copy of it, which is what the
templating would have returned; anything else (a template, a vaulted value, a
lazy or deprecated value, an undefined variable, an argument that is more than
one variable) gives ``None`` and the caller templates as Ansible does.

Ansible calls ``finalize_task_arg`` (ansible-core 2.19 and later, marked
experimental there) for each argument; earlier versions never call it, and a
change of its shape falls back to Ansible's own templating.
"""

from __future__ import annotations

import re

try:
    from ansible.module_utils._internal._datatag import (
        _AnsibleTaggedDict, _AnsibleTaggedFloat, _AnsibleTaggedInt, _AnsibleTaggedList, _AnsibleTaggedStr)
    from ansible.module_utils._internal._datatag._tags import Deprecated
    from ansible.template import is_trusted_as_template
except ImportError:     # ansible-core before 2.19: finalize_task_arg is never called
    HAS_DATATAG = False
else:
    HAS_DATATAG = True

# One variable and nothing else: '{{ name }}', '{{name}}'.
BARE_VARIABLE = re.compile(r'\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\Z')
# What makes a string (possibly) a template in Jinja's default syntax, and Ansible's override header.
TEMPLATE_STARTS = ('{{', '{%', '{#')
OVERRIDE_HEADER = '#jinja2:'

if HAS_DATATAG:
    # Exact types: the lazy containers Ansible builds while templating subclass the tagged ones, and are refused.
    _DICTS = frozenset((dict, _AnsibleTaggedDict))
    _LISTS = frozenset((list, _AnsibleTaggedList))
    _STRINGS = frozenset((str, _AnsibleTaggedStr))
    _SCALARS = frozenset((bool, int, float, type(None), _AnsibleTaggedInt, _AnsibleTaggedFloat))


class NotPlain(Exception):
    """A value that Ansible's templating has to see."""


def _copy(value):
    kind = type(value)
    if kind in _STRINGS:
        if '{' in value and any(start in value for start in TEMPLATE_STARTS) or value.startswith(OVERRIDE_HEADER):
            raise NotPlain()
        return value
    if kind in _SCALARS:
        return value
    if kind in _DICTS:
        return {_copy(key): _copy(item) for key, item in value.items()}
    if kind in _LISTS:
        return [_copy(item) for item in value]
    raise NotPlain()


def plain_copy(value):
    """A copy of ``value`` when templating it would return it unchanged, else ``None``."""
    try:
        return _copy(value)
    except NotPlain:
        return None


def plain_variable(value, variables):
    """The list or dict that the argument ``value`` ('{{ name }}') renders to, without templating it, or ``None``.

    ``variables`` are the task's variables (the templar's ``available_variables``).
    """
    if not HAS_DATATAG or type(value) not in _STRINGS or not is_trusted_as_template(value):
        return None
    match = BARE_VARIABLE.match(value)
    if match is None or match.group(1) not in variables:
        return None
    found = variables[match.group(1)]
    if type(found) not in _LISTS and type(found) not in _DICTS or Deprecated.is_tagged_on(found):
        return None
    return plain_copy(found)
