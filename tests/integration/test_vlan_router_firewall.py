# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's nftables tables (tenant isolation, NAT) against real traffic, on the host kernel.

The kernel tier proves the same end to end in its own UML kernel; this runs on every host kernel with nf_tables,
802.1Q or not (Debian's own UML kernel has nf_tables for the bridge family only). The router's VLAN sub-interfaces
are stood in for by plain interfaces of the same names (eth1.1234 ...), each on its own switch, and the role runs
its firewall entry point (the ruleset file and the tables), the same tasks its main entry point runs.
"""

from __future__ import annotations

import sys

import pytest

from tests.kernel import vlan_router_lab as seed
from tests.support.ansible import run_playbook

LOAD = "__vlan_router_nft_result"  # the register name of the task that loads the role's tables
FILTER = "table inet layer2_vlan_router_filter"
NAT = "table ip layer2_vlan_router_nat"


def spec() -> dict:
    def vm(switch, address, gateway):
        return {"links": [{"switch": switch, "addresses": [address]}], "routes": [f"default via {gateway}"]}

    return {
        "switches": ["uplink", "v1234", "v1235", "v1236"],
        "hosts": {
            "router": {
                "links": [
                    {"switch": "uplink", "ifname": "eth0", "addresses": [f"{seed.ROUTER_UPLINK}/24"]},
                    {"switch": "v1234", "ifname": "eth1.1234", "addresses": ["203.0.113.1/26"]},
                    {"switch": "v1235", "ifname": "eth1.1235", "addresses": ["10.1.35.1/24"]},
                    {"switch": "v1236", "ifname": "eth1.1236", "addresses": ["10.1.36.1/24"]},
                ],
                "sysctl": {"net.ipv4.ip_forward": "1", "net.ipv4.conf.eth0.proxy_arp": "1"},
            },
            "internet": {"links": [{"switch": "uplink", "addresses": [f"{seed.INTERNET}/24"]}], "routes": ["203.0.113.0/24 dev eth0"]},
            "vm1": vm("v1234", "203.0.113.11/26", "203.0.113.1"),
            "vm3": vm("v1235", "10.1.35.11/24", "10.1.35.1"),
            "vm4": vm("v1236", "10.1.36.11/24", "10.1.36.1"),
        },
    }


def firewall(lab, root, check=False, **extra):
    variables = seed.seed_vars(root, "none") | extra
    play = [{"hosts": "router", "gather_facts": False,
             "tasks": [{"name": "the role", "ansible.builtin.include_role": {"name": "layer2.linux.vlan_router", "tasks_from": "firewall"}}]}]
    run = run_playbook(play, lab.inventory(python=sys.executable), extra_vars=variables, check=check, diff=True)
    assert run.rc == 0, run.stdout + run.stderr
    return run


def tables(lab) -> list[str]:
    return [line for line in lab.run("router", ["nft", "list", "tables"]).stdout.splitlines() if "layer2_vlan_router" in line]


def pings(lab, host, address) -> bool:
    return lab.run(host, ["ping", "-c", "1", "-W", "1", address], check=False).returncode == 0


@pytest.fixture
def router(make_lab, tmp_path):
    lab = make_lab(spec())
    return lab, tmp_path


def test_check_mode_then_apply_then_nothing_to_do(router):
    lab, root = router
    check = firewall(lab, root, check=True)
    assert check.changed and tables(lab) == []
    first = firewall(lab, root)
    assert first.task(LOAD, by="register")["changed"] and sorted(tables(lab)) == sorted([FILTER, NAT])
    assert firewall(lab, root).changed == 0


def test_tenants_isolated_unless_allowed_and_uplink_reachable(router):
    lab, root = router
    assert pings(lab, "vm3", "203.0.113.11")  # before: a Linux router routes between all its VLANs
    firewall(lab, root)
    assert pings(lab, "vm1", seed.INTERNET) and pings(lab, "internet", "203.0.113.11")
    assert not pings(lab, "vm3", "203.0.113.11")  # 1235 -> 1234
    assert not pings(lab, "vm1", "10.1.35.11")  # 1234 -> 1235
    assert pings(lab, "vm4", "203.0.113.11")  # 1236 may open connections to 1234 (replies pass) ...
    assert not pings(lab, "vm1", "10.1.36.11")  # ... not the other way round


def test_private_vlan_leaves_with_the_uplink_address(router):
    lab, root = router
    assert not pings(lab, "vm3", seed.INTERNET)  # the internet has no route back to 10.1.35.0/24
    firewall(lab, root)
    sink = lab.popen("internet", [sys.executable, "-c", seed.UDP_SINK], stdout=-1, text=True)
    assert sink.stdout.readline().strip() == "ready"
    lab.run("vm3", ["bash", "-c", f"echo hello >/dev/udp/{seed.INTERNET}/5555"])
    assert sink.stdout.readline().strip() == seed.ROUTER_UPLINK
    assert pings(lab, "vm3", seed.INTERNET)
    assert not pings(lab, "vm1", "10.1.36.11")


def test_tables_lost_live_are_loaded_again_and_nat_goes_when_not_asked(router):
    lab, root = router
    firewall(lab, root)
    lab.run("router", ["nft", "delete", "table", "inet", "layer2_vlan_router_filter"])
    again = firewall(lab, root)
    assert again.task(LOAD, by="register")["changed"] and FILTER in tables(lab)
    vlans = seed.seed_vars(root)["vlan_router_vlans"]
    for vlan in vlans:
        vlan["nat"] = False
    firewall(lab, root, vlan_router_vlans=vlans)
    assert tables(lab) == [FILTER]
    firewall(lab, root, vlan_router_vlans=vlans, vlan_router_isolation=False)
    assert tables(lab) == []
    assert pings(lab, "vm3", "203.0.113.11")
