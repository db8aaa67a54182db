# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of balancer.nginx.backend_probe (documentation and probing in plugins/modules/backend_probe.py).

Only ``upstream`` is resolved here: one snapshot of the proxy, parsed on the
controller, gives the group's servers; the target module then probes them
as ``backends``.  With ``backends`` the call goes straight to the module.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.balancer.nginx.plugins.module_utils import _probe, _render, _specs
from ansible_collections.balancer.nginx.plugins.module_utils._errors import InspectError
from ansible_collections.balancer.nginx.plugins.module_utils._upstream import Upstream
from ansible_collections.balancer.nginx.plugins.plugin_utils._nginx_action import NginxFileAction, checked_timeout


def upstream_targets(tree, name):
    """``(targets, skipped)`` of the group ``name`` in ``tree`` (see ``_probe.probe_targets``)."""
    definitions = tree.upstream_definitions(name)
    if not definitions:
        known = ', '.join(sorted(_render.nginx_value(d[0].args[0]) for d in tree.upstreams.values())) or 'none'
        raise InspectError('upstream', 'is not defined in the configuration of %s (defined: %s)'
                           % (tree.nginx_conf, known), 'give the name of an upstream group', value=name)
    options, dummy = Upstream.read(name, definitions[0].block or [])
    targets, skipped = _probe.probe_targets(options['servers'])
    if not targets:
        reasons = ', '.join('%s (%s)' % (s['address'], s['reason']) for s in skipped) or 'no server lines'
        raise InspectError('upstream', 'has no server that can be probed: %s' % reasons,
                           'bring a server back (remove down) or give backends', value=name)
    return targets, skipped


class ActionModule(NginxFileAction):
    """Read-only: resolve ``upstream`` on the controller, probe on the proxy."""

    def apply(self, result, task_vars):
        validation, dummy = self.validate_argument_spec(argument_spec=_specs.BACKEND_PROBE,
                                                        **_specs.BACKEND_PROBE_RULES)
        params = dict(checked_timeout(validation.validated_parameters))
        name = params.pop('upstream')
        targets = skipped = None
        if name is not None:
            if not _render.HAS_CROSSPLANE:
                raise AnsibleActionFail(missing_required_lib('crossplane') + ' (on the controller, for upstream)',
                                        result={'exception': _render.CROSSPLANE_IMPORT_ERROR})
            snapshot = self.read_proxy(params, task_vars, [])
            tree = snapshot.tree()
            try:
                targets, skipped = upstream_targets(tree, name)
            except InspectError as exc:
                raise AnsibleActionFail(str(exc))
            params['backends'] = [t['address'] for t in targets]
        args = dict((key, value) for key, value in params.items() if value is not None)
        probed = self._execute_module(module_name='balancer.nginx.backend_probe', module_args=args,
                                      task_vars=task_vars)
        backup = dict((t['address'], t['backup']) for t in targets or [])
        for entry in probed.get('backends') or []:
            entry['backup'] = backup.get(entry.get('address'), False)
        if name is not None:
            probed['upstream'] = name
            probed['skipped'] = skipped
        result.update(probed)
        result['changed'] = False
        return result
