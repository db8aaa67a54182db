# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The target-side transaction: stage every file, one ``nginx -t``, keep or restore.

Standard library plus ``AnsibleModule`` helpers (``atomic_move``, file
attributes).  What "a bad change never reaches a running Nginx" means here:

- Commits on one proxy are serialized by a lock (per ``nginx_conf``), and a
  commit refuses when any configuration file the plan read has changed since
  (:func:`read_set_changes`), or when a file it writes is not the one planned
  against (``expected``).
- Before the first live file is touched, a journal records every previous
  byte and attribute.  Any failure (``nginx -t`` refused, an invalid owner or
  mode, a write that fails half-way, a timeout, SIGINT/SIGTERM/SIGHUP) puts
  them back before the module fails; a run killed outright leaves the journal,
  and the next run on the proxy rolls it back before anything else
  (:func:`recover`) and says so.
- Symlinks are written through (the link stays, its target gets the bytes);
  removing a link removes the link.  Backups go to ``backup_dir``, never next
  to the file where an include could load them; staging files are hidden
  (``.balancer-*``) in the destination directory.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import json
import os
import signal
import stat
import tempfile
import time
import traceback

from ansible_collections.balancer.nginx.plugins.module_utils import _nginx

DEFAULT_BACKUP_DIR = '/var/backups/balancer-nginx'
STATE_DIR = '/var/lib/balancer-nginx'
STAGING_PREFIX = '.balancer-'


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def read_bytes(path):
    """Current bytes of ``path`` (through links) or ``None`` when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise


def state_dir():
    """Where the lock and the journal live: never a directory Nginx reads."""
    if os.geteuid() == 0:
        return STATE_DIR
    return os.path.join(os.path.expanduser('~'), '.cache', 'balancer-nginx')


def _key(nginx_conf):
    return sha1(os.path.realpath(nginx_conf).encode('utf-8', 'surrogateescape'))[:16]


def _fsync_dir(directory):
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


# -- the lock ---------------------------------------------------------------

class Busy(Exception):
    """Another run holds the proxy's lock for longer than we wait."""


class ProxyLock(object):
    """An exclusive ``flock`` per proxy configuration; released when the process ends, however it ends."""

    def __init__(self, nginx_conf, wait, directory=None):
        self.directory = directory or state_dir()
        self.path = os.path.join(self.directory, 'lock-%s' % _key(nginx_conf))
        self.nginx_conf = nginx_conf
        self.wait = wait
        self.handle = None

    def __enter__(self):
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(handle)
                    raise
            if time.monotonic() > deadline:
                holder = os.pread(handle, 64, 0).decode('ascii', 'replace').strip() or 'unknown'
                os.close(handle)
                raise Busy('another balancer.nginx run (pid %s) has held the lock on %s for more than %d s; run '
                           'the task again when it has finished' % (holder, self.nginx_conf, self.wait))
            time.sleep(0.05)
        os.ftruncate(handle, 0)
        os.pwrite(handle, str(os.getpid()).encode('ascii'), 0)
        self.handle = handle
        return self

    def __exit__(self, *exc):
        if self.handle is not None:
            os.ftruncate(self.handle, 0)
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            os.close(self.handle)
            self.handle = None
        return False


def lock_wait(timeout):
    """How long to wait for the lock: a commit holds it for at most one ``nginx -t`` plus the writes."""
    return int(timeout) + 30


# -- the journal ------------------------------------------------------------

