# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router plan's redundant pair (keepalived VRRP, conntrackd, the notify script): the plan's data, the printed
keepalived.conf (checked by keepalived -t) and conntrackd.conf, the notify script's actions, and every refusal."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible_collections.layer2.linux.plugins.filter.vlan_router import PlanError, plan, problems
from ansible_collections.layer2.linux.plugins.module_utils._vrrp_notify import actions

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/vlan_router/defaults/main.yml").read_text())
LAYOUT = yaml.safe_load((ROOT / "roles/vlan_router/vars/main.yml").read_text())["__vlan_router_layout"]
PUBLIC = {"id": 1234, "addresses": ["8.254.123.11/24"], "gateway": "8.254.123.10/24", "proxy_arp": True, "routed": ["8.254.124.0/30"]}
PRIVATE = {"id": 1235, "addresses": ["10.9.9.11/24"], "gateway": "10.9.9.10/24", "nat": True}
PAIR = {"priority": 200, "advert_interval": 0.1, "virtual_router_id": 51, "sync_interface": "sync0", "peer": "192.0.2.12",
        "conntrack_sync": True, "preempt": False, "uplink_address": "198.51.100.10/24"}
KEEPALIVED = "/tmp/r/etc/keepalived/keepalived.conf"


def build(vlans=(PUBLIC, PRIVATE), pair=None, **overrides) -> dict:
    """The plan of r1 of the pair (PAIR when pair is None; {} is a router alone)."""
    settings = {key.removeprefix("vlan_router_"): value for key, value in DEFAULTS.items()}
    settings |= {"persistence": "none", "detected_backend": None, "root": "/tmp/r", "vlans": [dict(v) for v in vlans],
                 "redundancy": PAIR if pair is None else pair}
    return plan(settings | overrides, LAYOUT)


def file_data(the_plan: dict, path: str) -> dict:
    return next(f for f in the_plan["files"] if f["path"] == path)


def render(the_plan: dict, path: str) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "roles/vlan_router/templates"), trim_blocks=True, keep_trailing_newline=True)
    item = file_data(the_plan, path)
    return environment.get_template(item["template"]).render(data=item["data"])


def test_one_instance_per_gateway_and_the_uplink_in_one_sync_group_unicast_over_the_sync_link():
    the_plan = build()
    pair = the_plan["redundancy"]
    assert pair["instances"] == ["uplink", "vlan_1234", "vlan_1235"]
    data = file_data(the_plan, KEEPALIVED)["data"]
    assert data["sync_group"] == "layer2_vlan_router" and data["virtual_servers"] == []
    assert [(i["vrid"], i["interface"], i["track"], i["addresses"], i["dev"]) for i in data["instances"]] == [
        (51, "sync0", ["eth0"], ["198.51.100.10/24"], "eth0"),
        (52, "sync0", ["eth1.1234"], ["8.254.123.10/24"], "eth1.1234"),
        (53, "sync0", ["eth1.1235"], ["10.9.9.10/24"], "eth1.1235"),
    ]
    assert data["notify"] == "/tmp/r/usr/local/lib/layer2-linux/vlan-router-notify /tmp/r/etc/keepalived/layer2-vlan-router-notify.json"
    # The gateway is keepalived's: not a VLAN address, and vlan_interface leaves it alone on that VLAN.
    assert [(v["addresses"], v["purge_addresses"]) for v in the_plan["vlan_interface"]] == [(["8.254.123.11/24"], False), (["10.9.9.11/24"], False)]
    # Proxy ARP on the uplink and on VLAN 1234 is the master's: the notify script sets it, the role lists it nowhere.
    assert pair["proxy_arp"] == ["eth0", "eth1.1234"]
    assert the_plan["forwarding"]["interfaces"] == [{"name": "eth1.1235", "proxy_arp": False}]
    assert file_data(the_plan, "/tmp/r/etc/nftables.d/layer2-vlan-router.nft")["data"]["snat"] == "198.51.100.10"


def test_multicast_without_peer_each_instance_on_its_own_interface():
    data = file_data(build(pair=PAIR | {"peer": None, "conntrack_sync": False}), KEEPALIVED)["data"]
    assert [(i["interface"], i["track"]) for i in data["instances"]] == [("eth0", []), ("eth1.1234", []), ("eth1.1235", [])]
    assert data["peer"] is None


