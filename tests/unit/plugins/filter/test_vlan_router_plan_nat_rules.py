# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router plan's nftables side: static NAT, port forwards, ingress and egress rules, and their refusals in words."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.layer2.linux.plugins.filter.vlan_router import PlanError

from tests.unit.plugins.filter.test_vlan_router_plan import SEED, seed_plan

STATIC = [{"public": "198.51.100.50", "private": "10.1.35.11"}]
FORWARD = [{"public": "198.51.100.51", "port": 2222, "proto": "tcp", "private": "10.1.35.12", "private_port": 22}]


def vlans_with(index, **keys):
    vlans = copy.deepcopy(SEED["vlan_router_vlans"])
    vlans[index].update(keys)
    return vlans


def nft(the_plan):
    return the_plan["files"][0]["data"]


def test_without_nat_forwards_or_rules_the_ruleset_data_is_as_before():
    assert "rules" not in nft(seed_plan())
    assert "rules" not in nft(seed_plan(static_nat=[], port_forwards=[]))


def test_static_nat_and_forward_are_routed_onto_the_private_vlan_and_need_the_nat_table():
    the_plan = seed_plan(vlans=vlans_with(1, nat=False), static_nat=STATIC, port_forwards=FORWARD + [{**FORWARD[0], "port": 2223}])
    assert [(r["dst"], r["dev"]) for r in the_plan["routes"]["routes"]] == [
        ("203.0.113.64/28", "eth1.1234"), ("198.51.100.50/32", "eth1.1235"), ("198.51.100.51/32", "eth1.1235")]
    assert ("ip", "layer2_vlan_router_nat") in [(t["family"], t["name"]) for t in the_plan["nftables"]["tables"]]
    rules = nft(the_plan)["rules"]
    assert rules["static"] == [{"public": "198.51.100.50", "private": "10.1.35.11", "vlan": "eth1.1235"}]
    assert [(f["port"], f["private_port"], f["proto"]) for f in rules["forwards"]] == [(2222, 22, "tcp"), (2223, 22, "tcp")]
    assert rules["hairpin"] == ["eth1.1235"]
    network = next(f for f in the_plan["files"] if f["path"].endswith("eth1.1235.network"))
    assert network["data"]["routed"] == ["198.51.100.50/32", "198.51.100.51/32"]


def test_forward_defaults_private_port_and_proto():
    forward = nft(seed_plan(port_forwards=[{"public": "198.51.100.51", "port": 80, "private": "203.0.113.70"}]))["rules"]["forwards"][0]
    assert forward == {"public": "198.51.100.51", "port": 80, "proto": "tcp", "private": "203.0.113.70", "private_port": 80, "vlan": "eth1.1234"}


def test_rules_become_nft_matches_per_family():
    vlans = vlans_with(1, ingress=[{"proto": "tcp", "ports": [22], "from": ["198.51.100.0/24", "2001:db8::/32"]}, {"proto": "icmp"}],
                       egress=[{"proto": "udp", "ports": [53, 123]}, {"proto": "any", "to": ["192.0.2.0/24"]}, {"proto": "tcp"}])
    rules = nft(seed_plan(vlans=vlans))["rules"]
    assert rules["ingress"] == [{"vlan": "eth1.1235", "chain": "ingress_1235", "rules": [
        {"match": "ip saddr { 198.51.100.0/24 } tcp dport { 22 }", "where": "VLAN 1235 ingress[0]"},
        {"match": "ip6 saddr { 2001:db8::/32 } tcp dport { 22 }", "where": "VLAN 1235 ingress[0]"},
        {"match": "meta l4proto { icmp, icmpv6 }", "where": "VLAN 1235 ingress[1]"}]}]
    assert [r["match"] for r in rules["egress"][0]["rules"]] == ["udp dport { 53, 123 }", "ip daddr { 192.0.2.0/24 }", "meta l4proto tcp"]


