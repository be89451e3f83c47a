# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""layer2.linux.ip_route end to end through the netns connection, on the host kernel.

The router `r` has eth0 on the LAN (192.0.2.0/24, 2001:db8::/64, gateway `gw`) and a second interface named eth1.1234
(a veth with a VLAN-style name: this kernel has no 802.1Q) towards the VLAN (10.0.2.0/24, 2001:db8:2::/64).
"""

from __future__ import annotations

import pytest

from tests.support.ansible import run_module

MODULE = "layer2.linux.ip_route"


@pytest.fixture
def routed(make_lab):
    return make_lab(
        {
            "switches": ["lan", "vlan"],
            "hosts": {
                "r": {"links": [{"switch": "lan", "addresses": ["192.0.2.10/24", "2001:db8::10/64"]},
                                {"switch": "vlan", "ifname": "eth1.1234", "addresses": ["10.0.2.1/24", "2001:db8:2::1/64"]}]},
                "gw": {"links": [{"switch": "lan", "addresses": ["192.0.2.1/24", "2001:db8::1/64"]}]},
                "vm": {"links": [{"switch": "vlan", "addresses": ["10.0.2.10/24"]}]},
            },
        }
    )


def table(lab, host, family="-4"):
    """The main table as `ip -j route` shows it: (dst, gateway, dev, protocol, metric) per route, sorted."""
    return sorted((r["dst"], r.get("gateway"), r.get("dev"), r.get("protocol", "boot"), r.get("metric", 0))  # ip leaves out proto boot
                  for r in lab.ip_json(host, family, "route", "show", "table", "main"))


def both(lab, host):
    return table(lab, host, "-4") + table(lab, host, "-6")


def converge(lab, host, params, **kwargs):
    """check, real, real again, check again: the community.crypto pattern. Returns the four results."""
    return [run_module(lab, host, MODULE, params, check=check, **kwargs) for check in (True, False, False, True)]


def test_routes_ipv4_and_ipv6_in_one_task(routed):
    params = {"routes": [
        {"dst": "203.0.113.64/28", "dev": "eth1.1234", "protocol": "boot"},
        {"dst": "203.0.113.80", "dev": "eth1.1234"},
        {"dst": "198.51.100.0/24", "via": "192.0.2.1"},
        {"dst": "2001:db8:64::/64", "dev": "eth1.1234"},
        {"dst": "2001:db8:99::/64", "via": "2001:db8::1", "metric": 300},
        {"dst": "100.64.0.0/10", "via": "172.31.0.1", "dev": "eth0", "onlink": True},
    ]}
    before = both(routed, "r")
    runs = converge(routed, "r", params)
    assert [r["_status"] for r in runs] == ["ok"] * 4, runs
    assert [r["changed"] for r in runs] == [True, True, False, False]
    assert [a["dst"] for a in runs[0]["added"]] == [
        "203.0.113.64/28", "203.0.113.80/32", "198.51.100.0/24", "2001:db8:64::/64", "2001:db8:99::/64", "100.64.0.0/10"]
    assert runs[0]["added"] == runs[1]["added"] and runs[2]["added"] == [] and runs[2]["replaced"] == []
    assert runs[0]["added"][0] == {"family": "ipv4", "dst": "203.0.113.64/28", "via": None, "dev": "eth1.1234", "table": "main", "metric": 0,
                                   "scope": "link", "protocol": "boot", "type": "unicast", "onlink": False}

    assert table(routed, "r", "-4") == sorted([r for r in before if ":" not in r[0]] + [
        ("100.64.0.0/10", "172.31.0.1", "eth0", "static", 0),
        ("198.51.100.0/24", "192.0.2.1", "eth0", "static", 0),
        ("203.0.113.64/28", None, "eth1.1234", "boot", 0),
        ("203.0.113.80", None, "eth1.1234", "static", 0),
    ])
    six = table(routed, "r", "-6")
    assert ("2001:db8:64::/64", None, "eth1.1234", "static", 1024) in six
    assert ("2001:db8:99::/64", "2001:db8::1", "eth0", "static", 300) in six
    onlink = routed.ip_json("r", "route", "show", "100.64.0.0/10")[0]
    assert "onlink" in onlink["flags"] and onlink.get("scope", "global") == "global"  # ip leaves out scope global

    # The result shows the table after the task, as `ip route` prints it, and the diff the change.
    assert "203.0.113.80/32" in [r["dst"] for r in runs[1]["routes"]]
    assert "203.0.113.80 dev eth1.1234 proto static scope link\n" in runs[1]["diff"]["after"]
    assert "203.0.113.80" not in runs[1]["diff"]["before"]
    assert "100.64.0.0/10 via 172.31.0.1 dev eth0 proto static onlink\n" in runs[1]["diff"]["after"]
    assert runs[2]["diff"]["before"] == runs[2]["diff"]["after"] == runs[1]["diff"]["after"]

    # The kernel uses the route, not only lists it.
    assert routed.run("r", ["ip", "route", "get", "203.0.113.70"]).stdout.startswith("203.0.113.70 dev eth1.1234")

    # Absent, by identity; the others stay.
    absent = [{"dst": "203.0.113.80/32", "state": "absent"}, {"dst": "2001:db8:99::/64", "metric": 300, "state": "absent"}]
    gone = converge(routed, "r", {"routes": absent})
    assert [r["changed"] for r in gone] == [True, True, False, False]
    assert [r["dst"] for r in gone[1]["removed"]] == ["203.0.113.80/32", "2001:db8:99::/64"]
    assert not routed.ip_json("r", "route", "show", "203.0.113.80") and not routed.ip_json("r", "-6", "route", "show", "2001:db8:99::/64")
    assert routed.ip_json("r", "route", "show", "203.0.113.64/28")


def test_default_route_through_a_gateway_and_replaced_when_the_gateway_changes(routed):
    """The client_gateway case: a host's default route points at the router, and is replaced, not added twice."""
    assert routed.ip_json("r", "route", "show", "default") == []
    params = {"routes": [{"dst": "default", "via": "192.0.2.1", "dev": "eth0"}]}
    runs = converge(routed, "r", params)
    assert [r["changed"] for r in runs] == [True, True, False, False]
    assert [(d["dst"], d.get("gateway"), d["dev"]) for d in routed.ip_json("r", "route", "show", "default")] == [("default", "192.0.2.1", "eth0")]
    assert routed.run("r", ["ping", "-c", "1", "-W", "2", "192.0.2.1"], check=False).returncode == 0

    # A default route added by hand (proto boot) through another gateway: replaced in place, never a second default.
    routed.run("r", ["ip", "route", "replace", "default", "via", "192.0.2.99", "dev", "eth0"])
    moved = converge(routed, "r", params)
    assert [r["changed"] for r in moved] == [True, True, False, False]
    assert moved[1]["added"] == [] and moved[1]["removed"] == []
    assert [(r["dst"], r["via"]) for r in moved[1]["replaced"]] == [("default", "192.0.2.1")]
    assert "default via 192.0.2.99 dev eth0\n" in moved[1]["diff"]["before"]
    assert "default via 192.0.2.1 dev eth0 proto static\n" in moved[1]["diff"]["after"]
    assert [(d["dst"], d.get("gateway"), d["protocol"]) for d in routed.ip_json("r", "route", "show", "default")] == [("default", "192.0.2.1", "static")]

    # IPv6 default, same way; a bare `default` with an IPv6 gateway is an IPv6 route.
    six = converge(routed, "r", {"routes": [{"dst": "default", "via": "2001:db8::1", "dev": "eth0"}]})
    assert [r["changed"] for r in six] == [True, True, False, False]
    assert six[1]["added"][0]["family"] == "ipv6" and six[1]["added"][0]["metric"] == 1024
    assert [(d["dst"], d["gateway"]) for d in routed.ip_json("r", "-6", "route", "show", "default")] == [("default", "2001:db8::1")]


