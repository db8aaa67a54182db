# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One declaration per directive: every option of the file-writing modules, and every Nginx name the engine uses.

An :class:`Option` says once what an option is: its Ansible type, choices,
default, the kind of value (``_values``), its range, the Nginx directive or
server parameter it renders and where in its block, the version or edition
gate (``FEATURES``), the options it needs or applies with, and the contexts
(``http``, ``stream``) it exists in.  From these declarations, and from
nowhere else, come:

- the argument specs of the modules and of ``site``'s items (``Group.spec``);
- validation with messages that name the option path (``Group.validate``),
  the same through ``upstream`` and through ``site``;
- rendering of the simple directives and server parameters (``_render``);
- the inverse read of a parsed block back into options, with what they
  cannot express (``Group.read``), for ``config_info`` and take-overs;
- the feature checks (``Group.features``) and the scan of a whole
  configuration for what the proxy's Nginx lacks.

Adding a directive is one :class:`Option` in the right group plus its
documentation in ``plugins/modules``.  Standard library only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.balancer.nginx.plugins.module_utils import _values
from ansible_collections.balancer.nginx.plugins.module_utils._errors import ModelError

# --------------------------------------------------------------------------
# Nginx names the engine writes and reads (blocks, statements, contexts)
# --------------------------------------------------------------------------

HTTP = 'http'
STREAM = 'stream'
UPSTREAM = 'upstream'
SERVER = 'server'               # a server line of an upstream, and a virtual server block
LOCATION = 'location'
LISTEN = 'listen'
SERVER_NAME = 'server_name'
PROXY_PASS = 'proxy_pass'
PROXY_HTTP_VERSION = 'proxy_http_version'
PROXY_SET_HEADER = 'proxy_set_header'
ACCESS_LOG = 'access_log'
LOG_FORMAT = 'log_format'
MAP = 'map'
MAP_DEFAULT = 'default'
INCLUDE = 'include'
HEALTH_CHECK = 'health_check'
# The balancing methods, each the directive of the same name (round robin writes none).
METHOD_DIRECTIVES = ('least_conn', 'ip_hash', 'hash', 'random', 'least_time')
HASH_CONSISTENT = 'consistent'
RANDOM_TWO = 'two'
RANDOM_LEAST_TIME = 'least_time='
QUEUE_TIMEOUT_ARG = 'timeout='
STICKY_METHODS = ('cookie', 'route', 'learn')


# --------------------------------------------------------------------------
# features by version and edition
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Feature:
    """Since which open source Nginx version a feature exists (``None``: NGINX Plus only)."""

    key: str
    title: str
    since: Optional[Tuple[int, int, int]]


FEATURES = dict((f.key, f) for f in (
    Feature('random', 'method=random', (1, 15, 1)),
    Feature('least_time', 'method=least_time', (1, 31, 0)),
    Feature('random_least_time', 'random two least_time', None),
    Feature('sticky', 'sticky', (1, 29, 6)),
    Feature('zone', 'zone', (1, 9, 0)),
    Feature('keepalive_requests', 'keepalive_requests in upstream', (1, 15, 3)),
    Feature('keepalive_timeout', 'keepalive_timeout in upstream', (1, 15, 3)),
    Feature('keepalive_time', 'keepalive_time', (1, 19, 10)),
    Feature('resolver', 'resolver in upstream', (1, 27, 3)),
    Feature('resolver_timeout', 'resolver_timeout in upstream', (1, 27, 3)),
    Feature('ntlm', 'ntlm', None),
    Feature('queue', 'queue', None),
    Feature(HEALTH_CHECK, HEALTH_CHECK, None),
    Feature('max_conns', 'server parameter max_conns', (1, 11, 5)),
    Feature('resolve', 'server parameter resolve', (1, 27, 3)),
    Feature('route', 'server parameter route', (1, 29, 6)),
    Feature('drain', 'server parameter drain', (1, 29, 6)),
    Feature('slow_start', 'server parameter slow_start', None),
))


# --------------------------------------------------------------------------
# the declarations' types
# --------------------------------------------------------------------------

# How an option is written: a directive of its own, a server parameter "key=value" or a bare flag, or by the
# kind's own renderer (None).
DIRECTIVE, PARAM, FLAG = 'directive', 'param', 'flag'


