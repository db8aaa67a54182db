# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/load_balancer: argument specs, defaults and the variables the tasks and playbooks read agree."""

from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
ROLE = os.path.join(ROOT, 'roles', 'load_balancer')

# The names DESIGN.md fixes, with their defaults (None: derived at run time, no default).
DESIGN = {
    'main': {
        'load_balancer_upstreams': [], 'load_balancer_vhosts': [],
        'load_balancer_log_formats': [{'name': 'upstream_debug'}], 'load_balancer_stream_proxies': [],
        'load_balancer_conf_dir': '/etc/nginx/conf.d', 'load_balancer_nginx_conf': '/etc/nginx/nginx.conf',
        'load_balancer_nginx_binary': 'nginx', 'load_balancer_exclusive': False, 'load_balancer_backup': True,
        'load_balancer_install': False, 'load_balancer_nginx_plus': False, 'load_balancer_probe': True,
        'load_balancer_probe_path': '/health', 'load_balancer_probe_min_healthy': 1, 'load_balancer_verify': True,
        'load_balancer_verify_requests': 60, 'load_balancer_verify_tolerance': 0.1, 'load_balancer_serial': 1,
    },
    'firewall': {
        'load_balancer_firewall_ports': None, 'load_balancer_firewall_allow': None,
        'load_balancer_proxies_group': 'proxies', 'load_balancer_firewall': True,
        'load_balancer_firewall_backend': 'nftables',
    },
    'rollback': {'load_balancer_rollback_vhost': None, 'load_balancer_rollback_to': None},
}


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope='module')
def specs():
    return load(os.path.join(ROLE, 'meta', 'argument_specs.yml'))['argument_specs']


@pytest.fixture(scope='module')
def defaults():
    return load(os.path.join(ROLE, 'defaults', 'main.yml'))


def all_options(specs):
    options = {}
    for entry in specs.values():
        options.update(entry['options'])
    return options


def test_the_four_entry_points(specs):
    assert sorted(specs) == ['firewall', 'main', 'rollback', 'verify']
    for name, entry in specs.items():
        assert entry['short_description'], name
        assert entry['description'], name
        assert entry['author'], name


@pytest.mark.parametrize('entry', sorted(DESIGN))
def test_design_names_and_defaults(specs, entry):
    options = specs[entry]['options']
    for name, default in DESIGN[entry].items():
        assert name in options, '%s does not declare %s' % (entry, name)
        if default is None:
            assert 'default' not in options[name], name
        else:
            assert options[name]['default'] == default, name


def test_every_option_is_typed_and_described(specs):
    for entry, spec in specs.items():
        for name, option in spec['options'].items():
            where = '%s.%s' % (entry, name)
            assert name.startswith('load_balancer_'), where
            assert option.get('description'), where
            assert option.get('type') in ('str', 'int', 'float', 'bool', 'list', 'dict', 'path', 'raw'), where
            if option['type'] == 'list':
                assert option.get('elements'), '%s: a list needs elements' % where
            assert 'required' not in option, '%s: role variables are optional' % where


def test_an_option_means_the_same_in_every_entry_point(specs):
    seen = {}
    for entry, spec in specs.items():
        for name, option in spec['options'].items():
            if name in seen:
                assert option == seen[name][1], '%s differs between %s and %s' % (name, seen[name][0], entry)
            else:
                seen[name] = (entry, option)


def test_defaults_file_matches_the_specs(specs, defaults):
    with_default = dict((name, option['default']) for name, option in all_options(specs).items() if 'default' in option)
    assert defaults == with_default


def test_defaults_pass_their_own_types(specs, defaults):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    for entry, spec in specs.items():
        argument_spec = dict((name, dict((k, v) for k, v in option.items() if k != 'description'))
                             for name, option in spec['options'].items())
        result = ArgumentSpecValidator(argument_spec).validate(
            dict((k, v) for k, v in defaults.items() if k in argument_spec))
        assert not result.error_messages, entry


def test_a_string_for_a_list_of_dicts_fails_validation(specs):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    option = dict((k, v) for k, v in specs['main']['options']['load_balancer_upstreams'].items() if k != 'description')
    result = ArgumentSpecValidator({'load_balancer_upstreams': option}).validate({'load_balancer_upstreams': 'app'})
    # the wording of the type differs between ansible-core versions
    assert len(result.error_messages) == 1
    assert result.error_messages[0].startswith("Elements value for option 'load_balancer_upstreams' is of type ")
    assert 'unable to convert to dict' in result.error_messages[0]


def read(paths):
    for path in paths:
        with open(path) as handle:
            yield path, handle.read()


SOURCES = (glob.glob(os.path.join(ROLE, 'tasks', '*.yml')) + glob.glob(os.path.join(ROLE, 'handlers', '*.yml'))
           + glob.glob(os.path.join(ROLE, 'templates', '*')) + glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))


def test_every_variable_the_role_and_playbooks_read_is_declared(specs):
    declared = set(all_options(specs))
    for path, text in read(SOURCES):
        code = re.sub(r'^\s*#.*$', '', text, flags=re.M)
        for name in re.findall(r'(?<![\w.])load_balancer_\w+', code):
            assert name in declared, '%s reads %s, which no entry point declares' % (os.path.relpath(path, ROOT), name)


def test_internal_variables_are_prefixed(specs):
    for path, text in read(SOURCES + [os.path.join(ROLE, 'vars', 'main.yml')]):
        for match in re.finditer(r'^\s*(register|[a-z_]+):\s*(\S+)?', text, re.M):
            if match.group(1) == 'register':
                assert match.group(2).startswith('__load_balancer_'), '%s registers %s' % (path, match.group(2))
        for block in re.findall(r'set_fact:\n((?:\s{4,}\S.*\n)+)', text):
            for name in re.findall(r'^\s{4}(\w+):', block, re.M):
                assert name.startswith('__load_balancer_'), '%s sets %s' % (path, name)
    for name in load(os.path.join(ROLE, 'vars', 'main.yml')):
        assert name.startswith('__load_balancer_'), name


def test_every_entry_point_runs_the_guard_first(specs):
    for entry in specs:
        tasks = load(os.path.join(ROLE, 'tasks', entry + '.yml'))
        assert tasks[0].get('ansible.builtin.import_tasks') == 'guard.yml', entry
    deploy = load(os.path.join(ROOT, 'playbooks', 'deploy.yml'))
    assert deploy[0]['hosts'] == 'proxies:backends'
    assert deploy[0]['tasks'][0]['ansible.builtin.include_role']['tasks_from'] == 'guard'
    assert deploy[0]['any_errors_fatal'] is True


def test_deploy_plays(specs):
    guard, firewall, main = load(os.path.join(ROOT, 'playbooks', 'deploy.yml'))
    assert firewall['hosts'] == 'backends'
    assert firewall['tasks'][0]['ansible.builtin.include_role']['tasks_from'] == 'firewall'
    assert main['hosts'] == 'proxies'
    assert main['serial'] == '{{ load_balancer_serial | default(1) }}'
    assert main['max_fail_percentage'] == 0
    assert 'tasks_from' not in main['tasks'][0]['ansible.builtin.include_role']
