# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_router_facts without a kernel: links, routes, /proc/sys switches (in a temporary tree) and nft's answers as data."""

from __future__ import annotations

import json

from ansible_collections.layer2.linux.plugins.module_utils import _router_facts as rf


def link(index, name, kind=None, **extra):
    return {"index": index, "name": name, "kind": kind, "mtu": 1500, "mac": f"02:00:00:00:00:0{index}", "up": True, "operstate": "UP",
            "link": None, "link_netnsid": None, **extra}


def test_vlans_name_their_parent_unless_it_is_in_another_namespace():
    links = [link(2, "eth1"), link(7, "eth1.1234", "vlan", vlan_id=1234, protocol="802.1Q", link=2),
             link(8, "eth2.5", "vlan", vlan_id=5, protocol="802.1ad", link=2, link_netnsid=0)]
    addresses = [{"index": 7, "cidr": "203.0.113.1/24", "family": "ipv4"}, {"index": 7, "cidr": "fe80::1/64", "family": "ipv6"}]
    facts = rf.link_facts(links, addresses)
    assert facts["eth1"] == {"index": 2, "kind": None, "mtu": 1500, "mac": "02:00:00:00:00:02", "up": True, "operstate": "UP", "addresses": []}
    assert facts["eth1.1234"] == {"index": 7, "kind": "vlan", "mtu": 1500, "mac": "02:00:00:00:00:07", "up": True, "operstate": "UP",
                                  "addresses": ["203.0.113.1/24", "fe80::1/64"], "vlan_id": 1234, "vlan_protocol": "802.1Q", "parent": "eth1"}
    assert facts["eth2.5"]["parent"] is None and facts["eth2.5"]["vlan_protocol"] == "802.1ad"


def route(family, dst, table="main", route_type="unicast", oif=2):
    return {"family": family, "dst": dst, "via": None, "oif": oif, "table": table, "metric": 0, "scope": "global", "protocol": "boot",
            "type": route_type, "onlink": False, "cloned": False}


def test_routes_are_the_main_tables_ipv4_first_unicast_unless_asked():
    routes = [route("ipv6", "2001:db8::/64"), route("ipv4", "10.0.0.0/8"), route("ipv4", "192.0.2.1/32", table="local", route_type="local"),
              route("ipv4", "10.9.0.0/16", route_type="blackhole", oif=None), route("ipv4", "10.8.0.0/16", table=100)]
    names = {2: "eth0"}
    assert [(r["dst"], r["dev"]) for r in rf.route_facts(routes, names)] == [("10.0.0.0/8", "eth0"), ("2001:db8::/64", "eth0")]
    assert [r["dst"] for r in rf.route_facts(routes, names, all_route_types=True)] == ["10.0.0.0/8", "10.9.0.0/16", "2001:db8::/64"]


def test_switches_read_from_proc_sys_and_a_missing_one_is_none(tmp_path):
    conf = tmp_path / "net" / "ipv4" / "conf" / "eth1.1234"
    conf.mkdir(parents=True)
    (conf / "proxy_arp").write_text("1\n")
    six = tmp_path / "net" / "ipv6" / "conf" / "eth1.1234"
    six.mkdir(parents=True)
    (six / "proxy_ndp").write_text("0\n")
    (six / "forwarding").write_text("1\n")
    (tmp_path / "net" / "ipv4" / "ip_forward").write_text("1\n")
    assert rf.interface_facts(["eth1.1234", "eth9"], str(tmp_path)) == {
        "eth1.1234": {"proxy_arp": True, "proxy_ndp": False, "ipv6_forwarding": True},
        "eth9": {"proxy_arp": None, "proxy_ndp": None, "ipv6_forwarding": None},
    }
    assert rf.switch(rf.FORWARDING["ipv4"], str(tmp_path)) is True and rf.switch(rf.FORWARDING["ipv6"], str(tmp_path)) is None


def test_nft_tables_listed_missing_or_refused():
    listing = {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
                            {"table": {"family": "inet", "name": "layer2_vlan_router_filter", "handle": 3}},
                            {"table": {"family": "ip", "name": "nat", "handle": 4}}]}
    asked = []
    chains = {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
                           {"chain": {"family": "inet", "table": "layer2_vlan_router_filter", "name": "forward", "handle": 1, "hook": "forward"}},
                           {"chain": {"family": "inet", "table": "layer2_vlan_router_filter", "name": "ingress_1234", "handle": 2}}]}
    # nft prints one JSON document a command, one a line
    answer = json.dumps(listing) + "\n" + json.dumps(chains) + "\n"

    def run(argv):
        asked.append(argv)
        return 0, answer, ""

    assert rf.nft_tables(run) == ({"available": True, "tables": [{"family": "inet", "name": "layer2_vlan_router_filter", "chains": ["forward", "ingress_1234"]},
                                                                 {"family": "ip", "name": "nat", "chains": []}]}, None)
    assert asked == [["nft", "-j", "list tables; list chains"]]
    assert rf.nft_tables(None) == ({"available": False, "tables": []}, None)
    refused = rf.nft_tables(lambda argv: (1, "", "Error: Could not process rule: Operation not supported\n"))
    assert refused == ({"available": False, "tables": []},
                       "nft -j 'list tables; list chains' exited 1: Error: Could not process rule: Operation not supported")
    assert rf.nft_tables(lambda argv: (0, "not json", ""))[0] == {"available": False, "tables": []}


