# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's live tasks on the host kernel: nftables tables (tenant isolation, NAT) against real traffic,
the routes onto the VLANs, the verification against router_facts, and the client_gateway entry point.

The kernel tier proves the same end to end in its own UML kernel; this runs on every host kernel with nf_tables,
802.1Q or not (Debian's own UML kernel has nf_tables for the bridge family only). The router's VLAN sub-interfaces
are stood in for by plain interfaces of the same names (eth1.1234 ...), each on its own switch, and the role runs
its firewall entry point (the ruleset file and the tables), the same tasks its main entry point runs, and its
read_facts, routes and verify task files, which main runs after vlan_interface and ip_forwarding.
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


def role_tasks(lab, root, *tasks_from, check=False, host="router", ok=True, **extra):
    """Run the role's task files one after the other in one play (registered results carry over, as in main.yml)."""
    variables = seed.seed_vars(root, "none") | extra
    play = [{"hosts": host, "gather_facts": False,
             "tasks": [{"name": f"the role's {name}", "ansible.builtin.include_role": {"name": "layer2.linux.vlan_router", "tasks_from": name}}
                       for name in tasks_from]}]
    run = run_playbook(play, lab.inventory(python=sys.executable), extra_vars=variables, check=check, diff=True)
    if ok:
        assert run.rc == 0, run.stdout + run.stderr
    return run


def firewall(lab, root, check=False, **extra):
    return role_tasks(lab, root, "firewall", check=check, **extra)


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


ROUTES = "__vlan_router_routes_result"
VERIFY = "__vlan_router_verify_result"


def routes_on(lab, dev) -> list[dict]:
    return lab.ip_json("router", "route", "show", "dev", dev)


def test_routes_onto_the_vlans_check_then_apply_then_nothing_to_do(router):
    """The routed prefix goes onto its VLAN; a stale gatewayless route of a VLAN goes; a route through a gateway out of a
    VLAN and a route out of another interface are not the role's and stay."""
    lab, root = router
    lab.run("router", ["ip", "route", "add", "198.51.100.128/25", "dev", "eth1.1235", "proto", "static"])
    lab.run("router", ["ip", "route", "add", "192.0.2.0/24", "via", "10.1.36.11", "dev", "eth1.1236"])
    lab.run("router", ["ip", "route", "add", "192.0.2.128/25", "dev", "eth0"])
    before = {dev: routes_on(lab, dev) for dev in ("eth0", "eth1.1234", "eth1.1235", "eth1.1236")}

    check = role_tasks(lab, root, "read_facts", "routes", check=True)
    assert check.task(ROUTES, by="register")["changed"]
    assert {dev: routes_on(lab, dev) for dev in before} == before, "check mode changed a route"

    first = role_tasks(lab, root, "read_facts", "routes")
    result = first.task(ROUTES, by="register")
    assert result["changed"] and [r["dst"] for r in result["added"]] == ["203.0.113.64/28"]
    assert [r["dst"] for r in result["removed"]] == ["198.51.100.128/25"]
    routed = next(r for r in routes_on(lab, "eth1.1234") if r["dst"] == "203.0.113.64/28")
    assert routed["scope"] == "link" and routed.get("protocol", "boot") == "boot"
    assert [r["dst"] for r in routes_on(lab, "eth1.1235")] == ["10.1.35.0/24"]
    assert "192.0.2.0/24" in [r["dst"] for r in routes_on(lab, "eth1.1236")]
    assert "192.0.2.128/25" in [r["dst"] for r in routes_on(lab, "eth0")]

    again = role_tasks(lab, root, "read_facts", "routes")
    assert again.status(ROUTES, by="register") == "skipped" and again.changed == 0


def test_verification_names_what_differs_and_judges_routes_and_tables_as_the_role_left_them(router):
    """read_facts, then routes, the files and the tables, then verify: what main.yml runs after vlan_interface and
    ip_forwarding. The stand-ins are no VLANs and have no proxy ARP, IPv6 address or MTU set: only that is left to report."""
    lab, root = router
    stand_ins = ["eth1.1234 is not VLAN 1234 on eth1", "proxy ARP on eth1.1234 is 0", "eth1.1235 is not VLAN 1235 on eth1",
                 "eth1.1236 is not VLAN 1236 on eth1", "eth1.1236 lacks the address 2001:db8:36::1/64", "eth1.1236 has MTU 1500, not 1400"]
    before = role_tasks(lab, root, "read_facts", "verify", ok=False)
    assert before.status(VERIFY, by="register") == "failed"
    assert before.task(VERIFY, by="register")["msg"] == "The router is not as asked: " + "; ".join(stand_ins + [
        "203.0.113.64/28 is not routed onto eth1.1234",
        "the nftables table inet layer2_vlan_router_filter is missing", "the nftables table ip layer2_vlan_router_nat is missing"])

    after = role_tasks(lab, root, "read_facts", "routes", "persistence", "nftables", "verify", ok=False)
    assert after.task(ROUTES, by="register")["changed"] and after.task(LOAD, by="register")["changed"]
    assert after.task(VERIFY, by="register")["msg"] == "The router is not as asked: " + "; ".join(stand_ins)

    fixed = [{**vlan, "proxy_arp": False, "mtu": None, "addresses": [a for a in vlan["addresses"] if ":" not in a]}
             for vlan in seed.seed_vars(root)["vlan_router_vlans"]]
    lab.run("router", ["nft", "delete", "table", "ip", "layer2_vlan_router_nat"])
    mended = role_tasks(lab, root, "read_facts", "routes", "persistence", "nftables", "verify", ok=False, vlan_router_vlans=fixed)
    assert mended.task(VERIFY, by="register")["msg"] == "The router is not as asked: " + "; ".join(
        ["eth1.1234 is not VLAN 1234 on eth1", "eth1.1235 is not VLAN 1235 on eth1", "eth1.1236 is not VLAN 1236 on eth1"])


def test_client_gateway_points_the_default_route_at_the_router(router):
    lab, root = router
    same = role_tasks(lab, root, "client_gateway", host="vm1", vlan_router_gateway="203.0.113.1")
    assert same.changed == 0  # the default route set by hand already goes there

    check = role_tasks(lab, root, "client_gateway", host="vm1", check=True, vlan_router_gateway="203.0.113.2")
    assert check.task("__vlan_router_gateway_result", by="register")["changed"]
    assert lab.ip_json("vm1", "route", "show", "default")[0]["gateway"] == "203.0.113.1"
    first = role_tasks(lab, root, "client_gateway", host="vm1", vlan_router_gateway="203.0.113.2")
    assert first.changed == 1 and lab.ip_json("vm1", "route", "show", "default")[0]["gateway"] == "203.0.113.2"
    assert role_tasks(lab, root, "client_gateway", host="vm1", vlan_router_gateway="203.0.113.2").changed == 0

    wrong = role_tasks(lab, root, "client_gateway", host="vm1", ok=False, vlan_router_gateway="203.0.113.2", vlan_router_gateway_interface="eth9")
    assert wrong.rc != 0 and "eth9" in wrong.task("__vlan_router_gateway_result", by="register")["msg"]
    assert lab.ip_json("vm1", "route", "show", "default")[0]["gateway"] == "203.0.113.2"
