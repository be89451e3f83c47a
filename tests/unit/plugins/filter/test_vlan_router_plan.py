# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's plan, its changes against router_facts, and the problems in words: plain dicts in and out."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.layer2.linux.plugins.filter.vlan_router import FilterModule, PlanError, changes, plan, problems

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/vlan_router/defaults/main.yml").read_text())
LAYOUT = yaml.safe_load((ROOT / "roles/vlan_router/vars/main.yml").read_text())["__vlan_router_layout"]
SEED = yaml.safe_load((ROOT / "tests/golden/vlan_router/vars.yml").read_text())


def settings(**overrides) -> dict:
    """The role's variables as vars/main.yml hands them to the plan: the defaults, the seed's router, the overrides."""
    variables = {**DEFAULTS, **SEED, "vlan_router_persistence": "systemd-networkd"}
    out = {key.removeprefix("vlan_router_"): value for key, value in variables.items()}
    out["detected_backend"] = None
    return {**out, **overrides}


def seed_plan(**overrides) -> dict:
    return plan(settings(**overrides), LAYOUT)


def healthy_facts(the_plan: dict) -> dict:
    """router_facts' result for a router exactly as the plan asks."""
    links = {
        "eth0": {"kind": None, "mtu": 1500, "up": True, "operstate": "UP", "addresses": ["198.51.100.2/24"]},
        "eth1": {"kind": None, "mtu": 1500, "up": True, "operstate": "UP", "addresses": []},
    }
    interfaces = {"eth0": {"proxy_arp": True, "proxy_ndp": False, "ipv6_forwarding": False},
                  "eth1": {"proxy_arp": False, "proxy_ndp": False, "ipv6_forwarding": False}}
    routes = []
    for vlan in the_plan["present"]:
        links[vlan["name"]] = {"kind": "vlan", "vlan_id": vlan["id"], "vlan_protocol": "802.1Q", "parent": "eth1", "mtu": vlan["mtu"] or 1500,
                               "up": True, "operstate": "UP", "addresses": list(vlan["addresses"]) + ["fe80::1/64"]}
        interfaces[vlan["name"]] = {"proxy_arp": vlan["proxy_arp"], "proxy_ndp": False, "ipv6_forwarding": False}
    for route in the_plan["routes"]["routes"]:
        family = "ipv6" if ":" in route["dst"] else "ipv4"
        routes.append({"family": family, "dst": route["dst"], "via": None, "dev": route["dev"], "table": "main",
                       "metric": 0 if family == "ipv4" else 1024, "scope": "link", "protocol": "boot", "type": "unicast", "onlink": False})
    # The kernel's connected route and a default route through the uplink: never the role's.
    routes += [{"family": "ipv4", "dst": "203.0.113.0/26", "via": None, "dev": "eth1.1234", "table": "main", "metric": 0, "scope": "link",
                "protocol": "kernel", "type": "unicast", "onlink": False},
               {"family": "ipv4", "dst": "default", "via": "198.51.100.1", "dev": "eth0", "table": "main", "metric": 0, "scope": "global",
                "protocol": "boot", "type": "unicast", "onlink": False}]
    return {"links": links, "routes": routes, "forwarding": {"ipv4": True, "ipv6": False}, "interfaces": interfaces,
            "nftables": {"available": True, "tables": [dict(t) for t in the_plan["nftables"]["tables"]] + [{"family": "inet", "name": "firewalld"}]}}


def route(dst, dev, via=None, protocol="boot", metric=0, family="ipv4"):
    return {"family": family, "dst": dst, "via": via, "dev": dev, "table": "main", "metric": metric, "scope": "link" if via is None else "global",
            "protocol": protocol, "type": "unicast", "onlink": False}


# --- the plan ---

def test_every_vlan_gets_its_defaults_and_name():
    the_plan = seed_plan(vlans=[{"id": 12}, {"id": 13, "name": "tenant13", "mtu": None, "state": "absent"}])
    assert the_plan["vlans"] == [
        {"id": 12, "name": "eth1.12", "addresses": [], "routed": [], "proxy_arp": False, "nat": False, "mtu": None, "allow": [], "state": "present"},
        {"id": 13, "name": "tenant13", "addresses": [], "routed": [], "proxy_arp": False, "nat": False, "mtu": None, "allow": [], "state": "absent"},
    ]
    assert [vlan["name"] for vlan in the_plan["present"]] == ["eth1.12"]


