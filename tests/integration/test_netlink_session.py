# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_netlink.netlink_session(netns=...): reads the named namespace, and never creates a mistyped one."""

from __future__ import annotations

import os

import pytest
from ansible_collections.layer2.linux.plugins.module_utils._netlink import links, netlink_session


def test_a_named_namespace_is_read_and_a_missing_one_is_not_created(lan):
    with netlink_session(lan.netns("a")) as ipr:
        assert sorted(links(ipr)) == ["eth0", "lo"]
        assert links(ipr)["eth0"]["mac"] == "02:00:5e:00:00:0a"
    typo = lan.netns("a") + "-typo"
    with pytest.raises(FileNotFoundError):
        with netlink_session(typo):
            pass
    assert not os.path.exists(f"/run/netns/{typo}")
