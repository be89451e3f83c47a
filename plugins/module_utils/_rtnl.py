# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one rtnetlink codec: links, VLANs, addresses and routes; dumps parsed to plain data, requests batched.

A general netlink library decodes every attribute of every message and waits for each acknowledgement in turn; for a
thousand VLANs that costs 2-3 times what `ip -batch` takes (measured in docs/benchmarks/bench-vlan-churn.md). Here requests are packed
many to a sendmsg() and the dump parser reads only the attributes the modules compare, so bulk work keeps pace with `ip -batch`.
Standard library only: a managed node needs no Python package for it.
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from ansible_collections.layer2.linux.plugins.module_utils._iface import check_interface_name, mac_text

NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NETLINK_CAP_ACK = 10
SO_RCVBUFFORCE = 33

NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
RTA_DST, RTA_OIF, RTA_PREFSRC = 1, 4, 7
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLM_F_DUMP_INTR = 0x10  # set on a dump part when the table changed while the kernel was walking it
DUMP_ATTEMPTS = 5
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200
NLMSGERR_ATTR_MSG = 1

IFF_UP = 0x1
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_STATS64, IFLA_GROUP = 1, 3, 4, 5, 16, 18, 23, 27
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_VLAN_ID, IFLA_VLAN_FLAGS, IFLA_VLAN_EGRESS_QOS, IFLA_VLAN_INGRESS_QOS, IFLA_VLAN_PROTOCOL = 1, 2, 3, 4, 5
IFLA_VLAN_QOS_MAPPING = 1
IFLA_LINK_NETNSID = 37  # IFLA_LINK is an index in that other namespace
IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST, IFA_FLAGS = 1, 2, 4, 8
IFA_F_NODAD, IFA_F_DADFAILED, IFA_F_TENTATIVE = 0x02, 0x08, 0x40

NLMSGHDR = struct.Struct("=IHHII")
IFINFOMSG = struct.Struct("=BxHiII")
IFADDRMSG = struct.Struct("=BBBBI")
RTMSG = struct.Struct("=BBBBBBBBI")
RTATTR = struct.Struct("=HH")
OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
STATS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped")
PROTOCOLS = {0x8100: "802.1Q", 0x88A8: "802.1ad"}
BATCH_BYTES = 32768  # requests per sendmsg(); their acknowledgements must fit the receive buffer


class RtnlError(Exception):
    """A request the kernel refused: errno and the kernel's extended-ack text when it gave one."""

    def __init__(self, code: int, text: str = ""):
        self.code, self.text = code, text
        super().__init__(f"{text or os.strerror(code)} ({errno.errorcode.get(code, code)})")


def refusals(results: list, labels: list, shown: int = 3) -> str:
    """Rtnl.batch() results in words: 'the kernel refused adding X: File exists (EEXIST); ...', or '' when none was refused."""
    failures = [f"{labels[i]}: {error}" for i, error in enumerate(results) if error is not None]
    if not failures:
        return ""
    more = f" (and {len(failures) - shown} more)" if len(failures) > shown else ""
    return "the kernel refused " + "; ".join(failures[:shown]) + more


# --- encoding ---------------------------------------------------------------------------------------------------------

def attr(kind: int, payload: bytes) -> bytes:
    length = RTATTR.size + len(payload)
    return RTATTR.pack(length, kind) + payload + b"\0" * (-length % 4)