def test_vlan_interface_params_own_the_addresses_and_remove_absent_vlans():
    vlans = copy.deepcopy(SEED["vlan_router_vlans"]) + [{"id": 99, "state": "absent", "addresses": ["10.9.9.1/24"]}]
    assert seed_plan(vlans=vlans)["vlan_interface"] == [
        {"vlan_id": 1234, "name": "eth1.1234", "state": "present", "addresses": ["203.0.113.1/26"], "purge_addresses": True},
        {"vlan_id": 1235, "name": "eth1.1235", "state": "present", "addresses": ["10.1.35.1/24"], "purge_addresses": True},
        {"vlan_id": 1236, "name": "eth1.1236", "state": "present", "addresses": ["10.1.36.1/24", "2001:db8:36::1/64"], "purge_addresses": True,
         "mtu": 1400},
        {"vlan_id": 99, "name": "eth1.99", "state": "absent"},
    ]


def test_forwarding_has_proxy_arp_on_the_uplink_and_per_vlan():
    assert seed_plan(uplink_proxy_arp=False, ipv6_forwarding=True)["forwarding"] == {
        "ipv4": True, "ipv6": True,
        "interfaces": [{"name": "eth0", "proxy_arp": False}, {"name": "eth1.1234", "proxy_arp": True},
                       {"name": "eth1.1235", "proxy_arp": False}, {"name": "eth1.1236", "proxy_arp": False}],
    }


def test_routes_are_link_scope_boot_and_ipv6_is_managed_only_with_an_ipv6_prefix():
    the_plan = seed_plan()
    assert the_plan["routes"] == {
        "routes": [{"dst": "203.0.113.64/28", "dev": "eth1.1234", "scope": "link", "protocol": "boot"}],
        "scope": {"interfaces": ["eth1.1234", "eth1.1235", "eth1.1236"], "families": ["ipv4"], "table": "main"},
    }
    vlans = copy.deepcopy(SEED["vlan_router_vlans"])
    vlans[2]["routed"] = ["2001:DB8:99::/64", "203.0.113.99/32"]
    the_plan = seed_plan(vlans=vlans)
    assert [r["dst"] for r in the_plan["routes"]["routes"]] == ["203.0.113.64/28", "2001:db8:99::/64", "203.0.113.99/32"]
    assert the_plan["routes"]["scope"]["families"] == ["ipv4", "ipv6"]


