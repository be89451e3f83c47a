# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""layer2.linux.vlan_interface on this host kernel, which has no 802.1Q: it must say so and change nothing.

Everything that needs VLANs is in tests/kernel/test_vlan_interface.py (User-Mode Linux).
"""

from __future__ import annotations

import os

import pytest

from tests.support.ansible import run_module

M = "layer2.linux.vlan_interface"

pytestmark = pytest.mark.skipif(os.path.isdir("/proc/net/vlan"), reason="this kernel has 802.1Q; the kernel tier covers it")


def test_without_8021q_creation_fails_saying_what_to_install(lan):
    before = lan.ip_json("a", "link", "show")
    for check in (True, False):
        result = run_module(lan, "a", M, {"parent": "eth0", "vlan_id": 1234, "addresses": ["192.0.2.99/24"]}, check=check)
        assert result["_status"] == "failed", result
        assert "this kernel has no 802.1Q VLAN support and the 8021q module could not be loaded" in result["msg"]
        assert "modprobe 8021q" in result["msg"] and "linux-modules-extra" in result["msg"]
    assert lan.ip_json("a", "link", "show") == before


def test_without_8021q_nothing_to_do_is_fine_and_bad_input_is_still_refused(lan):
    absent = run_module(lan, "a", M, {"name": "eth0.1234", "state": "absent"})
    assert absent["_status"] == "ok" and not absent["changed"] and absent["interfaces"] == [{"name": "eth0.1234", "state": "absent"}]
    bad = run_module(lan, "a", M, {"parent": "eth0", "vlan_id": 4095})
    assert bad["_status"] == "failed" and bad["msg"] == "the task: VLAN id 4095 is out of range 1-4094 (0 and 4095 are reserved by 802.1Q)"
    not_vlan = run_module(lan, "a", M, {"name": "eth0", "state": "absent"})
    assert not_vlan["_status"] == "failed" and "eth0 exists but is a veth interface, not a VLAN" in not_vlan["msg"]
    assert [link["ifname"] for link in lan.ip_json("a", "link", "show")] == ["lo", "eth0"]
