# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_rtnl against an independent codec: pyroute2 decodes the requests we build, and encodes the kernel messages we decode.

The socket is a fake fed with pyroute2-encoded bytes, so batches, dumps, extended acknowledgements and route_get are
checked without root and without touching the host's network.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words
from ansible_collections.layer2.linux.plugins.module_utils._ip_address import requests as address_requests
from pyroute2.netlink import nlmsgerr
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

ACK_FLAGS = rt.NLM_F_REQUEST | rt.NLM_F_ACK


# --- helpers: pyroute2 on both sides of the fake socket --------------------------------------------------------------

def framed(msg_type: int, flags: int, body: bytes, seq: int = 1) -> bytes:
    return rt.NLMSGHDR.pack(rt.NLMSGHDR.size + len(body), msg_type, flags, seq, 0) + body


def decoded(msg_class, msg_type: int, flags: int, body: bytes):
    msg = msg_class(framed(msg_type, flags, body))
    msg.decode()
    return msg


def encoded(msg_class, msg_type: int, seq: int = 1, flags: int = 0, **fields) -> bytes:
    msg = msg_class()
    msg["header"] = {"type": msg_type, "flags": flags, "sequence_number": seq, "pid": 0}
    attrs = fields.pop("attrs", [])
    for key, value in fields.items():
        msg[key] = value
    msg["attrs"] = attrs
    msg.encode()
    return bytes(msg.data)


def tlvs(text: str) -> bytes:
    """Extended-ack attributes as pyroute2 encodes them (NLMSGERR_ATTR_MSG, NUL-terminated, padded)."""
    return encoded(nlmsgerr, rt.NLMSG_ERROR, error=0, attrs=[("NLMSGERR_ATTR_MSG", text)])[20:]


def error_message(seq: int, code: int, request: bytes, capped: bool = True, text: str | None = None) -> bytes:
    """NLMSG_ERROR as the kernel sends it: errno, the request (its header only when capped), then the ack TLVs."""
    flags = (rt.NLM_F_CAPPED if capped else 0) | (rt.NLM_F_ACK_TLVS if text is not None else 0)
    head = encoded(nlmsgerr, rt.NLMSG_ERROR, seq=seq, flags=flags, error=-code)[:20]
    echoed = request[:rt.NLMSGHDR.size] if capped else request + b"\0" * (-len(request) % 4)
    data = head + echoed + (tlvs(text) if text is not None else b"")
    return struct.pack("=I", len(data)) + data[4:]


def messages(data: bytes):
    offset = 0
    while offset < len(data):
        length, msg_type, flags, seq, _pid = rt.NLMSGHDR.unpack_from(data, offset)
        yield msg_type, flags, seq, data[offset:offset + length]
        offset += (length + 3) & ~3


class FakeKernel:
    """Stands in for the netlink socket: answer(msg_type, flags, seq, request) gives the reply chunks of each request."""

    def __init__(self, answer):
        self.answer, self.sent, self.chunks = answer, [], []

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        replies = b"".join(b"".join(self.answer(t, f, s, m)) for t, f, s, m in messages(data))
        self.chunks.append(replies)
        return len(data)

    def recv(self, _size: int) -> bytes:
        return self.chunks.pop(0)

    def close(self):
        pass


def rtnl(answer) -> rt.Rtnl:
    nl = rt.Rtnl.__new__(rt.Rtnl)
    nl.sock, nl.seq = FakeKernel(answer), 0
    return nl


# --- requests we build, decoded by pyroute2 ---------------------------------------------------------------------------

