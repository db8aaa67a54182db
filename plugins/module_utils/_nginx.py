# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talking to the Nginx binary on the proxy, and reading its files.

Standard library only: imported by the target-side modules.  Every call to
Nginx goes through ``nginx_binary``.
"""

from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import tempfile
import time

# First line of every file the collection writes; files without it are never touched.
MANAGED_HEADER = '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.'

NGINX_SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin', '/opt/nginx/sbin']

_DUMP_HEADER = re.compile(r'^# configuration file (.+):$')
_LOCATION_RE = re.compile(r' in (/[^\s:]+|[^\s:]+\.conf):(\d+)\s*$')
_INCLUDE_RE = re.compile(r'(?:^|[;{}\s])include\s+("[^"]*"|\'[^\']*\'|[^;\s]+)\s*;')


DEFAULT_TIMEOUT = 60


class NginxTimeout(Exception):
    """An Nginx call did not finish within ``nginx_timeout``; it was killed."""

    def __init__(self, args, timeout):
        self.timeout = timeout
        super(NginxTimeout, self).__init__(
            'nginx_timeout: "nginx %s" did not finish within %s s and was stopped; find out why Nginx hangs '
            '(a name lookup or a file on a slow mount?) or raise nginx_timeout' % (' '.join(args), timeout))


def find_binary(module, nginx_binary):
    """Absolute path of ``nginx_binary`` (an executable file, not a directory) or ``None``."""
    if os.path.isabs(nginx_binary):
        return nginx_binary if os.path.isfile(nginx_binary) and os.access(nginx_binary, os.X_OK) else None
    found = module.get_bin_path(nginx_binary, required=False, opt_dirs=NGINX_SEARCH_DIRS)
    return found if found and os.path.isfile(found) else None


def require_binary(module, nginx_binary):
    path = find_binary(module, nginx_binary)
    if path is None:
        what = 'is a directory, not' if os.path.isdir(nginx_binary) else 'was not found as'
        module.fail_json(
            msg='nginx_binary: %r %s an executable file on the host; install nginx or set nginx_binary to the '
                'path of the nginx executable.' % (nginx_binary, what))
    return path


def _kill(process):
    """Kill ``process``'s whole session, reap it and close its pipes.

    Never ``communicate`` again here: an interruption inside the first
    ``communicate`` can leave the Popen half set up, and a second call then
    fails with an AttributeError that would hide the interruption.
    """
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        process.wait(timeout=5)
    except (subprocess.TimeoutExpired, OSError):
        pass
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def run(binary, args, timeout=DEFAULT_TIMEOUT):
    """Run ``binary args`` within ``timeout`` seconds: ``(rc, stdout bytes, stderr bytes)``.

    Nginx runs in a session of its own; on a timeout, or when the module is
    interrupted while waiting, the whole session is killed, and
    :class:`NginxTimeout` (or the interruption) is raised.
    """
    process = subprocess.Popen([binary] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise NginxTimeout(args, timeout)
    except BaseException:
        _kill(process)
        raise
    return process.returncode, out, err


class Running(object):
    """``binary args`` started now, in a session of its own, while the caller goes on with other work.

    Its output goes to unnamed temporary files, not pipes, so that Nginx never waits for a reader (``nginx -T``
    writes the whole configuration). ``wait`` gives ``(rc, stdout bytes, stderr bytes)`` within ``timeout``
    seconds of the start, or kills the session and raises :class:`NginxTimeout`; ``stop`` kills it when the
    caller gives up before waiting.
    """

    def __init__(self, binary, args, timeout=DEFAULT_TIMEOUT):
        self.args = list(args)
        self.timeout = timeout
        self.outputs = (tempfile.TemporaryFile(), tempfile.TemporaryFile())
        try:
            self.deadline = time.monotonic() + timeout
            self.process = subprocess.Popen([binary] + self.args, stdin=subprocess.DEVNULL, stdout=self.outputs[0],
                                            stderr=self.outputs[1], start_new_session=True)
        except BaseException:
            self._close()
            raise

    def _close(self):
        for handle in self.outputs:
            handle.close()

    def wait(self):
        try:
            self.process.wait(timeout=max(0.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.stop()
            raise NginxTimeout(self.args, self.timeout)
        except BaseException:
            self.stop()
            raise
        out, err = [self._read(handle) for handle in self.outputs]
        self._close()
        return self.process.returncode, out, err

    @staticmethod
    def _read(handle):
        handle.seek(0)
        return handle.read()

    def stop(self):
        if self.process.returncode is None:
            _kill(self.process)
        self._close()


def text(data):
    """Nginx's output as text for a message (it may hold any byte)."""
    return data.decode('utf-8', 'replace') if isinstance(data, bytes) else (data or '')


