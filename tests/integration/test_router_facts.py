# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""layer2.linux.router_facts end to end through the netns connection, on the host kernel.

The router's second interface is a veth named eth1.1234 (this kernel has no 802.1Q; the VLAN fields are checked in the
kernel tier). The facts are compared with what `ip -j`, /proc/sys and `nft` say inside the namespace.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.ansible import run_module

MODULE = "layer2.linux.router_facts"


@pytest.fixture
def router(make_lab):
    lab = make_lab(
        {
            "switches": ["lan", "vlan"],
            "hosts": {
                "r": {"links": [{"switch": "lan", "mac": "02:00:5e:00:00:01", "addresses": ["192.0.2.1/24", "2001:db8::1/64"]},
                                {"switch": "vlan", "ifname": "eth1.1234", "mac": "02:00:5e:00:12:34", "mtu": 1400,
                                 "addresses": ["203.0.113.1/24"]}],
                      "routes": ["198.51.100.64/28 dev eth1.1234", "default via 192.0.2.254"],
                      "sysctl": {"net.ipv4.ip_forward": "1", "net.ipv4.conf.eth0.proxy_arp": "1", "net.ipv6.conf.eth1/1234.proxy_ndp": "1"}},
                "vm": {"links": [{"switch": "vlan", "addresses": ["203.0.113.10/24"]}]},
            },
        }
    )
    lab.run("r", ["ip", "route", "add", "blackhole", "198.51.100.128/25"])
    lab.run("r", ["ip", "-6", "route", "add", "2001:db8:64::/64", "dev", "eth1.1234", "metric", "300"])
    lab.run("r", ["nft", "add", "table", "inet", "layer2_vlan_router_filter"])
    lab.run("r", ["nft", "add", "table", "ip", "layer2_vlan_router_nat"])
    lab.run("r", ["nft", "add", "chain", "inet", "layer2_vlan_router_filter", "ingress_1234"])
    return lab


def test_the_facts_are_what_the_kernel_says(router):
    for check in (False, True):  # read-only: check mode returns the same
        facts = run_module(router, "r", MODULE, {}, check=check)
        assert facts["_status"] == "ok" and facts["changed"] is False, facts

        links = facts["links"]
        assert sorted(links) == ["eth0", "eth1.1234", "lo"]
        vlan = links["eth1.1234"]
        assert {k: vlan[k] for k in ("kind", "mtu", "mac", "up")} == {"kind": "veth", "mtu": 1400, "mac": "02:00:5e:00:12:34", "up": True}
        assert vlan["index"] == router.ip_json("r", "link", "show", "dev", "eth1.1234")[0]["ifindex"]
        assert vlan["operstate"] == "UP" and "vlan_id" not in vlan and "parent" not in vlan
        assert vlan["addresses"][0] == "203.0.113.1/24" and all(a.startswith("fe80:") for a in vlan["addresses"][1:])
        assert links["eth0"]["addresses"][:2] == ["192.0.2.1/24", "2001:db8::1/64"]
        assert links["lo"]["kind"] is None and links["lo"]["addresses"] == ["127.0.0.1/8", "::1/128"]

        routes = facts["routes"]
        assert [r["family"] for r in routes] == sorted(r["family"] for r in routes), "IPv4 first, then IPv6"
        assert {"family": "ipv4", "dst": "198.51.100.64/28", "via": None, "dev": "eth1.1234", "table": "main", "metric": 0, "scope": "link",
                "protocol": "boot", "type": "unicast", "onlink": False} in routes
        assert {"family": "ipv4", "dst": "default", "via": "192.0.2.254", "dev": "eth0", "table": "main", "metric": 0, "scope": "global",
                "protocol": "boot", "type": "unicast", "onlink": False} in routes
        assert {"family": "ipv6", "dst": "2001:db8:64::/64", "via": None, "dev": "eth1.1234", "table": "main", "metric": 300, "scope": "global",
                "protocol": "boot", "type": "unicast", "onlink": False} in routes
        assert "198.51.100.128/25" not in [r["dst"] for r in routes], "a blackhole route is not unicast"
        ours = sorted((r["dst"], r["dev"]) for r in routes if r["family"] == "ipv4")
        assert ours == sorted((r["dst"], r.get("dev")) for r in router.ip_json("r", "-4", "route", "show", "table", "main") if "type" not in r)
        six = sorted((r["dst"], r["dev"], r["metric"]) for r in routes if r["family"] == "ipv6")
        assert six == sorted((r["dst"], r["dev"], r["metric"]) for r in router.ip_json("r", "-6", "route", "show", "table", "main"))

        assert facts["forwarding"] == {"ipv4": True, "ipv6": False}
        assert facts["interfaces"]["eth0"] == {"proxy_arp": True, "proxy_ndp": False, "ipv6_forwarding": False}
        assert facts["interfaces"]["eth1.1234"] == {"proxy_arp": False, "proxy_ndp": True, "ipv6_forwarding": False}
        tables = [{"family": "inet", "name": "layer2_vlan_router_filter", "chains": ["ingress_1234"]},
                  {"family": "ip", "name": "layer2_vlan_router_nat", "chains": []}]
        assert facts["nftables"] == {"available": True, "tables": tables}
        assert "listening" not in facts


