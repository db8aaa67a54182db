# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stream proxy: one virtual server of Nginx's stream context (TCP or UDP) in front of a stream group.

``StreamProxy.from_options`` validates the ``stream_proxy`` module's options
(or a ``site`` item) with the table (``_options.STREAM_PROXY_OPTIONS``); the
addresses it listens on are bare words (``5432``, ``53 udp``, ``127.0.0.1:6000``).
Every directive name comes from the table.  Data in, data out.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict

from ansible_collections.balancer.nginx.plugins.module_utils import _options as o
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError
from ansible_collections.balancer.nginx.plugins.module_utils._render import Lines, directives, stmt
from ansible_collections.balancer.nginx.plugins.module_utils._values import check_listen_values


@dataclass
class StreamProxy:
    values: Dict[str, Any]

    @property
    def name(self) -> str:
        return self.values[o.NAME.name]

    @property
    def upstream(self) -> str:
        return self.values[o.STREAM_UPSTREAM.name]

    @classmethod
    def from_options(cls, options, prefix: str = '') -> 'StreamProxy':
        values = o.STREAM_PROXY_OPTIONS.validate(options, prefix, 'stream proxy options', o.STREAM)
        addresses = values[o.STREAM_LISTEN.name]
        if not addresses:
            raise ModelError(prefix + o.STREAM_LISTEN.name, 'is required: a stream proxy listens on a port',
                             'give e.g. "5432", "53 udp" or "127.0.0.1:6000"')
        check_listen_values(prefix + o.STREAM_LISTEN.name, addresses, 'a %s address' % o.LISTEN)
        if values[o.STREAM_UPSTREAM.name] is None:
            raise ModelError(prefix + o.STREAM_UPSTREAM.name, 'is required: the stream group to proxy to',
                             'give the name of an upstream with context: stream')
        return cls(values)

    def to_options(self) -> Dict[str, Any]:
        options = o.compact(copy.deepcopy(self.values))
        options.pop(o.STATE.name, None)
        return options

    def statements(self):
        return [self.payload]

    def payload(self, lines: Lines = None):
        lines = lines or Lines()
        head = stmt(lines, o.SERVER, [], block=[])
        block = head['block']
        for item in self.values[o.STREAM_LISTEN.name]:
            block.append(stmt(lines, o.LISTEN, item.split()))
        block.append(stmt(lines, o.PROXY_PASS, [self.upstream]))
        directives(o.STREAM_PROXY_OPTIONS, self.values, 'body', lines, block)
        return head
