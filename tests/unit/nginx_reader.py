# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Nginx reads from configuration text: an oracle for the tests.

Written from Nginx's own tokenizer (``ngx_conf_read_token`` in
``src/core/ngx_conf_file.c``), independently of crossplane and of the
collection's renderer, so a test can ask "which arguments does Nginx see?"
of a rendered file:

- a word starts after white space; ``#`` there starts a comment to the end of
  the line; ``"`` or ``'`` there opens a quoted word, which must be followed
  by white space, ``;`` or ``{``;
- inside a word a backslash protects the next character from ending it, and
  ``${`` does not open a block;
- an unquoted word ends at white space, ``;`` or ``{``;
- every word, quoted or not, is then unescaped: a backslash before ``"``,
  ``'`` or a backslash yields that character, ``\\t``, ``\\r`` and ``\\n``
  yield TAB, CR and LF, and a backslash before anything else is kept.
"""

from __future__ import annotations

SPACE = ' \t\r\n'


class NginxSyntaxError(ValueError):
    pass


def unescape(raw):
    out = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == '\\' and index + 1 < len(raw):
            following = raw[index + 1]
            if following in '"\'\\':
                out.append(following)
                index += 2
                continue
            if following in 'trn':
                out.append({'t': '\t', 'r': '\r', 'n': '\n'}[following])
                index += 2
                continue
        out.append(char)
        index += 1
    return ''.join(out)


def tokens(text):
    """Yield ``('word', value)`` and ``(';' | '{' | '}', None)`` as Nginx reads them."""
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        if char in SPACE:
            index += 1
        elif char == '#':
            while index < size and text[index] != '\n':
                index += 1
        elif char in ';{}':
            yield char, None
            index += 1
        elif char in '"\'':
            quote = char
            index += 1
            start = index
            while True:
                if index >= size:
                    raise NginxSyntaxError('unexpected end of file, expecting %s' % quote)
                if text[index] == '\\':
                    index += 2
                    continue
                if text[index] == quote:
                    break
                index += 1
            yield 'word', unescape(text[start:index])
            index += 1
            if index < size and text[index] not in SPACE + ';{':
                raise NginxSyntaxError('unexpected "%s" after a quoted word' % text[index])
        else:
            start = index
            variable = False
            while index < size:
                char = text[index]
                if char == '{' and variable:
                    variable = False
                    index += 1
                    continue
                variable = False
                if char == '\\':
                    index += 2
                    continue
                if char == '$':
                    variable = True
                    index += 1
                    continue
                if char in SPACE + ';{':
                    break
                index += 1
            yield 'word', unescape(text[start:index])


def read(text):
    """Statements ``{'directive', 'args'[, 'block']}`` as Nginx reads them; raises NginxSyntaxError."""
    stack = [[]]
    words = []
    for kind, value in tokens(text):
        if kind == 'word':
            words.append(value)
        elif kind == ';':
            if not words:
                raise NginxSyntaxError('unexpected ";"')
            stack[-1].append({'directive': words[0], 'args': words[1:]})
            words = []
        elif kind == '{':
            if not words:
                raise NginxSyntaxError('unexpected "{"')
            block = []
            stack[-1].append({'directive': words[0], 'args': words[1:], 'block': block})
            stack.append(block)
            words = []
        else:
            if words or len(stack) == 1:
                raise NginxSyntaxError('unexpected "}"')
            stack.pop()
    if words or len(stack) != 1:
        raise NginxSyntaxError('unexpected end of file')
    return stack[0]


def statements(text, directive):
    """Every statement named ``directive``, at any depth, as ``args`` lists."""
    found = []

    def walk(block):
        for stmt in block:
            if stmt['directive'] == directive:
                found.append(stmt['args'])
            walk(stmt.get('block') or [])
    walk(read(text))
    return found
