# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARP and NDP frames: build and parse them with struct, as bytes for the wire and as plain data for results.

Only the standard library: a module that imports this starts in milliseconds (``import scapy.all`` alone costs over a
second), which matters when the frames announce a moved address.

Kernel rules the announcement relies on (net/ipv4/arp.c, net/ipv6/ndisc.c):
- a Linux neighbour ignores a new MAC for ``locktime`` after its last update, unless the frame is a
  true gratuitous ARP (sender IP = target IP; for a reply also target MAC = sender MAC);
- with ``arp_accept=0`` a gratuitous ARP only updates an existing entry, never creates one; a request
  addressed to the gateway itself (the targeted request) always creates or overrides its entry;
- an unsolicited neighbour advertisement overrides an IPv6 entry only with the override flag set.
"""

from __future__ import annotations

import ipaddress
import struct

from ansible_collections.layer2.linux.plugins.module_utils._iface import ZERO_MAC, mac_bytes, mac_text

ETH_P_ARP = 0x0806
ETH_P_IPV4 = 0x0800
ETH_P_IPV6 = 0x86DD
ARP_REQUEST = 1
ARP_REPLY = 2
ICMPV6 = 58
NDP_SOLICITATION = 135
NDP_ADVERTISEMENT = 136
NA_FLAG_ROUTER = 0x80000000
NA_FLAG_SOLICITED = 0x40000000
NA_FLAG_OVERRIDE = 0x20000000
BROADCAST = "ff:ff:ff:ff:ff:ff"
ALL_NODES = "ff02::1"
MIN_FRAME = 60  # Ethernet minimum without the FCS; the kernel does not pad frames sent on a packet socket
ARP_HEADER = struct.Struct("!HHBBH6s4s6s4s")  # htype ptype hlen plen op sha spa tha tpa
ARP_ETHERNET_IPV4 = (1, ETH_P_IPV4, 6, 4)  # htype ptype hlen plen of the only ARP spoken here
RAW_BROADCAST = b"\xff" * 6


# -- addresses -------------------------------------------------------------------------------
def solicited_node(address: str) -> str:
    """The solicited-node multicast group of an IPv6 address (ff02::1:ffXX:XXXX)."""
    low = ipaddress.IPv6Address(address).packed[-3:]
    return str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + low))


def multicast_mac(group: str) -> str:
    """The Ethernet destination of an IPv6 multicast group (33:33 + the group's last 32 bits)."""
    return mac_text(b"\x33\x33" + ipaddress.IPv6Address(group).packed[-4:])


# -- building ------------------------------------------------------------------------
def _ethernet(dst: str, src: str, ethertype: int, payload: bytes) -> bytes:
    frame = mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ethertype) + payload
    return frame.ljust(MIN_FRAME, b"\x00")


def arp_packet(op: int, src_mac: bytes, dst_mac: bytes, sha: bytes, spa: bytes, tha: bytes, tpa: bytes) -> bytes:
    """Ethernet header and ARP body from raw bytes, unpadded (42 bytes): the form a scan sends thousands of."""
    return dst_mac + src_mac + b"\x08\x06" + ARP_HEADER.pack(*ARP_ETHERNET_IPV4, op, sha, spa, tha, tpa)


def arp_frame(op: int, src_mac: str, dst_mac: str, sender_mac: str, sender_ip: str, target_mac: str, target_ip: str) -> bytes:
    sender, target = ipaddress.IPv4Address(sender_ip).packed, ipaddress.IPv4Address(target_ip).packed
    packet = arp_packet(op, mac_bytes(src_mac), mac_bytes(dst_mac), mac_bytes(sender_mac), sender, mac_bytes(target_mac), target)
    return packet.ljust(MIN_FRAME, b"\x00")


def build_request(src_mac: bytes, src_ip: bytes, target_ip: bytes) -> bytes:
    """A broadcast 'who has target_ip, tell src_ip' from raw bytes (the scan's request; the driver pads it)."""
    return arp_packet(ARP_REQUEST, src_mac, RAW_BROADCAST, src_mac, src_ip, b"\x00" * 6, target_ip)


def gratuitous_request(mac: str, ip: str) -> bytes:
    """Broadcast request with sender IP = target IP (RFC 5227 announcement; what `arping -U` sends)."""
    return arp_frame(ARP_REQUEST, mac, BROADCAST, mac, ip, ZERO_MAC, ip)


