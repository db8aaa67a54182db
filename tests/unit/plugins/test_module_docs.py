# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' documentation agrees with the argument specs in _specs.py; EXAMPLES and RETURN are sound.

The file-writing modules' specs are generated from the option table (``_specs.module_spec``), so these tests
compare the table itself with what each module documents.
"""

from __future__ import annotations

import copy
import importlib

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.playbook.task import Task
from ansible.plugins.doc_fragments.action_common_attributes import ModuleDocFragment as AttributesFragment
from ansible.plugins.doc_fragments.files import ModuleDocFragment as FilesFragment

from ansible_collections.balancer.nginx.plugins.doc_fragments.common import ModuleDocFragment as CommonFragment
from ansible_collections.balancer.nginx.plugins.module_utils import _engine, _options, _specs

FRAGMENTS = {
    'balancer.nginx.common': CommonFragment.DOCUMENTATION,
    'balancer.nginx.common.stream': CommonFragment.STREAM,
    'balancer.nginx.common.target': CommonFragment.TARGET,
    'balancer.nginx.common.read_only': CommonFragment.READ_ONLY,
    'ansible.builtin.files': FilesFragment.DOCUMENTATION,
    # attribute descriptions only, no options
    'ansible.builtin.action_common_attributes': AttributesFragment.DOCUMENTATION,
    'ansible.builtin.action_common_attributes.flow': AttributesFragment.FLOW,
    'action_common_attributes.files': AttributesFragment.FILES,
}


def commit_spec():
    # commit.py builds AnsibleModule(argument_spec=COMMIT, add_file_common_args=True)
    spec = copy.deepcopy(_specs.COMMIT)
    spec.update(copy.deepcopy(_specs.FILE_COMMON_ARGS))
    return spec


# module -> (argument spec the module is run with, cross-option rules)
SPECS = {
    # the file-writing modules: generated from the option table
    'upstream': (_specs.module_spec('upstream'), _specs.module_rules('upstream')),
    'vhost': (_specs.module_spec('vhost'), _specs.module_rules('vhost')),
    'log_format': (_specs.module_spec('log_format'), _specs.module_rules('log_format')),
    'stream_proxy': (_specs.module_spec('stream_proxy'), _specs.module_rules('stream_proxy')),
    'site': (_specs.module_spec('site'), _specs.module_rules('site')),
    # the target-side modules: plain data
    'snapshot': (_specs.SNAPSHOT, {}),
    'commit': (commit_spec(), {}),
    'config_info': (_specs.CONFIG_INFO, {}),
    # read-only probes that run on the proxy
    'backend_probe': (_specs.BACKEND_PROBE, _specs.BACKEND_PROBE_RULES),
    'balance_check': (_specs.BALANCE_CHECK, _specs.BALANCE_CHECK_RULES),
}
FILE_WRITING = ('upstream', 'vhost', 'log_format', 'stream_proxy', 'site', 'commit')
# the modules that write files of the stream context take stream_conf_dir besides the common options
STREAM_WRITING = ('upstream', 'stream_proxy', 'site')
COMMON_OPTIONS = ('conf_dir', 'nginx_conf', 'nginx_binary', 'nginx_timeout', 'validate', 'backup',
                  'backup_dir', 'force', 'nginx_plus')


def module_of(name):
    return importlib.import_module('ansible_collections.balancer.nginx.plugins.modules.' + name)


def documentation(name):
    """DOCUMENTATION with its fragments merged the way ansible-doc merges them (the module's own keys win)."""
    doc = yaml.safe_load(module_of(name).DOCUMENTATION)
    for fragment_name in doc.pop('extends_documentation_fragment', []):
        fragment = yaml.safe_load(FRAGMENTS[fragment_name])
        for section in ('options', 'attributes'):
            for key, value in (fragment.get(section) or {}).items():
                merged = dict(value)
                merged.update(doc.setdefault(section, {}).get(key, {}))
                doc[section][key] = merged
        doc.setdefault('notes', []).extend(fragment.get('notes', []))
    return doc


def normalized(options, children):
    """Documented options (children='suboptions') or an argument spec (children='options') in one comparable shape."""
    result = {}
    for name, option in (options or {}).items():
        result[name] = {
            'type': option.get('type', 'str'),
            'default': option.get('default'),
            'choices': option.get('choices'),
            'elements': option.get('elements'),
            'required': bool(option.get('required', False)),
            'aliases': sorted(option.get('aliases') or []),
            'suboptions': normalized(option[children], children) if children in option else None,
        }
    return result


def normalized_doc(options):
    return normalized(options, 'suboptions')


def normalized_spec(spec):
    return normalized(spec, 'options')


# the action plugins' own options: exactly these, each documented as internal (ansible-test's validate-modules
# wants every option documented, and ansible-lint's production profile refuses the sanity ignores that
# would keep them undocumented)
INTERNAL = {
    'snapshot': ['_dirs', '_dump', '_once', '_paths'],
    'commit': ['_expected', '_keep_attributes', '_mkdirs', '_read_set'],
}
INTERNAL_DESCRIPTION = "Internal, set by the collection's action plugins; do not set it in a task."


@pytest.mark.parametrize('name', sorted(SPECS))
def test_internal_options_are_the_action_plugins_own(name):
    assert sorted(k for k in SPECS[name][0] if k.startswith('_')) == INTERNAL.get(name, [])
    documented = documentation(name)['options']
    for key in INTERNAL.get(name, []):
        description = documented[key]['description']
        text = description[0] if isinstance(description, list) else description
        assert text.startswith(INTERNAL_DESCRIPTION), key


@pytest.mark.parametrize('name', sorted(SPECS))
def test_option_names_agree(name):
    assert sorted(documentation(name)['options']) == sorted(SPECS[name][0])


@pytest.mark.parametrize('name', sorted(SPECS))
def test_docs_and_spec_agree(name):
    doc = normalized_doc(documentation(name)['options'])
    spec = normalized_spec(SPECS[name][0])
    for option in sorted(set(doc) | set(spec)):
        assert doc.get(option) == spec.get(option), option


@pytest.mark.parametrize('name', sorted(SPECS))
def test_every_option_is_described(name):
    def walk(options, path):
        for key, option in options.items():
            assert option.get('description'), path + key
            assert 'type' in option, path + key
            if option.get('type') == 'list':
                assert 'elements' in option, path + key
            walk(option.get('suboptions') or {}, path + key + '.')

    walk(documentation(name)['options'], '')


# the module that came with issue 12 is new in 0.2.0; every other one came with the first release
VERSION_ADDED = {'stream_proxy': '0.2.0'}


@pytest.mark.parametrize('name', sorted(SPECS))
def test_header(name):
    doc = documentation(name)
    assert doc['module'] == name
    assert doc['short_description']
    assert doc['version_added'] == VERSION_ADDED.get(name, '0.1.0')
    assert set(doc['attributes']) >= {'check_mode', 'diff_mode'}


@pytest.mark.parametrize('name', ['upstream', 'vhost', 'log_format', 'stream_proxy', 'site'])
def test_common_options_of_every_file_writing_module(name):
    spec = SPECS[name][0]
    assert all(key in spec for key in COMMON_OPTIONS)
    assert (spec['force'], spec['nginx_timeout'], spec['backup_dir']) == (
        {'type': 'bool', 'default': False}, {'type': 'int', 'default': 60},
        {'type': 'path', 'default': '/var/backups/balancer-nginx'})
    options = documentation(name)['options']
    assert (options['force']['default'], options['nginx_timeout']['default'], options['backup_dir']['default']) == (
        False, 60, '/var/backups/balancer-nginx')


@pytest.mark.parametrize('name', ['upstream', 'vhost', 'log_format', 'stream_proxy', 'site'])
def test_stream_conf_dir_only_where_stream_files_are_written(name):
    spec = SPECS[name][0]
    if name in STREAM_WRITING:
        assert spec['stream_conf_dir'] == {'type': 'path', 'default': '/etc/nginx/stream.d'}
        assert documentation(name)['options']['stream_conf_dir']['default'] == '/etc/nginx/stream.d'
    else:
        assert 'stream_conf_dir' not in spec
        assert 'stream_conf_dir' not in documentation(name)['options']


@pytest.mark.parametrize('name', ['upstream', 'vhost', 'log_format', 'stream_proxy'])
def test_single_file_modules_take_a_path(name):
    assert SPECS[name][0]['path'] == {'type': 'path'}
    assert documentation(name)['options']['path']['type'] == 'path'


def test_site_takes_no_path():
    # each single module documents its own path; a site's items carry theirs
    assert 'path' not in SPECS['site'][0]
    assert 'path' not in documentation('site')['options']


@pytest.mark.parametrize('name, rules', [
    ('upstream', {'required_if': [['method', 'hash', ['hash_key']], ['method', 'least_time', ['least_time']]],
                  'required_by': {'keepalive_requests': 'keepalive', 'keepalive_time': 'keepalive',
                                  'keepalive_timeout': 'keepalive', 'resolver_timeout': 'resolver',
                                  'queue_timeout': 'queue'}}),
    ('vhost', {'mutually_exclusive': [['upstream', 'locations']],
               'required_together': [['ssl_certificate', 'ssl_certificate_key']]}),
    ('log_format', {}),
    ('stream_proxy', {}),
    ('site', {}),
])
def test_cross_option_rules_come_from_the_table(name, rules):
    assert SPECS[name][1] == rules


def test_location_rules_come_from_the_table():
    locations = SPECS['vhost'][0]['locations']
    assert (locations['mutually_exclusive'], locations['required_one_of']) == (
        [['upstream', 'pass', 'split']], [['upstream', 'pass', 'split']])
    assert locations['options']['backend_tls']['required_together'] == [['certificate', 'certificate_key']]
    assert locations['options']['split']['options'] == {'upstream': {'type': 'str', 'required': True},
                                                        'percent': {'type': 'float'}}
    assert locations['options']['split_key'] == {'type': 'str', 'default': '$request_id'}


def test_new_options_of_issue_12_in_the_specs():
    # literal: what Ansible gets for the options the stream context, TLS to the backends and the canary added
    assert SPECS['upstream'][0]['context'] == {'type': 'str', 'default': 'http', 'choices': ['http', 'stream']}
    assert SPECS['site'][0]['stream_proxies'] == {'type': 'list', 'elements': 'dict', 'default': []}
    tls = SPECS['vhost'][0]['locations']['options']['backend_tls']
    assert tls == {'type': 'dict', 'required_together': [['certificate', 'certificate_key']], 'options': {
        'verify': {'type': 'bool', 'default': True},
        'trusted_certificate': {'type': 'path'},
        'server_name': {'type': 'bool', 'default': True},
        'name': {'type': 'str'},
        'certificate': {'type': 'path'},
        'certificate_key': {'type': 'path', 'no_log': False},
        'protocols': {'type': 'list', 'elements': 'str', 'choices': ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']},
    }}
    own = dict((k, v) for k, v in SPECS['stream_proxy'][0].items() if k not in _specs.COMMON
               and k not in _specs.FILE_COMMON_ARGS)
    assert own == {
        'stream_conf_dir': {'type': 'path', 'default': '/etc/nginx/stream.d'},
        'name': {'type': 'str', 'required': True},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
        'listen': {'type': 'list', 'elements': 'str'},
        'upstream': {'type': 'str'},
        'proxy_timeout': {'type': 'str'},
        'connect_timeout': {'type': 'str'},
        'next_upstream': {'type': 'bool'},
        'next_upstream_tries': {'type': 'int'},
        'next_upstream_timeout': {'type': 'str'},
        'path': {'type': 'path'},
    }


def test_target_modules_take_the_timeout():
    assert _specs.SNAPSHOT['nginx_timeout'] == {'type': 'int', 'default': 60}
    assert _specs.COMMIT['nginx_timeout'] == {'type': 'int', 'default': 60}
    assert _specs.COMMIT['backup_dir'] == {'type': 'path', 'default': '/var/backups/balancer-nginx'}


@pytest.mark.parametrize('name', sorted(FRAGMENTS))
def test_every_fragment_is_yaml(name):
    assert isinstance(yaml.safe_load(FRAGMENTS[name]), dict), name


@pytest.mark.parametrize('name', ['upstream', 'vhost', 'log_format', 'stream_proxy', 'site'])
def test_file_writing_modules_are_action_backed(name):
    doc = documentation(name)
    assert doc['attributes']['action']['support'] == 'full'
    assert doc['attributes']['check_mode']['support'] == 'full'
    assert doc['attributes']['diff_mode']['support'] == 'full'
    # the documentation-only module file holds nothing but the three strings
    source = open(module_of(name).__file__).read()
    assert 'import ' not in source.replace('from __future__ import annotations', '')
    # and its action plugin exists
    action = importlib.import_module('ansible_collections.balancer.nginx.plugins.action.' + name)
    assert hasattr(action, 'ActionModule')


# -- EXAMPLES ------------------------------------------------------------------

TASK_KEYWORDS = set(Task.fattributes) | {'local_action', 'with_items', 'with_dict', 'args'}


def examples(name):
    text = module_of(name).EXAMPLES
    assert text.lstrip().startswith('---')
    tasks = yaml.safe_load(text)
    assert isinstance(tasks, list) and tasks
    return tasks


def module_key(task):
    keys = [k for k in task if k not in TASK_KEYWORDS and not k.startswith('with_')]
    assert len(keys) == 1, task
    return keys[0]


@pytest.mark.parametrize('name', sorted(SPECS))
def test_examples_are_named_tasks_with_fqcn(name):
    for task in examples(name):
        assert task.get('name'), task
        key = module_key(task)
        assert key.count('.') == 2, key
        assert key.split('.')[0] in ('balancer', 'ansible'), key
    assert 'balancer.nginx.' + name in [module_key(t) for t in examples(name)]


@pytest.mark.parametrize('name', sorted(SPECS))
def test_examples_pass_the_argument_spec(name):
    spec, rules = SPECS[name]
    for task in examples(name):
        if module_key(task) != 'balancer.nginx.' + name:
            continue
        result = ArgumentSpecValidator(spec, **rules).validate(copy.deepcopy(task[module_key(task)]))
        assert not result.error_messages, (task['name'], result.error_messages)


@pytest.mark.parametrize('name', ['upstream', 'vhost', 'log_format', 'stream_proxy', 'site'])
def test_examples_pass_the_engine(name):
    # what the action plugin does with an example's arguments before it reads the proxy
    for task in examples(name):
        if module_key(task) != 'balancer.nginx.' + name:
            continue
        args = task[module_key(task)]
        if any('{{' in str(value) for value in args.values()):
            continue
        if name == 'site':
            groups = dict((key, args.get(key) or []) for key in _options.SITE_LISTS)
        else:
            item = dict((key, value) for key, value in args.items() if key in _options.ITEMS[name].by_name)
            groups = {_engine.GROUPS[name]: [item]}
        items = _engine.describe(_engine.conf_dir_of(args), **groups)
        assert items, task['name']


def test_file_writing_examples_notify_a_handler():
    for name in FILE_WRITING:
        for task in examples(name):
            if module_key(task) == 'balancer.nginx.' + name:
                assert task.get('notify'), task['name']


# -- RETURN --------------------------------------------------------------------

@pytest.mark.parametrize('name', sorted(SPECS))
def test_return_values_are_complete(name):
    returns = yaml.safe_load(module_of(name).RETURN)
    assert returns
    for key, value in returns.items():
        for field in ('description', 'returned', 'type', 'sample'):
            assert field in value, (key, field)
        if value['type'] == 'list':
            assert 'elements' in value, key
