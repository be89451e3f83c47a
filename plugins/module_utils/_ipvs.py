# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's IP Virtual Server table read as plain data, what `ipvsadm -Ln --stats` shows, over generic netlink.

The IPVS family's id is asked of nlctrl, then the services are dumped and, for each, its real servers. The socket and
the attribute codec are _rtnl's (generic netlink is netlink with a 4-byte header of its own before the attributes).
Only reads, and loads nothing: when ip_vs is not loaded (or not built) the table is reported unavailable.
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._sysctl import PROC_SYS, read_value

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
GENLMSGHDR = struct.Struct("=BBH")  # cmd, version, reserved
IPVS_GENL_NAME, IPVS_GENL_VERSION = "IPVS", 1

IPVS_CMD_GET_SERVICE, IPVS_CMD_GET_DEST, IPVS_CMD_GET_INFO = 4, 8, 15
IPVS_CMD_ATTR_SERVICE, IPVS_CMD_ATTR_DEST = 1, 2
SVC_AF, SVC_PROTOCOL, SVC_ADDR, SVC_PORT, SVC_FWMARK, SVC_SCHED_NAME, SVC_FLAGS, SVC_TIMEOUT, SVC_NETMASK, SVC_STATS, SVC_PE_NAME, SVC_STATS64 = range(1, 13)
DEST_ADDR, DEST_PORT, DEST_FWD_METHOD, DEST_WEIGHT, DEST_U_THRESH, DEST_L_THRESH = range(1, 7)
DEST_ACTIVE_CONNS, DEST_INACT_CONNS, DEST_PERSIST_CONNS, DEST_STATS, DEST_ADDR_FAMILY, DEST_STATS64 = range(7, 13)
INFO_VERSION, INFO_CONN_TAB_SIZE = 1, 2
STATS_CONNS, STATS_INPKTS, STATS_OUTPKTS, STATS_INBYTES, STATS_OUTBYTES = range(1, 6)

PROTOCOLS = {socket.IPPROTO_TCP: "tcp", socket.IPPROTO_UDP: "udp", 132: "sctp"}
# The forwarding method (IP_VS_CONN_F_FWD_MASK bits) in ipvsadm's words.
FORWARDING = {0: "masq", 1: "local", 2: "tunnel", 3: "route", 4: "bypass"}
FWD_MASK = 0x7
IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2 = 0x1, 0x4, 0x8, 0x10
STATS = {STATS_CONNS: "connections", STATS_INPKTS: "packets_in", STATS_OUTPKTS: "packets_out", STATS_INBYTES: "bytes_in", STATS_OUTBYTES: "bytes_out"}


UNAVAILABLE = {"available": False, "version": None, "connection_table_size": None, "services": []}


def genl_request(cmd: int, attrs: bytes = b"", version: int = IPVS_GENL_VERSION) -> bytes:
    return GENLMSGHDR.pack(cmd, version, 0) + attrs


