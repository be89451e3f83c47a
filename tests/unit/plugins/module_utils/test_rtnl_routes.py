# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_rtnl's routes section against pyroute2: pyroute2 decodes the route requests we build and encodes the route messages
we parse; the dump and the fib-match lookup run over test_rtnl's fake socket (no root, no network)."""

from __future__ import annotations

import socket
import struct

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from pyroute2.netlink.rtnl.rtmsg import rtmsg
from test_rtnl import decoded, encoded, messages, rtnl

NLM_F_MULTI = 0x2


def attrs(msg) -> dict:
    return dict(msg["attrs"])


# --- requests we build, decoded by pyroute2 ---------------------------------------------------------------------------

def test_an_ipv4_link_route_decodes_field_by_field():
    body = rt.route_request(socket.AF_INET, "203.0.113.64", 28, 254, 0, oif=7, scope=253, protocol=3)
    msg = decoded(rtmsg, rt.RTM_NEWROUTE, rt.NLM_F_CREATE | rt.NLM_F_REPLACE, body)
    assert (msg["family"], msg["dst_len"], msg["table"], msg["proto"], msg["scope"], msg["type"], msg["flags"]) == (
        socket.AF_INET, 28, 254, 3, 253, 1, 0)
    assert attrs(msg) == {"RTA_DST": "203.0.113.64", "RTA_OIF": 7, "RTA_PRIORITY": 0, "RTA_TABLE": 254}


def test_an_ipv6_route_via_a_gateway_with_metric_and_a_big_table():
    body = rt.route_request(socket.AF_INET6, "2001:db8:99::", 64, 1000, 300, via="2001:db8::1")
    msg = decoded(rtmsg, rt.RTM_NEWROUTE, 0, body)
    assert (msg["family"], msg["dst_len"], msg["table"], msg["proto"], msg["scope"]) == (socket.AF_INET6, 64, rt.RT_TABLE_COMPAT, 4, 0)
    assert attrs(msg) == {"RTA_DST": "2001:db8:99::", "RTA_GATEWAY": "2001:db8::1", "RTA_PRIORITY": 300, "RTA_TABLE": 1000}


def test_a_default_route_has_no_destination_and_onlink_sets_the_flag():
    body = rt.route_request(socket.AF_INET, None, 0, 254, 0, via="100.64.0.1", oif=2, onlink=True)
    msg = decoded(rtmsg, rt.RTM_NEWROUTE, 0, body)
    assert msg["dst_len"] == 0 and "RTA_DST" not in attrs(msg)
    assert msg["flags"] == rt.RTNH_F_ONLINK and attrs(msg)["RTA_GATEWAY"] == "100.64.0.1"


def test_a_deletion_matches_any_scope_protocol_and_type_and_names_the_route_it_removes():
    body = rt.route_request(socket.AF_INET, "10.9.0.0", 16, 254, 0, via="192.0.2.1", oif=2, scope=rt.RT_SCOPE_NOWHERE, protocol=0, route_type=0)
    msg = decoded(rtmsg, rt.RTM_DELROUTE, 0, body)
    assert (msg["scope"], msg["proto"], msg["type"]) == (255, 0, 0)
    assert attrs(msg) == {"RTA_DST": "10.9.0.0", "RTA_GATEWAY": "192.0.2.1", "RTA_OIF": 2, "RTA_PRIORITY": 0, "RTA_TABLE": 254}


# --- messages pyroute2 encodes, parsed by us --------------------------------------------------------------------------

def route_message(seq: int = 1, multi: bool = False, **fields) -> bytes:
    """fields: rtmsg's (flags is rtm_flags); multi marks a part of a dump."""
    fields = {"family": socket.AF_INET, "dst_len": 0, "table": 254, "proto": 4, "scope": 0, "type": 1, **fields}
    rtm_flags = fields.pop("flags", 0)  # encoded()'s flags are the netlink header's
    data = bytearray(encoded(rtmsg, rt.RTM_NEWROUTE, seq=seq, flags=NLM_F_MULTI if multi else 0, **fields))
    struct.pack_into("=I", data, rt.NLMSGHDR.size + 8, rtm_flags)
    return bytes(data)


def parsed(**fields) -> dict:
    return rt.parse_route(route_message(**fields)[rt.NLMSGHDR.size:])


@pytest.mark.parametrize(("fields", "expected"), [
    ({"dst_len": 28, "proto": 3, "scope": 253, "attrs": [("RTA_TABLE", 254), ("RTA_DST", "203.0.113.64"), ("RTA_OIF", 7)]},
     {"family": "ipv4", "dst": "203.0.113.64/28", "via": None, "oif": 7, "table": "main", "metric": 0, "scope": "link", "protocol": "boot",
      "type": "unicast", "onlink": False, "cloned": False}),
    ({"flags": rt.RTNH_F_ONLINK, "attrs": [("RTA_GATEWAY", "100.64.0.1"), ("RTA_OIF", 2), ("RTA_PRIORITY", 50)]},
     {"family": "ipv4", "dst": "default", "via": "100.64.0.1", "oif": 2, "table": "main", "metric": 50, "scope": "global", "protocol": "static",
      "type": "unicast", "onlink": True, "cloned": False}),
    ({"family": socket.AF_INET6, "dst_len": 64, "table": 252, "proto": 9,
      "attrs": [("RTA_TABLE", 1000), ("RTA_DST", "2001:db8:99::"), ("RTA_GATEWAY", "fe80::1"), ("RTA_OIF", 3), ("RTA_PRIORITY", 1024)]},
     {"family": "ipv6", "dst": "2001:db8:99::/64", "via": "fe80::1", "oif": 3, "table": 1000, "metric": 1024, "scope": "global", "protocol": "ra",
      "type": "unicast", "onlink": False, "cloned": False}),
    ({"dst_len": 32, "table": 255, "proto": 2, "scope": 254, "type": 2, "attrs": [("RTA_TABLE", 255), ("RTA_DST", "192.0.2.10"), ("RTA_OIF", 2)]},
     {"family": "ipv4", "dst": "192.0.2.10/32", "via": None, "oif": 2, "table": "local", "metric": 0, "scope": "host", "protocol": "kernel",
      "type": "local", "onlink": False, "cloned": False}),
    ({"dst_len": 24, "proto": 77, "type": 6, "flags": rt.RTM_F_CLONED, "attrs": [("RTA_DST", "198.51.100.0")]},
     {"family": "ipv4", "dst": "198.51.100.0/24", "via": None, "oif": None, "table": "main", "metric": 0, "scope": "global", "protocol": 77,
      "type": "blackhole", "onlink": False, "cloned": True}),
])
def test_our_route_decoding_agrees_with_pyroute2(fields, expected):
    assert parsed(**fields) == expected


