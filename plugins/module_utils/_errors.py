# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the engine.

Every refusal names the option path, the value, the rule that was broken and
the fix.  Shells (action plugins, modules, filters) turn them into
``fail_json`` / ``AnsibleActionFail`` output; the engine never formats
Ansible results itself.  Standard library only.
"""

from __future__ import annotations

_NO_VALUE = object()


def show(value):
    """Render a value for a message the way a user typed it."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


class BalancerError(Exception):
    """Base class: ``option: [value] problem; fix.``"""

    def __init__(self, option, problem, fix=None, value=_NO_VALUE):
        self.option = option
        self.problem = problem
        self.fix = fix
        self.value = None if value is _NO_VALUE else value
        text = option + ': '
        if value is not _NO_VALUE:
            text += show(value) + ' '
        text += problem
        if fix:
            text += '; ' + fix
        if not text.endswith('.'):
            text += '.'
        super(BalancerError, self).__init__(text)

    @property
    def message(self):
        return str(self)


class ModelError(BalancerError):
    """The description itself is invalid (checked before anything is read)."""


class FeatureError(BalancerError):
    """The description asks for a feature that the proxy's Nginx lacks."""


class InspectError(BalancerError):
    """The description does not fit the proxy's whole configuration."""