def gratuitous_reply(mac: str, ip: str) -> bytes:
    """Broadcast reply with sender = target, MAC and IP: Linux counts it as gratuitous only when both match."""
    return arp_frame(ARP_REPLY, mac, BROADCAST, mac, ip, mac, ip)


def targeted_request(mac: str, ip: str, gateway: str, gateway_mac: str = BROADCAST) -> bytes:
    """Ask the gateway for itself from the moved address: the gateway learns (creates or overrides) our entry."""
    return arp_frame(ARP_REQUEST, mac, gateway_mac, mac, ip, ZERO_MAC, gateway)


def arp_probe(mac: str, target: str, sender: str = "0.0.0.0") -> bytes:
    """Who has `target`? Sender 0.0.0.0 makes it a duplicate-address probe that disturbs no cache."""
    return arp_frame(ARP_REQUEST, mac, BROADCAST, mac, sender, ZERO_MAC, target)


def icmpv6_checksum(src: str, dst: str, message: bytes) -> int:
    pseudo = ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + struct.pack("!I3xB", len(message), ICMPV6)
    data = pseudo + message
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _icmpv6_frame(src_mac: str, dst_mac: str, src_ip: str, dst_ip: str, message: bytes) -> bytes:
    message = message[:2] + struct.pack("!H", icmpv6_checksum(src_ip, dst_ip, message)) + message[4:]
    header = struct.pack("!IHBB16s16s", 6 << 28, len(message), ICMPV6, 255, ipaddress.IPv6Address(src_ip).packed, ipaddress.IPv6Address(dst_ip).packed)
    return _ethernet(dst_mac, src_mac, ETH_P_IPV6, header + message)


def _lladdr_option(kind: int, mac: str) -> bytes:
    return struct.pack("!BB6s", kind, 1, mac_bytes(mac))


def unsolicited_na(mac: str, ip: str) -> bytes:
    """Neighbour advertisement to all nodes, override flag set, not solicited, with our MAC as target link-layer address."""
    message = struct.pack("!BBHI16s", NDP_ADVERTISEMENT, 0, 0, NA_FLAG_OVERRIDE, ipaddress.IPv6Address(ip).packed) + _lladdr_option(2, mac)
    return _icmpv6_frame(mac, multicast_mac(ALL_NODES), ip, ALL_NODES, message)


def neighbour_solicitation(mac: str, target: str, source: str = "::") -> bytes:
    """Who has `target`? From :: it is a duplicate-address probe (no source link-layer option allowed)."""
    group = solicited_node(target)
    message = struct.pack("!BBHI16s", NDP_SOLICITATION, 0, 0, 0, ipaddress.IPv6Address(target).packed)
    if ipaddress.IPv6Address(source) != ipaddress.IPv6Address("::"):
        message += _lladdr_option(1, mac)
    return _icmpv6_frame(mac, multicast_mac(group), source, group, message)


# -- parsing -------------------------------------------------------------------------
def _arp_kind(op: int, sender_mac: str, sender_ip: str, target_mac: str, target_ip: str) -> str:
    if op == ARP_REQUEST:
        if sender_ip == "0.0.0.0":
            return "probe"
        return "gratuitous request" if sender_ip == target_ip else "request"
    if op == ARP_REPLY:
        return "gratuitous reply" if sender_ip == target_ip and sender_mac == target_mac else "reply"
    return f"arp op {op}"


def _arp_fields(data: bytes, offset: int = 0) -> tuple | None:
    """(op, sha, spa, tha, tpa) of the Ethernet/IPv4 ARP header at `offset`, raw; None for anything else."""
    if len(data) < offset + ARP_HEADER.size:
        return None
    fields = ARP_HEADER.unpack_from(data, offset)
    return fields[4:] if fields[:4] == ARP_ETHERNET_IPV4 else None


def arp_fields(frame: bytes) -> tuple | None:
    """(op, sha, spa, tha, tpa) of an Ethernet frame carrying Ethernet/IPv4 ARP, raw; None for anything else."""
    return _arp_fields(frame, 14) if frame[12:14] == b"\x08\x06" else None


def parse_reply(frame: bytes) -> tuple | None:
    """(sender_mac, sender_ip, target_ip) of an Ethernet/IPv4 ARP reply, as raw bytes (the scan's fast path); None for anything else."""
    fields = arp_fields(frame)
    if fields is None or fields[0] != ARP_REPLY:
        return None
    _op, sha, spa, _tha, tpa = fields
    return sha, spa, tpa