def test_empty_rules_drop_everything_new_and_need_the_filter_table_without_isolation():
    the_plan = seed_plan(vlans=vlans_with(0, egress=[]), isolation=False)
    assert nft(the_plan)["rules"]["egress"] == [{"vlan": "eth1.1234", "chain": "egress_1234", "rules": []}]
    assert nft(the_plan)["rules"]["filter"] is True
    assert ("inet", "layer2_vlan_router_filter") in [(t["family"], t["name"]) for t in the_plan["nftables"]["tables"]]


@pytest.mark.parametrize(("overrides", "words"), [
    ({"static_nat": [{"public": "198.51.100.50", "private": "10.9.9.2"}]},
     "vlan_router_static_nat[0] (198.51.100.50 -> 10.9.9.2): no VLAN holds the private address 10.9.9.2"),
    ({"static_nat": STATIC + [{"public": "198.51.100.50", "private": "10.1.35.12"}]},
     "vlan_router_static_nat[1] (198.51.100.50 -> 10.1.35.12): the public address 198.51.100.50 is already used by vlan_router_static_nat[0]"),
    ({"static_nat": STATIC, "port_forwards": [{**FORWARD[0], "public": "198.51.100.50"}]},
     "vlan_router_port_forwards[0] (198.51.100.50:2222/tcp -> 10.1.35.12:22): the public address 198.51.100.50 is already taken whole by "
     "vlan_router_static_nat[0]"),
    ({"static_nat": [{"public": "198.51.100.51", "private": "10.1.35.11"}], "port_forwards": FORWARD},
     "vlan_router_port_forwards[0] (198.51.100.51:2222/tcp -> 10.1.35.12:22): the public address 198.51.100.51 is already taken whole"),
    ({"port_forwards": FORWARD + [{**FORWARD[0], "private": "10.1.35.13"}]},
     "vlan_router_port_forwards[1] (198.51.100.51:2222/tcp -> 10.1.35.13:22): 198.51.100.51 port 2222/tcp is already forwarded by "
     "vlan_router_port_forwards[0]"),
    ({"port_forwards": [{**FORWARD[0], "port": 70000}]}, "vlan_router_port_forwards[0] (198.51.100.51:70000/tcp -> 10.1.35.12:22): port 70000 is out of range"),
    ({"port_forwards": [{**FORWARD[0], "private_port": 0}]}, "port 0 is out of range 1-65535"),
    ({"port_forwards": [{**FORWARD[0], "proto": "sctp"}]},
     "vlan_router_port_forwards[0] (198.51.100.51:2222/sctp -> 10.1.35.12:22): the protocol 'sctp' is not tcp or udp"),
    ({"static_nat": [{"public": "203.0.113.70", "private": "10.1.35.11"}]}, "the public address 203.0.113.70 is inside VLAN 1234's own addresses"),
    ({"static_nat": [{"public": "2001:db8::5", "private": "10.1.35.11"}]}, "2001:db8::5 is IPv6"),
    ({"static_nat": [{"public": "somewhere", "private": "10.1.35.11"}]}, "'somewhere' is not an IP address"),
    ({"vlans": vlans_with(1, ingress=[{"proto": "gre"}])}, "VLAN 1235 ingress[0]: the protocol 'gre' is not one of tcp, udp, icmp, any"),
    ({"vlans": vlans_with(1, egress=[{"proto": "tcp", "ports": [0]}])}, "VLAN 1235 egress[0]: port 0 is out of range 1-65535"),
    ({"vlans": vlans_with(1, egress=[{"proto": "icmp", "ports": [8]}])}, "VLAN 1235 egress[0]: ports are given but the protocol is icmp"),
    ({"vlans": vlans_with(1, ingress=[{"from": ["198.51.100.1/24"]}])}, "VLAN 1235 ingress[0] from: 198.51.100.1/24 has host bits set"),
    ({"vlans": vlans_with(1, egress=[{"from": ["198.51.100.0/24"]}])}, "VLAN 1235 egress[0]: egress rules match 'to', not 'from'"),
])
def test_bad_entries_are_refused_naming_them(overrides, words):
    with pytest.raises(PlanError) as refused:
        seed_plan(**overrides)
    assert words in str(refused.value)