def test_a_vlan_link_create_request_decodes_field_by_field():
    attrs = (rt.attr(rt.IFLA_IFNAME, b"eth1.20\0") + rt.u32(rt.IFLA_LINK, 3) + rt.u32(rt.IFLA_MTU, 1496)
             + rt.vlan_info(20, 0x88A8, (0x1, 0x5), {5: 5, 1: 2}, {0: 5}))
    msg = decoded(ifinfmsg, rt.RTM_NEWLINK, rt.NLM_F_CREATE | rt.NLM_F_EXCL | ACK_FLAGS, rt.link_request(up=True, attrs=attrs))
    assert (msg["family"], msg["ifi_type"], msg["index"], msg["flags"], msg["change"]) == (0, 0, 0, rt.IFF_UP, rt.IFF_UP)
    assert msg.get_attr("IFLA_IFNAME") == "eth1.20"
    assert (msg.get_attr("IFLA_LINK"), msg.get_attr("IFLA_MTU")) == (3, 1496)
    assert msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") == "vlan"
    data = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
    assert data.get_attr("IFLA_VLAN_ID") == 20
    assert data.get_attr("IFLA_VLAN_PROTOCOL") == 0x88A8
    assert dict(data.get_attr("IFLA_VLAN_FLAGS")) == {"flags": 0x1, "mask": 0x5}
    assert [(m["from"], m["to"]) for m in data.get_attr("IFLA_VLAN_INGRESS_QOS").get_attrs("IFLA_VLAN_QOS_MAPPING")] == [(1, 2), (5, 5)]
    assert [(m["from"], m["to"]) for m in data.get_attr("IFLA_VLAN_EGRESS_QOS").get_attrs("IFLA_VLAN_QOS_MAPPING")] == [(0, 5)]
    order = ["IFLA_VLAN_ID", "IFLA_VLAN_PROTOCOL", "IFLA_VLAN_FLAGS", "IFLA_VLAN_INGRESS_QOS", "IFLA_VLAN_EGRESS_QOS"]
    assert [name for name, _value in data["attrs"]] == order


def test_a_link_change_sets_only_what_is_given():
    down = decoded(ifinfmsg, rt.RTM_NEWLINK, ACK_FLAGS, rt.link_request(7, up=False, attrs=rt.vlan_info(flags=(0, 0x2))))
    assert (down["index"], down["flags"], down["change"]) == (7, 0, rt.IFF_UP)
    data = down.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
    assert [name for name, _value in data["attrs"]] == ["IFLA_VLAN_FLAGS"]
    untouched = decoded(ifinfmsg, rt.RTM_NEWLINK, ACK_FLAGS, rt.link_request(7, attrs=rt.u32(rt.IFLA_GROUP, 99)))
    assert (untouched["flags"], untouched["change"], untouched.get_attr("IFLA_GROUP")) == (0, 0, 99)


@pytest.mark.parametrize("cidr,broadcast", [
    ("192.0.2.10/24", "192.0.2.255"),
    ("198.51.100.7/25", "198.51.100.127"),
    ("203.0.113.4/30", "203.0.113.7"),
    ("203.0.113.4/31", None),  # point-to-point: no broadcast (RFC 3021)
    ("203.0.113.4/32", None),
])
def test_an_ipv4_address_add_carries_the_broadcast_below_31(cidr, broadcast):
    iface = ipaddress.ip_interface(cidr)
    msg_type, flags, body = rt.address_change(rt.RTM_NEWADDR, 4, iface, nodad=True)
    assert (msg_type, flags) == (rt.RTM_NEWADDR, rt.NLM_F_CREATE | rt.NLM_F_EXCL)
    msg = decoded(ifaddrmsg, msg_type, flags | ACK_FLAGS, body)
    assert (msg["family"], msg["prefixlen"], msg["scope"], msg["index"]) == (socket.AF_INET, iface.network.prefixlen, 0, 4)
    assert msg["flags"] == 0, "nodad has no meaning for IPv4 and is not sent"
    assert (msg.get_attr("IFA_LOCAL"), msg.get_attr("IFA_ADDRESS")) == (str(iface.ip), str(iface.ip))
    assert msg.get_attr("IFA_BROADCAST") == broadcast
    assert [name for name, _value in msg["attrs"]] == ["IFA_LOCAL", "IFA_ADDRESS"] + (["IFA_BROADCAST"] if broadcast else [])


