# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_route without a kernel: validation, the plan (add, replace, remove, purge scope), the management guard, request order
and the `ip route`-style diff lines, on plain dicts."""

from __future__ import annotations

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _route as r
from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt

LINKS = {"eth0": {"index": 2}, "eth1.1234": {"index": 3}, "eth2": {"index": 4}}


def want(**entry):
    return r.validate(entry, "routes[0]", LINKS)


def found(dst, dev=None, via=None, family="ipv4", metric=None, protocol="boot", scope=None, route_type="unicast", table="main", onlink=False):
    """A route as the dump shows it (public shape)."""
    return {"family": family, "dst": dst, "via": via, "dev": dev, "table": table, "metric": r.DEFAULT_METRIC[family] if metric is None else metric,
            "scope": scope or ("link" if dev and not via and family == "ipv4" else "global"), "protocol": protocol, "type": route_type,
            "onlink": onlink}


# --- validation -------------------------------------------------------------------------------------------------------

def test_defaults_follow_the_kernel_so_that_a_rerun_compares_equal():
    link = want(dst="203.0.113.64/28", dev="eth1.1234")
    assert r.public(link) == {"family": "ipv4", "dst": "203.0.113.64/28", "via": None, "dev": "eth1.1234", "table": "main", "metric": 0,
                              "scope": "link", "protocol": "static", "type": "unicast", "onlink": False}
    assert link["_key"] == ("ipv4", 254, "203.0.113.64/28", 0)
    six = want(dst="2001:db8:64::/64", dev="eth1.1234")
    assert (six["metric"], six["scope"]) == (1024, "global")
    assert want(dst="198.51.100.0/24", via="192.0.2.1", dev="eth0")["scope"] == "global"
    assert want(dst="203.0.113.80", dev="eth0")["dst"] == "203.0.113.80/32"
    assert want(dst="2001:db8::80", dev="eth0")["dst"] == "2001:db8::80/128"


@pytest.mark.parametrize(("entry", "family"), [
    ({"dst": "default", "via": "192.0.2.1"}, "ipv4"),
    ({"dst": "default", "via": "2001:db8::1"}, "ipv6"),
    ({"dst": "default", "dev": "eth0"}, "ipv4"),
    ({"dst": "default", "dev": "eth0", "family": "ipv6"}, "ipv6"),
    ({"dst": "::/0", "dev": "eth0"}, "ipv6"),
    ({"dst": "0.0.0.0/0", "via": "192.0.2.1"}, "ipv4"),
])
def test_the_default_route_takes_its_family_from_the_gateway_or_the_family_option(entry, family):
    route = want(**entry)
    assert (route["family"], route["dst"], route["_dst_len"]) == (family, "default", 0)


@pytest.mark.parametrize(("entry", "message"), [
    ({"dst": "203.0.113.65/28", "dev": "eth0"}, "dst 203.0.113.65/28 has host bits set; the prefix is 203.0.113.64/28"),
    ({"dst": "203.0.113.0/33", "dev": "eth0"}, "is not an IPv4 or IPv6 prefix"),
    ({"dst": "198.51.100.0/24", "via": "gateway"}, "via 'gateway' is not an IPv4 or IPv6 address"),
    ({"dst": "198.51.100.0/24", "via": "2001:db8::1"}, "the gateway 2001:db8::1 is an ipv6 address; an ipv4 route needs an ipv4 gateway"),
    ({"dst": "2001:db8::/64", "family": "ipv4", "dev": "eth0"}, "2001:db8::/64 is an ipv6 route, but family ipv4 was given"),
    ({"dst": "198.51.100.0/24", "dev": "eth9"}, "interface eth9 does not exist on this host"),
    ({"dst": "198.51.100.0/24"}, "a route needs a gateway (via), an interface (dev) or both"),
    ({"dst": "198.51.100.0/24", "via": "100.64.0.1", "onlink": True}, "onlink needs both via and dev"),
    ({"dst": "2001:db8::/64", "dev": "eth0", "scope": "link"}, "IPv6 routes have no scope"),
    ({"dst": "198.51.100.0/24", "dev": "eth0", "table": "252"}, "table '252' is not a routing table"),
    ({"dst": "198.51.100.0/24", "dev": "eth0", "table": "mian"}, "table 'mian' is not a routing table"),
    ({"dst": "198.51.100.0/24", "dev": "eth0", "metric": -1}, "metric -1 is out of range"),
    ({"dst": ""}, "dst is required"),
])
def test_bad_routes_are_refused_by_name(entry, message):
    with pytest.raises(r.RouteError, match="^routes\\[0\\]") as refused:
        want(**entry)
    assert message in str(refused.value)


def test_an_absent_route_on_a_missing_interface_is_no_error_and_tables_take_names_or_numbers():
    assert want(dst="198.51.100.0/24", dev="eth9", state="absent")["_state"] == "absent"
    assert want(dst="198.51.100.0/24", dev="eth0", table="100")["table"] == 100
    assert want(dst="198.51.100.0/24", dev="eth0", table="local")["_key"][1] == 255


def test_every_refusal_of_a_task_is_given_at_once_and_a_route_listed_twice_is_one():
    with pytest.raises(r.RouteError) as refused:
        r.desired([{"dst": "10.0.0.0/8", "dev": "eth9"}, {"dst": "10.1.0.0/16", "dev": "eth0"}, {"dst": "10.1.0.0/16", "via": "192.0.2.1"},
                   {"dst": "10.1.0.0/16", "dev": "eth0", "metric": 5}], LINKS)
    text = str(refused.value)
    assert "routes[0] (10.0.0.0/8): interface eth9 does not exist" in text
    assert "routes[2] (10.1.0.0/16) is the same route (family, table, dst, metric) as routes[1] (10.1.0.0/16)" in text
    assert "routes[3]" not in text


# --- the plan ---------------------------------------------------------------------------------------------------------

def test_a_route_already_there_is_left_alone_and_the_device_is_compared_only_when_named():
    current = [found("203.0.113.64/28", dev="eth1.1234", protocol="static"), found("198.51.100.0/24", via="192.0.2.1", dev="eth0", protocol="static")]
    wanted = r.desired([{"dst": "203.0.113.64/28", "dev": "eth1.1234"}, {"dst": "198.51.100.0/24", "via": "192.0.2.1"}], LINKS)
    assert r.plan(current, wanted, None) == {"remove": [], "add": [], "replace": []}


@pytest.mark.parametrize(("current", "entry", "fields"), [
    (found("default", via="192.0.2.99", dev="eth0"), {"dst": "default", "via": "192.0.2.1", "dev": "eth0", "protocol": "boot"}, ["via"]),
    (found("203.0.113.64/28", dev="eth0", protocol="static"), {"dst": "203.0.113.64/28", "dev": "eth1.1234"}, ["dev"]),
    (found("203.0.113.64/28", dev="eth0"), {"dst": "203.0.113.64/28", "dev": "eth0"}, ["protocol"]),
    (found("10.0.0.0/8", via="100.64.0.1", dev="eth0", protocol="static"), {"dst": "10.0.0.0/8", "via": "100.64.0.1", "dev": "eth0", "onlink": True},
     ["onlink"]),
    (found("10.0.0.0/8", dev="eth0", protocol="static", scope="host"), {"dst": "10.0.0.0/8", "dev": "eth0"}, ["scope"]),
    (found("10.0.0.0/8", route_type="blackhole", protocol="static", scope="global"), {"dst": "10.0.0.0/8", "dev": "eth0"}, ["dev", "scope", "type"]),
])
def test_a_route_of_the_same_identity_that_differs_is_replaced(current, entry, fields):
    wanted = r.desired([entry], LINKS)
    assert r.differs(current, wanted[0]) == fields
    steps = r.plan([current], wanted, None)
    assert steps["add"] == [] and steps["remove"] == [] and [new for _old, new in steps["replace"]] == wanted


def test_another_metric_or_table_is_another_route_and_absent_removes_by_identity():
    current = [found("10.0.0.0/8", dev="eth0", protocol="static"), found("10.1.0.0/16", dev="eth0", metric=20)]
    steps = r.plan(current, r.desired([{"dst": "10.0.0.0/8", "dev": "eth0", "metric": 5}, {"dst": "10.0.0.0/8", "dev": "eth0", "table": "100"},
                                       {"dst": "10.1.0.0/16", "state": "absent"}, {"dst": "10.1.0.0/16", "metric": 20, "state": "absent"}], LINKS), None)
    assert [(a["dst"], a["metric"], a["table"]) for a in steps["add"]] == [("10.0.0.0/8", 5, "main"), ("10.0.0.0/8", 0, 100)]
    assert steps["remove"] == [current[1]] and steps["replace"] == []


def purge(current, entries, **scope):
    wanted = r.desired(entries, LINKS)
    return r.plan(current, wanted, r.purge_scope(scope, wanted))


def test_purge_removes_only_within_the_named_interfaces_families_and_table():
    current = [
        found("203.0.113.64/28", dev="eth1.1234", protocol="static"),       # listed
        found("203.0.113.96/28", dev="eth1.1234"),                          # not listed: goes
        found("2001:db8:77::/64", dev="eth1.1234", family="ipv6"),          # not listed: goes
        found("10.9.0.0/16", via="192.0.2.1", dev="eth0"),                  # another interface
        found("10.0.2.0/24", dev="eth1.1234", protocol="kernel"),           # connected
        found("default", via="10.0.2.254", dev="eth1.1234", metric=50),      # default, not listed
        found("10.0.3.0/24", dev="eth1.1234", route_type="blackhole"),      # not unicast
        found("10.0.4.0/24", dev="eth1.1234", table=100),                   # another table
    ]
    entries = [{"dst": "203.0.113.64/28", "dev": "eth1.1234"}]
    assert [x["dst"] for x in purge(current, entries, interfaces=["eth1.1234"])["remove"]] == ["203.0.113.96/28", "2001:db8:77::/64"]
    assert [x["dst"] for x in purge(current, entries, interfaces=["eth1.1234"], families=["ipv4"])["remove"]] == ["203.0.113.96/28"]
    assert [x["dst"] for x in purge(current, entries, interfaces=None)["remove"]] == ["203.0.113.96/28", "2001:db8:77::/64", "10.9.0.0/16"]
    assert purge(current, entries, interfaces=[])["remove"] == []
    assert [x["dst"] for x in purge(current, entries, interfaces=["eth1.1234"], table="100")["remove"]] == ["10.0.4.0/24"]
    # A listed default route puts the other default routes of its family and table in scope.
    listed = entries + [{"dst": "default", "via": "10.0.2.254", "dev": "eth1.1234", "metric": 60}]
    steps = purge(current, listed, interfaces=["eth1.1234"], families=["ipv4"])
    assert [(x["dst"], x["metric"]) for x in steps["remove"]] == [("203.0.113.96/28", 0), ("default", 50)]


def test_a_multipath_route_is_purged_only_when_all_its_next_hops_are_in_scope():
    hops = [{"via": "192.0.2.1", "dev": "eth0", "onlink": False}, {"via": "10.0.2.254", "dev": "eth1.1234", "onlink": False}]
    multipath = dict(found("10.9.0.0/16"), dev=None, nexthops=hops)
    assert purge([multipath], [], interfaces=["eth1.1234"])["remove"] == []
    assert purge([multipath], [], interfaces=["eth1.1234", "eth0"])["remove"] == [multipath]


def test_purge_refuses_an_unknown_family():
    with pytest.raises(r.RouteError, match="purge.families: 'ipx' is not ipv4 or ipv6"):
        r.purge_scope({"families": ["ipx"]}, [])


# --- the management guard ---------------------------------------------------------------------------------------------

def test_the_route_carrying_the_session_is_neither_removed_nor_replaced_unless_forced():
    mgmt = found("10.9.0.0/16", via="192.0.2.1", dev="eth0")
    replace = r.plan([mgmt], r.desired([{"dst": "10.9.0.0/16", "via": "192.0.2.20"}], LINKS), None)
    remove = r.plan([mgmt], r.desired([{"dst": "10.9.0.0/16", "state": "absent"}], LINKS), None)
    for verb, steps in (("replace", replace), ("remove", remove)):
        with pytest.raises(r.RouteError, match=f"refusing to {verb} the route 10.9.0.0/16 via 192.0.2.1 dev eth0: it carries the current management"):
            r.guard(steps, mgmt, force=False)
        r.guard(steps, mgmt, force=True)
        r.guard(steps, None, force=False)  # outside SSH
    other = r.plan([mgmt, found("10.8.0.0/16", dev="eth0")], r.desired([{"dst": "10.8.0.0/16", "state": "absent"}], LINKS), None)
    r.guard(other, mgmt, force=False)


# --- requests and the diff --------------------------------------------------------------------------------------------

def test_removals_go_first_then_link_routes_then_routes_through_a_gateway():
    current = [found("10.9.0.0/16", via="192.0.2.1", dev="eth0"), found("default", via="10.0.2.99", dev="eth1.1234", protocol="static")]
    wanted = r.desired([{"dst": "default", "via": "10.0.2.254"}, {"dst": "10.0.2.0/24", "dev": "eth1.1234"},
                        {"dst": "10.9.0.0/16", "state": "absent"}], LINKS)
    batch = r.requests(r.plan(current, wanted, None), LINKS)
    assert [(kind, verb, route["dst"]) for kind, _flags, _body, route, verb in batch] == [
        (rt.RTM_DELROUTE, "removing", "10.9.0.0/16"), (rt.RTM_NEWROUTE, "adding", "10.0.2.0/24"), (rt.RTM_NEWROUTE, "replacing with", "default")]
    assert batch[1][1] == rt.NLM_F_CREATE | rt.NLM_F_REPLACE


def test_lines_read_as_ip_route_prints_them():
    assert r.route_line(found("203.0.113.80/32", dev="eth1.1234")) == "203.0.113.80 dev eth1.1234 scope link"
    assert r.route_line(found("default", via="192.0.2.1", dev="eth0", protocol="static", metric=50)) == "default via 192.0.2.1 dev eth0 proto static metric 50"
    assert r.route_line(found("2001:db8::/64", dev="eth0", family="ipv6", protocol="kernel", metric=256)) == "2001:db8::/64 dev eth0 proto kernel metric 256"
    assert r.route_line(found("10.0.0.0/8", via="100.64.0.1", dev="eth0", table=100, onlink=True)) == "10.0.0.0/8 via 100.64.0.1 dev eth0 table 100 onlink"
    assert r.route_line(found("10.0.3.0/24", route_type="blackhole", scope="global")) == "blackhole 10.0.3.0/24"


def test_check_mode_predicts_the_table_and_the_result_diffs_it():
    before = [found("default", via="192.0.2.99", dev="eth0"), found("10.0.2.0/24", dev="eth1.1234", protocol="kernel")]
    wanted = r.desired([{"dst": "default", "via": "192.0.2.1", "dev": "eth0"}, {"dst": "203.0.113.64/28", "dev": "eth1.1234"}], LINKS)
    steps = r.plan(before, wanted, None)
    out = r.result(steps, before, r.predicted(before, steps), changed=True)
    assert out["diff"]["before"] == "default via 192.0.2.99 dev eth0\n10.0.2.0/24 dev eth1.1234 proto kernel scope link\n"
    assert out["diff"]["after"] == ("default via 192.0.2.1 dev eth0 proto static\n10.0.2.0/24 dev eth1.1234 proto kernel scope link\n"
                                    "203.0.113.64/28 dev eth1.1234 proto static scope link\n")
    assert [x["dst"] for x in out["added"]] == ["203.0.113.64/28"] and [x["via"] for x in out["replaced"]] == ["192.0.2.1"]
    assert all(not k.startswith("_") for x in out["routes"] + out["added"] for k in x)