@dataclass(frozen=True)
class Option:
    """One option: what Ansible accepts, what value it is, what it writes, when it is allowed."""

    name: str
    type: str = 'str'
    elements: Optional[str] = None
    choices: Optional[Tuple[str, ...]] = None
    default: Any = None
    required: bool = False
    kind: Optional[str] = None          # value kind, see _check_kind; 'onoff' for a bool written on/off
    minimum: Optional[int] = None
    maximum: Optional[int] = None
    noun: Optional[str] = None          # what a choice is, for messages ("a balancing method")
    directive: Optional[str] = None     # the Nginx directive or server parameter
    render: Optional[str] = None        # DIRECTIVE, PARAM, FLAG or None (the kind's own renderer)
    place: str = 'body'                 # where in the block a DIRECTIVE goes
    feature: Optional[str] = None       # FEATURES key of the gate
    choice_features: Tuple[Tuple[str, str], ...] = ()   # (choice, FEATURES key)
    choice_contexts: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()   # (choice, the contexts it exists in)
    always: bool = False                # written even at its default (Nginx's own default differs)
    requires: Optional[str] = None      # an option of the group without which this one has no effect
    applies_to: Optional[Tuple[str, Tuple[str, ...]]] = None   # (option, values) with which this one applies
    required_with: Optional[Tuple[str, str]] = None            # (option, value) with which this one is required
    hint: Optional[str] = None          # the fix when it is required
    contexts: Tuple[str, ...] = (HTTP, STREAM)
    suboptions: Optional['Group'] = None
    shorthand: bool = False             # a dict option that may be given as the value of its group's shorthand
    no_log: Optional[bool] = None
    aliases: Tuple[str, ...] = ()

    def is_set(self, value) -> bool:
        """Whether ``value`` asks for something (what the gates and the rules look at)."""
        if self.kind == 'onoff':
            return value is not None and (self.always or value != self.default)
        if self.type == 'bool':
            return bool(value) and value != self.default
        return value is not None and value != [] and value != {}

    # -- how it is written and read back -------------------------------------
    def args(self, value):
        """The arguments of its DIRECTIVE (a flag directive has none; an ``onoff`` one says on or off)."""
        if self.kind == 'onoff':
            return ['on' if value else 'off']
        if self.type == 'bool':
            return []
        if isinstance(value, list):
            return [str(item) for item in value]
        if self.kind == 'name_size':
            return str(value).split(' ')
        return [str(value)]

    def param(self, value) -> str:
        """Its server parameter: ``key=value``, or the bare flag."""
        return self.directive if self.render == FLAG else '%s=%s' % (self.directive, value)

    def read(self, args):
        """The option's value from the arguments Nginx has (the inverse of ``args``); ValueError if it cannot."""
        if self.kind == 'onoff':
            if args not in (['on'], ['off']):
                raise ValueError('not on or off')
            return args == ['on']
        if self.type == 'bool':
            if args:
                raise ValueError('a flag takes no arguments')
            return True
        if self.type == 'list':
            if not args:
                raise ValueError('no arguments')
            return list(args)
        if self.kind == 'name_size' and 1 <= len(args) <= 2:
            return ' '.join(args)
        if len(args) != 1:
            raise ValueError('takes one argument')
        if self.type == 'int':
            if not args[0].isdigit():
                raise ValueError('not a number')
            return int(args[0])
        return args[0]

    def read_param(self, text):
        """The option's value from a server parameter (``key=value`` or ``flag``), or None if it is not this one."""
        key, sep, value = text.partition('=')
        if key != self.directive or bool(sep) != (self.render == PARAM):
            return None
        return self.read([value]) if sep else True

    def spec(self) -> Dict[str, Any]:
        spec = {'type': self.type}
        for key in ('elements', 'default', 'no_log'):
            if getattr(self, key) is not None:
                spec[key] = copy.deepcopy(getattr(self, key))
        if self.choices is not None:
            spec['choices'] = list(self.choices)
        if self.required:
            spec['required'] = True
        if self.aliases:
            spec['aliases'] = list(self.aliases)
        if self.suboptions is not None:
            spec['options'] = self.suboptions.spec()
            spec.update(self.suboptions.rules())
        return spec