def u32(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=I", value))


def qos_map(kind: int, mapping: dict) -> bytes:
    return attr(kind, b"".join(attr(IFLA_VLAN_QOS_MAPPING, struct.pack("=II", src, dst)) for src, dst in sorted(mapping.items())))


def vlan_info(vlan_id=None, protocol=None, flags=None, ingress=None, egress=None) -> bytes:
    """IFLA_LINKINFO for a VLAN: only the parts given. flags is (flags, mask); protocol the ethertype."""
    data = b""
    if vlan_id is not None:
        data += attr(IFLA_VLAN_ID, struct.pack("=H", vlan_id))
    if protocol is not None:
        data += attr(IFLA_VLAN_PROTOCOL, struct.pack(">H", protocol))
    if flags is not None:
        data += attr(IFLA_VLAN_FLAGS, struct.pack("=II", *flags))
    if ingress:
        data += qos_map(IFLA_VLAN_INGRESS_QOS, ingress)
    if egress:
        data += qos_map(IFLA_VLAN_EGRESS_QOS, egress)
    return attr(IFLA_LINKINFO, attr(IFLA_INFO_KIND, b"vlan") + (attr(IFLA_INFO_DATA, data) if data else b""))


def link_request(index: int = 0, up=None, attrs: bytes = b"") -> bytes:
    """An ifinfomsg; up=True/False sets or clears IFF_UP, None leaves it."""
    change = 0 if up is None else IFF_UP
    return IFINFOMSG.pack(0, 0, index, IFF_UP if up else 0, change) + attrs


def addr_request(family: int, prefixlen: int, index: int, address: str, broadcast: str | None = None, flags: int = 0) -> bytes:
    packed = socket.inet_pton(family, address)
    attrs = attr(IFA_LOCAL, packed) + attr(IFA_ADDRESS, packed)
    if broadcast:
        attrs += attr(IFA_BROADCAST, socket.inet_pton(family, broadcast))
    return IFADDRMSG.pack(family, prefixlen, flags, 0, index) + attrs


def address_change(command: int, index: int, cidr, nodad: bool = False) -> tuple[int, int, bytes]:
    """(type, flags, body) adding (RTM_NEWADDR) or removing (RTM_DELADDR) an ipaddress.ip_interface on a link, for Rtnl.batch().

    An IPv4 address added with a prefix shorter than /31 gets its subnet's broadcast address, as `ip addr add ... brd +`
    and ifconfig set it. nodad sets IFA_F_NODAD on an IPv6 address added (IPv4 has no duplicate address detection to skip).
    """
    family = socket.AF_INET6 if cidr.version == 6 else socket.AF_INET
    if command == RTM_DELADDR:
        return RTM_DELADDR, 0, addr_request(family, cidr.network.prefixlen, index, str(cidr.ip))
    broadcast = str(cidr.network.broadcast_address) if cidr.version == 4 and cidr.network.prefixlen < 31 else None
    flags = IFA_F_NODAD if nodad and cidr.version == 6 else 0
    return RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, addr_request(family, cidr.network.prefixlen, index, str(cidr.ip), broadcast, flags)


# --- decoding ---------------------------------------------------------------------------------------------------------

def attrs_of(data: bytes, offset: int = 0) -> dict:
    """Top-level attributes by type (the last wins), as raw payloads."""
    found = {}
    end = len(data)
    while offset + 4 <= end:
        length, kind = RTATTR.unpack_from(data, offset)
        if length < 4:
            break
        found[kind & 0x3FFF] = data[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return found


def _stats(payload: bytes) -> dict:
    """The first counters of struct rtnl_link_stats64 (packets, bytes, errors, drops each way)."""
    if len(payload) < 8 * len(STATS):
        return {}
    values = struct.unpack_from(f"={len(STATS)}Q", payload)
    return {name: values[i] for i, name in enumerate(STATS)}


def _string(payload: bytes) -> str:
    return payload.split(b"\0", 1)[0].decode("utf-8", "replace")


def _qos(payload: bytes | None) -> dict:
    mapping = {}
    for entry in _all_attrs(payload or b""):
        src, dst = struct.unpack_from("=II", entry)
        if dst:
            mapping[src] = dst
    return mapping


def _all_attrs(data: bytes) -> list:
    """Every attribute payload in order (QoS maps repeat the same type)."""
    found, offset = [], 0
    while offset + 4 <= len(data):
        length, _kind = RTATTR.unpack_from(data, offset)
        if length < 4:
            break
        found.append(data[offset + 4:offset + length])
        offset += (length + 3) & ~3
    return found


def parse_link(body: bytes) -> dict:
    """An RTM_NEWLINK message as plain data: the fields a VLAN task compares and reports, and the ARPHRD link type."""
    _family, link_type, index, flags, _change = IFINFOMSG.unpack_from(body)
    attrs = attrs_of(body, IFINFOMSG.size)
    mac = attrs.get(IFLA_ADDRESS)
    link = {
        "index": index,
        "name": _string(attrs.get(IFLA_IFNAME, b"")),
        "up": bool(flags & IFF_UP),
        "link_type": link_type,
        "mtu": struct.unpack("=I", attrs[IFLA_MTU])[0] if IFLA_MTU in attrs else None,
        "mac": mac_text(mac) if mac else None,
        "operstate": OPERSTATES[attrs[IFLA_OPERSTATE][0]] if IFLA_OPERSTATE in attrs and attrs[IFLA_OPERSTATE][0] < len(OPERSTATES) else "UNKNOWN",
        "link": struct.unpack("=i", attrs[IFLA_LINK])[0] if IFLA_LINK in attrs else None,
        "link_netnsid": struct.unpack("=i", attrs[IFLA_LINK_NETNSID])[0] if IFLA_LINK_NETNSID in attrs else None,
        "group": struct.unpack("=I", attrs[IFLA_GROUP])[0] if IFLA_GROUP in attrs else 0,
        "kind": None,
        "stats": _stats(attrs.get(IFLA_STATS64, b"")),
    }
    info = attrs_of(attrs.get(IFLA_LINKINFO, b""))
    if IFLA_INFO_KIND in info:
        link["kind"] = _string(info[IFLA_INFO_KIND])
    if link["kind"] == "vlan":
        data = attrs_of(info.get(IFLA_INFO_DATA, b""))
        link["vlan_id"] = struct.unpack("=H", data[IFLA_VLAN_ID][:2])[0] if IFLA_VLAN_ID in data else None
        link["protocol"] = PROTOCOLS.get(struct.unpack(">H", data[IFLA_VLAN_PROTOCOL][:2])[0], "802.1Q") if IFLA_VLAN_PROTOCOL in data else "802.1Q"
        link["vlan_flags"] = struct.unpack("=I", data[IFLA_VLAN_FLAGS][:4])[0] if IFLA_VLAN_FLAGS in data else 0
        link["ingress_qos_map"] = _qos(data.get(IFLA_VLAN_INGRESS_QOS))
        link["egress_qos_map"] = _qos(data.get(IFLA_VLAN_EGRESS_QOS))
    return link


def parse_addr(body: bytes) -> dict:
    family, prefixlen, flags, _scope, index = IFADDRMSG.unpack_from(body)
    attrs = attrs_of(body, IFADDRMSG.size)
    raw = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)  # IFA_LOCAL is the address itself on IPv4 point-to-point links
    if IFA_FLAGS in attrs:  # the full 32 bits; ifa_flags holds only the low 8
        flags = struct.unpack("=I", attrs[IFA_FLAGS][:4])[0]
    return {"index": index, "cidr": f"{socket.inet_ntop(family, raw)}/{prefixlen}", "family": "ipv6" if family == socket.AF_INET6 else "ipv4",
            "flags": flags}


# --- routes -----------------------------------------------------------------------------------------------------------
# struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (RTMSG above); the table is also sent as
# RTA_TABLE, which alone can hold ids above 255.

RTM_DELROUTE = 25
RTA_GATEWAY, RTA_PRIORITY, RTA_MULTIPATH, RTA_TABLE = 5, 6, 9, 15
NLM_F_REPLACE = 0x100  # on a request; the same bit means NLM_F_CAPPED on an acknowledgement
RTM_F_CLONED, RTM_F_FIB_MATCH = 0x200, 0x2000
RTNH_F_ONLINK = 0x4
RT_TABLE_COMPAT = 252
RT_SCOPE_NOWHERE = 255
RTN_UNICAST = 1
ROUTE_TABLES = {253: "default", 254: "main", 255: "local"}
ROUTE_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
ROUTE_PROTOCOLS = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra", 10: "mrt", 11: "zebra", 12: "bird",
                   13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp", 17: "mrouted", 18: "keepalived", 42: "babel", 99: "openr", 186: "bgp",
                   187: "isis", 188: "ospf", 189: "rip", 192: "eigrp"}