def test_boot_includes_names_the_included_files_of_nftables_conf(tmp_path):
    conf = tmp_path / "nftables.conf"
    assert rf.boot_includes(str(conf)) == {"path": str(conf), "exists": False, "includes": []}
    conf.write_text('#!/usr/sbin/nft -f\nflush ruleset\n# include "/etc/commented.nft"\n  include "/etc/nftables.d/layer2-vlan-router.nft"\n'
                    'include "/etc/other.nft" # a comment\n')
    assert rf.boot_includes(str(conf)) == {"path": str(conf), "exists": True,
                                           "includes": ["/etc/nftables.d/layer2-vlan-router.nft", "/etc/other.nft"]}


HEAD = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
TAIL = "00000000:00000000 00:00000000 00000000     0        0"
UDP = HEAD + "".join(f"  1: {local} {remote} {state} {TAIL} {inode} 2 0000000000000000 0\n" for local, remote, state, inode in (
    ("0A09090A:0035", "00000000:0000", "07", 4101),  # 10.9.9.10:53
    ("00000000:0043", "00000000:0000", "07", 4102),  # 0.0.0.0:67
    ("0A09090A:A123", "0202090A:0035", "01", 4103),  # connected to 10.9.2.2:53: a client's, not listening
    ("00000000:0044", "00000000:0000", "07", 4104)))  # 0.0.0.0:68
UDP6 = HEAD + "".join(f"  1: {local} {'0' * 32}:0000 07 {TAIL} {inode} 2 0000000000000000 0\n" for local, inode in (
    ("B80D0120000035000000000001000000:0035", 4201),  # 2001:db8:35::1 port 53
    ("000080FE000000000000000001000000:0035", 4202),  # fe80::1 port 53
    ("0000000000000000FFFF00000100007F:1F90", 0)))  # ::ffff:127.0.0.1 port 8080, no inode to find an owner by


def test_listening_udp_sockets_with_the_process_holding_each(tmp_path, monkeypatch):
    """A /proc tree as a little-endian kernel prints it: connected sockets left out, owners found by their fd links."""
    monkeypatch.setattr(rf.sys, "byteorder", "little")
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "udp").write_text(UDP)
    (tmp_path / "net" / "udp6").write_text(UDP6)
    for pid, name, cmdline, fds in ((812, "dnsmasq", b"dnsmasq\0--conf-file=/r/x.conf\0", {"4": "socket:[4101]", "5": "socket:[4102]", "6": "socket:[4201]",
                                                                                           "7": "socket:[4202]", "0": "/dev/null"}),
                                    (900, "dhclient", b"dhclient\0eth0\0", {"3": "socket:[4104]", "4": "socket:[4103]"})):
        (tmp_path / str(pid) / "fd").mkdir(parents=True)
        (tmp_path / str(pid) / "comm").write_text(name + "\n")
        (tmp_path / str(pid) / "cmdline").write_bytes(cmdline)
        for fd, target in fds.items():
            (tmp_path / str(pid) / "fd" / fd).symlink_to(target)
    dnsmasq = {"pid": 812, "process": "dnsmasq", "cmdline": ["dnsmasq", "--conf-file=/r/x.conf"]}
    assert rf.listening_udp(str(tmp_path)) == [
        {"family": "ipv4", "address": "10.9.9.10", "port": 53, **dnsmasq},
        {"family": "ipv6", "address": "2001:db8:35::1", "port": 53, **dnsmasq},
        {"family": "ipv6", "address": "fe80::1", "port": 53, **dnsmasq},
        {"family": "ipv4", "address": "0.0.0.0", "port": 67, **dnsmasq},
        {"family": "ipv4", "address": "0.0.0.0", "port": 68, "pid": 900, "process": "dhclient", "cmdline": ["dhclient", "eth0"]},
        {"family": "ipv6", "address": "127.0.0.1", "port": 8080, "pid": None, "process": None, "cmdline": []},
    ]