@dataclass(frozen=True)
class Group:
    """The options of one kind of item (or of a dict or list element), in the order they are written."""

    options: Tuple[Option, ...]
    mutually_exclusive: Tuple[Tuple[str, ...], ...] = ()
    required_one_of: Tuple[Tuple[str, ...], ...] = ()
    required_together: Tuple[Tuple[str, ...], ...] = ()
    shorthand: Optional[str] = None     # a bare string stands for {shorthand: string}
    one_of_hint: Optional[str] = None   # the fix when none of required_one_of is set
    by_name: Dict[str, Option] = field(default_factory=dict, compare=False, repr=False)
    # what validate() looks at for each item, worked out once: the options with aliases, and those with a
    # rule of their own (a context, a choice's contexts, required_with, requires, applies_to)
    aliased: List[Option] = field(default_factory=list, compare=False, repr=False)
    ruled: List[Option] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self):
        self.by_name.update((option.name, option) for option in self.options)
        self.aliased.extend(option for option in self.options if option.aliases)
        self.ruled.extend(option for option in self.options if any((
            not {HTTP, STREAM} <= set(option.contexts), option.choice_contexts, option.required_with,
            option.requires, option.applies_to)))

    def __getitem__(self, name: str) -> Option:
        return self.by_name[name]

    def names(self):
        return [option.name for option in self.options]

    def aliases(self):
        return [alias for option in self.options for alias in option.aliases]

    def with_options(self, *options: Option, **changes) -> 'Group':
        """This group plus ``options`` (e.g. an item's own ``path``)."""
        values = dict(options=self.options + options, mutually_exclusive=self.mutually_exclusive,
                      required_one_of=self.required_one_of, required_together=self.required_together,
                      shorthand=self.shorthand, one_of_hint=self.one_of_hint)
        values.update(changes)
        return Group(**values)

    # -- what Ansible sees --------------------------------------------------
    def spec(self) -> Dict[str, Dict[str, Any]]:
        return dict((option.name, option.spec()) for option in self.options)

    def rules(self) -> Dict[str, Any]:
        rules = {}
        for key in ('mutually_exclusive', 'required_one_of', 'required_together'):
            if getattr(self, key):
                rules[key] = [list(names) for names in getattr(self, key)]
        required_if = [[o.required_with[0], o.required_with[1], [o.name]] for o in self.options if o.required_with]
        if required_if:
            rules['required_if'] = required_if
        required_by = dict((o.name, o.requires) for o in self.options if o.requires)
        if required_by:
            rules['required_by'] = required_by
        return rules

    # -- validation ----------------------------------------------------------
    def validate(self, given, prefix: str = '', what: str = 'options', context: str = HTTP) -> Dict[str, Any]:
        """Checked, normalized values of every option (defaults filled in); ``prefix`` starts each option path."""
        where = prefix.rstrip('.') or 'options'
        if isinstance(given, str) and self.shorthand:
            given = {self.shorthand: given}
        if not isinstance(given, dict):
            raise ModelError(where, 'must be a dict of %s' % what, 'write {%s: ...}' % self.options[0].name,
                             value=given)
        for option in self.aliased:
            for alias in option.aliases:
                if alias in given:
                    given = dict(given)
                    given.setdefault(option.name, given.pop(alias))
        unknown = given.keys() - self.by_name.keys()
        if unknown:
            raise ModelError(where, 'has unknown option(s) %s' % ', '.join(str(u) for u in sorted(unknown, key=str)),
                             'use only %s' % ', '.join(self.names()))
        values = {}
        for option in self.options:
            raw = given.get(option.name)
            if raw is None:
                if option.required:
                    raise ModelError(prefix + option.name, 'is required', option.hint or 'give %s' % option.name)
                default = option.default
                values[option.name] = copy.deepcopy(default) if isinstance(default, (list, dict)) else default
                continue
            values[option.name] = coerce(option, raw, prefix + option.name, context)
        self._check_rules(values, prefix, context)
        return values

    def _check_rules(self, values, prefix, context):
        for option in self.ruled:
            path = prefix + option.name
            value = values[option.name]
            if option.is_set(value) and context not in option.contexts:
                raise ModelError(path, 'does not exist in the %s context' % context,
                                 'remove it (it is for the %s context)' % ' and '.join(option.contexts))
            for choice, contexts in option.choice_contexts:
                if value == choice and context not in contexts:
                    allowed = [c for c in option.choices if context in dict(option.choice_contexts).get(c, (context,))]
                    raise ModelError(path, 'does not exist in the %s context' % context,
                                     'use one of %s' % ', '.join(allowed), value=value)
            if option.required_with and not option.is_set(value):
                other, wanted = option.required_with
                if values.get(other) == wanted:
                    raise ModelError(path, 'is required with %s=%s' % (other, wanted), option.hint)
            if option.requires and option.is_set(value) and not self[option.requires].is_set(values[option.requires]):
                raise ModelError(path, 'has no effect without %s' % option.requires,
                                 'set %s, or remove %s' % (option.requires, option.name))
            if option.applies_to and option.is_set(value):
                other, wanted = option.applies_to
                if values.get(other) not in wanted:
                    raise ModelError(path, 'only applies to %s (%s is %s)' % (
                        ' or '.join('%s=%s' % (other, w) for w in wanted), other, values.get(other)),
                        'set %s: %s, or remove %s' % (other, wanted[0], option.name),
                        **({} if option.type == 'bool' else {'value': value}))
        for names in self.required_together:
            present = [n for n in names if self[n].is_set(values[n])]
            if present and len(present) != len(names):
                raise ModelError(prefix + names[0], 'and %s go together' % ' and '.join(names[1:]),
                                 'give both, or neither')
        for names in self.required_one_of:
            if not any(self[n].is_set(values[n]) for n in names):
                for name in names:
                    if values[name] == []:
                        raise ModelError(prefix + name, 'is empty', self[name].hint or 'give at least one')
                raise ModelError(prefix.rstrip('.') or names[0], 'needs one of %s' % ', '.join(names),
                                 self.one_of_hint or 'set one of them')
        for names in self.mutually_exclusive:
            present = [n for n in names if self[n].is_set(values[n])]
            if len(present) > 1:
                raise ModelError(prefix + present[1], 'cannot be combined with %s%s' % (prefix, present[0]),
                                 'keep one of %s' % ' and '.join(names))

    # -- what a group uses of the proxy's Nginx ---------------------------------
    def features(self, values, prefix: str = ''):
        """``(FEATURES key, option path)`` of every gated option ``values`` use, sub-groups included."""
        used = []
        for option in self.options:
            value = values.get(option.name)
            path = prefix + option.name
            if option.feature and option.is_set(value):
                used.append((option.feature, path))
            for choice, key in option.choice_features:
                if value == choice:
                    used.append((key, path))
            if option.suboptions is not None and value:
                if option.type == 'list':
                    for index, item in enumerate(value):
                        used.extend(option.suboptions.features(item, '%s[%d].' % (path, index)))
                else:
                    used.extend(option.suboptions.features(value, path + '.'))
        return used

    # -- the inverse read ----------------------------------------------------
    def by_directive(self, render=DIRECTIVE):
        return dict((o.directive, o) for o in self.options if o.render == render)

    def defaults(self) -> Dict[str, Any]:
        return dict((o.name, copy.deepcopy(o.default)) for o in self.options)


