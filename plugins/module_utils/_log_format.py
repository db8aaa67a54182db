# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A named log format: the table's values, the ready ``upstream_debug`` format, the payload.  Data in, data out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ansible_collections.balancer.nginx.plugins.module_utils import _options as o
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._render import Lines, stmt, variable_arg
from ansible_collections.balancer.nginx.plugins.module_utils._values import check_text

ESCAPE_ARG = 'escape='


@dataclass
class LogFormat:
    name: str
    format: List[str]
    escape: Optional[str] = None

    @classmethod
    def from_options(cls, options, prefix: str = '') -> 'LogFormat':
        values = o.LOG_FORMAT_OPTIONS.validate(options, prefix, 'log format options')
        name = values[o.NAME.name]
        if name in o.BUILTIN_LOG_FORMATS:
            raise ModelError(prefix + o.NAME.name, 'is built into Nginx and cannot be redefined',
                             'choose another name', value=name)
        option = prefix + o.LOG_FORMAT_FORMAT.name
        parts = values[o.LOG_FORMAT_FORMAT.name]
        if parts is None:
            if name != o.UPSTREAM_DEBUG:
                raise ModelError(option, 'is required (only %s has a ready format)' % o.UPSTREAM_DEBUG,
                                 'give the format string, e.g. "$remote_addr $status $upstream_addr"')
            parts = [o.UPSTREAM_DEBUG_FORMAT]
        if isinstance(parts, str):
            parts = [parts]
        if not isinstance(parts, list) or not parts:
            raise ModelError(option, 'must be a string or a non-empty list of strings', 'give the format string')
        checked = []
        for index, part in enumerate(parts):
            part = str(part)
            check_text('%s[%d]' % (option, index) if len(parts) > 1 else option, part, 'a log format',
                       variables=True)
            checked.append(part)
        return cls(name, checked, values[o.ESCAPE.name])

    def to_options(self) -> Dict[str, Any]:
        return {o.NAME.name: self.name, o.LOG_FORMAT_FORMAT.name: list(self.format), o.ESCAPE.name: self.escape}

    def statements(self):
        """The file's statements, each a ``make(lines)``."""
        return [self.payload]

    def payload(self, lines: Lines = None):
        lines = lines or Lines()
        args = [self.name] + ([ESCAPE_ARG + self.escape] if self.escape else [])
        return stmt(lines, o.LOG_FORMAT, args + [variable_arg(part) for part in self.format])