def test_a_multipath_route_lists_its_next_hops():
    route = parsed(dst_len=16, attrs=[("RTA_DST", "10.9.0.0"), ("RTA_MULTIPATH", [
        {"oif": 2, "hops": 0, "flags": 0, "attrs": [("RTA_GATEWAY", "192.0.2.1")]},
        {"oif": 3, "hops": 0, "flags": rt.RTNH_F_ONLINK, "attrs": [("RTA_GATEWAY", "10.0.2.254")]},
    ])])
    assert route["via"] is None and route["oif"] is None
    assert route["nexthops"] == [{"via": "192.0.2.1", "oif": 2, "onlink": False}, {"via": "10.0.2.254", "oif": 3, "onlink": True}]


def test_names_and_numbers_of_tables_scopes_and_protocols():
    assert rt.number_of(rt.ROUTE_TABLES, "main") == 254 and rt.number_of(rt.ROUTE_TABLES, "100") == 100
    assert rt.number_of(rt.ROUTE_PROTOCOLS, "boot") == 3 and rt.number_of(rt.ROUTE_SCOPES, "link") == 253
    with pytest.raises(ValueError):
        rt.number_of(rt.ROUTE_TABLES, "mian")


# --- the dump and the fib match over a fake socket --------------------------------------------------------------------

def done(seq: int) -> bytes:
    return rt.NLMSGHDR.pack(rt.NLMSGHDR.size + 4, rt.NLMSG_DONE, NLM_F_MULTI, seq, 0) + b"\0" * 4


def test_a_route_dump_asks_for_one_family_and_leaves_out_cloned_entries():
    asked = []

    def kernel(msg_type, flags, seq, request):
        asked.append(decoded(rtmsg, msg_type, flags, request[rt.NLMSGHDR.size:]))
        return [route_message(seq, True, family=socket.AF_INET6, dst_len=64, attrs=[("RTA_DST", "2001:db8::"), ("RTA_OIF", 2)]),
                route_message(seq, True, family=socket.AF_INET6, dst_len=128, flags=rt.RTM_F_CLONED,
                              attrs=[("RTA_DST", "2001:db8::5"), ("RTA_GATEWAY", "fe80::1")]),
                done(seq)]

    routes = rtnl(kernel).routes(socket.AF_INET6)
    assert asked[0]["header"]["type"] == rt.RTM_GETROUTE and asked[0]["header"]["flags"] & rt.NLM_F_DUMP == rt.NLM_F_DUMP
    assert asked[0]["family"] == socket.AF_INET6
    assert [r["dst"] for r in routes] == ["2001:db8::/64"]


def test_the_fib_match_returns_the_routing_entry_itself_or_none():
    sent = []

    def kernel(msg_type, flags, seq, request):
        sent.append(decoded(rtmsg, msg_type, flags, request[rt.NLMSGHDR.size:]))
        return [route_message(seq, dst_len=16, attrs=[("RTA_DST", "10.9.0.0"), ("RTA_GATEWAY", "192.0.2.1"), ("RTA_OIF", 2)])]

    assert rtnl(kernel).route_match("10.9.0.5")["dst"] == "10.9.0.0/16"
    assert sent[0]["flags"] & rt.RTM_F_FIB_MATCH and sent[0]["dst_len"] == 32 and attrs(sent[0])["RTA_DST"] == "10.9.0.5"
    unreachable = rtnl(lambda t, f, s, m: [rt.NLMSGHDR.pack(36, rt.NLMSG_ERROR, 0, s, 0) + b"\x9b\xff\xff\xff" + m[:16]])
    assert unreachable.route_match("2001:db8::9") is None


def test_route_requests_go_out_in_one_batch():
    sent = []

    def kernel(msg_type, flags, seq, request):
        sent.append(msg_type)
        return [rt.NLMSGHDR.pack(36, rt.NLMSG_ERROR, 0, seq, 0) + b"\0" * 4 + request[:16]]

    nl = rtnl(kernel)
    delete = (rt.RTM_DELROUTE, 0, rt.route_request(socket.AF_INET, "10.9.0.0", 16, 254, 0, scope=255, protocol=0, route_type=0))
    add = (rt.RTM_NEWROUTE, rt.NLM_F_CREATE | rt.NLM_F_REPLACE, rt.route_request(socket.AF_INET, "10.8.0.0", 16, 254, 0, oif=2, scope=253))
    assert nl.batch([delete, add]) == [None, None]
    assert sent == [rt.RTM_DELROUTE, rt.RTM_NEWROUTE] and len(nl.sock.sent) == 1
    assert [m[0] for m in messages(nl.sock.sent[0])] == sent