def compact(values: Dict[str, Any]) -> Dict[str, Any]:
    """Leave out unset (None) values: Ansible refuses an explicit null for an option with choices."""
    return dict((key, value) for key, value in values.items() if value is not None)


def coerce(option: Option, raw, path: str, context: str = HTTP):
    """One value, checked against its option's type, choices, range and kind."""
    kind = option.kind
    if option.type == 'bool':
        return _values.as_bool(path, raw)
    if option.type == 'int':
        return _values.as_int(path, raw, option.minimum, option.maximum)
    if option.type == 'list':
        if option.suboptions is not None:
            if not isinstance(raw, list):
                raise ModelError(path, 'must be a list', option.hint or 'give a list of {%s: ...}'
                                 % option.suboptions.options[0].name, value=raw)
            return [option.suboptions.validate(item, '%s[%d].' % (path, index), option.noun or 'options', context)
                    for index, item in enumerate(raw)]
        if kind == 'words':
            return _values.as_words(path, raw, option.noun or 'a word')
        if kind == 'sticky':
            words = _values.as_words(path, raw, option.noun)
            if not words or words[0] not in STICKY_METHODS:
                raise ModelError(path, 'must start with %s or %s' % (', '.join(STICKY_METHODS[:-1]),
                                                                     STICKY_METHODS[-1]),
                                 'give e.g. [cookie, srv_id, expires=1h]', value=raw)
            return words
        if isinstance(raw, str):
            # as Ansible turns a string into a list: split on commas; a list of choices on white space too
            items = [part.strip() for part in raw.split(',')] if ',' in raw else [raw]
            if option.choices is not None:
                items = [word for part in items for word in part.split()]
        elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
            items = [raw]
        else:
            items = raw
        if not isinstance(items, list):
            raise ModelError(path, 'must be a list', option.hint or 'give a list of values', value=raw)
        values = [str(item) for item in items]
        if option.choices is not None:
            for index, item in enumerate(values):
                if item not in option.choices:
                    raise ModelError('%s[%d]' % (path, index), 'is not %s' % (option.noun or 'a choice'),
                                     'use %s' % ', '.join(option.choices), value=item)
        return values
    if option.type == 'dict':
        if option.suboptions is not None:
            return option.suboptions.validate(raw, path + '.', option.noun or 'options', context)
        if not isinstance(raw, dict):
            raise ModelError(path, 'must be a dict', option.hint or 'give {name: value}', value=raw)
        return raw
    if option.type == 'raw':
        return raw
    if option.type == 'float' and kind != 'percent':
        return _values.as_float(path, raw, option.minimum, option.maximum)
    if isinstance(raw, (dict, list)):
        raise ModelError(path, 'must be a single value, not a %s' % type(raw).__name__, 'give one value',
                         value=raw)
    if kind == 'time':
        return _values.as_time(path, raw)   # it tells true and false from a time
    if kind == 'percent':
        return _values.as_percent(path, raw)   # it tells true from a number, and shows a number as given
    value = str(raw)
    if option.choices is not None and value not in option.choices:
        raise ModelError(path, 'is not %s' % (option.noun or 'one of the choices'),
                         'use one of %s' % ', '.join(option.choices), value=value)
    return _check_kind(kind, path, value, option)


