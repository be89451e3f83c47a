# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""layer2.linux.ipvs_facts on the host kernel, in a fresh namespace: an empty table, said unavailable when the kernel has
no IPVS (this machine's), not a failure. The table itself is read in the kernel tier
(tests/kernel/test_vlan_router_load_balancer.py), where ipvsadm fills it."""

from __future__ import annotations

from pathlib import Path

from tests.support.ansible import run_module


def test_a_namespace_without_services_gives_an_empty_table_unavailable_without_ip_vs(make_lab):
    lab = make_lab({"switches": ["lan"], "hosts": {"r": {"links": [{"switch": "lan", "addresses": ["192.0.2.1/24"]}]}}})
    for check in (False, True):
        facts = run_module(lab, "r", "layer2.linux.ipvs_facts", {}, check=check)
        assert facts["_status"] == "ok" and facts["changed"] is False, facts
        assert (facts["available"], facts["version"], facts["services"]) == (Path("/proc/net/ip_vs").exists(), facts["version"], [])
        assert facts["available"] or (facts["version"], facts["conntrack"]) == (None, None)