def test_without_a_pair_the_gateway_is_one_more_address_and_the_vms_router():
    vlan = dict(PRIVATE, dhcp={"hosts": []})
    the_plan = build(vlans=[vlan], pair={})
    assert the_plan["redundancy"] is None and the_plan["vlan_interface"][0]["addresses"] == ["10.9.9.11/24", "10.9.9.10/24"]
    assert the_plan["vlan_interface"][0]["purge_addresses"] is True
    dhcp = next(f for f in the_plan["files"] if f["template"] == "dnsmasq.conf.j2")["data"]["vlans"][0]["dhcp"]
    assert dhcp["router"] == "10.9.9.10" and dhcp["dns_servers"] == ["10.9.9.10"]
    assert "snat" not in the_plan["files"][0]["data"] and not any(f["path"] == KEEPALIVED for f in the_plan["files"])


def test_the_notify_data_announces_the_proxied_addresses_bounded():
    the_plan = build()
    notify = json.loads(json.dumps(file_data(the_plan, "/tmp/r/etc/keepalived/layer2-vlan-router-notify.json")["data"]))
    addresses = notify["announce"]["addresses"]
    # The routed prefix first, then the proxy_arp VLAN's subnet without the routers' own addresses and the gateway.
    assert addresses[:4] == ["8.254.124.1", "8.254.124.2", "8.254.123.1", "8.254.123.2"]
    assert len(addresses) == 2 + 254 - 2 and "8.254.123.10" not in addresses and "8.254.123.11" not in addresses
    assert notify["conntrackd"] == ["/usr/sbin/conntrackd", "-C", "/tmp/r/etc/conntrackd/conntrackd.conf"]
    huge = build(vlans=[PUBLIC | {"routed": ["10.0.0.0/8"]}], pair=PAIR | {"announce_limit": 100})["redundancy"]
    # What is left out is counted from the prefixes' sizes, never walked (the routers' own addresses among them).
    assert huge["announce"] == 100 and huge["announce_left_out"] == (1 << 24) - 2 - 100 + 254


def test_static_nat_public_addresses_are_announced_first():
    the_plan = build(static_nat=[{"public": "8.254.125.7", "private": "10.9.9.20"}])
    addresses = file_data(the_plan, "/tmp/r/etc/keepalived/layer2-vlan-router-notify.json")["data"]["announce"]["addresses"]
    assert addresses[0] == "8.254.125.7"