def test_purge_stays_within_the_named_interfaces(routed):
    for route in (["203.0.113.64/28", "dev", "eth1.1234"], ["203.0.113.96/28", "dev", "eth1.1234"], ["10.9.0.0/16", "via", "192.0.2.1"],
                  ["default", "via", "10.0.2.254", "metric", "50"], ["-6", "2001:db8:77::/64", "dev", "eth1.1234"]):
        family = [route.pop(0)] if route[0] == "-6" else []
        routed.run("r", ["ip"] + family + ["route", "add"] + route)
    params = {"routes": [{"dst": "203.0.113.64/28", "dev": "eth1.1234", "protocol": "boot"}], "purge": {"interfaces": ["eth1.1234"]}}
    runs = converge(routed, "r", params)
    assert [r["changed"] for r in runs] == [True, True, False, False]
    assert sorted(r["dst"] for r in runs[1]["removed"]) == ["2001:db8:77::/64", "203.0.113.96/28"]
    four = table(routed, "r", "-4")
    assert [r for r in four if r[0] == "203.0.113.96/28"] == []
    # Another interface's route, the kernel's connected routes and the default route (not listed) survive.
    for kept in (("10.9.0.0/16", "192.0.2.1", "eth0", "boot", 0), ("10.0.2.0/24", None, "eth1.1234", "kernel", 0),
                 ("192.0.2.0/24", None, "eth0", "kernel", 0), ("default", "10.0.2.254", "eth1.1234", "boot", 50),
                 ("203.0.113.64/28", None, "eth1.1234", "boot", 0)):
        assert kept in four, (kept, four)
    six = table(routed, "r", "-6")
    assert not [r for r in six if r[0] == "2001:db8:77::/64"]
    assert ("2001:db8:2::/64", None, "eth1.1234", "kernel", 256) in six and ("fe80::/64", None, "eth1.1234", "kernel", 256) in six

    # IPv4 only: an IPv6 route on the interface is out of scope.
    routed.run("r", ["ip", "-6", "route", "add", "2001:db8:78::/64", "dev", "eth1.1234"])
    ipv4 = run_module(routed, "r", MODULE, dict(params, purge={"interfaces": ["eth1.1234"], "families": ["ipv4"]}))
    assert not ipv4["changed"] and routed.ip_json("r", "-6", "route", "show", "2001:db8:78::/64")

    # A listed default route puts the interface's other default routes in scope.
    listed = run_module(routed, "r", MODULE, {"routes": params["routes"] + [{"dst": "default", "via": "10.0.2.254", "dev": "eth1.1234",
                                                                             "metric": 60}],
                                              "purge": {"interfaces": ["eth1.1234"], "families": ["ipv4"]}})
    assert listed["changed"] and [(r["dst"], r["metric"]) for r in listed["removed"]] == [("default", 50)]
    assert [(d["gateway"], d["metric"]) for d in routed.ip_json("r", "route", "show", "default")] == [("10.0.2.254", 60)]