class Journal(object):
    """What a transaction is about to change, written before the first live file is touched."""

    def __init__(self, nginx_conf, directory=None):
        self.directory = directory or state_dir()
        self.path = os.path.join(self.directory, 'journal-%s.json' % _key(nginx_conf))
        self.nginx_conf = nginx_conf

    def write(self, entries, directories=()):
        record = {'version': 1, 'nginx_conf': self.nginx_conf, 'pid': os.getpid(),
                  'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                  'entries': [entry.journal() for entry in entries],
                  'directories': list(directories)}
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix='.journal-', dir=self.directory)
        try:
            with os.fdopen(handle, 'w') as out:
                out.write(json.dumps(record))     # one shot: the C encoder (json.dump never uses it)
                out.flush()
                os.fsync(out.fileno())
            os.rename(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _fsync_dir(self.directory)

    def load(self):
        try:
            with open(self.path) as handle:
                return json.load(handle)
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise
        except ValueError:
            # A journal cut short was never complete: the run died before it touched any live file.
            return {'entries': [], 'pid': None, 'started': None}

    def clear(self):
        try:
            os.unlink(self.path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
        _fsync_dir(self.directory)


def _write_staging(directory, data, sync=True):
    """Write ``data`` to a new hidden file in ``directory`` (where it will be renamed); returns its path."""
    handle, tmp = tempfile.mkstemp(prefix=STAGING_PREFIX, suffix='.tmp', dir=directory)
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(data)
            out.flush()
            if sync:
                os.fsync(out.fileno())
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return tmp


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_atomic(module, path, data):
    """Write ``data`` to ``path`` through a hidden temp file in its directory and ``atomic_move``."""
    tmp = _write_staging(os.path.dirname(path) or '.', data)
    try:
        module.atomic_move(tmp, path, unsafe_writes=False)
    finally:
        _unlink_quietly(tmp)     # gone after the move; left only when the move failed


# Above this many staged files one syncfs(2) a filesystem replaces an fsync(2) each: on ext4 a thousand
# fsyncs are a thousand journal commits.  A small change keeps its own fsyncs (it never flushes what
# other programs have written).
SYNCFS_FROM = 64


def _load_syncfs():
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.syncfs
    except (ImportError, OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int]

    def syncfs(fd):
        if call(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    return syncfs


_SYNCFS = []


def _syncfs():
    """``syncfs(fd)`` from the C library, or ``None`` where there is none (loaded once)."""
    if not _SYNCFS:
        _SYNCFS.append(_load_syncfs())
    return _SYNCFS[0]


def sync_staged(paths):
    """Make the staged files durable before any is renamed over a live file: one ``syncfs`` a filesystem."""
    syncfs = _syncfs()
    done = set()
    for path in paths:
        handle = os.open(path, os.O_RDONLY)
        try:
            device = os.fstat(handle).st_dev
            if syncfs is None:
                os.fsync(handle)
            elif device not in done:
                try:
                    syncfs(handle)
                except OSError:
                    syncfs = None       # not allowed here (seccomp): an fsync each, this file too
                    os.fsync(handle)
                done.add(device)
        finally:
            os.close(handle)


def _put_back_attributes(path, mode, uid, gid, mtime_ns=None):
    """Mode, owner and (when known) the modification time a file had before the transaction."""
    if stat.S_IMODE(os.stat(path).st_mode) != mode:
        os.chmod(path, mode)
    st = os.stat(path)
    if (st.st_uid, st.st_gid) != (uid, gid):
        os.chown(path, uid, gid)
    if mtime_ns is not None and os.stat(path).st_mtime_ns != mtime_ns:
        os.utime(path, ns=(st.st_atime_ns, mtime_ns))


def _remove_directories(created):
    """Remove the directories a transaction created (``created`` parents first), deepest first, if they are empty."""
    done = []
    for directory in reversed(created):
        try:
            os.rmdir(directory)
        except OSError:
            continue    # gone already, or something was put there since: left alone
        done.append('removed the directory %s (it did not exist before)' % directory)
    return done


def recover(module, nginx_conf, directory=None):
    """Roll back what an interrupted run left (its journal), before anything else; returns what was done.

    A file is put back only when it still holds what the interrupted run
    wrote (or what was there before); one changed by hand since is left alone
    and named.
    """
    journal = Journal(nginx_conf, directory)
    record = journal.load()
    if record is None:
        return []
    done = []
    for item in reversed(record.get('entries') or []):
        path = item['path']
        if item.get('link') is not None:
            if not os.path.lexists(path):
                os.symlink(item['link'], path)
                done.append('recreated the link %s -> %s' % (path, item['link']))
            continue
        old = None if item.get('old') is None else base64.b64decode(item['old'])
        current = read_bytes(path)
        if current == old:
            if old is not None and item.get('mode') is not None:
                _put_back_attributes(path, item['mode'], item['uid'], item['gid'], item.get('mtime_ns'))
            continue
        if (None if current is None else sha1(current)) != item.get('new_sha1'):
            done.append('left %s alone: it changed after the interrupted run' % path)
            continue
        if old is None:
            os.unlink(path)
            done.append('removed %s (the interrupted run had created it)' % path)
        else:
            _write_atomic(module, path, old)
            _put_back_attributes(path, item['mode'], item['uid'], item['gid'], item.get('mtime_ns'))
            done.append('restored %s' % path)
    done.extend(_remove_directories(record.get('directories') or []))
    journal.clear()
    return ['an interrupted balancer.nginx run (pid %s, started %s) had left unvalidated changes; they were '
            'rolled back before this run: %s' % (record.get('pid'), record.get('started'),
                                                 '; '.join(done) or 'nothing was left to undo')]


# -- what a plan read ---------------------------------------------------------

def file_signature(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return '%d:%d:%d' % (st.st_ino, st.st_size, st.st_mtime_ns)


def dir_signature(directory):
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return None
    return sha1('\0'.join(names).encode('utf-8', 'surrogateescape'))


def read_set(files, dirs):
    """Signatures of every file and directory listing a plan depends on."""
    return {'files': dict((path, file_signature(path)) for path in files),
            'dirs': dict((path, dir_signature(path)) for path in dirs)}


def read_set_changes(recorded):
    """Paths whose signature differs from the one recorded when the plan read them."""
    changed = []
    for path, signature in sorted((recorded or {}).get('files', {}).items()):
        if file_signature(path) != signature:
            changed.append(path)
    for path, signature in sorted((recorded or {}).get('dirs', {}).items()):
        if dir_signature(path) != signature:
            changed.append(path + '/')
    return changed


# -- the transaction ----------------------------------------------------------

class Failure(Exception):
    """A transaction step failed; ``extra`` goes into the module's result."""

    def __init__(self, msg, **extra):
        super(Failure, self).__init__(msg)
        self.msg = msg
        self.extra = extra


class ModuleFailed(Exception):
    """An AnsibleModule helper called ``fail_json`` inside the transaction."""

    def __init__(self, msg, extra):
        super(ModuleFailed, self).__init__(msg)
        self.msg = msg
        self.extra = extra


class Interrupted(BaseException):
    """A signal asked the module to stop."""

    def __init__(self, signum):
        super(Interrupted, self).__init__(signum)
        self.signum = signum

    @property
    def name(self):
        return signal.Signals(self.signum).name


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Guard(object):
    """Inside the transaction: signals raise :class:`Interrupted`, ``fail_json`` raises :class:`ModuleFailed`."""

    def __init__(self, module):
        self.module = module
        self.previous = {}
        self.signum = None

    def _raise(self, signum, frame):
        # Recorded too: Python drops an exception raised while a finalizer (__del__) runs, so the
        # transaction also asks check() at each step.
        self.signum = signum
        raise Interrupted(signum)

    def check(self):
        """Raise :class:`Interrupted` if a signal came, even one whose exception Python swallowed."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    def __enter__(self):
        for signum in _SIGNALS:
            self.previous[signum] = signal.signal(signum, self._raise)

        def fail(msg=None, **extra):
            raise ModuleFailed(msg or 'failed', extra)
        self.module.fail_json = fail
        return self

    def hold_signals(self):
        """While restoring: a second signal must not stop the restore (the journal covers a kill -9)."""
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_IGN)

    def __exit__(self, *exc):
        try:
            del self.module.fail_json
        except AttributeError:
            pass
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        return False


class Entry(object):
    """One file of the transaction."""

    __slots__ = ('path', 'target', 'link', 'old', 'old_stat', 'new', 'backup_file', 'written', 'attrs_touched')

    def __init__(self, path, new):
        self.path = path
        self.new = new
        # A link is written through: its target gets the bytes.  Removing a link removes the link.
        self.link = os.readlink(path) if os.path.islink(path) and new is None else None
        self.target = path if self.link is not None else os.path.realpath(path)
        self.old = read_bytes(path)
        self.old_stat = os.stat(self.target) if self.old is not None and self.link is None else None
        self.backup_file = None
        self.written = False
        self.attrs_touched = False

    @property
    def changed(self):
        return self.old != self.new

    def journal(self):
        record = {'path': self.target, 'link': self.link,
                  'old': None if self.old is None else base64.b64encode(self.old).decode('ascii'),
                  'new_sha1': None if self.new is None else sha1(self.new)}
        if self.old_stat is not None:
            record.update(mode=stat.S_IMODE(self.old_stat.st_mode), uid=self.old_stat.st_uid,
                          gid=self.old_stat.st_gid, mtime_ns=self.old_stat.st_mtime_ns)
        return record


class Transaction(object):
    """Stage, validate once, commit or restore.

    ``files`` is a list of ``{path, content}`` (``content`` ``None`` removes
    the file).  ``expected`` maps a path to the sha1 of the bytes the
    controller planned against (``None``: absent).
    """

    def __init__(self, module, nginx_binary, nginx_conf, timeout=_nginx.DEFAULT_TIMEOUT,
                 backup_dir=DEFAULT_BACKUP_DIR):
        self.module = module
        self.nginx_binary = nginx_binary
        self.nginx_conf = nginx_conf
        self.timeout = timeout
        self.backup_dir = backup_dir
        self.entries = []
        self.test_output = None
        self.mkdirs = []            # directories the plan may create when they are missing (stream_conf_dir)
        self.created = []           # those it did create, removed again by restore
        self.keep_attributes = []   # files owner/group/mode are not applied to (nginx.conf)

    def plan(self, files, expected=None):
        expected = expected or {}
        for item in files:
            content = item.get('content')
            entry = Entry(item['path'], None if content is None else content.encode('utf-8', 'surrogateescape'))
            if entry.path in expected:
                want = expected[entry.path]
                have = None if entry.old is None else sha1(entry.old)
                if want != have:
                    raise Failure('%s: the file changed on the proxy after it was read (expected %s, found %s); '
                                  'nothing was written, run the task again.'
                                  % (entry.path, want or 'absent', have or 'absent'))
            self.entries.append(entry)
        return [e for e in self.entries if e.changed]

    def check_directories(self):
        for entry in self.entries:
            directory = os.path.dirname(entry.target) or '.'
            if directory in self.mkdirs:
                continue
            if entry.changed and entry.new is not None and not os.path.isdir(directory):
                raise Failure('%s: the directory %s does not exist; create it or choose another conf_dir/path.'
                              % (entry.path, directory))

    def backup_path(self, entry):
        stamp = time.strftime('%Y%m%d-%H%M%S')
        return '%s.%s.%d~' % (os.path.join(self.backup_dir, entry.path.lstrip('/')), stamp, os.getpid())

    def _backup(self, entry):
        path = self.backup_path(entry)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(path, 'wb') as out:
            out.write(entry.old)
        if entry.old_stat is not None:
            os.chmod(path, stat.S_IMODE(entry.old_stat.st_mode))
        return path

    def missing_directories(self):
        """The directories of ``mkdirs`` a written file needs and that are missing, with their missing parents
        (parents first): what ``stage`` creates (and the journal records, so that a killed run's are removed too)."""
        missing = []
        for directory in self.mkdirs:
            needed = any(e.changed and e.new is not None and os.path.dirname(e.target) == directory
                         for e in self.entries)
            chain = []
            path = directory
            while needed and not os.path.isdir(path) and path not in missing + chain:
                chain.append(path)
                if os.path.dirname(path) == path:
                    break
                path = os.path.dirname(path)
            missing.extend(reversed(chain))
        return missing

    def stage(self, backup=False):
        """Put every changed file in place: all staged (and made durable) first, then each renamed in turn."""
        self.check_directories()
        for directory in self.missing_directories():
            os.mkdir(directory, 0o755)
            self.created.append(directory)
        changes = [entry for entry in self.entries if entry.changed]
        batch = sum(1 for entry in changes if entry.new is not None) >= SYNCFS_FROM
        staged = []
        try:
            for entry in changes:
                if backup and entry.old is not None:
                    entry.backup_file = self._backup(entry)
                if entry.new is not None:
                    staged.append(_write_staging(os.path.dirname(entry.target) or '.', entry.new, sync=not batch))
            if batch:
                sync_staged(staged)
            moves = iter(staged)
            for entry in changes:
                entry.written = True     # before the rename: a move that fails half-way is restored too
                if entry.new is None:
                    os.unlink(entry.path)
                else:
                    self.module.atomic_move(next(moves), entry.target, unsafe_writes=False)
        finally:
            for tmp in staged:
                _unlink_quietly(tmp)     # gone after its move; left only when staging or a move failed

    def apply_attributes(self, file_args_for):
        """Apply owner/group/mode to the present files; returns True when something changed."""
        changed = False
        for entry in self.entries:
            if entry.new is None or entry.path in self.keep_attributes:
                continue
            entry.attrs_touched = True
            changed = self.module.set_fs_attributes_if_different(file_args_for(entry.target), changed)
        return changed

    def validate(self):
        """One ``nginx -t -c nginx_conf``: ``(ok, output)``."""
        rc, out, err = _nginx.run(self.nginx_binary, ['-t', '-c', self.nginx_conf], self.timeout)
        self.test_output = _nginx.text(err) + _nginx.text(out)
        return rc == 0, self.test_output

    def restore(self):
        """Put every previous byte and attribute back; remove what did not exist.  ``(done, problems)``."""
        done = []
        problems = []
        for entry in reversed(self.entries):
            if not (entry.written or entry.attrs_touched):
                continue
            try:
                if entry.link is not None:
                    if not os.path.lexists(entry.path):
                        os.symlink(entry.link, entry.path)
                    done.append('recreated the link %s -> %s' % (entry.path, entry.link))
                elif entry.old is None:
                    if os.path.lexists(entry.target):
                        os.unlink(entry.target)
                        done.append('removed %s (it did not exist before)' % entry.path)
                else:
                    # A write that failed before its rename left the old bytes: nothing to write back (and no
                    # space is needed when the disk is full).
                    if entry.written and read_bytes(entry.target) != entry.old:
                        _write_atomic(self.module, entry.target, entry.old)
                    _put_back_attributes(entry.target, stat.S_IMODE(entry.old_stat.st_mode), entry.old_stat.st_uid,
                                         entry.old_stat.st_gid, entry.old_stat.st_mtime_ns)
                    if entry.written:
                        done.append('restored %s' % entry.path)
                entry.written = entry.attrs_touched = False
            except (Exception, ModuleFailed) as exc:  # keep restoring the others; the journal keeps this one
                problems.append('could not restore %s (%s)' % (entry.path, getattr(exc, 'msg', None) or exc))
        done.extend(_remove_directories(self.created))
        self.created = []
        return done, problems

    def discard_backups(self):
        for entry in self.entries:
            if entry.backup_file and os.path.exists(entry.backup_file):
                os.unlink(entry.backup_file)
            entry.backup_file = None

    def results(self):
        return [{'path': e.path, 'changed': e.changed, 'state': 'absent' if e.new is None else 'present',
                 'backup_file': e.backup_file} for e in self.entries]


def _failure_message(exc, phase):
    if isinstance(exc, Failure):
        return exc.msg
    if isinstance(exc, Interrupted):
        return 'Interrupted by %s while %s' % (exc.name, phase)
    if isinstance(exc, KeyboardInterrupt):
        return 'Interrupted by SIGINT while %s' % phase
    if isinstance(exc, _nginx.NginxTimeout):
        return str(exc)
    if isinstance(exc, ModuleFailed):
        return 'Writing the configuration failed while %s: %s' % (phase, exc.msg.rstrip('.'))
    return 'Writing the configuration failed while %s: %s' % (phase, exc)


def run_transaction(module, files, nginx_binary, nginx_conf, validate=True, backup=False, expected=None,
                    file_args_for=None, timeout=_nginx.DEFAULT_TIMEOUT, backup_dir=DEFAULT_BACKUP_DIR,
                    read_set=None, mkdirs=(), keep_attributes=()):
    """The whole target-side commit; exits the module with its result."""
    binary = _nginx.require_binary(module, nginx_binary) if validate else nginx_binary
    result = {}
    try:
        lock = ProxyLock(nginx_conf, lock_wait(timeout))
        lock.__enter__()
    except Busy as exc:
        module.fail_json(msg=str(exc) + '.')
    try:
        result['recovered'] = recover(module, nginx_conf)
        stale = read_set_changes(read_set)
        if stale:
            shown = ', '.join(stale[:5]) + (' and %d more' % (len(stale) - 5) if len(stale) > 5 else '')
            module.fail_json(msg='The configuration changed on the proxy after this run read it (%s), probably by '
                                 'another run; nothing was written, run the task again.' % shown, **result)
        tx = Transaction(module, binary, nginx_conf, timeout, backup_dir)
        tx.mkdirs = [os.path.normpath(d) for d in mkdirs]
        tx.keep_attributes = list(keep_attributes)
        try:
            changes = tx.plan(files, expected)
            tx.check_directories()
        except Failure as exc:
            module.fail_json(msg=exc.msg, **result)
        if module.check_mode:
            # set_fs_attributes_if_different only reports in check mode; files that do not exist yet have none.
            attrs_changed = False
            if file_args_for:
                for entry in tx.entries:
                    if entry.new is not None and entry.old is not None and entry.path not in tx.keep_attributes:
                        attrs_changed = module.set_fs_attributes_if_different(file_args_for(entry.target),
                                                                              attrs_changed)
            module.exit_json(changed=bool(changes) or attrs_changed, files=tx.results(), nginx_test=None, **result)
        journal = Journal(nginx_conf)
        journal.write([e for e in tx.entries if e.changed or (file_args_for and e.new is not None)],
                      tx.missing_directories())
        failure = None
        done, problems = [], []
        phase = 'writing the files'
        test = None
        attrs_changed = False
        with Guard(module) as guard:
            try:
                tx.stage(backup=backup)
                guard.check()
                phase = 'applying owner, group and mode'
                attrs_changed = tx.apply_attributes(file_args_for) if file_args_for else False
                guard.check()
                if validate and changes:
                    phase = 'running nginx -t'
                    ok, output = tx.validate()
                    file_, line, message = _nginx.parse_test_output(output)
                    test = {'ok': ok, 'file': file_ if not ok else None, 'line': line if not ok else None,
                            'message': message if not ok else None, 'output': output}
                    if not ok:
                        raise Failure('nginx -t rejected the change, so nothing was kept: %s' % output.strip(),
                                      nginx_test=test)
                guard.check()
                # The commit point: from here on the change is kept, whatever signal comes.
                guard.hold_signals()
                journal.clear()
            except BaseException as exc:  # every failure path restores, signals and SystemExit included
                failure = exc
                guard.hold_signals()
                done, problems = tx.restore()
        if failure is None:
            module.exit_json(changed=bool(changes) or attrs_changed, files=tx.results(), nginx_test=test, **result)
        if not problems:
            journal.clear()
        tx.discard_backups()
        msg = '%s -- Restored: %s.' % (_failure_message(failure, phase).rstrip('.'),
                                       '; '.join(done) or 'nothing had been written')
        if problems:
            msg += (' NOT restored: %s; the journal %s keeps the previous bytes and the next run on this proxy '
                    'puts them back first.' % ('; '.join(problems), journal.path))
        extra = dict(result, restored=done, files=tx.results())
        extra.update(getattr(failure, 'extra', None) or {})
        if not isinstance(failure, (Failure, Interrupted, KeyboardInterrupt, _nginx.NginxTimeout)):
            extra.setdefault('exception', ''.join(traceback.format_exception(type(failure), failure,
                                                                             failure.__traceback__)))
        extra.pop('msg', None)
        module.fail_json(msg=msg, **extra)
    finally:
        lock.__exit__(None, None, None)
