# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router plan's dnsmasq part (DHCP, DNS for the reservations, router advertisements): the file's data, the
printed file, and the refusals that name the entry."""

from __future__ import annotations

import copy
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible_collections.layer2.linux.plugins.filter.vlan_router import PlanError, plan, problems

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/vlan_router/defaults/main.yml").read_text())
LAYOUT = yaml.safe_load((ROOT / "roles/vlan_router/vars/main.yml").read_text())["__vlan_router_layout"]
SEED = yaml.safe_load((ROOT / "tests/golden/vlan_router/vars.yml").read_text())
CONF = "/tmp/r/etc/dnsmasq.d/layer2-vlan-router.conf"

TENANT = {
    "id": 1235,
    "addresses": ["10.9.9.10/24", "2001:db8:35::1/64"],
    "nat": True,
    "dhcp": {"range": ["10.9.9.100", "10.9.9.199"], "lease_time": "12h", "domain": "tenant1.internal",
             "hosts": [{"mac": "02:00:00:00:35:02", "ip": "10.9.9.2", "name": "web1"}, {"mac": "02:00:00:00:35:03", "ip": "10.9.9.3", "name": "web2"}]},
    "ipv6_ra": True,
}


def build(vlans, **overrides) -> dict:
    variables = {**DEFAULTS, **SEED, "vlan_router_persistence": "none", "vlan_router_root": "/tmp/r", "vlan_router_ipv6_forwarding": True}
    settings = {key.removeprefix("vlan_router_"): value for key, value in variables.items()} | {"detected_backend": None}
    return plan(settings | {"vlans": vlans} | overrides, LAYOUT)


def with_dhcp(**dhcp) -> list[dict]:
    vlan = copy.deepcopy(TENANT)
    vlan["dhcp"].update(dhcp)
    return [vlan]


def render(the_plan) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "roles/vlan_router/templates"), trim_blocks=True, keep_trailing_newline=True)
    data = next(f for f in the_plan["files"] if f["path"] == CONF)["data"]
    return environment.get_template("dnsmasq.conf.j2").render(data=data)


def test_no_dhcp_no_ra_no_dnsmasq_file():
    the_plan = build(SEED["vlan_router_vlans"])
    assert the_plan["dnsmasq"] == {"path": None, "interfaces": [], "dns": [], "dhcp": []}
    assert CONF not in [f["path"] for f in the_plan["files"]] and CONF in the_plan["purge"]


def test_the_file_serves_only_the_vlans_that_ask():
    the_plan = build(copy.deepcopy(SEED["vlan_router_vlans"]) + [copy.deepcopy(TENANT) | {"id": 1237}])
    assert the_plan["dnsmasq"] == {"path": CONF, "interfaces": ["eth1.1237"], "dhcp": ["eth1.1237"],
                                   "dns": [{"interface": "eth1.1237", "address": "10.9.9.10"}, {"interface": "eth1.1237", "address": "2001:db8:35::1"}]}
    text = render(the_plan)
    assert text.splitlines()[3:10] == ["bind-dynamic", "interface=eth1.1237", "except-interface=eth0", "no-dhcp-interface=eth0",
                                       "pid-file=/tmp/r/run/dnsmasq/dnsmasq.pid", "dhcp-leasefile=/tmp/r/var/lib/misc/dnsmasq.leases",
                                       "# The router is the VLANs' only DHCP server; names without a dot and private reverse names never leave the router."]
    assert [line for line in text.splitlines() if line.startswith("interface=")] == ["interface=eth1.1237"]


def test_range_reservations_names_options_and_router_advertisements():
    text = render(build([copy.deepcopy(TENANT)]))
    vlan = text[text.index("# VLAN 1235"):].splitlines()
    assert vlan == [
        "# VLAN 1235 (eth1.1235)",
        "dhcp-range=set:vlan1235,10.9.9.100,10.9.9.199,255.255.255.0,12h",
        "dhcp-option=tag:vlan1235,option:router,10.9.9.10",
        "dhcp-option=tag:vlan1235,option:dns-server,10.9.9.10",  # the router's own address by default
        "domain=tenant1.internal,10.9.9.0/24",
        "local=/tenant1.internal/",
        "dhcp-host=02:00:00:00:35:02,10.9.9.2,web1,12h",
        "host-record=web1.tenant1.internal,10.9.9.2",
        "dhcp-host=02:00:00:00:35:03,10.9.9.3,web2,12h",
        "host-record=web2.tenant1.internal,10.9.9.3",
        "dhcp-range=::,constructor:eth1.1235,ra-only",
    ]
    assert "enable-ra" in text.splitlines() and "no-resolv" not in text


def test_reservations_only_upstream_and_dns_servers():
    the_plan = build(with_dhcp(range=None, dns_servers=["10.9.9.53", "192.0.2.53"], hosts=[{"mac": "02-00-00-00-35-0A", "ip": "10.9.9.4"}]),
                     dns_upstream=["192.0.2.1"])
    text = render(the_plan)
    assert "dhcp-range=set:vlan1235,10.9.9.0,static,255.255.255.0,12h" in text
    assert "dhcp-option=tag:vlan1235,option:dns-server,10.9.9.53,192.0.2.53" in text
    assert "dhcp-host=02:00:00:00:35:0a,10.9.9.4,12h" in text and "host-record" not in text
    assert "no-resolv\nserver=192.0.2.1\n" in text
    assert "dhcp-range=set:vlan1235,10.9.9.100" not in text


def test_ra_alone_needs_no_dhcp_and_lease_time_defaults():
    vlan = copy.deepcopy(TENANT)
    del vlan["dhcp"]
    text = render(build([vlan]))
    assert "dhcp-range=::,constructor:eth1.1235,ra-only" in text and "dhcp-host" not in text
    assert ",1h\n" in render(build(with_dhcp(lease_time=None)))


@pytest.mark.parametrize(("vlans", "message"), [
    (with_dhcp(hosts=[{"mac": "02:00:00:00:35:02", "ip": "10.9.8.2", "name": "web1"}]),
     "VLAN 1235 dhcp: hosts[0] (02:00:00:00:35:02) address 10.9.8.2 is outside the VLAN's subnet 10.9.9.0/24"),
    (with_dhcp(hosts=[{"mac": "02:00:00:00:35:02", "ip": "10.9.9.2"}, {"mac": "02:00:00:00:35:02", "ip": "10.9.9.3"}]),
     "VLAN 1235 dhcp hosts[1]: MAC 02:00:00:00:35:02 is reserved twice (also hosts[0])"),
    (with_dhcp(hosts=[{"mac": "02:00:00:00:35:02", "ip": "10.9.9.2"}, {"mac": "02:00:00:00:35:03", "ip": "10.9.9.2"}]),
     "VLAN 1235 dhcp hosts[1] (02:00:00:00:35:03): 10.9.9.2 is reserved twice (also hosts[0])"),
    (with_dhcp(range=["10.9.8.100", "10.9.8.199"]), "VLAN 1235 dhcp: range start 10.9.8.100 is outside the VLAN's subnet 10.9.9.0/24"),
    (with_dhcp(range=["10.9.9.100", "10.9.10.5"]), "VLAN 1235 dhcp: range 10.9.9.100-10.9.10.5 is outside the VLAN's subnet 10.9.9.0/24"),
    (with_dhcp(range=["10.9.9.100"]), "range ['10.9.9.100'] must be two addresses"),
    (with_dhcp(hosts=[{"mac": "02:00:00:00:35", "ip": "10.9.9.2"}]), "VLAN 1235 dhcp hosts[0]: '02:00:00:00:35' is not a MAC address"),
    (with_dhcp(hosts=[{"mac": "02:00:00:00:35:zz", "ip": "10.9.9.2"}]), "'02:00:00:00:35:zz' is not a MAC address"),
    (with_dhcp(hosts=[{"mac": "02:00:00:00:35:02", "ip": "10.9.9.10"}]), "10.9.9.10 is the router's own address on the VLAN"),
    (with_dhcp(hosts=[{"mac": "02:00:00:00:35:02", "ip": "10.9.9.2", "name": "web.1"}]), "name 'web.1' is not a host name"),
    (with_dhcp(hosts=[{"mac": "02:00:00:00:35:02", "ip": "10.9.9.2", "name": "a"}, {"mac": "02:00:00:00:35:03", "ip": "10.9.9.3", "name": "A"}]),
     "the name a is given twice"),
    (with_dhcp(lease_time="12 hours"), "lease_time '12 hours' is not a duration"),
    (with_dhcp(domain="tenant_1.internal"), "'tenant_1.internal' is not a DNS name"),
    (with_dhcp(dns_servers=["dns.example"]), "dns_servers: 'dns.example' is not an IPv4 address"),
    ([{"id": 7, "addresses": ["2001:db8::1/64"], "dhcp": {}}], "VLAN 7 dhcp: the VLAN has no IPv4 address"),
    ([{"id": 7, "addresses": ["10.0.0.1/24"], "ipv6_ra": True}], "VLAN 7 ipv6_ra: the VLAN has no global IPv6 address"),
    ([{"id": 7, "name": "eth0", "addresses": ["10.0.0.1/24"], "dhcp": {}}], "the uplink eth0 is also a VLAN asking for dhcp or ipv6_ra"),
])
def test_bad_dhcp_is_refused_naming_the_entry(vlans, message):
    with pytest.raises(PlanError) as error:
        build(vlans)
    assert message in str(error.value)


def test_router_advertisements_need_ipv6_forwarding():
    """Without it the router is the VLAN's default route without forwarding, and takes an address from its own advertisements."""
    with pytest.raises(PlanError, match="VLAN 1235 ipv6_ra: vlan_router_ipv6_forwarding is false; router advertisements make the router"):
        build([copy.deepcopy(TENANT)], ipv6_forwarding=False)