def test_keepalived_conf_printed_and_accepted_by_keepalived(tmp_path):
    text = render(build(), KEEPALIVED)
    assert "vrrp_version 3" in text and "nopreempt" in text and "advert_int 0.1\n" in text
    assert "    unicast_peer {\n        192.0.2.12\n    }\n" in text and "    track_interface {\n        eth1.1234\n    }\n" in text
    assert "garp_master_refresh 60" in text and "garp_lower_prio_repeat 1" in text
    assert 'notify "/tmp/r/usr/local/lib/layer2-linux/vlan-router-notify /tmp/r/etc/keepalived/layer2-vlan-router-notify.json"' in text
    preempting = render(build(pair=PAIR | {"preempt": True}), KEEPALIVED)
    assert "nopreempt" not in preempting and "state BACKUP" in preempting
    if shutil.which("keepalived") is None:
        pytest.skip("keepalived is not installed")
    alone = PAIR | {"uplink_address": None, "peer": None, "conntrack_sync": False}
    for number, conf in enumerate((text, preempting, render(build(vlans=[PRIVATE | {"nat": False}], pair=alone), KEEPALIVED))):
        path = tmp_path / f"keepalived{number}.conf"
        path.write_text(conf)
        checked = subprocess.run(["keepalived", "-t", "-f", str(path)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, conf + checked.stdout + checked.stderr


def test_a_single_instance_carries_the_notify_itself():
    text = render(build(vlans=[PRIVATE | {"nat": False}], pair=PAIR | {"uplink_address": None, "conntrack_sync": False}), KEEPALIVED)
    assert "vrrp_sync_group" not in text and text.count('notify "') == 1


def test_conntrackd_conf_unicast_and_multicast():
    text = render(build(), "/tmp/r/etc/conntrackd/conntrackd.conf")
    assert "Mode FTFW" in text and "IPv4_Destination_Address 192.0.2.12" in text and "Interface sync0" in text
    assert "Path /tmp/r/run/conntrackd.ctl" in text and "LockFile /tmp/r/run/lock/conntrack.lock" in text
    for address in ("127.0.0.1", "8.254.123.11", "10.9.9.11", "198.51.100.10", "8.254.123.10"):
        assert f"IPv4_address {address}\n" in text
    multicast = render(build(pair=PAIR | {"peer": None}), "/tmp/r/etc/conntrackd/conntrackd.conf")
    assert "Multicast {" in multicast and "UDP {" not in multicast
    assert build(pair=PAIR | {"conntrack_sync": False})["redundancy"]["conntrackd"] is None


@pytest.mark.parametrize(("pair", "vlans", "message"), [
    ({"priority": 255}, None, "vlan_router_redundancy: priority 255 is out of range 1-254"),
    ({"priority": None}, None, "vlan_router_redundancy: priority is required"),
    ({"priority": 0}, None, "vlan_router_redundancy: priority 0 is out of range 1-254"),
    ({"advert_interval": 0.001}, None, "vlan_router_redundancy: advert_interval 0.001 is out of range 0.01-40"),
    ({"advert_interval": 41}, None, "advert_interval 41 is out of range 0.01-40"),
    ({"advert_interval": 0.015}, None, "advert_interval 0.015 is not a whole number of centiseconds"),
    ({"virtual_router_id": 254}, None, "virtual_router_id 254 and 2 VLANs with a gateway need ids up to 256, past 255"),
    ({"virtual_router_id": 0}, None, "virtual_router_id 0 is out of range 1-255"),
    ({"sync_interface": None}, None, "vlan_router_redundancy: peer is given without sync_interface"),
    ({"peer": None, "sync_interface": None}, None, "vlan_router_redundancy: conntrack_sync needs sync_interface"),
    ({"sync_interface": "e2"}, None, "conntrackd cannot read the interface name e2"),
    ({"sync_interface": "eth0"}, None, "sync_interface eth0 is also the uplink"),
    ({"peer": "192.0.2.300"}, None, "vlan_router_redundancy peer: '192.0.2.300' is not an IPv4 address"),
    ({"uplink_address": "198.51.100.10"}, None, "uplink_address '198.51.100.10' is not an IPv4 address in CIDR notation"),
    ({"uplink_address": None}, None, "VLAN 1235 is nat, and without uplink_address"),
    ({"uplink_address": None}, [PUBLIC | {"gateway": None}], "no VLAN has a gateway, no uplink_address is given and there is no virtual server"),
    ({"colour": "blue"}, None, "vlan_router_redundancy: unknown key colour"),
    ({"announce_limit": -1}, None, "announce_limit -1 is out of range"),
    ({}, [PUBLIC | {"gateway": "8.254.124.10/24"}], "VLAN 1234 gateway: 8.254.124.10/24 is outside the VLAN's own subnet 8.254.123.0/24"),
    ({}, [PUBLIC | {"gateway": "8.254.123.10"}], "VLAN 1234 gateway: 8.254.123.10 is outside the VLAN's own subnet"),
    ({}, [PUBLIC | {"gateway": "8.254.123.10/25"}], "VLAN 1234 gateway: 8.254.123.10/25 is outside"),
    ({}, [PUBLIC | {"gateway": "8.254.123.11/24"}], "VLAN 1234 gateway: 8.254.123.11 is also one of the VLAN's own addresses"),
    ({}, [PUBLIC | {"gateway": "8.254.123.255/24"}], "VLAN 1234 gateway: 8.254.123.255/24 is the network or broadcast address"),
    ({}, [PUBLIC | {"gateway": "2001:db8::1/64"}], "VLAN 1234 gateway: 2001:db8::1/64 is IPv6"),
    ({}, [PUBLIC | {"gateway": "gw"}], "VLAN 1234 gateway: 'gw' is not an address in CIDR notation"),
])
def test_refusals_name_the_entry(pair, vlans, message):
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(".", r"\.")):
        build(vlans=vlans or (PUBLIC, PRIVATE), pair=PAIR | pair)


@pytest.mark.parametrize("bound", [{"priority": 1}, {"priority": 254}, {"advert_interval": 0.01}, {"advert_interval": 40}])
def test_the_bounds_themselves_are_accepted(bound):
    instances = build(pair=PAIR | bound)["redundancy"]["instances"]
    assert instances


def test_a_gateway_outside_its_subnet_is_refused_without_a_pair_too():
    with pytest.raises(PlanError, match="VLAN 1235 gateway: 10.9.8.10/24 is outside"):
        build(vlans=[PRIVATE | {"gateway": "10.9.8.10/24"}], pair={})


def test_problems_keepalived_and_conntrackd_must_run_on_the_router_itself():
    the_plan = build(root="/")
    facts = {"forwarding": {"ipv4": True, "ipv6": False}, "interfaces": {"eth0": {"proxy_arp": False}}, "links": {}, "routes": []}
    found = problems(the_plan, facts, nft_loaded=True, services={"keepalived.service": {"state": "running"}})
    assert "conntrackd.service is not installed, not running: connections through NAT do not survive a failover" in found
    assert not any("proxy ARP" in problem for problem in found)  # the master's, the notify script's: not the role's to judge
    assert not any("keepalived" in problem for problem in found)
    stopped = problems(the_plan, facts, nft_loaded=True, services={"keepalived.service": {"state": "stopped"}, "conntrackd.service": {"state": "running"}})
    assert any(problem.startswith("keepalived.service is stopped, not running") for problem in stopped)


WEB = {"address": "203.0.113.80", "port": 80, "check": {"type": "http", "path": "/healthz"},
       "real_servers": [{"address": "10.9.9.2", "port": 8080}, {"address": "10.9.9.3", "port": 8080, "weight": 2}]}


def test_a_pair_holds_the_virtual_addresses_on_the_uplink_in_its_one_keepalived_conf(tmp_path):
    the_plan = build(virtual_servers=[WEB, WEB | {"port": 443}])
    assert [f["path"] for f in the_plan["files"]].count(KEEPALIVED) == 1 and the_plan["keepalived"] == KEEPALIVED
    data = file_data(the_plan, KEEPALIVED)["data"]
    # The master alone answers for the virtual address: a VRRP address on the uplink, not a /32 of each router's VLAN.
    assert data["instances"][0]["addresses"] == ["198.51.100.10/24", "203.0.113.80/32"] and data["instances"][0]["dev"] == "eth0"
    assert [vs["port"] for vs in data["virtual_servers"]] == [80, 443]
    assert all("203.0.113.80/32" not in vlan["addresses"] for vlan in the_plan["present"])
    assert file_data(the_plan, "/tmp/r/etc/sysctl.d/91-layer2-vlan-router-ipvs.conf")["data"] == {"values": {"net.ipv4.vs.conntrack": 1}}
    assert "IPv4_address 203.0.113.80\n" in render(the_plan, "/tmp/r/etc/conntrackd/conntrackd.conf")
    text = render(the_plan, KEEPALIVED)
    assert "        203.0.113.80/32 dev eth0\n" in text and "virtual_server 203.0.113.80 443 {" in text and "vrrp_sync_group" in text
    # Without uplink_address the virtual addresses alone make the uplink instance.
    alone = build(vlans=[PRIVATE | {"nat": False, "gateway": None}], pair=PAIR | {"uplink_address": None, "conntrack_sync": False},
                  virtual_servers=[WEB])
    assert file_data(alone, KEEPALIVED)["data"]["instances"][0]["addresses"] == ["203.0.113.80/32"]
    if shutil.which("keepalived") is None:
        pytest.skip("keepalived is not installed")
    for number, conf in enumerate((text, render(alone, KEEPALIVED))):
        path = tmp_path / f"keepalived{number}.conf"
        path.write_text(conf)
        checked = subprocess.run(["keepalived", "-t", "-f", str(path)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, conf + checked.stdout + checked.stderr


def test_a_pair_refuses_a_virtual_server_on_its_shared_uplink_address():
    with pytest.raises(PlanError, match=r"vlan_router_virtual_servers\[0\] \(198.51.100.10:80/tcp\): 198.51.100.10 is the pair's uplink_address"):
        build(virtual_servers=[WEB | {"address": "198.51.100.10"}])


def test_problems_name_keepalived_once_for_the_pair_and_the_virtual_servers():
    the_plan = build(root="/", virtual_servers=[WEB])
    facts = {"forwarding": {"ipv4": True, "ipv6": False}, "interfaces": {"eth0": {"proxy_arp": False}}, "links": {}, "routes": []}
    found = [p for p in problems(the_plan, facts, nft_loaded=True, services={"conntrackd.service": {"state": "running"}},
                                 ipvs={"available": True, "conntrack": True}) if "keepalived" in p]
    assert found == ["keepalived.service is not installed, not running: the gateways fail over to nothing and this router holds none "
                     "and the virtual servers are not served"]


NOTIFY = {"proxy_arp": ["eth0", "eth1.1234"], "conntrackd": ["/usr/sbin/conntrackd", "-C", "/etc/conntrackd/conntrackd.conf"],
          "announce": {"interface": "eth0", "addresses": ["8.254.123.1"], "rounds": 3, "interval": 0.2}}


def test_notify_master_turns_proxy_arp_on_announces_once_commits_then_announces_again():
    conntrackd = NOTIFY["conntrackd"]
    assert actions(NOTIFY, "MASTER") == [
        ("proxy_arp", "eth0", 1), ("proxy_arp", "eth1.1234", 1), ("announce", "eth0", ["8.254.123.1"], 1, 0),
        ("conntrackd", conntrackd + ["-c"]), ("conntrackd", conntrackd + ["-f"]), ("conntrackd", conntrackd + ["-R"]),
        ("conntrackd", conntrackd + ["-B"]), ("wait", 0.2), ("announce", "eth0", ["8.254.123.1"], 2, 0.2),
    ]
    once = NOTIFY | {"conntrackd": None, "announce": NOTIFY["announce"] | {"rounds": 1}}
    assert actions(once, "MASTER")[-1] == ("announce", "eth0", ["8.254.123.1"], 1, 0)


def test_notify_backup_and_fault_turn_proxy_arp_off():
    conntrackd = NOTIFY["conntrackd"]
    assert actions(NOTIFY, "BACKUP") == [("proxy_arp", "eth0", 0), ("proxy_arp", "eth1.1234", 0),
                                         ("conntrackd", conntrackd + ["-t"]), ("conntrackd", conntrackd + ["-n"])]
    assert actions(NOTIFY | {"conntrackd": None}, "FAULT") == [("proxy_arp", "eth0", 0), ("proxy_arp", "eth1.1234", 0)]
    assert actions(NOTIFY, "STOP")[-1] == ("conntrackd", conntrackd + ["-t"])


def test_dnsmasq_follows_the_gateway_with_bind_dynamic_in_a_pair():
    vlans = [PRIVATE | {"dhcp": {"hosts": []}}]
    conf = "/tmp/r/etc/dnsmasq.d/layer2-vlan-router.conf"
    paired = render(build(vlans=vlans), conf)
    assert "\nbind-dynamic\n" in paired and "bind-interfaces" not in paired
    assert "option:router,10.9.9.10\n" in paired and "option:dns-server,10.9.9.10\n" in paired


@pytest.mark.parametrize("backend", ["systemd-networkd", "ifupdown"])
def test_a_pair_member_boots_with_proxy_arp_off(backend):
    """At boot only the master may answer by proxy ARP: the backend's files leave it off, the notify script turns it on."""
    def booted_proxy_arp(the_plan) -> bool:
        files = {item["path"]: item["data"] for item in the_plan["files"]}
        if backend == "ifupdown":
            stanza = next(vlan for vlan in files["/tmp/r/etc/network/interfaces.d/layer2-vlan-router"]["vlans"] if vlan["id"] == 1234)
            return stanza["sysctl"] == ["net.ipv4.conf.eth1/1234.proxy_arp=1"]
        return files["/tmp/r/etc/systemd/network/60-layer2-vlan-router-eth1.1234.network"]["proxy_arp"]

    assert booted_proxy_arp(build(persistence=backend)) is False
    assert booted_proxy_arp(build(vlans=[PUBLIC | {"gateway": None}], persistence=backend, pair={})) is True  # a router alone