@pytest.mark.parametrize("nodad,flags", [(False, 0), (True, rt.IFA_F_NODAD)])
def test_an_ipv6_address_add_sets_nodad_when_asked(nodad, flags):
    msg_type, request_flags, body = rt.address_change(rt.RTM_NEWADDR, 9, ipaddress.ip_interface("2001:db8::10/64"), nodad=nodad)
    msg = decoded(ifaddrmsg, msg_type, request_flags, body)
    assert (msg["family"], msg["prefixlen"], msg["index"], msg["flags"]) == (socket.AF_INET6, 64, 9, flags)
    assert msg.get_attr("IFA_ADDRESS") == "2001:db8::10" and msg.get_attr("IFA_BROADCAST") is None


@pytest.mark.parametrize("cidr", ["192.0.2.10/24", "2001:db8::10/64"])
def test_an_address_delete_names_the_address_and_nothing_else(cidr):
    iface = ipaddress.ip_interface(cidr)
    msg_type, flags, body = rt.address_change(rt.RTM_DELADDR, 5, iface, nodad=True)
    assert (msg_type, flags) == (rt.RTM_DELADDR, 0)
    msg = decoded(ifaddrmsg, msg_type, ACK_FLAGS, body)
    assert (msg["prefixlen"], msg["index"], msg["flags"]) == (iface.network.prefixlen, 5, 0)
    assert [tuple(a) for a in msg["attrs"]] == [("IFA_LOCAL", str(iface.ip)), ("IFA_ADDRESS", str(iface.ip))]


def test_ip_address_sends_removals_before_additions():
    remove = [ipaddress.ip_interface("192.0.2.10/24")]
    add = [ipaddress.ip_interface("192.0.2.10/25"), ipaddress.ip_interface("2001:db8::5/64")]
    sent = address_requests(3, remove, add, nodad=True)
    assert [t for t, _f, _b in sent] == [rt.RTM_DELADDR, rt.RTM_NEWADDR, rt.RTM_NEWADDR]
    assert [decoded(ifaddrmsg, t, f, b)["flags"] for t, f, b in sent] == [0, 0, rt.IFA_F_NODAD]


@pytest.mark.parametrize("destination,family,bits", [("192.0.2.1", socket.AF_INET, 32), ("2001:db8::1", socket.AF_INET6, 128)])
def test_route_get_asks_for_one_destination(destination, family, bits):
    nl = rtnl(lambda t, f, s, m: [error_message(s, errno.ENETUNREACH, m)])
    assert nl.route_get(destination) is None
    (request,) = nl.sock.sent
    msg = rtmsg(request)
    msg.decode()
    assert (msg["header"]["type"], msg["header"]["flags"]) == (rt.RTM_GETROUTE, rt.NLM_F_REQUEST)
    assert (msg["family"], msg["dst_len"], msg["src_len"], msg["table"], msg["flags"]) == (family, bits, 0, 0, 0)
    assert [tuple(a) for a in msg["attrs"]] == [("RTA_DST", destination)]


# --- kernel messages pyroute2 encodes, decoded by us ------------------------------------------------------------------

VLAN_LINK = dict(
    family=0, ifi_type=1, index=12, flags=0x1043, change=0,
    attrs=[
        ("IFLA_IFNAME", "eth1.20"), ("IFLA_ADDRESS", "02:00:5e:00:00:0a"), ("IFLA_MTU", 1496), ("IFLA_LINK", 3), ("IFLA_OPERSTATE", "UP"),
        ("IFLA_GROUP", 7),
        ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "vlan"), ("IFLA_INFO_DATA", {"attrs": [
            ("IFLA_VLAN_ID", 20), ("IFLA_VLAN_PROTOCOL", 0x88A8), ("IFLA_VLAN_FLAGS", {"flags": 5, "mask": 0xFFFFFFFF}),
            ("IFLA_VLAN_EGRESS_QOS", {"attrs": [("IFLA_VLAN_QOS_MAPPING", {"from": 0, "to": 5}), ("IFLA_VLAN_QOS_MAPPING", {"from": 6, "to": 0})]}),
            ("IFLA_VLAN_INGRESS_QOS", {"attrs": [("IFLA_VLAN_QOS_MAPPING", {"from": 5, "to": 5})]}),
        ]})]}),
        ("IFLA_STATS64", {name: n for n, name in enumerate(rt.STATS, 1)}),
    ],
)
PLAIN_LINK = dict(family=0, ifi_type=1, index=2, flags=0x1002, change=0,
                  attrs=[("IFLA_IFNAME", "eth1"), ("IFLA_ADDRESS", "02:00:5e:00:00:01"), ("IFLA_MTU", 9000), ("IFLA_OPERSTATE", "DOWN"),
                         ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "veth")]})])