def _check_kind(kind, path, value, option):
    if kind is None:
        return value
    if kind == 'name':
        return _values.check_name(path, value)
    if kind == 'address':
        return _values.check_address(path, value)
    if kind == 'time':
        return _values.as_time(path, value)
    if kind == 'percent':
        return _values.as_percent(path, value)
    if kind == 'name_size':
        return _values.as_name_and_size(path, value, option.noun or 'a value')
    if kind == 'label':
        return _values.as_label(path, value, option.noun or 'a value')
    if kind == 'token':
        return _values.as_token(path, value, option.noun or 'a value')
    if kind == 'text':
        return _values.as_text(path, value, option.noun or 'a value')
    if kind == 'variables':
        return _values.as_text(path, value, option.noun or 'a value', variables=True)
    raise AssertionError('unknown value kind %r of %s' % (kind, option.name))


# --------------------------------------------------------------------------
# the declarations
# --------------------------------------------------------------------------

# Options the engine's own rules and renderers refer to are named here, so that each name is written once.
NAME = Option('name', required=True, kind='name', hint='give a name such as backend_pool')
STATE = Option('state', choices=('present', 'absent'), default='present', noun='a state')
PATH = Option('path', type='path')

ADDRESS = Option('address', required=True, kind='address', hint='give host:port, [v6]:port or unix:/path')
BACKUP = Option('backup', type='bool', default=False, directive='backup', render=FLAG)
DOWN = Option('down', type='bool', default=False, directive='down', render=FLAG)
RESOLVE = Option('resolve', type='bool', default=False, directive='resolve', render=FLAG, feature='resolve')

SERVER_OPTIONS = Group((
    ADDRESS,
    Option('weight', type='int', minimum=1, maximum=1000000, directive='weight', render=PARAM),
    Option('max_conns', type='int', minimum=0, directive='max_conns', render=PARAM, feature='max_conns'),
    Option('max_fails', type='int', minimum=0, directive='max_fails', render=PARAM),
    Option('fail_timeout', kind='time', directive='fail_timeout', render=PARAM),
    Option('slow_start', kind='time', directive='slow_start', render=PARAM, feature='slow_start'),
    Option('route', kind='label', noun='a route', directive='route', render=PARAM, feature='route', contexts=(HTTP,)),
    BACKUP,
    DOWN,
    Option('drain', type='bool', default=False, directive='drain', render=FLAG, feature='drain', contexts=(HTTP,)),
    RESOLVE,
), shorthand='address')

ROUND_ROBIN = 'round_robin'
METHODS = (ROUND_ROBIN,) + METHOD_DIRECTIVES
HASH, RANDOM, LEAST_TIME_METHOD = 'hash', 'random', 'least_time'
NO_BACKUP_METHODS = ('ip_hash', HASH, RANDOM)
BACKUP_METHODS = (ROUND_ROBIN, 'least_conn')   # what the fix of a backup with a hash method offers
LEAST_TIME_MODES = ('header', 'last_byte', 'header inflight', 'last_byte inflight')
RANDOM_LEAST_TIME_MODES = ('header', 'last_byte')

METHOD = Option('method', choices=METHODS, default=ROUND_ROBIN, noun='a balancing method',
                choice_features=((RANDOM, 'random'), (LEAST_TIME_METHOD, 'least_time')),
                choice_contexts=(('ip_hash', (HTTP,)), (LEAST_TIME_METHOD, (HTTP,))))