def test_names_unique_across_vlans_and_upstream_checked():
    second = copy.deepcopy(TENANT) | {"id": 1236, "addresses": ["10.9.6.1/24"], "ipv6_ra": False}
    second["dhcp"] = {"domain": "tenant1.internal", "hosts": [{"mac": "02:00:00:00:36:02", "ip": "10.9.6.2", "name": "web1"}]}
    with pytest.raises(PlanError, match="VLAN 1236 dhcp: the name web1.tenant1.internal is also a reservation of VLAN 1235"):
        build([copy.deepcopy(TENANT), second])
    with pytest.raises(PlanError, match="vlan_router_dns_upstream: 'resolver' is not an IP address"):
        build([copy.deepcopy(TENANT)], dns_upstream=["resolver"])


def test_absent_vlan_is_not_served():
    vlan = copy.deepcopy(TENANT) | {"state": "absent"}
    assert build([vlan])["dnsmasq"]["path"] is None


def sockets(*bound, process="dnsmasq", cmdline=("dnsmasq",)):
    """router_facts' listening: (address, port) pairs held by one process."""
    return [{"family": "ipv6" if ":" in address else "ipv4", "address": address, "port": port, "pid": 812, "process": process,
             "cmdline": list(cmdline)} for address, port in bound]


SERVED = [("10.9.9.10", 53), ("2001:db8:35::1", 53), ("fe80::1", 53), ("0.0.0.0", 67)]