LOOPBACK = dict(family=0, ifi_type=772, index=1, flags=0x49, change=0,
                attrs=[("IFLA_IFNAME", "lo"), ("IFLA_ADDRESS", "00:00:00:00:00:00"), ("IFLA_MTU", 65536), ("IFLA_OPERSTATE", "UNKNOWN")])


@pytest.mark.parametrize("fields", [VLAN_LINK, PLAIN_LINK, LOOPBACK], ids=["vlan", "veth", "loopback"])
def test_our_link_decoding_agrees_with_pyroute2(fields):
    data = encoded(ifinfmsg, rt.RTM_NEWLINK, **fields)
    ours = rt.parse_link(data[rt.NLMSGHDR.size:])
    theirs = ifinfmsg(data)
    theirs.decode()
    assert ours["index"] == theirs["index"] and ours["link_type"] == theirs["ifi_type"]
    assert ours["up"] == bool(theirs["flags"] & 1)
    assert ours["name"] == theirs.get_attr("IFLA_IFNAME")
    assert ours["mac"] == theirs.get_attr("IFLA_ADDRESS")
    assert ours["mtu"] == theirs.get_attr("IFLA_MTU")
    assert ours["operstate"] == theirs.get_attr("IFLA_OPERSTATE")
    assert ours["link"] == theirs.get_attr("IFLA_LINK")
    assert ours["group"] == (theirs.get_attr("IFLA_GROUP") or 0)
    assert ours["kind"] == theirs.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")
    stats = theirs.get_attr("IFLA_STATS64")
    assert ours["stats"] == ({name: stats[name] for name in rt.STATS} if stats else {})
    if ours["kind"] == "vlan":
        data = theirs.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
        assert ours["vlan_id"] == data.get_attr("IFLA_VLAN_ID")
        assert ours["protocol"] == {0x8100: "802.1Q", 0x88A8: "802.1ad"}[data.get_attr("IFLA_VLAN_PROTOCOL")]
        assert ours["vlan_flags"] == data.get_attr("IFLA_VLAN_FLAGS")["flags"]
        for ours_key, attr_name in (("ingress_qos_map", "IFLA_VLAN_INGRESS_QOS"), ("egress_qos_map", "IFLA_VLAN_EGRESS_QOS")):
            mapping = {m["from"]: m["to"] for m in data.get_attr(attr_name).get_attrs("IFLA_VLAN_QOS_MAPPING")}
            assert ours[ours_key] == {k: v for k, v in mapping.items() if v}, "a zero target is how the kernel lists a forgotten entry"
    else:
        assert "vlan_id" not in ours