CONTEXT = Option('context', choices=(HTTP, STREAM), default=HTTP, noun='a context')
HASH_KEY = Option('hash_key', kind='variables', noun='a hash key', no_log=False, applies_to=('method', (HASH,)),
                  required_with=('method', HASH),
                  hint='set hash_key to the key to hash, e.g. $request_uri or $remote_addr')
CONSISTENT = Option(HASH_CONSISTENT, type='bool', default=False, applies_to=('method', (HASH,)))
RANDOM_TWO_OPTION = Option('random_two', type='bool', default=False, applies_to=('method', (RANDOM,)))
LEAST_TIME = Option('least_time', choices=LEAST_TIME_MODES, noun='a least_time mode', applies_to=(
    'method', (LEAST_TIME_METHOD, RANDOM)), required_with=('method', LEAST_TIME_METHOD),
    hint='set least_time to header or last_byte', contexts=(HTTP,))
SERVERS = Option('servers', type='list', elements='dict', suboptions=SERVER_OPTIONS, noun='server options',
                 hint='give a list of {address: host:port} (or of address strings)')
ZONE = Option('zone', kind='name_size', noun='a zone', directive='zone', render=DIRECTIVE, place='head', feature='zone')
QUEUE = Option('queue', type='int', minimum=1, directive='queue', feature='queue', contexts=(HTTP,))
QUEUE_TIMEOUT = Option('queue_timeout', kind='time', requires='queue', contexts=(HTTP,))

UPSTREAM_OPTIONS = Group((
    NAME,
    STATE,
    CONTEXT,
    METHOD,
    HASH_KEY,
    CONSISTENT,
    RANDOM_TWO_OPTION,
    LEAST_TIME,
    SERVERS,
    Option('keepalive', type='int', minimum=1, no_log=False, directive='keepalive', render=DIRECTIVE, place='tail',
           contexts=(HTTP,)),
    Option('keepalive_requests', type='int', minimum=1, no_log=False, directive='keepalive_requests',
           render=DIRECTIVE, place='tail', feature='keepalive_requests', requires='keepalive', contexts=(HTTP,)),
    Option('keepalive_time', kind='time', no_log=False, directive='keepalive_time', render=DIRECTIVE,
           place='tail', feature='keepalive_time', requires='keepalive', contexts=(HTTP,)),
    Option('keepalive_timeout', kind='time', no_log=False, directive='keepalive_timeout', render=DIRECTIVE,
           place='tail', feature='keepalive_timeout', requires='keepalive', contexts=(HTTP,)),
    ZONE,
    Option('resolver', type='list', elements='str', kind='words', noun='a resolver address', directive='resolver',
           render=DIRECTIVE, place='head', feature='resolver'),
    Option('resolver_timeout', kind='time', directive='resolver_timeout', render=DIRECTIVE, place='head',
           feature='resolver_timeout', requires='resolver'),
    Option('sticky', type='list', elements='str', kind='sticky', noun='a sticky argument', directive='sticky',
           render=DIRECTIVE, place='method', feature='sticky', contexts=(HTTP,)),
    Option('ntlm', type='bool', default=False, directive='ntlm', render=DIRECTIVE, place='tail', feature='ntlm',
           contexts=(HTTP,)),
    QUEUE,
    QUEUE_TIMEOUT,
))

NEXT_UPSTREAM = ('error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504',
                 'http_403', 'http_404', 'http_429', 'non_idempotent', 'off')

LOCATION_PATH = Option('path', default='/')
LOCATION_UPSTREAM = Option('upstream', kind='name')
LOCATION_PASS = Option('pass')
WEBSOCKET = Option('websocket', type='bool', default=False)
HEADERS = Option('headers', type='dict', hint='write {X-Request-Id: $request_id}')
NEXT_UPSTREAM_OPTION = Option('next_upstream', type='list', elements='str', choices=NEXT_UPSTREAM,
                              noun='a proxy_next_upstream condition', directive='proxy_next_upstream',
                              render=DIRECTIVE)

TLS_PROTOCOLS = ('TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3')
TLS_VERIFY = Option('verify', type='bool', kind='onoff', default=True, directive='proxy_ssl_verify',
                    render=DIRECTIVE, always=True)
TLS_TRUSTED = Option('trusted_certificate', type='path', kind='token', noun='a file path',
                     directive='proxy_ssl_trusted_certificate', render=DIRECTIVE)
