# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/plugin_utils/_task_args.py and the action plugins' finalize_task_arg.

Every case is held against ansible-core's own templating of the same
argument, with variables loaded the way Ansible loads a vars file (tagged
with their origin, trusted as templates): where the fast path answers, it
answers what Ansible would; where a value needs templating, it gives way.
"""

from __future__ import annotations

import json

import pytest
import yaml

hypothesis = pytest.importorskip('hypothesis')
from hypothesis import given, settings, strategies as st  # noqa: E402  pylint: disable=wrong-import-position

from ansible.parsing.dataloader import DataLoader  # noqa: E402  pylint: disable=wrong-import-position
from ansible.plugins.action import ActionBase  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.balancer.nginx.plugins.plugin_utils import _nginx_action, _task_args  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.balancer.nginx.plugins.plugin_utils._nginx_action import (  # noqa: E402  pylint: disable=wrong-import-position
    NginxFileAction)

if not _task_args.HAS_DATATAG:
    pytest.skip('ansible-core before 2.19 never calls finalize_task_arg', allow_module_level=True)

# pylint: disable=wrong-import-position,ungrouped-imports
from ansible._internal._templating._engine import TemplateEngine, TemplateOptions  # noqa: E402
from ansible._internal._templating._utils import TemplateContext  # noqa: E402
from ansible._internal._templating._lazy_containers import _AnsibleLazyTemplateList  # noqa: E402
from ansible.module_utils.datatag import deprecate_value  # noqa: E402
from ansible.template import trust_as_template  # noqa: E402

SITE = {
    'load_balancer_upstreams': [
        {'name': 'pool0', 'method': 'least_conn', 'keepalive': 8, 'zone': None, 'servers': [
            {'address': '10.0.0.1:8080', 'weight': 2, 'max_fails': 3, 'fail_timeout': '10s', 'backup': False},
            {'address': 'unix:/run/app.sock', 'weight': 1.5, 'down': True}]},
    ],
    'load_balancer_vhosts': [
        {'name': 'www', 'server_name': ['a.test', '*.b.test'], 'upstream': 'pool0',
         'headers': {'X-Real-IP': '$remote_addr', 'X-Set': '${host}x'}, 'return': '301 https://$host{'},
    ],
    'templated': [{'name': '{{ other }}'}],
    'block': [{'name': 'a{% if true %}b{% endif %}'}],
    'comment': [{'name': 'a{# no #}'}],
    'header': ["#jinja2:variable_start_string:'[[', variable_end_string:']]'\n[[ other ]]"],
    'templated_key': {'{{ other }}': 1},
    'other': 'resolved',
    'scalar': 'text',
    'number': 3,
}


def load_vars(tmp_path, data=None):
    """Variables loaded as Ansible loads a vars file: every value tagged, strings trusted as templates."""
    path = tmp_path / 'vars.yml'
    path.write_text(yaml.safe_dump(SITE if data is None else data))
    return DataLoader().load_from_file(str(path), trusted_as_template=True)


def by_ansible(arg, variables):
    return ActionBase.finalize_task_arg('upstreams', arg, TemplateEngine(loader=DataLoader(), variables=variables), None)


def by_action(arg, variables):
    return NginxFileAction.finalize_task_arg('upstreams', arg, TemplateEngine(loader=DataLoader(), variables=variables),
                                             None)


def as_json(value):
    return json.loads(json.dumps(value))


@pytest.mark.parametrize('arg', ['{{ load_balancer_upstreams }}', '{{load_balancer_vhosts}}',
                                 '{{ \tload_balancer_upstreams\n}}'])
def test_one_variable_of_plain_data_is_copied_as_ansible_renders_it(tmp_path, arg):
    variables = load_vars(tmp_path)
    fast = _task_args.plain_variable(trust_as_template(arg), variables)
    assert fast is not None
    assert as_json(fast) == as_json(by_ansible(trust_as_template(arg), variables))
    assert as_json(by_action(trust_as_template(arg), variables)) == as_json(fast)


def test_the_copy_is_new_and_of_builtin_containers(tmp_path):
    variables = load_vars(tmp_path)
    original = variables['load_balancer_upstreams']
    fast = _task_args.plain_variable(trust_as_template('{{ load_balancer_upstreams }}'), variables)
    assert (type(fast), type(fast[0]), type(fast[0]['servers'][0])) == (list, dict, dict)   # not Ansible's tagged ones
    fast[0]['servers'].append({'address': 'changed'})
    fast[0]['name'] = 'changed'
    assert len(original[0]['servers']) == 2 and original[0]['name'] == 'pool0'


@pytest.mark.parametrize('arg', ['{{ templated }}', '{{ block }}', '{{ comment }}', '{{ header }}', '{{ templated_key }}'])
def test_a_value_that_needs_templating_is_left_to_ansible(tmp_path, arg):
    variables = load_vars(tmp_path)
    assert _task_args.plain_variable(trust_as_template(arg), variables) is None
    assert as_json(by_action(trust_as_template(arg), variables)) == as_json(by_ansible(trust_as_template(arg), variables))


def test_the_templated_value_is_rendered_by_ansible(tmp_path):
    variables = load_vars(tmp_path)
    assert as_json(by_action(trust_as_template('{{ templated }}'), variables)) == [{'name': 'resolved'}]


@pytest.mark.parametrize('arg', [
    '{{ scalar }}',                                 # not a list or a dict: left to Ansible (omit, strings)
    '{{ number }}',
    '{{ load_balancer_upstreams | list }}',        # more than one variable
    '{{ load_balancer_upstreams }} ',
    ' {{ load_balancer_upstreams }}',
    '{{ load_balancer_upstreams[0] }}',
    'load_balancer_upstreams',
    '{{ omit }}',
])
def test_anything_but_one_variable_of_a_container_is_left_to_ansible(tmp_path, arg):
    variables = load_vars(tmp_path)
    assert _task_args.plain_variable(trust_as_template(arg), variables) is None


def test_an_untrusted_argument_is_not_rendered(tmp_path):
    variables = load_vars(tmp_path)
    arg = '{{ load_balancer_upstreams }}'    # not trusted: Ansible leaves it as it is
    assert _task_args.plain_variable(arg, variables) is None
    assert by_action(arg, variables) == by_ansible(arg, variables) == arg


def test_an_undefined_variable_fails_as_ansible_fails(tmp_path):
    variables = load_vars(tmp_path)
    arg = trust_as_template('{{ load_balancer_upstream }}')
    assert _task_args.plain_variable(arg, variables) is None
    with pytest.raises(Exception) as ansible_error:
        as_json(by_ansible(arg, variables))
    with pytest.raises(type(ansible_error.value)) as action_error:
        as_json(by_action(arg, variables))
    assert str(action_error.value) == str(ansible_error.value)


def test_a_lazy_or_deprecated_value_is_left_to_ansible(tmp_path):
    variables = dict(load_vars(tmp_path))
    engine = TemplateEngine(loader=DataLoader(), variables=variables)
    with TemplateContext(template_value=None, templar=engine, options=TemplateOptions.DEFAULT):
        variables['lazy'] = _AnsibleLazyTemplateList._try_create([{'name': 'a'}])
    assert isinstance(variables['lazy'], _AnsibleLazyTemplateList)
    assert _task_args.plain_variable(trust_as_template('{{ lazy }}'), variables) is None
    variables['old'] = deprecate_value([{'name': 'a'}], 'gone soon', version='1.0.0', collection_name='balancer.nginx')
    assert _task_args.plain_variable(trust_as_template('{{ old }}'), variables) is None


def test_other_types_inside_are_left_to_ansible(tmp_path):
    variables = load_vars(tmp_path)
    for odd in ({'a', 'b'}, ('a', 'b'), b'bytes', object()):
        assert _task_args.plain_copy([{'name': odd}]) is None
    assert _task_args.plain_copy([{1: 'one', None: True, 'f': 1.5}]) == [{1: 'one', None: True, 'f': 1.5}]
    assert variables    # loaded, unchanged by the above


def test_a_failing_lookup_falls_back_to_ansible(tmp_path, monkeypatch):
    variables = load_vars(tmp_path)

    def broken(value, found):
        raise RuntimeError('not the engine of 2.19 any more')

    monkeypatch.setattr(_nginx_action, 'plain_variable', broken)
    arg = trust_as_template('{{ load_balancer_upstreams }}')
    assert as_json(by_action(arg, variables)) == as_json(SITE['load_balancer_upstreams'])


TEXT = st.text(alphabet='ab{}%#$ \n:', max_size=8)
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2 ** 40, max_value=2 ** 40) | TEXT
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(data=st.lists(PLAIN, max_size=4))
def test_property_the_fast_path_answers_only_what_ansible_would(tmp_path_factory, data):
    variables = load_vars(tmp_path_factory.mktemp('vars'), {'data': data})
    arg = trust_as_template('{{ data }}')
    fast = _task_args.plain_variable(arg, variables)
    texts = []

    def strings(value):
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                strings(key)
                strings(item)
        elif isinstance(value, list):
            for item in value:
                strings(item)

    strings(data)
    templated = any(start in text for text in texts for start in ('{{', '{%', '{#'))
    assert (fast is None) == templated
    if fast is not None:
        assert fast == data
        try:
            rendered = as_json(by_ansible(arg, variables))
        except Exception:   # pylint: disable=broad-except  # Ansible rejects what it cannot render; so does the action
            return
        assert as_json(fast) == rendered