@pytest.mark.parametrize("fields,cidr", [
    (dict(family=socket.AF_INET, prefixlen=24, flags=0x80, scope=0, index=3,
          attrs=[("IFA_ADDRESS", "192.0.2.10"), ("IFA_LOCAL", "192.0.2.10"), ("IFA_BROADCAST", "192.0.2.255"), ("IFA_LABEL", "eth0")]),
     "192.0.2.10/24"),
    # point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL the address itself
    (dict(family=socket.AF_INET, prefixlen=32, flags=0x80, scope=0, index=4, attrs=[("IFA_ADDRESS", "10.0.0.2"), ("IFA_LOCAL", "10.0.0.1")]),
     "10.0.0.1/32"),
    (dict(family=socket.AF_INET6, prefixlen=64, flags=0x80 | rt.IFA_F_NODAD, scope=0, index=3,
          attrs=[("IFA_ADDRESS", "2001:db8::a"), ("IFA_FLAGS", 0x80 | rt.IFA_F_NODAD)]),
     "2001:db8::a/64"),
    (dict(family=socket.AF_INET6, prefixlen=64, flags=0xC0, scope=253, index=3, attrs=[("IFA_ADDRESS", "fe80::1"), ("IFA_FLAGS", 0x2C0)]),
     "fe80::1/64"),
], ids=["ipv4", "ipv4-peer", "ipv6-nodad", "ipv6-tentative-managetempaddr"])
def test_our_address_decoding_agrees_with_pyroute2(fields, cidr):
    data = encoded(ifaddrmsg, rt.RTM_NEWADDR, **fields)
    ours = rt.parse_addr(data[rt.NLMSGHDR.size:])
    theirs = ifaddrmsg(data)
    theirs.decode()
    address = theirs.get_attr("IFA_LOCAL") or theirs.get_attr("IFA_ADDRESS")
    assert ours["cidr"] == f"{address}/{theirs['prefixlen']}" == cidr
    assert ours["index"] == theirs["index"]
    assert ours["family"] == {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}[theirs["family"]]
    assert ours["flags"] == (theirs.get_attr("IFA_FLAGS") if theirs.get_attr("IFA_FLAGS") is not None else theirs["flags"])


# --- extended acknowledgements ----------------------------------------------------------------------------------------

REQUEST = framed(rt.RTM_NEWADDR, ACK_FLAGS, rt.address_change(rt.RTM_NEWADDR, 3, ipaddress.ip_interface("2001:db8::1/64"))[2], seq=8)


@pytest.mark.parametrize("capped", [True, False], ids=["capped", "whole-request-echoed"])
def test_an_extended_ack_gives_the_kernels_words(capped):
    message = error_message(8, errno.EACCES, REQUEST, capped=capped, text="IPv6 is disabled on this device")
    _type, flags, _seq, whole = next(messages(message))
    error = rt._error(flags, whole[rt.NLMSGHDR.size:])
    assert (error.code, error.text) == (errno.EACCES, "IPv6 is disabled on this device")
    assert str(error) == "IPv6 is disabled on this device (EACCES)"


def test_an_error_without_ack_attributes_falls_back_to_strerror():
    for capped in (True, False):
        message = error_message(8, errno.EEXIST, REQUEST, capped=capped)
        _type, flags, _seq, whole = next(messages(message))
        error = rt._error(flags, whole[rt.NLMSGHDR.size:])
        assert (error.code, error.text, str(error)) == (errno.EEXIST, "", "File exists (EEXIST)")


# --- batches, single requests and dumps through a fake socket ---------------------------------------------------------

def test_a_batch_reports_each_request_in_order_and_a_refusal_does_not_stop_the_rest():
    cidrs = [ipaddress.ip_interface(f"10.0.{n // 256}.{n % 256}/16") for n in range(300)]
    refused = {"10.0.0.6", "10.0.1.42"}

    def kernel(msg_type, flags, seq, request):
        assert flags & rt.NLM_F_ACK and msg_type == rt.RTM_NEWADDR
        msg = ifaddrmsg(request)
        msg.decode()
        if msg.get_attr("IFA_LOCAL") in refused:
            return [error_message(seq, errno.EEXIST, request, text="address already assigned")]
        return [error_message(seq, 0, request)]

    nl = rtnl(kernel)
    results = nl.batch(rt.address_change(rt.RTM_NEWADDR, 3, c) for c in cidrs)
    assert len(nl.sock.sent) == 2, "300 requests go in two sendmsg() calls (at most 256 each)"
    assert [i for i, r in enumerate(results) if r is not None] == [6, 298]
    assert all(r.code == errno.EEXIST and r.text == "address already assigned" for r in results if r is not None)
    words = rt.refusals(results, [f"adding {c}" for c in cidrs])
    assert words == ("the kernel refused adding 10.0.0.6/16: address already assigned (EEXIST); "
                     "adding 10.0.1.42/16: address already assigned (EEXIST)")
    assert rt.refusals([None, None], ["a", "b"]) == ""
    many = rt.refusals([rt.RtnlError(errno.EPERM)] * 5, [f"r{i}" for i in range(5)])
    assert many.endswith("(and 2 more)") and many.count("EPERM") == 3