@pytest.mark.parametrize("vlans, words", [
    ([{"id": 12, "routed": ["203.0.113.65/28"]}], "VLAN 12 routed: 203.0.113.65/28 has host bits set; the prefix is 203.0.113.64/28"),
    ([{"id": 12, "routed": ["public"]}], "VLAN 12 routed: 'public' is not a prefix in CIDR notation"),
    ([{"id": 12}, {"id": 12, "name": "again"}], "vlan_router_vlans[1]: VLAN 12 is listed twice (also as item 0)"),
])
def test_bad_vlans_are_refused_in_words(vlans, words):
    with pytest.raises(PlanError, match=words.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        seed_plan(vlans=vlans)


def test_auto_needs_the_detected_backend():
    with pytest.raises(PlanError, match="no backend was detected yet"):
        seed_plan(persistence="auto")
    assert seed_plan(persistence="auto", detected_backend="ifupdown")["backend"] == "ifupdown"
    assert seed_plan(persistence="none", detected_backend="ifupdown")["backend"] == "none"


def test_nft_tables_wanted_follow_isolation_and_nat():
    def wanted(**overrides):
        return [(t["family"], t["name"]) for t in seed_plan(**overrides)["nftables"]["tables"]]

    assert wanted() == [("inet", "layer2_vlan_router_filter"), ("ip", "layer2_vlan_router_nat")]
    assert wanted(isolation=False) == [("ip", "layer2_vlan_router_nat")]
    assert wanted(vlans=[{"id": 5}]) == [("inet", "layer2_vlan_router_filter")]
    assert wanted(vlans=[{"id": 5, "nat": True, "state": "absent"}]) == []


def test_nft_data_pairs_each_vlan_with_itself_and_its_allow_list():
    vlans = copy.deepcopy(SEED["vlan_router_vlans"])
    vlans[2]["allow"] = [1234, 4000]  # 4000 is no VLAN of this router: ignored
    data = seed_plan(vlans=vlans)["files"][0]["data"]
    assert data == {
        "filter_table": "layer2_vlan_router_filter", "nat_table": "layer2_vlan_router_nat", "uplink": "eth0", "isolate": True,
        "vlans": ["eth1.1234", "eth1.1235", "eth1.1236"],
        "pairs": [["eth1.1234", "eth1.1234"], ["eth1.1235", "eth1.1235"], ["eth1.1236", "eth1.1236"], ["eth1.1236", "eth1.1234"]],
        "nat": ["eth1.1235"],
    }


def test_networkd_files_and_paths_under_the_root():
    the_plan = seed_plan(root="/tmp/r/")
    base = "/tmp/r/etc/systemd/network/60-layer2-vlan-router-"
    assert [(f["path"], f["template"]) for f in the_plan["files"]] == [
        ("/tmp/r/etc/nftables.d/layer2-vlan-router.nft", "nftables.nft.j2"),
        ("/tmp/r/etc/modules-load.d/layer2-vlan-router.conf", "modules-load.conf.j2"),
        (base + "eth1.network", "networkd-trunk.network.j2"),
        (base + "eth1.1234.netdev", "networkd-vlan.netdev.j2"), (base + "eth1.1234.network", "networkd-vlan.network.j2"),
        (base + "eth1.1235.netdev", "networkd-vlan.netdev.j2"), (base + "eth1.1235.network", "networkd-vlan.network.j2"),
        (base + "eth1.1236.netdev", "networkd-vlan.netdev.j2"), (base + "eth1.1236.network", "networkd-vlan.network.j2"),
    ]
    files = {f["path"]: f["data"] for f in the_plan["files"]}
    assert files[base + "eth1.network"] == {"trunk": "eth1", "dropin": False, "vlans": ["eth1.1234", "eth1.1235", "eth1.1236"]}
    assert files[base + "eth1.1236.netdev"] == {"id": 1236, "name": "eth1.1236", "trunk": "eth1", "mtu": 1400}
    assert files[base + "eth1.1236.network"]["link_local"] == "ipv6" and files[base + "eth1.1235.network"]["link_local"] == "no"
    assert the_plan["purge"] == ["/tmp/r/etc/systemd/network/60-layer2-vlan-router-*", "/tmp/r/etc/systemd/network/*.network.d/60-layer2-vlan-router.conf",
                                 "/tmp/r/etc/network/interfaces.d/layer2-vlan-router", "/tmp/r/etc/modules-load.d/layer2-vlan-router.conf",
                                 "/tmp/r/etc/dnsmasq.d/layer2-vlan-router.conf", "/tmp/r/etc/sysctl.d/91-layer2-vlan-router-ipvs.conf"]
    assert not the_plan["this_system"]
    system = seed_plan(root="/")
    assert system["this_system"] and system["paths"]["sysctl"] == "/etc/sysctl.d/90-layer2-vlan-router.conf"


def test_the_trunks_own_network_file_gets_a_drop_in():
    the_plan = seed_plan(networkd_trunk_network="10-eth1.network", root="/")
    assert the_plan["files"][2]["path"] == "/etc/systemd/network/10-eth1.network.d/60-layer2-vlan-router.conf"
    assert the_plan["files"][2]["data"]["dropin"]


def test_ifupdown_stanzas_split_the_addresses():
    the_plan = seed_plan(persistence="ifupdown", vlans=[{"id": 7, "addresses": ["10.7.0.1/24", "10.7.1.1/24", "2001:db8:7::1/64"], "mtu": 9000},
                                                        {"id": 8, "addresses": ["2001:db8:8::1/64"], "routed": ["203.0.113.8/29"]}])
    assert [f["template"] for f in the_plan["files"]] == ["nftables.nft.j2", "modules-load.conf.j2", "ifupdown.j2"]
    assert the_plan["files"][2]["data"] == {"trunk": "eth1", "vlans": [
        {"id": 7, "name": "eth1.7", "method": "static", "address": "10.7.0.1/24", "mtu": 9000, "routed": [],
         "more_ipv4": ["10.7.1.1/24"], "ipv6": ["2001:db8:7::1/64"], "sysctl": ["net.ipv4.conf.eth1/7.proxy_arp=0"]},
        {"id": 8, "name": "eth1.8", "method": "manual", "address": None, "mtu": None, "routed": ["203.0.113.8/29"],
         "more_ipv4": [], "ipv6": ["2001:db8:8::1/64"], "sysctl": ["net.ipv4.conf.eth1/8.proxy_arp=0"]},
    ]}


def test_ifupdown_stanza_sets_proxy_arp_itself():
    # At boot the VLAN does not exist yet when systemd-sysctl runs: the stanza sets its own value, dots as slashes.
    the_plan = seed_plan(persistence="ifupdown", vlans=[{"id": 7, "proxy_arp": True}, {"id": 8, "name": "tenant8"}])
    wanted = [["net.ipv4.conf.eth1/7.proxy_arp=1"], ["net.ipv4.conf.tenant8.proxy_arp=0"]]
    assert [vlan["sysctl"] for vlan in the_plan["files"][2]["data"]["vlans"]] == wanted


def test_no_present_vlan_leaves_the_ruleset_and_the_modules_file_only():
    assert [f["template"] for f in seed_plan(vlans=[{"id": 5, "state": "absent"}])["files"]] == ["nftables.nft.j2", "modules-load.conf.j2"]
    assert [f["template"] for f in seed_plan(persistence="none")["files"]] == ["nftables.nft.j2"]
    assert [f["template"] for f in seed_plan(persist_8021q=False, vlans=[])["files"]] == ["nftables.nft.j2"]


# --- the changes to make ---

def test_a_router_as_planned_needs_no_change():
    the_plan = seed_plan()
    assert changes(the_plan, healthy_facts(the_plan)) == {
        "routes": {"routes": the_plan["routes"]["routes"], "missing": [], "extra": []},
        "nftables": {"missing": [], "extra": [], "chains": []},
    }


def test_missing_and_extra_routes_and_the_routes_ip_route_gets():
    the_plan = seed_plan()
    facts = healthy_facts(the_plan)
    facts["routes"] = [r for r in facts["routes"] if r["dst"] != "203.0.113.64/28"] + [
        route("198.51.100.128/25", "eth1.1235", protocol="static", metric=5),  # an old routed prefix of the role's
        route("192.0.2.0/24", "eth1.1236", via="10.1.36.9"),  # through a gateway: not the role's
        route("192.0.2.128/25", "eth0"),  # another interface: not the role's
        route("2001:db8:99::/64", "eth1.1236", family="ipv6", metric=1024),  # IPv6, no IPv6 routed prefix: not the role's
    ]
    todo = changes(the_plan, facts)["routes"]
    assert todo["missing"] == [{"dst": "203.0.113.64/28", "dev": "eth1.1234", "scope": "link", "protocol": "boot"}]
    assert todo["extra"] == [{"dst": "198.51.100.128/25", "dev": "eth1.1235"}]
    assert todo["routes"] == [{"dst": "203.0.113.64/28", "dev": "eth1.1234", "scope": "link", "protocol": "boot"},
                              {"dst": "198.51.100.128/25", "dev": "eth1.1235", "metric": 5, "state": "absent"}]


def test_a_prefix_moved_to_another_vlan_is_replaced_not_removed():
    the_plan = seed_plan()
    facts = healthy_facts(the_plan)
    facts["routes"] = [route("203.0.113.64/28", "eth1.1235") if r["dst"] == "203.0.113.64/28" else r for r in facts["routes"]]
    todo = changes(the_plan, facts)["routes"]
    assert todo["extra"] == [{"dst": "203.0.113.64/28", "dev": "eth1.1235"}] and len(todo["missing"]) == 1
    assert todo["routes"] == the_plan["routes"]["routes"]  # same prefix and metric: ip_route replaces it in place


def test_routes_onto_a_vlan_not_created_yet_are_left_out():
    the_plan = seed_plan()
    facts = healthy_facts(the_plan)
    del facts["links"]["eth1.1234"]
    facts["routes"] = [r for r in facts["routes"] if r["dev"] != "eth1.1234"]
    assert changes(the_plan, facts)["routes"] == {"routes": [], "missing": [], "extra": []}


def test_nft_tables_missing_and_extra_only_among_the_roles_own():
    the_plan = seed_plan(vlans=[{"id": 5}])
    facts = healthy_facts(seed_plan())  # both tables live, and someone else's
    assert changes(the_plan, facts)["nftables"] == {"missing": [], "extra": [{"family": "ip", "name": "layer2_vlan_router_nat"}], "chains": []}
    facts["nftables"]["tables"] = []
    assert changes(the_plan, facts)["nftables"] == {"missing": [{"family": "inet", "name": "layer2_vlan_router_filter"}], "extra": [], "chains": []}


# --- the problems in words ---

def test_a_router_as_planned_has_no_problem():
    the_plan = seed_plan()
    assert problems(the_plan, healthy_facts(the_plan)) == []


def test_every_difference_is_named():
    the_plan = seed_plan()
    facts = healthy_facts(the_plan)
    facts["forwarding"] = {"ipv4": False, "ipv6": True}
    facts["interfaces"]["eth0"]["proxy_arp"] = False
    del facts["links"]["eth1.1235"]
    facts["links"]["eth1.1234"].update(vlan_id=1000, up=False, operstate="DOWN")
    facts["links"]["eth1.1236"].update(mtu=1500, addresses=["10.1.36.1/24"])
    facts["interfaces"]["eth1.1234"]["proxy_arp"] = False
    facts["routes"] = [r for r in facts["routes"] if r["dst"] != "203.0.113.64/28"] + [route("198.51.100.128/25", "eth1.1236")]
    facts["nftables"]["tables"] = [{"family": "ip", "name": "layer2_vlan_router_nat"}]
    assert problems(the_plan, facts) == [
        "IPv4 forwarding is 0, not 1",
        "IPv6 forwarding is 1, not 0",
        "proxy ARP on the uplink eth0 is 0",
        "eth1.1234 is not VLAN 1234 on eth1",
        "eth1.1234 is not up (operstate DOWN)",
        "proxy ARP on eth1.1234 is 0",
        "eth1.1235 does not exist",
        "eth1.1236 lacks the address 2001:db8:36::1/64",
        "eth1.1236 has MTU 1500, not 1400",
        "203.0.113.64/28 is not routed onto eth1.1234",
        "198.51.100.128/25 is routed onto eth1.1236 but not asked for",
        "the nftables table inet layer2_vlan_router_filter is missing",
    ]


def test_addresses_compare_as_the_kernel_spells_them_and_unknown_operstate_is_up():
    vlans = [{"id": 7, "addresses": ["2001:DB8:0:7::1/64"]}]
    the_plan = seed_plan(vlans=vlans, isolation=False)
    facts = healthy_facts(the_plan)
    facts["links"]["eth1.7"].update(addresses=["2001:db8:0:7::1/64"], operstate="UNKNOWN")
    assert problems(the_plan, facts) == []


def test_a_missing_uplink_a_vlan_on_another_trunk_and_no_ipv6():
    the_plan = seed_plan()
    facts = healthy_facts(the_plan)
    del facts["interfaces"]["eth0"]
    facts["links"]["eth1.1234"]["parent"] = "eth2"
    facts["forwarding"]["ipv6"] = None  # the kernel has IPv6 off: nothing to compare
    assert problems(the_plan, facts) == ["the uplink eth0 does not exist", "eth1.1234 is not VLAN 1234 on eth1"]


def test_routes_and_tables_changed_after_the_read_are_judged_as_they_are_now():
    the_plan = seed_plan()
    facts = healthy_facts(the_plan)
    facts["routes"] = [r for r in facts["routes"] if r["dst"] != "203.0.113.64/28"]
    facts["nftables"]["tables"] = []
    assert len(problems(the_plan, facts)) == 3
    after = [r for r in healthy_facts(the_plan)["routes"] if r["family"] == "ipv4"]  # ip_route's `routes`: its families, after
    assert problems(the_plan, facts, routes=after, nft_loaded=True) == []
    assert problems(the_plan, facts, routes=[], nft_loaded=True) == ["203.0.113.64/28 is not routed onto eth1.1234"]


def test_tables_are_not_judged_when_the_role_does_not_load_them_or_nft_is_missing():
    the_plan = seed_plan(nftables_apply=False)
    facts = healthy_facts(the_plan)
    del facts["nftables"]
    assert problems(the_plan, facts) == []
    the_plan = seed_plan()
    facts["nftables"] = {"available": False, "tables": []}
    assert problems(the_plan, facts) == [
        "nftables is not available on the router (no nft command, or a kernel without nf_tables): the role's tables cannot be loaded"]


# --- the filters ---

def test_the_filters_raise_ansible_errors_in_words():
    filters = FilterModule().filters()
    assert set(filters) == {"vlan_router_plan", "vlan_router_changes", "vlan_router_problems"}
    with pytest.raises(AnsibleFilterError, match="listed twice"):
        filters["vlan_router_plan"](settings(vlans=[{"id": 1}, {"id": 1}]), LAYOUT)
    the_plan = filters["vlan_router_plan"](settings(), LAYOUT)
    assert filters["vlan_router_problems"](the_plan, healthy_facts(the_plan)) == []