def healthy(the_plan, listening) -> dict:
    return {"forwarding": {"ipv4": True}, "interfaces": {"eth0": {"proxy_arp": True}, "eth1.1235": {}},
            "links": {"eth1.1235": {"kind": "vlan", "vlan_id": 1235, "parent": "eth1", "up": True, "operstate": "UP", "mtu": 1500,
                                    "addresses": TENANT["addresses"]}},
            "nftables": {"available": True, "tables": the_plan["nftables"]["tables"]}, "listening": listening}


def test_problems_name_where_the_routers_own_dnsmasq_does_not_listen():
    the_plan = build([copy.deepcopy(TENANT)], root="/")
    assert problems(the_plan, healthy(the_plan, sockets(*SERVED) + sockets(("0.0.0.0", 68), process="dhclient"))) == []
    # the router's own dnsmasq (root /) is any dnsmasq, however started; the wildcard address listens on every address
    assert problems(the_plan, healthy(the_plan, sockets(("0.0.0.0", 53), ("::", 53), ("0.0.0.0", 67), cmdline=("dnsmasq", "-x", "/run/x.pid")))) == []
    assert problems(the_plan, healthy(the_plan, sockets(("127.0.0.53", 53), process="systemd-resolve"))) == [
        "dnsmasq is not running (no dnsmasq process listens in the router's network namespace): DHCP, DNS and router advertisements "
        "on eth1.1235 are not served"]
    assert problems(the_plan, healthy(the_plan, sockets(("10.9.9.10", 53)))) == [
        "dnsmasq does not answer DNS on 2001:db8:35::1 (eth1.1235, UDP port 53)",
        "dnsmasq does not listen for DHCP (UDP port 67): eth1.1235 get no leases"]
    assert problems(the_plan, healthy(the_plan, None)) == []  # not read


def test_problems_under_another_root_check_only_a_dnsmasq_started_from_the_roles_file():
    the_plan = build([copy.deepcopy(TENANT)])
    ours = ("dnsmasq", f"--conf-file={CONF}", "--keep-in-foreground")
    assert problems(the_plan, healthy(the_plan, [])) == []  # the role starts no daemon under another root
    assert problems(the_plan, healthy(the_plan, sockets(("10.9.9.10", 53)))) == []  # a dnsmasq of another file (libvirt's...)
    assert problems(the_plan, healthy(the_plan, sockets(*SERVED, cmdline=ours))) == []
    for cmdline in (ours, ("dnsmasq", "-C", CONF), ("dnsmasq", f"-C{CONF}"), ("dnsmasq", "--conf-file", CONF)):
        assert problems(the_plan, healthy(the_plan, sockets(("2001:db8:35::1", 53), cmdline=cmdline))) == [
            "dnsmasq does not answer DNS on 10.9.9.10 (eth1.1235, UDP port 53)",
            "dnsmasq does not listen for DHCP (UDP port 67): eth1.1235 get no leases"], cmdline


def test_router_advertisements_alone_need_no_dhcp_socket():
    vlan = copy.deepcopy(TENANT) | {"dhcp": None}
    the_plan = build([vlan], root="/")
    assert the_plan["dnsmasq"]["dhcp"] == []
    assert problems(the_plan, healthy(the_plan, sockets(("10.9.9.10", 53), ("2001:db8:35::1", 53)))) == []