def test_acknowledgements_of_other_requests_and_notifications_are_skipped():
    def kernel(msg_type, flags, seq, request):
        noise = encoded(ifaddrmsg, rt.RTM_NEWADDR, seq=0, family=socket.AF_INET, prefixlen=8, index=1, attrs=[("IFA_LOCAL", "127.0.0.1")])
        return [noise, error_message(seq + 1000, errno.EPERM, request), error_message(seq, 0, request)]

    nl = rtnl(kernel)
    assert nl.batch([rt.address_change(rt.RTM_DELADDR, 3, ipaddress.ip_interface("192.0.2.1/24"))]) == [None]


def test_route_get_reads_the_output_interface_and_source():
    def kernel(msg_type, flags, seq, request):
        return [encoded(rtmsg, rt.RTM_NEWROUTE, seq=seq, family=socket.AF_INET, dst_len=32, table=254, proto=0, scope=0, type=1,
                        attrs=[("RTA_TABLE", 254), ("RTA_DST", "192.0.2.1"), ("RTA_OIF", 4), ("RTA_PREFSRC", "192.0.2.10")])]

    assert rtnl(kernel).route_get("192.0.2.1") == {"oif": 4, "prefsrc": "192.0.2.10"}
    blackhole = rtnl(lambda t, f, s, m: [encoded(rtmsg, rt.RTM_NEWROUTE, seq=s, family=socket.AF_INET6, dst_len=128, type=6,
                                                 attrs=[("RTA_DST", "2001:db8::1")])])
    assert blackhole.route_get("2001:db8::1") == {"oif": None, "prefsrc": None}


def test_a_link_is_read_by_name_and_a_missing_one_is_none():
    def kernel(msg_type, flags, seq, request):
        msg = ifinfmsg(request)
        msg.decode()
        name = msg.get_attr("IFLA_IFNAME")
        if name == "eth1.20":
            return [encoded(ifinfmsg, rt.RTM_NEWLINK, seq=seq, **VLAN_LINK)]
        code = errno.ENODEV if name == "eth9" else errno.EPERM
        return [error_message(seq, code, request, text="no such device" if code == errno.ENODEV else None)]

    nl = rtnl(kernel)
    assert nl.link("eth1.20")["vlan_id"] == 20
    assert nl.link("eth9") is None
    unasked = ("a-very-long-name", "", "eth0:1", "eth/1", "eth 1", "..")  # what _iface.check_interface_name refuses
    assert all(nl.link(name) is None for name in unasked) and len(nl.sock.sent) == 2, "names no link can have are not asked"
    with pytest.raises(rt.RtnlError) as refused:
        nl.link("eth0")
    assert refused.value.code == errno.EPERM
    first = ifinfmsg(nl.sock.sent[0])
    first.decode()
    assert (first["header"]["type"], first["header"]["flags"], first["index"]) == (rt.RTM_GETLINK, rt.NLM_F_REQUEST, 0)


def address_dump(seq: int, flags: int = 0, done_flags: int = 0) -> list:
    parts = [encoded(ifaddrmsg, rt.RTM_NEWADDR, seq=seq, flags=0x2 | flags, family=socket.AF_INET, prefixlen=24, index=index,
                     attrs=[("IFA_LOCAL", f"192.0.2.{index}"), ("IFA_ADDRESS", f"192.0.2.{index}")]) for index in (2, 3, 2)]
    return parts + [framed(rt.NLMSG_DONE, 0x2 | flags | done_flags, struct.pack("=i", 0), seq)]


