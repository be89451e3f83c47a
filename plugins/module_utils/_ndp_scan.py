# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv6 link-local discovery: one ICMPv6 echo request to ff02::1 on an interface, and who answered it, with the MAC
each answer came from (read from the Ethernet header, so no neighbour table is needed or changed).

Every IPv6 host on the link has a link-local address and Linux answers an echo to all nodes unless
net.ipv6.icmp.echo_ignore_multicast is set, so this finds hosts that have no IPv4 address at all.
A link-local address made by modified EUI-64 carries its owner's MAC (RFC 4291 appendix A): eui64_mac() reads it back,
so a Pi is told by its address even when a bridge or a proxy answered for it from another MAC.
"""

from __future__ import annotations

import ipaddress
import os
import select
import struct
import time
from dataclasses import dataclass

from ansible_collections.layer2.linux.plugins.module_utils._arp_frame import ALL_NODES, ETH_P_IPV6, ICMPV6, _icmpv6_frame, multicast_mac
from ansible_collections.layer2.linux.plugins.module_utils._arp_socket import packet_socket, pending_frames
from ansible_collections.layer2.linux.plugins.module_utils._iface import mac_text

ECHO_REQUEST, ECHO_REPLY = 128, 129
IFA_F_TENTATIVE, IFA_F_DADFAILED = 0x40, 0x08
LINK_LOCAL = ipaddress.IPv6Network("fe80::/10")
PAYLOAD = b"layer2.linux pi_discover"
IPV6_HEADER = 40


class EchoError(Exception):
    """IPv6 discovery that cannot be done as asked; the message says why."""


@dataclass
class EchoReply:
    address: str  # the link-local address that answered, without a zone
    mac: str  # the Ethernet source of the answer
    rtt_ms: float


def echo_request(src_mac: str, src_ip: str, ident: int, seq: int = 1) -> bytes:
    """An ICMPv6 echo request from our link-local address to all nodes (ff02::1), as a whole Ethernet frame."""
    message = struct.pack("!BBHHH", ECHO_REQUEST, 0, 0, ident, seq) + PAYLOAD
    return _icmpv6_frame(src_mac, multicast_mac(ALL_NODES), src_ip, ALL_NODES, message)


def parse_echo_reply(frame: bytes, ident: int) -> tuple[str, str] | None:
    """(source MAC, source IPv6 address) of an echo reply to our identifier from a link-local address; None for anything else."""
    if len(frame) < 14 + IPV6_HEADER + 8 or frame[12:14] != b"\x86\xdd":
        return None
    ip = frame[14:]
    if ip[0] >> 4 != 6 or ip[6] != ICMPV6:
        return None
    kind, _code, _sum, reply_ident = struct.unpack_from("!BBHH", ip, IPV6_HEADER)
    source = ipaddress.IPv6Address(ip[8:24])
    if kind != ECHO_REPLY or reply_ident != ident or source not in LINK_LOCAL:
        return None
    return mac_text(frame[6:12]), str(source)


def eui64_mac(address: str) -> str | None:
    """The MAC a modified-EUI-64 interface identifier was made from (ff:fe in its middle, the U/L bit flipped back); else None."""
    iid = ipaddress.IPv6Address(str(address).split("%", 1)[0]).packed[8:]
    if iid[3:5] != b"\xff\xfe":
        return None
    return mac_text(bytes([iid[0] ^ 0x02]) + iid[1:3] + iid[5:8])


def link_local_of(addresses: list[dict], index: int) -> str | None:
    """The interface's usable link-local address (not tentative, not failed) from an _rtnl address dump, or None."""
    for entry in addresses:
        if entry["family"] != "ipv6" or entry["index"] != index or entry.get("flags", 0) & (IFA_F_TENTATIVE | IFA_F_DADFAILED):
            continue
        address = ipaddress.IPv6Interface(entry["cidr"]).ip
        if address in LINK_LOCAL:
            return str(address)
    return None


def _wait_readable(sock, seconds: float) -> None:
    select.select([sock], [], [], seconds)


class EchoScan:
    """One echo request to all nodes on one interface, then `timeout` seconds of listening. The socket, clock and wait
    can be given (unit tests); by default an AF_PACKET socket for IPv6 frames on the interface is opened here."""

    def __init__(self, interface: str, src_mac: str, src_ip: str, timeout: float, sock=None, clock=time.monotonic, wait=None, ident=None):
        self.interface, self.src_mac, self.src_ip, self.timeout = interface, src_mac, src_ip, timeout
        self.ident = (os.getpid() & 0xFFFF) if ident is None else ident
        self._sock, self._clock, self._wait = sock, clock, wait or _wait_readable

    def run(self) -> list[EchoReply]:
        own = self._sock is None
        try:
            sock = packet_socket(self.interface, ETH_P_IPV6, ignore_outgoing=True, receive_buffer=4 << 20) if own else self._sock
        except PermissionError:
            raise EchoError("sending raw ICMPv6 needs root or the CAP_NET_RAW capability") from None
        except OSError as exc:
            raise EchoError(f"cannot bind to interface {self.interface!r}: {exc.strerror}") from None
        try:
            if own:
                sock.setblocking(False)
            return self._ask(sock)
        finally:
            if own:
                sock.close()

    def _ask(self, sock) -> list[EchoReply]:
        try:
            sock.send(echo_request(self.src_mac, self.src_ip, self.ident))
        except OSError as exc:
            raise EchoError(f"sending the ICMPv6 echo request on {self.interface} failed: {exc.strerror}") from None
        start = self._clock()
        replies, seen = [], set()
        while True:
            now = self._clock()
            for frame in pending_frames(sock):
                parsed = parse_echo_reply(frame, self.ident)
                if parsed is not None and parsed not in seen:
                    seen.add(parsed)
                    replies.append(EchoReply(parsed[1], parsed[0], round(max(0.0, self._clock() - start) * 1000, 2)))
            left = start + self.timeout - now
            if left <= 0:
                return replies
            self._wait(sock, left)