def family_request(name: str) -> bytes:
    """nlctrl's CTRL_CMD_GETFAMILY for a family name (its reply carries the id to send the family's requests to)."""
    return genl_request(CTRL_CMD_GETFAMILY, rt.attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"), version=1)


def _attrs(body: bytes) -> dict:
    return rt.attrs_of(body, GENLMSGHDR.size)


def _u16(payload: bytes) -> int:
    return struct.unpack_from("=H", payload)[0]


def _u32(payload: bytes) -> int:
    return struct.unpack_from("=I", payload)[0]


def _be16(payload: bytes) -> int:
    return struct.unpack_from(">H", payload)[0]


def _address(family: int, payload: bytes) -> str:
    # The kernel sends a union nf_inet_addr (16 bytes); an IPv4 address is its first 4.
    return socket.inet_ntop(family, payload[:4] if family == socket.AF_INET else payload[:16])


def _number(payload: bytes) -> int:
    """A counter of 32 or 64 bits (the older stats attribute mixes both)."""
    return struct.unpack_from("=Q" if len(payload) >= 8 else "=I", payload)[0]


def _stats(attrs: dict, stats64: int, stats32: int) -> dict:
    """Connections, packets and bytes since the entry was made (the 64-bit counters when the kernel sends them)."""
    nested = rt.attrs_of(attrs[stats64] if stats64 in attrs else attrs.get(stats32, b""))
    return {name: _number(nested[kind]) if kind in nested else 0 for kind, name in STATS.items()}


def _flags(value: int, scheduler: str) -> list[str]:
    """The service flags ipvsadm prints (persistent, ops, and the sh/mh scheduler's fallback and port)."""
    names = []
    if value & IP_VS_SVC_F_PERSISTENT:
        names.append("persistent")
    if value & IP_VS_SVC_F_ONEPACKET:
        names.append("ops")
    if scheduler in ("sh", "mh"):
        names += [f"{scheduler}-{word}" for bit, word in ((IP_VS_SVC_F_SCHED1, "fallback"), (IP_VS_SVC_F_SCHED2, "port")) if value & bit]
    return names


def parse_service(body: bytes) -> dict:
    """An IPVS_CMD_NEW_SERVICE message of a dump as plain data; "key" holds the raw attributes that name it in a request."""
    svc = rt.attrs_of(_attrs(body).get(IPVS_CMD_ATTR_SERVICE, b""))
    family = _u16(svc[SVC_AF])
    fwmark = _u32(svc[SVC_FWMARK]) if SVC_FWMARK in svc else 0
    scheduler = rt._string(svc.get(SVC_SCHED_NAME, b""))
    flags = struct.unpack_from("=II", svc[SVC_FLAGS])[0] if SVC_FLAGS in svc else 0
    netmask = svc.get(SVC_NETMASK)
    service = {
        "family": rt.FAMILIES.get(family, str(family)),
        "protocol": None if fwmark else PROTOCOLS.get(_u16(svc[SVC_PROTOCOL]), str(_u16(svc[SVC_PROTOCOL]))),
        "address": None if fwmark else _address(family, svc[SVC_ADDR]),
        "port": None if fwmark else _be16(svc[SVC_PORT]),
        "fwmark": fwmark or None,
        "scheduler": scheduler,
        "flags": _flags(flags, scheduler),
        "persistence_timeout": _u32(svc[SVC_TIMEOUT]) if flags & IP_VS_SVC_F_PERSISTENT and SVC_TIMEOUT in svc else 0,
        # IPv4: a dotted mask (255.255.255.255: one client address); IPv6: the prefix length, as ipvsadm shows them.
        "persistence_netmask": (socket.inet_ntop(socket.AF_INET, netmask[:4]) if family == socket.AF_INET else _u32(netmask)) if netmask else None,
        "pe_name": rt._string(svc[SVC_PE_NAME]) if SVC_PE_NAME in svc else None,
        "stats": _stats(svc, SVC_STATS64, SVC_STATS),
    }
    keys = (SVC_AF, SVC_FWMARK) if fwmark else (SVC_AF, SVC_PROTOCOL, SVC_ADDR, SVC_PORT)
    return {**service, "key": b"".join(rt.attr(kind, svc[kind]) for kind in keys)}


def parse_dest(body: bytes, service_family: int) -> dict:
    """An IPVS_CMD_NEW_DEST message: one real server of a service, with its weight and connection counts."""
    dest = rt.attrs_of(_attrs(body).get(IPVS_CMD_ATTR_DEST, b""))
    family = _u16(dest[DEST_ADDR_FAMILY]) if DEST_ADDR_FAMILY in dest else service_family  # older kernels: the service's
    method = _u32(dest[DEST_FWD_METHOD]) & FWD_MASK if DEST_FWD_METHOD in dest else 0

    def number(kind):
        return _u32(dest[kind]) if kind in dest else 0

    return {
        "family": rt.FAMILIES.get(family, str(family)),
        "address": _address(family, dest[DEST_ADDR]),
        "port": _be16(dest[DEST_PORT]),
        "forwarding": FORWARDING.get(method, str(method)),
        "weight": number(DEST_WEIGHT),
        "upper_threshold": number(DEST_U_THRESH),
        "lower_threshold": number(DEST_L_THRESH),
        "active_connections": number(DEST_ACTIVE_CONNS),
        "inactive_connections": number(DEST_INACT_CONNS),
        "persistent_connections": number(DEST_PERSIST_CONNS),
        "stats": _stats(dest, DEST_STATS64, DEST_STATS),
    }


def parse_info(body: bytes) -> dict:
    info = _attrs(body)
    version = _u32(info[INFO_VERSION]) if INFO_VERSION in info else 0
    return {"version": f"{version >> 16 & 0xFF}.{version >> 8 & 0xFF}.{version & 0xFF}",
            "connection_table_size": _u32(info[INFO_CONN_TAB_SIZE]) if INFO_CONN_TAB_SIZE in info else None}


def family_id(nl: rt.Rtnl, name: str = IPVS_GENL_NAME) -> int | None:
    """The generic netlink family's id, or None when the kernel has no such family (its module not loaded)."""
    kind, flags, payload = nl.ask(GENL_ID_CTRL, family_request(name))
    if kind == rt.NLMSG_ERROR:
        error = rt._error(flags, payload)
        if error.code == errno.ENOENT:
            return None
        raise error
    return _u16(_attrs(payload)[CTRL_ATTR_FAMILY_ID])


def read(nl: rt.Rtnl) -> dict:
    """The IPVS table over an open generic netlink socket: available, version, services each with its real_servers."""
    family = family_id(nl)
    if family is None:
        return dict(UNAVAILABLE)
    kind, flags, payload = nl.ask(family, genl_request(IPVS_CMD_GET_INFO))
    if kind == rt.NLMSG_ERROR:
        raise rt._error(flags, payload)
    services = []
    for body in nl.dump(family, genl_request(IPVS_CMD_GET_SERVICE)):
        service = parse_service(body)
        key = service.pop("key")
        af = socket.AF_INET6 if service["family"] == "ipv6" else socket.AF_INET
        request = genl_request(IPVS_CMD_GET_DEST, rt.attr(IPVS_CMD_ATTR_SERVICE, key))
        service["real_servers"] = [parse_dest(dest, af) for dest in nl.dump(family, request)]
        services.append(service)
    return {"available": True, **parse_info(payload), "services": services}


def conntrack(root: str = PROC_SYS) -> bool | None:
    """net.ipv4.vs.conntrack: IPVS connections kept in conntrack (so nftables' ct state sees them); None without ip_vs."""
    try:
        return read_value(("net", "ipv4", "vs", "conntrack"), root) not in ("", "0")
    except FileNotFoundError:
        return None


def gather(proc_net: str = "/proc/net") -> dict:
    """The IPVS table of this network namespace, and whether conntrack follows its connections.

    Asking nlctrl for the IPVS family makes the kernel load ip_vs (its module has the family's alias): a reader must not,
    so without ip_vs loaded (no <proc_net>/ip_vs, which IPVS makes in every namespace) nothing is asked.
    """
    if not os.path.exists(os.path.join(proc_net, "ip_vs")):
        return {**UNAVAILABLE, "conntrack": None}
    with rt.Rtnl(NETLINK_GENERIC) as nl:
        return {**read(nl), "conntrack": conntrack()}
