# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The target-side transaction: stage every file, one ``nginx -t``, keep or restore.

Standard library plus ``AnsibleModule`` helpers (``atomic_move``,
``backup_local``, file attributes).  A failed change never stays on disk:
on any failure every previous byte is put back and files that did not exist
are removed again, before the module fails.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import traceback

from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.balancer.nginx.plugins.module_utils import _nginx


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def read_bytes(path):
    """Current bytes of ``path`` or ``None`` when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise exc


class _Entry(object):
    __slots__ = ('path', 'old', 'old_stat', 'new', 'backup_file', 'written')

    def __init__(self, path, old, old_stat, new):
        self.path = path
        self.old = old
        self.old_stat = old_stat
        self.new = new
        self.backup_file = None
        self.written = False


class Transaction(object):
    """Stage, validate once, commit or restore.

    ``files`` is a list of ``{path, content}`` (``content`` ``None`` removes
    the file).  ``expected`` maps a path to the sha1 of the bytes the
    controller planned against (``None``: absent), so that a file changed on
    the proxy in between is not overwritten blindly.
    """

    def __init__(self, module, nginx_binary, nginx_conf):
        self.module = module
        self.nginx_binary = nginx_binary
        self.nginx_conf = nginx_conf
        self.entries = []
        self.test_output = None

    def plan(self, files, expected=None):
        expected = expected or {}
        for item in files:
            path = item['path']
            old = read_bytes(path)
            if path in expected:
                want = expected[path]
                have = None if old is None else sha1(old)
                if want != have:
                    self.module.fail_json(
                        msg='%s: the file changed on the proxy after it was read (expected %s, found %s); '
                            'nothing was written, run the task again.' % (path, want or 'absent', have or 'absent'))
            new = None if item.get('content') is None else to_bytes(item['content'], errors='surrogate_or_strict')
            old_stat = os.stat(path) if old is not None else None
            self.entries.append(_Entry(path, old, old_stat, new))
        return [e for e in self.entries if e.old != e.new]

    def _write(self, path, data):
        directory = os.path.dirname(path) or '.'
        handle, tmp = tempfile.mkstemp(prefix='.balancer-', suffix='.tmp', dir=directory)
        try:
            with os.fdopen(handle, 'wb') as out:
                out.write(data)
            self.module.atomic_move(tmp, path, unsafe_writes=self.module.params.get('unsafe_writes', False))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def stage(self, backup=False):
        """Put every changed file in place (atomically, one by one)."""
        for entry in self.entries:
            if entry.old == entry.new:
                continue
            if entry.new is not None and not os.path.isdir(os.path.dirname(entry.path) or '.'):
                self.restore()
                self.module.fail_json(msg='%s: the directory %s does not exist; create it or choose another '
                                          'conf_dir/path.' % (entry.path, os.path.dirname(entry.path)))
            if backup and entry.old is not None:
                entry.backup_file = self.module.backup_local(entry.path)
            entry.written = True
            if entry.new is None:
                os.unlink(entry.path)
            else:
                self._write(entry.path, entry.new)

    def apply_attributes(self, file_args_for):
        """Apply owner/group/mode to the present files; returns True when something changed."""
        changed = False
        for entry in self.entries:
            if entry.new is None:
                continue
            args = file_args_for(entry.path)
            changed = self.module.set_fs_attributes_if_different(args, changed)
        return changed

    def validate(self):
        """One ``nginx -t -c nginx_conf``; ``(ok, output)``."""
        rc, out, err = _nginx.run(self.module, self.nginx_binary, ['-t', '-c', self.nginx_conf])
        self.test_output = (err or '') + (out or '')
        return rc == 0, self.test_output

    def restore(self):
        """Put every previous byte back; remove what did not exist.  Returns what was done."""
        done = []
        for entry in reversed(self.entries):
            if not entry.written:
                continue
            if entry.old is None:
                if os.path.lexists(entry.path):
                    os.unlink(entry.path)
                done.append('removed %s (it did not exist before)' % entry.path)
            else:
                self._write(entry.path, entry.old)
                mode = stat.S_IMODE(entry.old_stat.st_mode)
                os.chmod(entry.path, mode)
                try:
                    os.chown(entry.path, entry.old_stat.st_uid, entry.old_stat.st_gid)
                except OSError:
                    pass
                done.append('restored %s' % entry.path)
            entry.written = False
        return done

    def results(self):
        return [{'path': e.path, 'changed': e.old != e.new, 'state': 'absent' if e.new is None else 'present',
                 'backup_file': e.backup_file} for e in self.entries]


def run_transaction(module, files, nginx_binary, nginx_conf, validate=True, backup=False, expected=None,
                    file_args_for=None):
    """The whole target-side commit; exits the module with its result."""
    binary = _nginx.require_binary(module, nginx_binary) if validate else nginx_binary
    tx = Transaction(module, binary, nginx_conf)
    changes = tx.plan(files, expected)
    if module.check_mode:
        # set_fs_attributes_if_different only reports in check mode; files that do not exist yet have none.
        attrs_changed = False
        if file_args_for:
            for entry in tx.entries:
                if entry.new is not None and entry.old is not None:
                    attrs_changed = module.set_fs_attributes_if_different(file_args_for(entry.path), attrs_changed)
        module.exit_json(changed=bool(changes) or attrs_changed, files=tx.results(), nginx_test=None)
    try:
        tx.stage(backup=backup)
        attrs_changed = tx.apply_attributes(file_args_for) if file_args_for else False
        test = None
        if validate and changes:
            ok, output = tx.validate()
            test = {'ok': ok, 'output': output}
            if not ok:
                restored = tx.restore()
                file_, line, message = _nginx.parse_test_output(output)
                module.fail_json(
                    msg='nginx -t rejected the change, so nothing was kept: %s -- Restored: %s.'
                        % (output.strip(), '; '.join(restored) or 'nothing to restore'),
                    nginx_test={'ok': False, 'file': file_, 'line': line, 'message': message, 'output': output},
                    restored=restored, files=tx.results())
    except Exception as exc:  # restore on anything unexpected, then report it
        if isinstance(exc, SystemExit):
            raise
        restored = tx.restore()
        module.fail_json(msg='Writing the configuration failed (%s); restored: %s.'
                             % (to_native(exc), '; '.join(restored) or 'nothing to restore'),
                         exception=traceback.format_exc(), restored=restored)
    module.exit_json(changed=bool(changes) or attrs_changed, files=tx.results(), nginx_test=test)