ROUTE_TYPES = {0: "unspec", 1: "unicast", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast", 6: "blackhole", 7: "unreachable",
               8: "prohibit", 9: "throw", 10: "nat", 11: "xresolve"}
FAMILIES = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}


def number_of(names: dict, name) -> int:
    """A name of one of the tables above (or a number, as text or int) as the kernel's number; ValueError when unknown."""
    for number, known in names.items():
        if known == name:
            return number
    return int(name)


def route_request(family: int, dst: str | None, dst_len: int, table: int, metric: int, via: str | None = None, oif: int | None = None,
                  scope: int = 0, protocol: int = 4, route_type: int = RTN_UNICAST, onlink: bool = False) -> bytes:
    """The body of an RTM_NEWROUTE or RTM_DELROUTE: dst None for the default route, addresses as text, numbers as the kernel's.

    A deletion passes scope RT_SCOPE_NOWHERE, protocol 0 and type 0 (match any, as `ip route del`) and the via/oif of the
    route it removes, so that it removes that route and no other of the same prefix.
    """
    attrs = b""
    if dst is not None and dst_len:
        attrs += attr(RTA_DST, socket.inet_pton(family, dst))
    if via:
        attrs += attr(RTA_GATEWAY, socket.inet_pton(family, via))
    if oif:
        attrs += u32(RTA_OIF, oif)
    attrs += u32(RTA_PRIORITY, metric) + u32(RTA_TABLE, table)
    header = RTMSG.pack(family, dst_len, 0, 0, table if table < 256 else RT_TABLE_COMPAT, protocol, scope, route_type,
                        RTNH_F_ONLINK if onlink else 0)
    return header + attrs


