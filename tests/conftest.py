# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: the collection on sys.path as ansible_collections.layer2.linux, and namespace labs."""

from __future__ import annotations

import os
import sys

import pytest

from tests.support.ansible import collections_path

# `from ansible_collections.layer2.linux.plugins.module_utils import ...` works in every test.
sys.path.insert(0, str(collections_path()))


def _is_root() -> bool:
    return os.geteuid() == 0


@pytest.fixture
def make_lab(request):
    """Build labs from topology data; every lab is torn down when the test ends, whatever happened."""
    if not _is_root():
        pytest.skip("namespace labs need root")
    from tests.lab import Lab

    labs = []

    def factory(spec):
        lab = Lab(spec)
        labs.append(lab)
        return lab.up()

    yield factory
    for lab in labs:
        lab.down()


@pytest.fixture
def lan(make_lab):
    """Three hosts on one switch: gw (192.0.2.1), a (192.0.2.10), b (192.0.2.20), with IPv6 too."""
    def host(mac, v4, v6):
        return {"links": [{"switch": "lan", "mac": mac, "addresses": [v4, v6]}]}

    return make_lab(
        {
            "switches": ["lan"],
            "hosts": {
                "gw": host("02:00:5e:00:00:01", "192.0.2.1/24", "2001:db8::1/64"),
                "a": host("02:00:5e:00:00:0a", "192.0.2.10/24", "2001:db8::a/64"),
                "b": host("02:00:5e:00:00:14", "192.0.2.20/24", "2001:db8::14/64"),
            },
        }
    )