TLS_SNI = Option('server_name', type='bool', kind='onoff', default=True, directive='proxy_ssl_server_name',
                 render=DIRECTIVE, always=True)
TLS_NAME = Option('name', kind='variables', noun='a TLS name', directive='proxy_ssl_name', render=DIRECTIVE)
BACKEND_TLS_OPTIONS = Group((
    TLS_VERIFY,
    TLS_TRUSTED,
    TLS_SNI,
    TLS_NAME,
    Option('certificate', type='path', kind='token', noun='a file path', directive='proxy_ssl_certificate',
           render=DIRECTIVE),
    Option('certificate_key', type='path', kind='token', noun='a file path', no_log=False,
           directive='proxy_ssl_certificate_key', render=DIRECTIVE),
    Option('protocols', type='list', elements='str', choices=TLS_PROTOCOLS, noun='a TLS protocol',
           directive='proxy_ssl_protocols', render=DIRECTIVE),
), required_together=(('certificate', 'certificate_key'),))

SPLIT_UPSTREAM = Option('upstream', required=True, kind='name', hint='give the name of an upstream group')
SPLIT_PERCENT = Option('percent', type='float', kind='percent')
SPLIT_OPTIONS = Group((SPLIT_UPSTREAM, SPLIT_PERCENT))
SPLIT_CLIENTS = 'split_clients'
SPLIT = Option('split', type='list', elements='dict', suboptions=SPLIT_OPTIONS, noun='split options',
               hint='list the groups and their shares, e.g. [{upstream: v1, percent: 90}, {upstream: v2}]')
SPLIT_KEY = Option('split_key', kind='variables', noun='a split key', default='$request_id')
BACKEND_TLS = Option('backend_tls', type='dict', suboptions=BACKEND_TLS_OPTIONS, noun='backend TLS options')

LOCATION_OPTIONS = Group((
    LOCATION_PATH,
    LOCATION_UPSTREAM,
    LOCATION_PASS,
    SPLIT,
    SPLIT_KEY,
    BACKEND_TLS,
    NEXT_UPSTREAM_OPTION,
    Option('next_upstream_tries', type='int', minimum=0, directive='proxy_next_upstream_tries', render=DIRECTIVE),
    Option('next_upstream_timeout', kind='time', directive='proxy_next_upstream_timeout', render=DIRECTIVE),
    Option('connect_timeout', kind='time', directive='proxy_connect_timeout', render=DIRECTIVE),
    Option('read_timeout', kind='time', directive='proxy_read_timeout', render=DIRECTIVE),
    Option('send_timeout', kind='time', directive='proxy_send_timeout', render=DIRECTIVE),
    WEBSOCKET,
    HEADERS,
), mutually_exclusive=(('upstream', 'pass', 'split'),), required_one_of=(('upstream', 'pass', 'split'),),
    one_of_hint='set upstream to a group name, split to a canary between groups, or pass to a URL such as '
                'http://127.0.0.1:8080')

ACCESS_LOG_PATH = Option('path', required=True, kind='token', noun='a file path', hint='give a log file path, or off')
ACCESS_LOG_FORMAT = Option('format', kind='name')
ACCESS_LOG_OPTIONS = Group((ACCESS_LOG_PATH, ACCESS_LOG_FORMAT), shorthand='path')

DEFAULT_LISTEN = ['80', '[::]:80']
DEFAULT_PROXY_HEADERS = {
    'Host': '$host',
    'X-Real-IP': '$remote_addr',
    'X-Forwarded-For': '$proxy_add_x_forwarded_for',
    'X-Forwarded-Proto': '$scheme',
}

SERVER_NAMES = Option('server_name', type='list', elements='str')
LISTEN_OPTION = Option('listen', type='list', elements='str', default=DEFAULT_LISTEN)
VHOST_UPSTREAM = Option('upstream', kind='name')
LOCATIONS = Option('locations', type='list', elements='dict', suboptions=LOCATION_OPTIONS, noun='location options')
PROXY_HEADERS = Option('proxy_headers', type='dict', default=DEFAULT_PROXY_HEADERS, hint='write {Host: $host}')
VHOST_ACCESS_LOG = Option('access_log', type='dict', suboptions=ACCESS_LOG_OPTIONS, noun='access log options')

