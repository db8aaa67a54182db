# -*- coding: utf-8 -*-
# Copyright: balancer.nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/split_by_weight.py and its documentation."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.balancer.nginx.plugins.filter.split_by_weight import FilterModule

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter', 'split_by_weight.yml')


@pytest.fixture
def split_by_weight():
    return FilterModule().filters()['split_by_weight']


def test_only_this_filter():
    assert list(FilterModule().filters()) == ['split_by_weight']


@pytest.mark.parametrize('weights, requests, expected', [
    ([3, 2, 1], 600, [300, 200, 100]),
    ([3, 2, 1], 11, [5, 4, 2]),
    ((5, 1, 1), 7, [5, 1, 1]),
    ([1], 0, [0]),
    ([2, 2], 5, [3, 2]),
])
def test_counts(split_by_weight, weights, requests, expected):
    assert split_by_weight(weights, requests) == expected


def test_any_iterable_of_weights(split_by_weight):
    assert split_by_weight(iter([3, 2, 1]), 6) == [3, 2, 1]


@pytest.mark.parametrize('weights, requests, message', [
    ([], 5, 'balancer.nginx.split_by_weight: weights: must be a non-empty list of whole numbers; give e.g. '
            '[3, 2, 1].'),
    ([3, 0], 5, 'balancer.nginx.split_by_weight: weights[1]: 0 must be a whole number of at least 1; give e.g. 1.'),
    ([1], -2, 'balancer.nginx.split_by_weight: requests: -2 must be a whole number of at least 0; give e.g. 600.'),
    ([1], 'many', "balancer.nginx.split_by_weight: requests: 'many' must be a whole number of at least 0; give "
                  "e.g. 600."),
])
def test_errors(split_by_weight, weights, requests, message):
    with pytest.raises(AnsibleFilterError) as info:
        split_by_weight(weights, requests)
    assert info.value.message == message


def test_doc_loads_and_names_the_filter():
    with open(DOC) as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {'DOCUMENTATION', 'EXAMPLES', 'RETURN'}
    assert doc['DOCUMENTATION']['name'] == 'split_by_weight'
    assert set(doc['DOCUMENTATION']['options']) == {'_input', 'requests'}
    assert 'balancer.nginx.split_by_weight(600)' in doc['EXAMPLES']
    assert yaml.safe_load(doc['EXAMPLES'])
    assert doc['RETURN']['_value']['type'] == 'list'
