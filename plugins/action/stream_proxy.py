# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of balancer.nginx.stream_proxy (documentation in plugins/modules/stream_proxy.py)."""

from __future__ import annotations

from ansible_collections.balancer.nginx.plugins.plugin_utils._nginx_action import SingleFileAction


class ActionModule(SingleFileAction):

    kind = 'stream_proxy'