def test_bad_input_is_refused_and_nothing_changed(routed):
    good = {"dst": "203.0.113.64/28", "dev": "eth1.1234"}
    before = both(routed, "r")
    bad = [
        ({"dst": "203.0.113.128/28", "dev": "eth9"}, "routes[1] (203.0.113.128/28): interface eth9 does not exist on this host"),
        ({"dst": "203.0.113.300/28", "dev": "eth0"}, "routes[2] (203.0.113.300/28): dst '203.0.113.300/28' is not an IPv4 or IPv6 prefix"),
        ({"dst": "198.51.100.0/24", "via": "192.0.2.300"}, "routes[3] (198.51.100.0/24): via '192.0.2.300' is not an IPv4 or IPv6 address"),
        ({"dst": "198.51.101.0/24", "via": "2001:db8::1"}, "routes[4] (198.51.101.0/24): the gateway 2001:db8::1 is an ipv6 address"),
        ({"dst": "198.51.100.7/24", "dev": "eth0"}, "routes[5] (198.51.100.7/24): dst 198.51.100.7/24 has host bits set; the prefix is 198.51.100.0/24"),
        ({"dst": "198.51.102.0/24"}, "routes[6] (198.51.102.0/24): a route needs a gateway (via), an interface (dev) or both"),
        ({"dst": "2001:db8:5::/64", "dev": "eth0", "scope": "link"}, "routes[7] (2001:db8:5::/64): IPv6 routes have no scope"),
        (good, "routes[8] (203.0.113.64/28) is the same route (family, table, dst, metric) as routes[0] (203.0.113.64/28)"),
        ({"dst": "203.0.113.144/28", "dev": "eth1.12345678901"},
         "routes[9] (203.0.113.144/28): 'eth1.12345678901' is not a Linux interface name (at most 15 characters"),
        ({"dst": "203.0.113.160/28", "dev": "eth0:1", "state": "absent"}, "routes[10] (203.0.113.160/28): 'eth0:1' is not a Linux interface name"),
    ]
    # Every refusal of the task at once, in check mode and for real, and the good route is not added either.
    for check in (True, False):
        result = run_module(routed, "r", MODULE, {"routes": [good] + [entry for entry, _message in bad]}, check=check)
        assert result["_status"] == "failed", result
        for _entry, message in bad:
            assert message in result["msg"], (message, result["msg"])
    assert both(routed, "r") == before
    bad_purge = run_module(routed, "r", MODULE, {"routes": [good], "purge": {"interfaces": ["eth1.1234", "eth1/1"]}})
    assert bad_purge["_status"] == "failed" and bad_purge["msg"].startswith("purge.interfaces: 'eth1/1' is not a Linux interface name"), bad_purge
    bad_option = run_module(routed, "r", MODULE, {"routes": [dict(good, state="gone")]})
    assert bad_option["_status"] == "failed" and "state" in bad_option["msg"]

    # A gateway the kernel cannot reach is the kernel's refusal: named, and the count of changes made is said.
    unreachable = run_module(routed, "r", MODULE, {"routes": [{"dst": "198.51.100.0/24", "via": "172.31.0.1"}]})
    assert unreachable["_status"] == "failed"
    assert "the kernel refused adding 198.51.100.0/24 via 172.31.0.1" in unreachable["msg"] and "0 of the 1 route changes were made" in unreachable["msg"]
    assert both(routed, "r") == before


