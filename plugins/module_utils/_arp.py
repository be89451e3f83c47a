# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARP and NDP frames: build and parse with struct, send and receive on an AF_PACKET raw socket.

Only the standard library: a module that imports this starts in milliseconds (``import scapy.all``
alone costs over a second), which matters when the frames announce a moved address.

Kernel rules the announcement relies on (net/ipv4/arp.c, net/ipv6/ndisc.c):
- a Linux neighbour ignores a new MAC for ``locktime`` after its last update, unless the frame is a
  true gratuitous ARP (sender IP = target IP; for a reply also target MAC = sender MAC);
- with ``arp_accept=0`` a gratuitous ARP only updates an existing entry, never creates one; a request
  addressed to the gateway itself (the targeted request) always creates or overrides its entry;
- an unsolicited neighbour advertisement overrides an IPv6 entry only with the override flag set.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import struct
import time

from ansible_collections.layer2.linux.plugins.module_utils._rtnl import ARPHRD_ETHER, Rtnl

ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
ETH_P_IPV4 = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23  # Linux 4.20+
SO_RCVBUFFORCE = 33
ARP_REQUEST = 1
ARP_REPLY = 2
ICMPV6 = 58
NDP_SOLICITATION = 135
NDP_ADVERTISEMENT = 136
NA_FLAG_ROUTER = 0x80000000
NA_FLAG_SOLICITED = 0x40000000
NA_FLAG_OVERRIDE = 0x20000000
BROADCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"
ALL_NODES = "ff02::1"
MIN_FRAME = 60  # Ethernet minimum without the FCS; the kernel does not pad frames sent on a packet socket
ARP_HEADER = struct.Struct("!HHBBH6s4s6s4s")  # htype ptype hlen plen op sha spa tha tpa
ARP_ETHERNET_IPV4 = (1, ETH_P_IPV4, 6, 4)  # htype ptype hlen plen of the only ARP spoken here
RAW_BROADCAST = b"\xff" * 6

MODES = ("request", "reply", "both")


# -- addresses -------------------------------------------------------------------------------
def mac_bytes(mac: str) -> bytes:
    parts = mac.replace("-", ":").split(":")
    if len(parts) != 6:
        raise ValueError(f"{mac!r} is not a MAC address (six colon-separated bytes)")
    return bytes(int(p, 16) for p in parts)


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def solicited_node(address: str) -> str:
    """The solicited-node multicast group of an IPv6 address (ff02::1:ffXX:XXXX)."""
    low = ipaddress.IPv6Address(address).packed[-3:]
    return str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + low))


def multicast_mac(group: str) -> str:
    """The Ethernet destination of an IPv6 multicast group (33:33 + the group's last 32 bits)."""
    return mac_text(b"\x33\x33" + ipaddress.IPv6Address(group).packed[-4:])


# -- building --------------------------------------------------------------------------------
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


# -- parsing ---------------------------------------------------------------------------------
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


def parse_reply(frame: bytes) -> tuple | None:
    """(sender_mac, sender_ip, target_ip) of an Ethernet/IPv4 ARP reply, as raw bytes (the scan's fast path); None for anything else."""
    fields = _arp_fields(frame, 14) if frame[12:14] == b"\x08\x06" else None
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


# -- what to send ----------------------------------------------------------------------------
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


# -- the wire --------------------------------------------------------------------------------
def packet_socket(ifname: str, protocol: int = 0, ignore_outgoing: bool = False, receive_buffer: int = 0) -> socket.socket:
    """An AF_PACKET raw socket bound to one interface, receiving frames of `protocol` (0: none, it only sends).

    ignore_outgoing: the kernel stops handing back our own frames (Linux 4.20+; readers still drop PACKET_OUTGOING for older ones).
    receive_buffer: bytes for frames that arrive while we are busy sending (SO_RCVBUFFORCE as root, else SO_RCVBUF).
    """
    # Created with no protocol and given one by bind: frames of other interfaces never reach it, and the kernel does
    # not have to unhook an all-interface socket on bind (which waits for an RCU grace period, ~7 ms).
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        sock.bind((ifname, protocol))
    except OSError:
        sock.close()
        raise
    if ignore_outgoing:
        try:
            sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass
    if receive_buffer:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, receive_buffer)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    return sock


