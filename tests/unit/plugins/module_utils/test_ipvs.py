# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_ipvs against pyroute2's IPVS codec: pyroute2 decodes the requests we send and encodes the kernel's answers we parse,
over test_rtnl's fake socket (no root, and this host's kernel has no IPVS; the kernel tier reads a real table)."""

from __future__ import annotations

import errno
import socket

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _ipvs as ipvs
from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from pyroute2.netlink import ctrlmsg
from pyroute2.netlink.generic.ipvs import ipvsmsg
from test_rtnl import decoded, encoded, error_message, rtnl

IPVS_ID = 0x1D  # any id nlctrl hands out
NLM_F_MULTI = 0x2
WEB = [("IPVS_SVC_ATTR_AF", socket.AF_INET), ("IPVS_SVC_ATTR_PROTOCOL", socket.IPPROTO_TCP), ("IPVS_SVC_ATTR_ADDR", "203.0.113.80"),
       ("IPVS_SVC_ATTR_PORT", 80), ("IPVS_SVC_ATTR_SCHED_NAME", "wrr"), ("IPVS_SVC_ATTR_FLAGS", {"flags": 0x2, "mask": 0xFFFFFFFF}),
       ("IPVS_SVC_ATTR_TIMEOUT", 0), ("IPVS_SVC_ATTR_NETMASK", "255.255.255.255")]


def service_message(seq: int, attrs: list, stats64: dict | None = None) -> bytes:
    if stats64 is not None:
        attrs = attrs + [("IPVS_SVC_ATTR_STATS64", {"attrs": [(f"IPVS_STATS_ATTR_{k}", v) for k, v in stats64.items()]})]
    return encoded(ipvsmsg, IPVS_ID, seq=seq, flags=NLM_F_MULTI, cmd=1, version=1, reserved=0, attrs=[("IPVS_CMD_ATTR_SERVICE", {"attrs": attrs})])


def dest_message(seq: int, address: str, port: int, weight: int, active: int = 0, inactive: int = 0, method: int = 0, family=socket.AF_INET) -> bytes:
    attrs = [("IPVS_DEST_ATTR_ADDR_FAMILY", family), ("IPVS_DEST_ATTR_ADDR", address), ("IPVS_DEST_ATTR_PORT", port),
             ("IPVS_DEST_ATTR_FWD_METHOD", method), ("IPVS_DEST_ATTR_WEIGHT", weight), ("IPVS_DEST_ATTR_U_THRESH", 0),
             ("IPVS_DEST_ATTR_L_THRESH", 0), ("IPVS_DEST_ATTR_ACTIVE_CONNS", active), ("IPVS_DEST_ATTR_INACT_CONNS", inactive),
             ("IPVS_DEST_ATTR_PERSIST_CONNS", 0),
             ("IPVS_DEST_ATTR_STATS64", {"attrs": [("IPVS_STATS_ATTR_CONNS", active + inactive), ("IPVS_STATS_ATTR_INPKTS", 7)]})]
    return encoded(ipvsmsg, IPVS_ID, seq=seq, flags=NLM_F_MULTI, cmd=5, version=1, reserved=0, attrs=[("IPVS_CMD_ATTR_DEST", {"attrs": attrs})])


def done(seq: int) -> bytes:
    return rt.NLMSGHDR.pack(20, rt.NLMSG_DONE, NLM_F_MULTI, seq, 0) + b"\0" * 4


def family_reply(seq: int) -> bytes:
    return encoded(ctrlmsg, ipvs.GENL_ID_CTRL, seq=seq, cmd=1, version=2, reserved=0,
                   attrs=[("CTRL_ATTR_FAMILY_ID", IPVS_ID), ("CTRL_ATTR_FAMILY_NAME", "IPVS")])


def info_reply(seq: int) -> bytes:
    version = (1 << 16) | (2 << 8) | 1
    attrs = rt.u32(ipvs.INFO_VERSION, version) + rt.u32(ipvs.INFO_CONN_TAB_SIZE, 4096)
    body = ipvs.genl_request(14, attrs)
    return rt.NLMSGHDR.pack(rt.NLMSGHDR.size + len(body), IPVS_ID, 0, seq, 0) + body


class Kernel:
    """An IPVS table behind the fake socket: services as attribute lists, and the real servers of each (by address, port)."""

    def __init__(self, services: list, dests: dict):
        self.services, self.dests, self.requests = services, dests, []

    def __call__(self, msg_type, _flags, seq, request):
        if msg_type == ipvs.GENL_ID_CTRL:
            msg = decoded(ctrlmsg, msg_type, 0, request[rt.NLMSGHDR.size:])
            self.requests.append(("family", msg.get_attr("CTRL_ATTR_FAMILY_NAME")))
            return [family_reply(seq)]
        msg = decoded(ipvsmsg, msg_type, 0, request[rt.NLMSGHDR.size:])
        self.requests.append(msg)
        if msg["cmd"] == ipvs.IPVS_CMD_GET_INFO:
            return [info_reply(seq)]
        if msg["cmd"] == ipvs.IPVS_CMD_GET_SERVICE:
            return [service_message(seq, attrs, stats) for attrs, stats in self.services] + [done(seq)]
        svc = msg.get_attr("IPVS_CMD_ATTR_SERVICE")
        key = (svc.get_attr("IPVS_SVC_ATTR_ADDR"), svc.get_attr("IPVS_SVC_ATTR_PORT"), svc.get_attr("IPVS_SVC_ATTR_FWMARK"))
        return [dest_message(seq, *dest) for dest in self.dests.get(key, [])] + [done(seq)]


def test_the_family_is_asked_of_nlctrl_by_name():
    msg = decoded(ctrlmsg, ipvs.GENL_ID_CTRL, 0, ipvs.family_request("IPVS"))
    assert msg["cmd"] == ipvs.CTRL_CMD_GETFAMILY
    assert msg.get_attr("CTRL_ATTR_FAMILY_NAME") == "IPVS"


def test_a_table_reads_as_ipvsadm_shows_it():
    kernel = Kernel(
        services=[(WEB, {"CONNS": 60, "INPKTS": 360, "OUTPKTS": 300, "INBYTES": 24000, "OUTBYTES": 30000})],
        dests={("203.0.113.80", 80, None): [("10.9.9.2", 8080, 1, 3, 17), ("10.9.9.3", 8080, 2, 5, 35)]},
    )
    table = ipvs.read(rtnl(kernel))
    assert table["available"] and table["version"] == "1.2.1" and table["connection_table_size"] == 4096
    [web] = table["services"]
    assert {k: v for k, v in web.items() if k != "real_servers"} == {
        "family": "ipv4", "protocol": "tcp", "address": "203.0.113.80", "port": 80, "fwmark": None, "scheduler": "wrr", "flags": [],
        "persistence_timeout": 0, "persistence_netmask": "255.255.255.255", "pe_name": None,
        "stats": {"connections": 60, "packets_in": 360, "packets_out": 300, "bytes_in": 24000, "bytes_out": 30000}}
    assert [(d["address"], d["port"], d["forwarding"], d["weight"], d["active_connections"], d["inactive_connections"]) for d in web["real_servers"]] == [
        ("10.9.9.2", 8080, "masq", 1, 3, 17), ("10.9.9.3", 8080, "masq", 2, 5, 35)]
    assert web["real_servers"][0]["stats"]["connections"] == 20 and web["real_servers"][0]["stats"]["packets_in"] == 7


def test_the_real_servers_are_asked_for_with_the_services_own_key():
    kernel = Kernel(services=[(WEB, None)], dests={})
    ipvs.read(rtnl(kernel))
    get_dest = kernel.requests[-1]
    assert get_dest["cmd"] == ipvs.IPVS_CMD_GET_DEST
    key = dict(get_dest.get_attr("IPVS_CMD_ATTR_SERVICE")["attrs"])
    assert key == {"IPVS_SVC_ATTR_AF": socket.AF_INET, "IPVS_SVC_ATTR_PROTOCOL": socket.IPPROTO_TCP, "IPVS_SVC_ATTR_ADDR": "203.0.113.80",
                   "IPVS_SVC_ATTR_PORT": 80}


def test_persistence_one_packet_and_the_sh_flags_read_as_ipvsadm_words():
    attrs = [a for a in WEB if a[0] not in ("IPVS_SVC_ATTR_SCHED_NAME", "IPVS_SVC_ATTR_FLAGS", "IPVS_SVC_ATTR_TIMEOUT")]
    attrs += [("IPVS_SVC_ATTR_SCHED_NAME", "sh"), ("IPVS_SVC_ATTR_FLAGS", {"flags": 0x1 | 0x4 | 0x8 | 0x10, "mask": 0xFFFFFFFF}),
              ("IPVS_SVC_ATTR_TIMEOUT", 300)]
    [svc] = ipvs.read(rtnl(Kernel(services=[(attrs, None)], dests={})))["services"]
    assert svc["flags"] == ["persistent", "ops", "sh-fallback", "sh-port"] and svc["persistence_timeout"] == 300


def test_a_firewall_mark_service_has_no_address_protocol_or_port():
    attrs = [("IPVS_SVC_ATTR_AF", socket.AF_INET), ("IPVS_SVC_ATTR_PROTOCOL", 0), ("IPVS_SVC_ATTR_ADDR", "0.0.0.0"), ("IPVS_SVC_ATTR_PORT", 0),
             ("IPVS_SVC_ATTR_FWMARK", 7), ("IPVS_SVC_ATTR_SCHED_NAME", "rr"), ("IPVS_SVC_ATTR_FLAGS", {"flags": 0, "mask": 0})]
    kernel = Kernel(services=[(attrs, None)], dests={(None, None, 7): [("10.9.9.4", 0, 1, 0, 0, 3)]})
    [svc] = ipvs.read(rtnl(kernel))["services"]
    assert (svc["protocol"], svc["address"], svc["port"], svc["fwmark"]) == (None, None, None, 7)
    assert svc["real_servers"][0]["forwarding"] == "route"
    assert "IPVS_SVC_ATTR_PORT" not in dict(kernel.requests[-1].get_attr("IPVS_CMD_ATTR_SERVICE")["attrs"])


def test_an_ipv6_service_and_real_server():
    attrs = [("IPVS_SVC_ATTR_AF", socket.AF_INET6), ("IPVS_SVC_ATTR_PROTOCOL", socket.IPPROTO_UDP), ("IPVS_SVC_ATTR_ADDR", "2001:db8::80"),
             ("IPVS_SVC_ATTR_PORT", 53), ("IPVS_SVC_ATTR_SCHED_NAME", "rr"), ("IPVS_SVC_ATTR_FLAGS", {"flags": 0, "mask": 0})]
    kernel = Kernel(services=[(attrs, None)], dests={("2001:db8::80", 53, None): [("2001:db8:9::2", 53, 1, 0, 1, 0, socket.AF_INET6)]})
    [svc] = ipvs.read(rtnl(kernel))["services"]
    assert (svc["family"], svc["protocol"], svc["address"]) == ("ipv6", "udp", "2001:db8::80")
    assert (svc["real_servers"][0]["family"], svc["real_servers"][0]["address"]) == ("ipv6", "2001:db8:9::2")


def test_a_kernel_without_ipvs_is_an_empty_unavailable_table_not_a_failure():
    def kernel(msg_type, _flags, seq, request):
        return [error_message(seq, errno.ENOENT, request)]

    assert ipvs.read(rtnl(kernel)) == {"available": False, "version": None, "connection_table_size": None, "services": []}


def test_a_refusal_other_than_no_such_family_is_raised():
    def kernel(msg_type, _flags, seq, request):
        if msg_type == ipvs.GENL_ID_CTRL:
            return [family_reply(seq)]
        return [error_message(seq, errno.EPERM, request)]

    with pytest.raises(rt.RtnlError) as raised:
        ipvs.read(rtnl(kernel))
    assert raised.value.code == errno.EPERM


def test_without_ip_vs_loaded_nothing_is_asked_of_the_kernel(tmp_path):
    # nlctrl would load ip_vs to answer for its family: a reader finds it unloaded by /proc/net/ip_vs and asks nothing.
    assert ipvs.gather(proc_net=str(tmp_path)) == {"available": False, "version": None, "connection_table_size": None, "services": [],
                                                   "conntrack": None}