def parse_route(body: bytes) -> dict:
    """An RTM_NEWROUTE message as plain data: dst as a CIDR (\"default\" for a zero-length prefix), the gateway, the output link's
    index, and table, scope, protocol and type by name where they have one (the number otherwise).

    A multipath route has no gateway or oif of its own: its next hops are listed under \"nexthops\" as (via, oif) dicts.
    """
    family, dst_len, _src_len, _tos, table, protocol, scope, route_type, flags = RTMSG.unpack_from(body)
    attrs = attrs_of(body, RTMSG.size)
    if RTA_TABLE in attrs:
        table = struct.unpack("=I", attrs[RTA_TABLE][:4])[0]
    dst = attrs.get(RTA_DST)
    route = {
        "family": FAMILIES.get(family, str(family)),
        "dst": f"{socket.inet_ntop(family, dst)}/{dst_len}" if dst and dst_len else "default",
        "via": _address(family, attrs.get(RTA_GATEWAY)),
        "oif": struct.unpack("=I", attrs[RTA_OIF][:4])[0] if RTA_OIF in attrs else None,
        "table": ROUTE_TABLES.get(table, table),
        "metric": struct.unpack("=I", attrs[RTA_PRIORITY][:4])[0] if RTA_PRIORITY in attrs else 0,
        "scope": ROUTE_SCOPES.get(scope, scope),
        "protocol": ROUTE_PROTOCOLS.get(protocol, protocol),
        "type": ROUTE_TYPES.get(route_type, route_type),
        "onlink": bool(flags & RTNH_F_ONLINK),
        "cloned": bool(flags & RTM_F_CLONED),
    }
    if RTA_MULTIPATH in attrs:
        route["nexthops"] = _nexthops(family, attrs[RTA_MULTIPATH])
    return route


def _address(family: int, raw: bytes | None) -> str | None:
    return socket.inet_ntop(family, raw) if raw else None


def _nexthops(family: int, data: bytes) -> list:
    """struct rtnexthop entries (len, flags, hops, ifindex) each followed by its own attributes."""
    hops, offset = [], 0
    while offset + 8 <= len(data):
        length, flags, _hops, oif = struct.unpack_from("=HBBi", data, offset)
        if length < 8:
            break
        attrs = attrs_of(data[offset:offset + length], 8)
        hops.append({"via": _address(family, attrs.get(RTA_GATEWAY)), "oif": oif, "onlink": bool(flags & RTNH_F_ONLINK)})
        offset += (length + 3) & ~3
    return hops


# --- the socket -------------------------------------------------------------------------------------------------------