def test_a_dump_is_read_whole_and_filtered_by_interface():
    nl = rtnl(lambda t, f, s, m: address_dump(s))
    assert [a["cidr"] for a in nl.addresses()] == ["192.0.2.2/24", "192.0.2.3/24", "192.0.2.2/24"]
    assert [a["cidr"] for a in nl.addresses(3)] == ["192.0.2.3/24"]
    request = ifaddrmsg(nl.sock.sent[0])
    request.decode()
    assert request["header"]["flags"] == rt.NLM_F_REQUEST | rt.NLM_F_DUMP


def test_an_interrupted_dump_is_read_again():
    interruptions = [rt.NLM_F_DUMP_INTR, rt.NLM_F_DUMP_INTR]
    nl = rtnl(lambda t, f, s, m: address_dump(s, interruptions.pop(0) if interruptions else 0))
    assert len(nl.addresses()) == 3, "the entries of the interrupted reads are not kept"
    assert len(nl.sock.sent) == 3
    # The kernel may find the change only at the end and mark NLMSG_DONE alone.
    marked = [rt.NLM_F_DUMP_INTR]
    nl = rtnl(lambda t, f, s, m: address_dump(s, done_flags=marked.pop(0) if marked else 0))
    assert len(nl.addresses()) == 3 and len(nl.sock.sent) == 2


def test_a_dump_interrupted_every_time_fails_in_words():
    nl = rtnl(lambda t, f, s, m: address_dump(s, rt.NLM_F_DUMP_INTR))
    with pytest.raises(rt.RtnlError) as failed:
        nl.links()
    assert len(nl.sock.sent) == rt.DUMP_ATTEMPTS
    assert failed.value.code == errno.EAGAIN and "changed during each of 5 reads" in str(failed.value)


def test_a_refused_dump_raises_the_kernels_error():
    nl = rtnl(lambda t, f, s, m: [error_message(s, errno.EINVAL, m, text="Invalid header for address dump request")])
    with pytest.raises(rt.RtnlError, match=r"^Invalid header for address dump request \(EINVAL\)$"):
        nl.addresses()


# --- errors reach the user in words -----------------------------------------------------------------------------------

class Failed(Exception):
    pass


class FakeModule:
    def fail_json(self, **result):
        raise Failed(result)


class Refusal(Exception):
    pass


@pytest.mark.parametrize("raised,expected", [
    (Refusal("VLAN id 4095 is out of range 1-4094"), {"msg": "VLAN id 4095 is out of range 1-4094", "interface": "eth0"}),
    (rt.RtnlError(errno.EACCES, "IPv6 is disabled on this device"),
     {"msg": "changing eth0 failed, the kernel refused: IPv6 is disabled on this device (EACCES)", "errno": "EACCES", "interface": "eth0"}),
    (PermissionError(errno.EPERM, "Operation not permitted"),
     {"msg": "changing eth0 failed: Operation not permitted (EPERM); run it as root (become: true) or with the CAP_NET_ADMIN and CAP_NET_RAW "
             "capabilities", "errno": "EPERM", "interface": "eth0"}),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/proc/sys/net/ipv6/conf/eth0/forwarding"),
     {"msg": "changing eth0 failed (/proc/sys/net/ipv6/conf/eth0/forwarding): No such file or directory (ENOENT)", "errno": "ENOENT",
      "interface": "eth0"}),
])
def test_failures_reach_fail_json_in_words(raised, expected):
    with pytest.raises(Failed) as failed:
        with failing_in_words(FakeModule(), Refusal, doing="changing eth0", interface="eth0"):
            raise raised
    assert failed.value.args[0] == expected


def test_other_exceptions_and_success_pass_through():
    with failing_in_words(FakeModule(), Refusal):
        result = 42
    assert result == 42
    with pytest.raises(KeyError):
        with failing_in_words(FakeModule(), Refusal):
            raise KeyError("a bug stays a traceback")