VHOST_OPTIONS = Group((
    NAME,
    STATE,
    SERVER_NAMES,
    LISTEN_OPTION,
    VHOST_UPSTREAM,
    LOCATIONS,
    PROXY_HEADERS,
    VHOST_ACCESS_LOG,
    Option('ssl_certificate', type='path', kind='token', noun='a file path', directive='ssl_certificate',
           render=DIRECTIVE),
    Option('ssl_certificate_key', type='path', kind='token', noun='a file path', no_log=False,
           directive='ssl_certificate_key', render=DIRECTIVE),
), mutually_exclusive=(('upstream', 'locations'),), required_together=(('ssl_certificate', 'ssl_certificate_key'),))

STREAM_LISTEN = Option('listen', type='list', elements='str')
STREAM_UPSTREAM = Option('upstream', kind='name')
STREAM_PROXY_OPTIONS = Group((
    NAME,
    STATE,
    STREAM_LISTEN,
    STREAM_UPSTREAM,
    Option('proxy_timeout', kind='time', directive='proxy_timeout', render=DIRECTIVE),
    Option('connect_timeout', kind='time', directive='proxy_connect_timeout', render=DIRECTIVE),
    Option('next_upstream', type='bool', kind='onoff', directive='proxy_next_upstream', render=DIRECTIVE),
    Option('next_upstream_tries', type='int', minimum=0, directive='proxy_next_upstream_tries', render=DIRECTIVE),
    Option('next_upstream_timeout', kind='time', directive='proxy_next_upstream_timeout', render=DIRECTIVE),
))

ESCAPES = ('default', 'json', 'none')

BUILTIN_LOG_FORMATS = ('combined',)
# The ready format of a log format named upstream_debug: which backend served each request, per attempt.
UPSTREAM_DEBUG = 'upstream_debug'
UPSTREAM_DEBUG_FORMAT = ('$remote_addr $host $request status=$status upstream=$upstream_addr '
                         'upstream_status=$upstream_status upstream_response_time=$upstream_response_time')
LOG_FORMAT_FORMAT = Option('format', type='raw')
ESCAPE = Option('escape', choices=ESCAPES, noun='an escape mode')
LOG_FORMAT_OPTIONS = Group((NAME, STATE, LOG_FORMAT_FORMAT, ESCAPE))

# Ansible's common file arguments (owner, group, mode, ...).
FILE_COMMON = Group((
    Option('mode', type='raw'),
    Option('owner'),
    Option('group'),
    Option('seuser'),
    Option('serole'),
    Option('selevel'),
    Option('setype'),
    Option('attributes', aliases=('attr',)),
    Option('unsafe_writes', type='bool', default=False),
))

# What every file-writing module takes besides its item's options.
COMMON = Group((
    Option('conf_dir', type='path', default='/etc/nginx/conf.d'),
    Option('nginx_conf', type='path', default='/etc/nginx/nginx.conf'),
    Option('nginx_binary', default='nginx'),
    Option('nginx_timeout', type='int', default=60, minimum=1, maximum=86400),
    Option('validate', type='bool', default=True),
    Option('backup', type='bool', default=False),
    Option('backup_dir', type='path', default='/var/backups/balancer-nginx'),
    Option('force', type='bool', default=False),
    Option('nginx_plus', type='bool', default=False),
) + FILE_COMMON.options)
# The modules that write stream files take this one too.
STREAM_CONF_DIR = Option('stream_conf_dir', type='path', default='/etc/nginx/stream.d')
STREAM_COMMON = COMMON.with_options(STREAM_CONF_DIR)


def common_of(kind: str) -> Group:
    """The common options of the module ``kind`` (upstream, vhost, log_format, stream_proxy, site)."""
    return STREAM_COMMON if kind in ('upstream', 'stream_proxy', 'site') else COMMON


# An item as a single module or a site list takes it: the kind's options and its own path.
ITEMS = {
    'upstream': UPSTREAM_OPTIONS.with_options(PATH),
    'vhost': VHOST_OPTIONS.with_options(PATH),
    'log_format': LOG_FORMAT_OPTIONS.with_options(PATH),
    'stream_proxy': STREAM_PROXY_OPTIONS.with_options(PATH),
}

# A site's lists hold items of ITEMS, each validated with its single module's group (by the engine, so one rule
# gives one message whichever module meets it; the documentation refers to the single modules).
SITE_LISTS = {'upstreams': 'upstream', 'vhosts': 'vhost', 'log_formats': 'log_format',
              'stream_proxies': 'stream_proxy'}
SITE_OPTIONS = Group((*(Option(name, type='list', elements='dict', default=[]) for name in SITE_LISTS),
                     Option('exclusive', type='bool', default=False)))
