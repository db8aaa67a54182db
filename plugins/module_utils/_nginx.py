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

# First line of every file the collection writes; files without it are never touched.
MANAGED_HEADER = '# Managed by balancer.nginx (Ansible collection): changes made by hand are overwritten.'

NGINX_SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin', '/opt/nginx/sbin']

_DUMP_HEADER = re.compile(r'^# configuration file (.+):$')
_LOCATION_RE = re.compile(r' in (/[^\s:]+|[^\s:]+\.conf):(\d+)\s*$')
_INCLUDE_RE = re.compile(r'(?:^|[;{}\s])include\s+("[^"]*"|\'[^\']*\'|[^;\s]+)\s*;')


def find_binary(module, nginx_binary):
    """Absolute path of ``nginx_binary`` or ``None``."""
    if os.path.isabs(nginx_binary):
        return nginx_binary if os.access(nginx_binary, os.X_OK) else None
    return module.get_bin_path(nginx_binary, required=False, opt_dirs=NGINX_SEARCH_DIRS)


def require_binary(module, nginx_binary):
    path = find_binary(module, nginx_binary)
    if path is None:
        module.fail_json(
            msg='nginx_binary: %r was not found (or is not executable) on the host; install nginx '
                'or set nginx_binary to the path of the nginx executable.' % nginx_binary)
    return path


def run(module, binary, args):
    """Run ``binary args`` and return ``(rc, stdout, stderr)``."""
    return module.run_command([binary] + list(args), errors='surrogate_or_replace')


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


def read_files(nginx_conf, limit=2000):
    """Read the main config and every file it includes, without Nginx.

    The fallback when ``nginx -T`` fails because the current configuration
    does not even parse.  Returns ``({path: text}, [unreadable paths])``.
    """
    files = {}
    missing = []
    prefix = os.path.dirname(nginx_conf)
    queue = [nginx_conf]
    while queue and len(files) < limit:
        path = queue.pop(0)
        if path in files:
            continue
        try:
            with open(path, 'rb') as handle:
                text = handle.read().decode('utf-8', 'replace')
        except (IOError, OSError):
            missing.append(path)
            continue
        files[path] = text
        for match in _INCLUDE_RE.finditer(_strip_comments(text)):
            pattern = match.group(1).strip('"\'')
            if not os.path.isabs(pattern):
                pattern = os.path.join(prefix, pattern)
            if glob.has_magic(pattern):
                queue.extend(sorted(glob.glob(pattern)))
            else:
                queue.append(pattern)
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


def is_managed(text):
    """True when ``text`` (str or bytes) starts with the collection's header line."""
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    return (text or '').split('\n', 1)[0].rstrip('\r') == MANAGED_HEADER