def test_options_all_route_types_and_no_nft(router):
    facts = run_module(router, "r", MODULE, {"all_route_types": True, "nftables": False})
    assert facts["_status"] == "ok" and not facts["changed"]
    assert "nftables" not in facts
    blackhole = [r for r in facts["routes"] if r["dst"] == "198.51.100.128/25"]
    assert blackhole == [{"family": "ipv4", "dst": "198.51.100.128/25", "via": None, "dev": None, "table": "main", "metric": 0, "scope": "global",
                          "protocol": "boot", "type": "blackhole", "onlink": False}]


def test_nftables_conf_tells_what_the_boot_ruleset_includes(router, tmp_path):
    conf = tmp_path / "nftables.conf"
    conf.write_text('flush ruleset\ninclude "/etc/nftables.d/layer2-vlan-router.nft"\n')
    facts = run_module(router, "r", MODULE, {"nftables_conf": str(conf)}, check=True)
    assert facts["_status"] == "ok" and not facts["changed"]
    assert facts["nftables"]["boot"] == {"path": str(conf), "exists": True, "includes": ["/etc/nftables.d/layer2-vlan-router.nft"]}
    missing = run_module(router, "r", MODULE, {"nftables_conf": str(tmp_path / "none.conf")})
    assert missing["nftables"]["boot"] == {"path": str(tmp_path / "none.conf"), "exists": False, "includes": []}


# A server waiting on two addresses, and a client's socket connected to one of them (not listening).
UDP = (
    "import socket, sys, time\n"
    "four = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); four.bind(('203.0.113.1', 5353))\n"
    "six = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); six.bind(('2001:db8::1', 53))\n"
    "client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); client.connect(('203.0.113.1', 5353))\n"
    "print('ready', flush=True); time.sleep(60)\n"
)


def test_listening_udp_sockets_with_their_process(router):
    server = router.popen("r", [sys.executable, "-c", UDP, "udp-server"], stdout=-1, text=True)
    assert server.stdout.readline().strip() == "ready"
    facts = run_module(router, "r", MODULE, {"listening": True, "nftables": False})
    # the process name is the kernel's: the name of the file run, cut to 15 characters
    held = {"pid": server.pid, "process": sys.executable.rsplit("/", 1)[-1][:15], "cmdline": [sys.executable, "-c", UDP, "udp-server"]}
    ours = [s for s in facts["listening"] if s["pid"] == server.pid]
    assert ours == [{"family": "ipv6", "address": "2001:db8::1", "port": 53, **held}, {"family": "ipv4", "address": "203.0.113.1", "port": 5353, **held}]