class Rtnl:
    """One rtnetlink socket (or, given another netlink protocol, a socket of that one: _ipvs speaks generic netlink on it);
    use as a context manager."""

    def __init__(self, protocol: int = NETLINK_ROUTE):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol)
        self.sock.bind((0, 0))
        for option in (NETLINK_CAP_ACK, NETLINK_EXT_ACK):  # short acknowledgements, with the kernel's reason on errors
            try:
                self.sock.setsockopt(SOL_NETLINK, option, 1)
            except OSError:
                pass
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.seq = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def _message(self, msg_type: int, flags: int, body: bytes) -> tuple[int, bytes]:
        self.seq += 1
        return self.seq, NLMSGHDR.pack(NLMSGHDR.size + len(body), msg_type, flags, self.seq, 0) + body

    def _messages(self):
        """Messages of one recv() as (type, flags, seq, body)."""
        data = self.sock.recv(1 << 20)
        offset = 0
        while offset + NLMSGHDR.size <= len(data):
            length, msg_type, flags, seq, _pid = NLMSGHDR.unpack_from(data, offset)
            if length < NLMSGHDR.size:
                break
            yield msg_type, flags, seq, data[offset + NLMSGHDR.size:offset + length]
            offset += (length + 3) & ~3

    def dump(self, msg_type: int, body: bytes) -> list[bytes]:
        """The bodies of every message of a dump request (RTM_GETLINK, RTM_GETADDR).

        A dump the kernel marks interrupted (the table changed while it was read, NLM_F_DUMP_INTR) may miss or repeat
        entries: it is read again, a few times, before giving up.
        """
        for _attempt in range(DUMP_ATTEMPTS):
            bodies, interrupted = self._dump_once(msg_type, body)
            if not interrupted:
                return bodies
        raise RtnlError(errno.EAGAIN, f"the kernel's table changed during each of {DUMP_ATTEMPTS} reads (another program is changing "
                                      "links, addresses or routes right now); run the task again when it has finished")

    def _dump_once(self, msg_type: int, body: bytes) -> tuple[list[bytes], bool]:
        seq, message = self._message(msg_type, NLM_F_REQUEST | NLM_F_DUMP, body)
        self.sock.send(message)
        bodies, interrupted = [], False
        while True:
            for kind, flags, got_seq, payload in self._messages():
                if got_seq != seq:
                    continue
                interrupted = interrupted or bool(flags & NLM_F_DUMP_INTR)  # the kernel may set it on NLMSG_DONE alone
                if kind == NLMSG_DONE:
                    return bodies, interrupted
                if kind == NLMSG_ERROR:
                    raise _error(flags, payload)
                bodies.append(payload)

    def links(self) -> list[dict]:
        return [parse_link(body) for body in self.dump(RTM_GETLINK, link_request())]

    def links_by_name(self) -> dict[str, dict]:
        return {link["name"]: link for link in self.links()}

    def ask(self, msg_type: int, body: bytes) -> tuple[int, int, bytes]:
        """One request that is not a dump: the kernel's answer (type, flags, body), its reply or an NLMSG_ERROR."""
        seq, message = self._message(msg_type, NLM_F_REQUEST, body)
        self.sock.send(message)
        while True:
            for kind, flags, got_seq, payload in self._messages():
                if got_seq == seq:
                    return kind, flags, payload

    def link(self, name: str) -> dict | None:
        """One link by name (RTM_GETLINK with IFLA_IFNAME, no dump), or None when there is none of that name."""
        try:
            check_interface_name(name)
        except ValueError:
            return None  # no link can have such a name; the kernel would refuse the request (ERANGE for a long one)
        kind, flags, payload = self.ask(RTM_GETLINK, link_request(attrs=attr(IFLA_IFNAME, name.encode("utf-8", "surrogateescape") + b"\0")))
        if kind == NLMSG_ERROR:
            error = _error(flags, payload)
            if error.code == errno.ENODEV:
                return None
            raise error
        return parse_link(payload)

    def addresses(self, index: int | None = None) -> list[dict]:
        """Every address, or those of one link (by index)."""
        found = [parse_addr(body) for body in self.dump(RTM_GETADDR, IFADDRMSG.pack(0, 0, 0, 0, 0))]
        return found if index is None else [a for a in found if a["index"] == index]

    def route_get(self, destination: str) -> dict | None:
        """The route the kernel would use to reach an address (as `ip route get`): oif index and preferred source, or None."""
        family = socket.AF_INET6 if ":" in destination else socket.AF_INET
        raw = socket.inet_pton(family, destination)
        kind, _flags, payload = self.ask(RTM_GETROUTE, RTMSG.pack(family, len(raw) * 8, 0, 0, 0, 0, 0, 0, 0) + attr(RTA_DST, raw))
        if kind != RTM_NEWROUTE:
            return None  # NLMSG_ERROR: no route to the destination
        attrs = attrs_of(payload, RTMSG.size)
        source = attrs.get(RTA_PREFSRC)
        return {
            "oif": struct.unpack("=I", attrs[RTA_OIF])[0] if RTA_OIF in attrs else None,
            "prefsrc": socket.inet_ntop(family, source) if source else None,
        }

    def routes(self, family: int = socket.AF_UNSPEC) -> list[dict]:
        """Every route of every table of one family (socket.AF_INET, AF_INET6) or both, as parse_route() gives them; cache
        entries the kernel cloned are left out."""
        found = [parse_route(body) for body in self.dump(RTM_GETROUTE, RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0))]
        return [r for r in found if not r["cloned"]]

    def route_match(self, destination: str) -> dict | None:
        """The routing entry the kernel would use to reach an address, itself (as `ip route get fibmatch`), or None."""
        family = socket.AF_INET6 if ":" in destination else socket.AF_INET
        raw = socket.inet_pton(family, destination)
        kind, _flags, payload = self.ask(RTM_GETROUTE, RTMSG.pack(family, len(raw) * 8, 0, 0, 0, 0, 0, 0, RTM_F_FIB_MATCH) + attr(RTA_DST, raw))
        return parse_route(payload) if kind == RTM_NEWROUTE else None  # NLMSG_ERROR: no route to it

    def batch(self, requests) -> list:
        """Send (type, flags, body) requests, many per sendmsg(); return one RtnlError or None per request, in order.

        The kernel handles the messages of one sendmsg() in order and acknowledges each; a refused one does not stop the rest.
        """
        results = []
        pending: dict[int, int] = {}
        chunk, chunk_bytes = [], 0
        for position, (msg_type, flags, body) in enumerate(requests):
            seq, message = self._message(msg_type, flags | NLM_F_REQUEST | NLM_F_ACK, body)
            pending[seq] = position
            results.append(None)
            chunk.append(message)
            chunk_bytes += len(message)
            if chunk_bytes >= BATCH_BYTES or len(chunk) >= 256:
                self._send_and_collect(chunk, pending, results)
                chunk, chunk_bytes = [], 0
        if chunk:
            self._send_and_collect(chunk, pending, results)
        return results

    def _send_and_collect(self, chunk, pending, results) -> None:
        self.sock.send(b"".join(chunk))
        waiting = len(chunk)
        while waiting:
            for kind, flags, seq, payload in self._messages():
                if kind != NLMSG_ERROR or seq not in pending:
                    continue
                code = struct.unpack_from("=i", payload)[0]
                if code:
                    results[pending[seq]] = _error(flags, payload)
                del pending[seq]
                waiting -= 1


def _error(flags: int, payload: bytes) -> RtnlError:
    """NLMSG_ERROR: errno, the request (its header only when capped), then extended-ack attributes."""
    code = -struct.unpack_from("=i", payload)[0]
    text = ""
    if flags & NLM_F_ACK_TLVS and len(payload) >= 4 + NLMSGHDR.size:
        echoed = NLMSGHDR.size if flags & NLM_F_CAPPED else NLMSGHDR.unpack_from(payload, 4)[0]
        tlvs = attrs_of(payload, 4 + ((echoed + 3) & ~3))
        if NLMSGERR_ATTR_MSG in tlvs:
            text = _string(tlvs[NLMSGERR_ATTR_MSG])
    return RtnlError(code, text)