def _parse_arp(body: bytes) -> dict | None:
    raw = _arp_fields(body)
    if raw is None:
        return None
    op, sha, spa, tha, tpa = raw
    fields = {
        "sender_mac": mac_text(sha),
        "sender_ip": str(ipaddress.IPv4Address(spa)),
        "target_mac": mac_text(tha),
        "target_ip": str(ipaddress.IPv4Address(tpa)),
    }
    return dict(fields, protocol="arp", op=op, kind=_arp_kind(op, **fields))


def _ndp_options(raw: bytes) -> dict[int, bytes]:
    options = {}
    while len(raw) >= 8 and raw[1]:
        size = raw[1] * 8
        options[raw[0]] = raw[2:size]
        raw = raw[size:]
    return options


def _parse_ipv6(body: bytes) -> dict | None:
    if len(body) < 40 + 24 or body[0] >> 4 != 6 or body[6] != ICMPV6:
        return None
    (length,) = struct.unpack("!H", body[4:6])
    src, dst = str(ipaddress.IPv6Address(body[8:24])), str(ipaddress.IPv6Address(body[24:40]))
    message = body[40:40 + length]
    kind, _code, _csum, flags, target = struct.unpack("!BBHI16s", message[:24])
    if kind not in (NDP_SOLICITATION, NDP_ADVERTISEMENT):
        return None
    options = _ndp_options(message[24:])
    lladdr = options.get(2 if kind == NDP_ADVERTISEMENT else 1)
    parsed = {
        "protocol": "ndp",
        "kind": "neighbour advertisement" if kind == NDP_ADVERTISEMENT else "neighbour solicitation",
        "sender_ip": src,
        "destination_ip": dst,
        "target_ip": str(ipaddress.IPv6Address(target)),
        "lladdr": mac_text(lladdr[:6]) if lladdr else None,
        "checksum_ok": icmpv6_checksum(src, dst, message) == 0,
    }
    if kind == NDP_ADVERTISEMENT:
        parsed.update(override=bool(flags & NA_FLAG_OVERRIDE), solicited=bool(flags & NA_FLAG_SOLICITED), router=bool(flags & NA_FLAG_ROUTER))
    return parsed


def parse_frame(frame: bytes) -> dict | None:
    """An ARP or NDP frame as plain data (MACs, IPs, kind), or None for anything else."""
    if len(frame) < 14:
        return None
    (ethertype,) = struct.unpack("!H", frame[12:14])
    body = frame[14:]
    parsed = _parse_arp(body) if ethertype == ETH_P_ARP else _parse_ipv6(body) if ethertype == ETH_P_IPV6 else None
    if parsed is not None:
        parsed.update(dst_mac=mac_text(frame[0:6]), src_mac=mac_text(frame[6:12]))
    return parsed


def describe(frame: bytes) -> dict:
    """What a result shows for one frame: kind, MACs and IPs (no protocol internals)."""
    parsed = parse_frame(frame)
    keys = ("kind", "src_mac", "dst_mac", "sender_mac", "sender_ip", "target_mac", "target_ip", "destination_ip", "lladdr", "override")
    return {k: parsed[k] for k in keys if k in parsed}


# -- what to send ---------------------------------------------------------------------------
def is_ipv6(address: str) -> bool:
    return ipaddress.ip_address(address).version == 6


def announcement(mac: str, address: str, mode: str = "both", gateway: str | None = None) -> list[bytes]:
    """The frames of one announcement round for an address, in sending order."""
    if is_ipv6(address):
        return [unsolicited_na(mac, address)]
    frames = []
    if mode in ("request", "both"):
        frames.append(gratuitous_request(mac, address))
    if mode in ("reply", "both"):
        frames.append(gratuitous_reply(mac, address))
    if gateway:
        frames.append(targeted_request(mac, address, gateway))
    return frames


def probe_frame(mac: str, target: str, source: str | None) -> bytes:
    if is_ipv6(target):
        return neighbour_solicitation(mac, target, source or "::")
    return arp_probe(mac, target, source or "0.0.0.0")


def is_answer(parsed: dict | None, target: str) -> bool:
    """An ARP reply or neighbour advertisement for `target` (what a holder of the address sends)."""
    if not parsed:
        return False
    if parsed["protocol"] == "arp":
        return parsed["op"] == ARP_REPLY and parsed["sender_ip"] == target
    return parsed["kind"] == "neighbour advertisement" and ipaddress.ip_address(parsed["target_ip"]) == ipaddress.ip_address(target)
