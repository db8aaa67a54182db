# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of every file-writing module, shared by the action plugins.

One round trip reads the proxy (``balancer.nginx.snapshot``), the engine plans
(model, render, inspect), and one round trip commits
(``balancer.nginx.commit``: stage, one ``nginx -t``, keep or restore).  A
subclass supplies the argument spec and ``plan()``; nothing else.
"""

from __future__ import annotations

import gc
import hashlib
import os

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.action import ActionBase

from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _inspect, _nginx, _options, _render, _specs
from ansible_collections.balancer.nginx.plugins.module_utils._engine import Snapshot
from ansible_collections.balancer.nginx.plugins.module_utils._errors import BalancerError
from ansible_collections.balancer.nginx.plugins.plugin_utils._task_args import plain_variable

FILE_ARG_KEYS = tuple(_specs.FILE_COMMON_ARGS)


TIMEOUT = _options.COMMON['nginx_timeout']
ITEM = '_item'      # in the validated parameters: what the task gave besides the common options


def checked_timeout(params):
    """``params``, once ``nginx_timeout`` is a number of seconds Nginx may take (the table's range)."""
    if params.get(TIMEOUT.name) is not None:
        try:
            params[TIMEOUT.name] = _options.coerce(TIMEOUT, params[TIMEOUT.name], TIMEOUT.name)
        except BalancerError as exc:
            raise AnsibleActionFail(str(exc))
    return params


def parse_cache_file(host, nginx_conf):
    """Where the controller keeps crossplane's parses of a proxy's files between runs (under ANSIBLE_HOME)."""
    key = hashlib.sha1(('%s\0%s' % (host, nginx_conf)).encode('utf-8', 'surrogateescape')).hexdigest()
    return os.path.join(os.path.expanduser(getattr(C, 'ANSIBLE_HOME', None) or '~/.ansible'), 'balancer_nginx',
                        'parse_cache', key + '.json')


def file_diff(change):
    """One file's diff in Ansible's shape, honouring MAX_FILE_SIZE_FOR_DIFF."""
    diff = {'before_header': change.path, 'after_header': change.path}
    limit = C.MAX_FILE_SIZE_FOR_DIFF
    before = change.before_text
    after = change.after or ''
    if len(before) > limit:
        diff['dst_larger'] = limit
    else:
        diff['before'] = before
    if len(after) > limit:
        diff['src_larger'] = limit
    else:
        diff['after'] = after
    return diff


class NginxFileAction(ActionBase):
    """Base class of the file-writing modules' action plugins.

    A subclass sets ``argument_spec``/``argument_rules`` and says which items
    a call describes (``describe``) and what it returns (``result_of``).
    """

    TRANSFERS_FILES = False
    argument_spec = None
    argument_rules = None
    # The options of what the module describes (None: every option is validated by argument_spec).
    item_options = None
    module_kind = None

    @classmethod
    def finalize_task_arg(cls, name, value, templar, context):
        """An argument that is one variable of plain data (a whole site's upstreams) is copied, not templated.

        Ansible (2.19 and later) calls this for each argument. What it returns is
        what Ansible's templating would; anything that needs templating is
        templated by Ansible, as is every argument if the lookup fails at all.
        """
        try:
            plain = plain_variable(value, templar.available_variables)
        except Exception:   # pylint: disable=broad-except  # an engine that is not 2.19's: template as Ansible does
            plain = None
        if plain is not None:
            return plain
        return super(NginxFileAction, cls).finalize_task_arg(name, value, templar, context)

    def describe(self, params):
        """Validated ``_engine.Item`` list (pure model checks, before any round trip)."""
        raise NotImplementedError

    def result_of(self, params, items, plan):
        """Module-specific return values."""
        return {}

    def read_proxy(self, params, task_vars, paths, dirs=()):
        nginx_conf = os.path.normpath(params['nginx_conf'])
        args = {
            'nginx_binary': params['nginx_binary'],
            'nginx_conf': nginx_conf,
            'nginx_timeout': params.get('nginx_timeout', 60),
            '_paths': sorted(set(paths)),
            '_dirs': sorted(set(dirs)),
        }
        if paths:
            args['_once'] = True    # each file the configuration dump holds byte for byte comes once, in the dump
        result = self._execute_module(module_name='balancer.nginx.snapshot', module_args=args, task_vars=task_vars)
        if result.get('failed'):
            raise AnsibleActionFail(result.get('msg') or 'reading the proxy failed: %s' % result,
                                    result=dict((k, result[k]) for k in ('recovered',) if k in result))
        snapshot = Snapshot.from_result(result, nginx_conf)
        self._recovered.extend(snapshot.recovered)
        return snapshot

    def validated(self):
        """The module's parameters: the common ones checked and defaulted, the item's as given.

        What an item holds is validated once, by the engine, option path by
        option path, whichever module describes it (so one rule gives one
        message through upstream and through site), and never deep-copied.
        """
        if not _render.HAS_CROSSPLANE:
            raise AnsibleActionFail(missing_required_lib('crossplane') + ' (on the controller)',
                                    result={'exception': _render.CROSSPLANE_IMPORT_ERROR})
        if self.item_options is None:
            validation, dummy = self.validate_argument_spec(argument_spec=self.argument_spec,
                                                            **(self.argument_rules or {}))
            return checked_timeout(validation.validated_parameters)
        args = self._task.args
        common = _options.common_of(self.module_kind)
        mine = set(common.names()) | set(common.aliases())
        try:
            params = common.validate(dict((k, v) for k, v in args.items() if k in mine))
        except BalancerError as exc:
            raise AnsibleActionFail(str(exc))
        # Everything else is the item's: the engine validates it, an unknown option included, with the same
        # message through this module and through site.
        params[ITEM] = dict((k, v) for k, v in args.items() if k not in mine)
        params.update(params[ITEM])
        return params

    def run(self, tmp=None, task_vars=None):
        result = super(NginxFileAction, self).run(tmp, task_vars)
        del tmp
        self._recovered = []
        # The task's arguments (a whole site: 100,000 objects and more) are alive for the whole run and hold no
        # garbage: frozen out of the collector, and no collection while the plan builds its own large, acyclic
        # data; both are restored after the task.
        collecting = gc.isenabled()
        gc.freeze()
        gc.disable()
        try:
            result = self.apply(result, task_vars)
        except AnsibleActionFail as exc:
            # What the snapshot rolled back from an interrupted run is said even when this task fails.
            if not self._recovered:
                raise
            contribution = exc.result
            contribution['warnings'] = list(contribution.get('warnings') or []) + self._recovered
            raise AnsibleActionFail(exc.message, result=contribution) from exc
        finally:
            _inspect.save_parse_cache()
            _inspect.use_parse_cache(None)
            if collecting:
                gc.enable()
            gc.unfreeze()
            self._remove_tmp_path(self._connection._shell.tmpdir)
            self.drop_consumed_args()
        if self._recovered:
            result.setdefault('warnings', []).extend(self._recovered)
        return result

    def drop_consumed_args(self):
        """Keep the task's lists and mappings out of the fields the worker sends back, when nothing runs it again.

        The worker sends the task's fields back with the result, its arguments included: for a whole site that
        is every upstream and vhost again, each value with its origin tags, pickled here and rebuilt on the
        controller for nothing (seconds at a thousand groups). A task with ``until`` or ``retries`` runs this
        action again with the same arguments, so it keeps them; the scalar arguments always stay, for callbacks
        that show them.
        """
        if self._task.until or self._task.retries:
            return
        self._task.args = dict((k, v) for k, v in self._task.args.items() if not isinstance(v, (list, dict)))

    def apply(self, result, task_vars):
        """Snapshot, plan, and commit when something changes."""
        params = self.validated()
        conf_dir = _engine.conf_dir_of(params)
        stream_conf_dir = _engine.stream_conf_dir_of(params)
        exclusive = bool(params.get('exclusive'))
        try:
            items = self.describe(params)
            _inspect.use_parse_cache(parse_cache_file((task_vars or {}).get('inventory_hostname'),
                                                      os.path.normpath(params['nginx_conf'])))
            paths = _engine.paths_to_read(items, conf_dir, params['nginx_conf'])
            dirs = set(os.path.dirname(item.path) for item in items) if exclusive else ()
            snapshot = self.read_proxy(params, task_vars, paths, dirs)
            plan = _engine.plan_site(items, snapshot, conf_dir, params['nginx_plus'], params.get('force', False),
                                     exclusive, params['backup_dir'] if params['backup'] else None,
                                     stream_conf_dir)
        except BalancerError as exc:
            raise AnsibleActionFail(str(exc), result=result)
        result.update(self.result_of(params, items, plan))
        if plan.warnings:
            result.setdefault('warnings', []).extend(plan.warnings)
        changes = [c for c in plan.changes if c.changed]
        if not changes and params['validate'] and not snapshot.config_ok:
            # Nothing to write means no nginx -t of our own: never report success over a broken configuration.
            file_, line, message = _nginx.parse_test_output(snapshot.config_error)
            raise AnsibleActionFail(
                'The proxy\'s configuration fails nginx -t as it is (%s%s), and this task changes nothing that '
                'could fix it; correct that file first (balancer.nginx.config_info with test: true shows the '
                'error).' % (message, ' at %s:%s' % (file_, line) if file_ else ''),
                result=dict(result, nginx_test={'ok': False, 'file': file_, 'line': line, 'message': message}))
        file_args = dict((k, params[k]) for k in FILE_ARG_KEYS if params.get(k) not in (None, False))
        # owner, group and mode are the managed files'; nginx.conf (the stream include) keeps its own
        present = [c for c in plan.changes if c.after is not None and c.path != snapshot.nginx_conf]
        touched = changes + [c for c in present if not c.changed] if file_args else changes
        if self._task.diff and changes:
            diffs = [file_diff(c) for c in changes]
            result['diff'] = diffs[0] if len(diffs) == 1 else diffs
        if not touched or (self._task.check_mode and not file_args):
            result['changed'] = bool(changes)
            return result
        committed = self._execute_module(module_name='balancer.nginx.commit', module_args=dict(
            file_args,
            files=[{'path': c.path, 'content': c.after, 'state': 'absent' if c.after is None else 'present'}
                   for c in touched],
            _expected=dict((c.path, None if c.before is None else hashlib.sha1(c.before).hexdigest())
                           for c in touched),
            _read_set=snapshot.read_set,
            _mkdirs=plan.mkdirs,
            _keep_attributes=[snapshot.nginx_conf],
            nginx_binary=params['nginx_binary'],
            nginx_conf=snapshot.nginx_conf,
            nginx_timeout=params['nginx_timeout'],
            validate=params['validate'],
            backup=params['backup'],
            backup_dir=params['backup_dir'],
        ), task_vars=task_vars)
        if committed.get('recovered'):
            result.setdefault('warnings', []).extend(committed['recovered'])
        if committed.get('failed'):
            result.update(failed=True, changed=False,
                          msg=committed.get('msg') or 'the commit on the proxy failed without a message: %s' % committed)
            for key in ('nginx_test', 'restored', 'exception'):
                if key in committed:
                    result[key] = committed[key]
            return result
        result['changed'] = bool(committed.get('changed'))
        backups = [f['backup_file'] for f in committed.get('files', []) if f.get('backup_file')]
        if backups:
            result['backup_file'] = backups[0] if len(backups) == 1 else backups
        if not result['changed']:
            result.pop('diff', None)
        return result


class SingleFileAction(NginxFileAction):
    """upstream, vhost, log_format: one item, its own file."""

    kind = None

    @property
    def item_options(self):
        return _options.ITEMS[self.kind]

    @property
    def module_kind(self):
        return self.kind

    def describe(self, params):
        item = params[ITEM]
        return _engine.describe(_engine.conf_dir_of(params), prefixed=False,
                                stream_conf_dir=_engine.stream_conf_dir_of(params),
                                **{_engine.GROUPS[self.kind]: [item]})

    def result_of(self, params, items, plan):
        item = items[0]
        change = [c for c in plan.changes if c.path == item.path][0]
        return {'path': item.path, 'content': change.after,
                self.kind: item.model.to_options() if item.model is not None else None}