class RawLink:
    """An AF_PACKET socket on one interface: send whole frames, read ARP and NDP frames others send."""

    def __init__(self, ifname: str, listen: bool = False):
        self.ifname = ifname
        self.sock = packet_socket(ifname, ETH_P_ALL if listen else 0)

    def __enter__(self) -> RawLink:
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()

    def send(self, frame: bytes) -> float:
        self.sock.send(frame)
        return time.time()

    def receive(self, deadline: float):
        """Yield (time, parsed frame) for ARP/NDP frames received (not our own outgoing ones) until the monotonic deadline."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return
            frame, addr = self.sock.recvfrom(2048)
            if addr[2] == PACKET_OUTGOING:
                continue
            parsed = parse_frame(frame)
            if parsed is not None:
                yield time.time(), parsed


def send_burst(ifname: str, frames: list[bytes], count: int, interval: float) -> list[dict]:
    """Send each frame `count` times, rounds `interval` seconds apart; return what went out and when."""
    sent = []
    with RawLink(ifname) as link:
        for round_no in range(count):
            if round_no:
                time.sleep(interval)
            for frame in frames:
                sent.append(dict(describe(frame), round=round_no + 1, time=link.send(frame)))
    return sent


def probe(ifname: str, mac: str, target: str, source: str | None = None, count: int = 3, interval: float = 0.2,
          wait: float = 0.5, collect_all: bool = False) -> list[dict]:
    """Ask who holds `target`, `count` times `interval` apart; return every distinct answering MAC.

    Stops at the first answer unless `collect_all` (duplicate detection listens through every probe and `wait` after).
    """
    frame = probe_frame(mac, target, source)
    answers: dict[str, dict] = {}
    with RawLink(ifname, listen=True) as link:
        for round_no in range(count):
            link.send(frame)
            deadline = time.monotonic() + (interval if round_no < count - 1 else wait)
            for when, parsed in link.receive(deadline):
                if is_answer(parsed, target):
                    mac_seen = parsed.get("lladdr") or parsed.get("sender_mac") or parsed["src_mac"]
                    answers.setdefault(mac_seen, {"mac": mac_seen, "ip": target, "time": when, "kind": parsed["kind"]})
                    if not collect_all:
                        return list(answers.values())
    return list(answers.values())


# -- this host's links and addresses, without pyroute2 (its import alone costs 0.1-0.25 s) ----------
def local_links() -> dict[str, dict]:
    """Every interface of this namespace by name: index, MAC (None unless Ethernet) and whether it is up."""
    with Rtnl() as nl:
        found = nl.links_by_name()
    return {name: {"name": name, "index": link["index"], "mac": link["mac"] if link["link_type"] == ARPHRD_ETHER else None, "up": link["up"]}
            for name, link in found.items()}


def address_holder(address: str) -> str | None:
    """The interface holding `address` (one RTM_GETADDR dump over rtnetlink), or None."""
    wanted = ipaddress.ip_address(address)
    with Rtnl() as nl:
        held = nl.addresses()
    for entry in held:
        if ipaddress.ip_interface(entry["cidr"]).ip == wanted:
            return socket.if_indextoname(entry["index"])
    return None


# -- what the modules ask for ----------------------------------------------------------------
class ArpError(Exception):
    """A request the modules refuse, worded for the user."""


def plain_address(text: str, what: str = "address") -> str:
    """`192.0.2.100/24` or `192.0.2.100` -> `192.0.2.100`; anything else is refused in words."""
    try:
        return str(ipaddress.ip_interface(str(text).strip()).ip)
    except ValueError:
        raise ArpError(f"{what} {text!r} is not an IPv4 or IPv6 address") from None


def _check_numbers(count: int, interval: float) -> None:
    if not 1 <= count <= 100:
        raise ArpError(f"count {count} is out of range 1-100")
    if not 0 <= interval <= 10:
        raise ArpError(f"interval {interval} is out of range 0-10 seconds")


def _usable_link(all_links: dict, name: str) -> dict:
    if name not in all_links:
        raise ArpError(f"interface {name!r} does not exist on this host (it has {', '.join(sorted(all_links))})")
    link = all_links[name]
    if not link["up"]:
        raise ArpError(f"interface {name} is down; bring it up before announcing on it")
    if not link["mac"] or link["mac"] == ZERO_MAC or len(link["mac"].split(":")) != 6:
        raise ArpError(f"interface {name} has no Ethernet address, so ARP and neighbour discovery do not apply")
    return link


def _announcing_link(address: str, interface: str | None, force: bool) -> dict:
    all_links = local_links()
    if interface:
        _usable_link(all_links, interface)
    owner = address_holder(address)
    if owner is None and not force:
        raise ArpError(
            f"this host does not hold {address} on any interface; announcing an address another host holds diverts its traffic "
            f"(ARP poisoning). Add the address first (layer2.linux.ip_address), or set force: true if this is intended"
        )
    if owner is not None and interface and owner != interface and not force:
        raise ArpError(f"{address} is on {owner}, not on {interface}; leave interface out or name {owner} (or set force: true)")
    if owner is None and not interface:
        raise ArpError(f"no interface holds {address}, so with force: true the interface to announce on must be given")
    return _usable_link(all_links, interface or owner)


def announce(params: dict, check_mode: bool = False) -> dict:
    """The gratuitous_arp module: validate, find the interface and MAC, send the burst (or list it in check mode)."""
    address = plain_address(params["address"])
    gateway = plain_address(params["gateway"], "gateway") if params.get("gateway") else None
    if gateway and is_ipv6(gateway) != is_ipv6(address):
        raise ArpError(f"gateway {gateway} and address {address} are not the same IP version")
    mode = params.get("mode") or "both"
    if mode not in MODES:
        raise ArpError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    count, interval = params.get("count", 3), params.get("interval", 0.2)
    _check_numbers(count, interval)
    link = _announcing_link(address, params.get("interface"), params.get("force", False))
    frames = announcement(link["mac"], address, mode, None if is_ipv6(address) else gateway)
    if check_mode:
        planned = [dict(describe(f), round=r + 1, time=None) for r in range(count) for f in frames]
        return {"address": address, "interface": link["name"], "mac": link["mac"], "frames": planned, "sent": 0}
    try:
        sent = send_burst(link["name"], frames, count, interval)
    except OSError as exc:
        raise ArpError(f"sending on {link['name']} failed: {exc.strerror or exc}") from None
    return {"address": address, "interface": link["name"], "mac": link["mac"], "frames": sent, "sent": len(sent)}


def _probing_link(target: str, interface: str | None) -> tuple[dict, str | None]:
    """The interface towards `target` (from the routing table unless given) and the source address the kernel would pick."""
    all_links = local_links()
    with Rtnl() as nl:
        route = nl.route_get(target)
    by_index = {link["index"]: link for link in all_links.values()}
    routed = by_index.get(route["oif"]) if route is not None else None
    if interface is None:
        if routed is None or routed["name"] == "lo":
            raise ArpError(f"cannot tell which interface leads to {target} (no route, or it is local); give interface")
        interface = routed["name"]
    source = route["prefsrc"] if routed is not None and routed["name"] == interface else None
    return _usable_link(all_links, interface), source


def probe_target(params: dict) -> dict:
    """The arp_probe module: ask who holds an address and report every MAC that answers; changes nothing."""
    target = plain_address(params["address"])
    dad = params.get("dad", False)
    count, interval, wait = params.get("count", 3), params.get("interval", 0.2), params.get("wait", 0.5)
    _check_numbers(count, interval)
    if not 0 <= wait <= 30:
        raise ArpError(f"wait {wait} is out of range 0-30 seconds")
    link, routed_source = _probing_link(target, params.get("interface"))
    source = None
    if not dad:
        source = plain_address(params["source"], "source") if params.get("source") else routed_source
        if source and is_ipv6(source) != is_ipv6(target):
            raise ArpError(f"source {source} and address {target} are not the same IP version")
    try:
        answers = probe(link["name"], link["mac"], target, source, count, interval, wait, collect_all=dad)
    except OSError as exc:
        raise ArpError(f"probing on {link['name']} failed: {exc.strerror or exc}") from None
    return {
        "address": target,
        "interface": link["name"],
        "source": source or ("::" if is_ipv6(target) else "0.0.0.0"),
        "answered": bool(answers),
        "answers": answers,
        "macs": sorted({a["mac"] for a in answers}),
    }