def split_dump(output):
    """Split ``nginx -T`` output into ``{path: text}`` in the order Nginx read the files.

    Nginx writes each file followed by one newline of its own: before the next
    header that newline is the line break the split consumes; after the last
    file it is the final character of the output.
    """
    files = {}
    current = None
    chunk = []
    for line in output.split('\n'):
        match = _DUMP_HEADER.match(line)
        if match:
            if current is not None:
                files[current] = '\n'.join(chunk)
            current = match.group(1)
            chunk = []
        elif current is not None:
            chunk.append(line)
    if current is not None:
        text = '\n'.join(chunk)
        files[current] = text[:-1] if text.endswith('\n') else text
    return files


def _strip_comments(text):
    out = []
    for line in text.split('\n'):
        quote = None
        for index, char in enumerate(line):
            if quote:
                if char == quote:
                    quote = None
            elif char in '"\'':
                quote = char
            elif char == '#':
                line = line[:index]
                break
        out.append(line)
    return '\n'.join(out)


def read_files(nginx_conf, limit=100000):
    """Read the main config and every file it includes, without Nginx.

    The fallback when ``nginx -T`` fails because the current configuration
    does not even parse.  Returns ``({path: bytes}, [unreadable paths])``.
    """
    files = {}
    missing = []
    prefix = os.path.dirname(nginx_conf)
    pending = [nginx_conf]
    while pending and len(files) < limit:
        path = pending.pop(0)
        if path in files:
            continue
        try:
            with open(path, 'rb') as handle:
                data = handle.read()
        except (IOError, OSError):
            missing.append(path)
            continue
        files[path] = data
        for match in _INCLUDE_RE.finditer(_strip_comments(data.decode('utf-8', 'surrogateescape'))):
            pattern = match.group(1).strip('"\'')
            if not os.path.isabs(pattern):
                pattern = os.path.join(prefix, pattern)
            if glob.has_magic(pattern):
                pending.extend(sorted(glob.glob(pattern)))
            else:
                pending.append(pattern)
    return files, missing


def parse_test_output(output):
    """``(file, line, message)`` of the first emerg/error line of ``nginx -t`` output."""
    for line in (output or '').splitlines():
        if '[emerg]' in line or '[error]' in line or '[crit]' in line:
            message = line.split('] ', 1)[-1] if '] ' in line else line
            message = re.sub(r'^\d+#\d+: ', '', message)
            match = _LOCATION_RE.search(line)
            if match:
                # file and line are returned on their own; the message is Nginx's text without them
                return match.group(1), int(match.group(2)), _LOCATION_RE.sub('', message)
            return None, None, message
    return None, None, (output or '').strip() or None


# Second line of every file the collection writes: which item the file holds, so that two items never share
# a file (an upstream named "www.vhost" and the vhost "www" both map to www.vhost.conf).
ITEM_LINE = '# balancer.nginx item: %s %s'
_ITEM_RE = re.compile(r'^# balancer\.nginx item: (\S+) (\S+)$')


def _first_lines(data):
    if isinstance(data, bytes):
        data = data[:1024].decode('utf-8', 'replace')
    return (data or '').split('\n', 2)


def is_managed(data):
    """True when ``data`` (str or bytes) starts with the collection's header line."""
    return _first_lines(data)[0].rstrip('\r') == MANAGED_HEADER


def managed_item(data):
    """``(kind, name)`` a managed file says it holds, or ``None`` (not managed, or written before item lines)."""
    lines = _first_lines(data)
    if lines[0].rstrip('\r') != MANAGED_HEADER or len(lines) < 2:
        return None
    match = _ITEM_RE.match(lines[1].rstrip('\r'))
    return (match.group(1), match.group(2)) if match else None