def test_the_management_route_is_kept_unless_forced(routed):
    routed.run("r", ["ip", "route", "add", "10.9.0.0/16", "via", "192.0.2.1"])
    ssh = {"SSH_CONNECTION": "10.9.0.5 50022 192.0.2.10 22"}  # the controller sits behind gw
    before = both(routed, "r")
    for params in ({"routes": [{"dst": "10.9.0.0/16", "state": "absent"}]},
                   {"routes": [{"dst": "10.9.0.0/16", "via": "192.0.2.20"}]},
                   {"routes": [], "purge": {"interfaces": ["eth0"]}}):
        for check in (True, False):
            refused = run_module(routed, "r", MODULE, params, check=check, env=ssh)
            assert refused["_status"] == "failed", refused
            assert "the route 10.9.0.0/16 via 192.0.2.1 dev eth0: it carries the current management connection" in refused["msg"]
            assert "force=true" in refused["msg"]
    assert both(routed, "r") == before

    # Routes that do not carry the session are free to change.
    other = run_module(routed, "r", MODULE, {"routes": [{"dst": "10.10.0.0/16", "via": "192.0.2.1"}], "purge": {"interfaces": ["eth1.1234"]}},
                       env=ssh)
    assert other["_status"] == "ok" and other["changed"]
    forced = run_module(routed, "r", MODULE, {"routes": [{"dst": "10.9.0.0/16", "via": "192.0.2.20"}], "force": True}, env=ssh)
    assert forced["changed"] and routed.ip_json("r", "route", "show", "10.9.0.0/16")[0]["gateway"] == "192.0.2.20"
