# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host names for addresses: mDNS reverse (PTR) queries on one interface, and the system's reverse DNS as a fallback.

Every query leaves at once from one UDP socket bound to the scanning interface (so nothing goes out any other
interface), to 224.0.0.251 for an IPv4 address and to ff02::fb on the interface for a link-local IPv6 address, port
5353, with the unicast-response bit set (RFC 6762 section 5.4). The socket's port is not 5353, so a responder treats
it as a legacy unicast query and answers to it directly (section 6.7): avahi-daemon on Raspberry Pi OS publishes
the reverse names of its addresses. The answers are read for `timeout` seconds at most, or until every address has
one.
The fallback asks the system's resolver (socket.gethostbyaddr: /etc/hosts, then DNS) for the IPv4 addresses, in
daemon threads started with the queries; it is a callable given by the caller, so a lab can give its own or none.
"""

from __future__ import annotations

import ipaddress
import itertools
import queue
import select
import socket
import struct
import threading
import time

MDNS_PORT = 5353
MDNS_IPV4 = "224.0.0.251"
MDNS_IPV6 = "ff02::fb"
TYPE_PTR, CLASS_IN = 12, 1
UNICAST_RESPONSE = 0x8000  # the top bit of a question's class
HEADER = struct.Struct("!HHHHHH")  # id, flags, questions, answers, authority, additional
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
FALLBACK_THREADS = 16


def reverse_name(address: str) -> str:
    """d.c.b.a.in-addr.arpa for IPv4, the nibble ip6.arpa name for IPv6 (a zone after % is ignored)."""
    return ipaddress.ip_address(str(address).split("%", 1)[0]).reverse_pointer


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def ptr_query(ident: int, name: str) -> bytes:
    """One question: PTR of `name`, class IN with the unicast-response bit."""
    return HEADER.pack(ident, 0, 1, 0, 0, 0) + encode_name(name) + struct.pack("!HH", TYPE_PTR, CLASS_IN | UNICAST_RESPONSE)


def _read_name(packet: bytes, offset: int) -> tuple[str, int]:
    """A (possibly compressed) name at offset: (name, the offset after it in the record)."""
    labels, end, jumps = [], None, 0
    while True:
        length = packet[offset]
        if length & 0xC0 == 0xC0:
            if jumps > 20:
                raise ValueError("compression loop")
            jumps += 1
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | packet[offset + 1]
            continue
        offset += 1
        if length == 0:
            return ".".join(labels), end if end is not None else offset
        labels.append(packet[offset:offset + length].decode("utf-8", "replace"))
        offset += length


def ptr_answers(packet: bytes) -> dict[str, str]:
    """{owner name: PTR target} of every PTR record in a response's answer and additional sections (lower-case owners)."""
    found: dict[str, str] = {}
    try:
        _ident, flags, questions, answers, authority, additional = HEADER.unpack_from(packet)
        if not flags & 0x8000:  # a query, not a response
            return {}
        offset = HEADER.size
        for _question in range(questions):
            offset = _read_name(packet, offset)[1] + 4
        for _record in range(answers + authority + additional):
            owner, offset = _read_name(packet, offset)
            kind, _klass, _ttl, length = struct.unpack_from("!HHIH", packet, offset)
            offset += 10
            if kind == TYPE_PTR:
                found.setdefault(owner.lower(), _read_name(packet, offset)[0])
            offset += length
    except (IndexError, ValueError, struct.error):
        pass  # a truncated or malformed packet: keep what was read
    return found


def system_reverse_dns(address: str) -> str | None:
    """The system resolver's name for an address (/etc/hosts, then DNS, as nsswitch says), or None."""
    try:
        return socket.gethostbyaddr(address)[0]
    except (OSError, UnicodeError):
        return None


def _fallback_in_background(addresses: list[str], resolver) -> dict[str, str | None]:
    """Start resolving every address in daemon threads (a slow resolver never holds the caller); the dict fills as they answer."""
    results: dict[str, str | None] = {}
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for address in addresses:
        todo.put(address)

    def work():
        while True:
            try:
                address = todo.get_nowait()
            except queue.Empty:
                return
            results[address] = resolver(address)

    for _thread in range(min(FALLBACK_THREADS, len(addresses))):
        threading.Thread(target=work, daemon=True).start()
    return results


def open_socket(interface: str) -> socket.socket:
    """One UDP socket for both families, bound to the interface: IPv4 queries go to the mapped 224.0.0.251."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode())
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        sock.bind(("::", 0))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def destination(address: str, ifindex: int) -> tuple:
    if ipaddress.ip_address(str(address).split("%", 1)[0]).version == 4:
        return ("::ffff:" + MDNS_IPV4, MDNS_PORT, 0, 0)
    return (MDNS_IPV6, MDNS_PORT, 0, ifindex)


def resolve_names(interface: str, addresses: list[str], timeout: float, resolver=system_reverse_dns, sock=None, clock=time.monotonic) -> dict[str, str]:
    """{address: host name} for the addresses that have one: mDNS first, the resolver's answer for IPv4 addresses mDNS
    did not name (resolver None: no fallback). Takes `timeout` seconds at most."""
    if not addresses:
        return {}
    start = clock()
    fallback = _fallback_in_background([a for a in addresses if ":" not in a], resolver) if resolver else {}
    by_name = {reverse_name(a): a for a in addresses}
    own = sock is None
    try:
        sock = open_socket(interface) if own else sock
    except OSError:
        sock = None  # no mDNS (no IPv6 on the interface, no privilege): the fallback still answers
    named: dict[str, str] = {}
    try:
        if sock is not None:
            ifindex = socket.if_nametoindex(interface) if own else 0
            for ident, address in zip(itertools.count(1), addresses):
                try:
                    sock.sendto(ptr_query(ident, reverse_name(address)), destination(address, ifindex))
                except OSError:
                    continue  # e.g. no IPv4 address to ask from: that address goes unnamed by mDNS
            _collect(sock, by_name, named, start + timeout, clock)
        else:
            _sleep_until(start + timeout, lambda: len(fallback) == len([a for a in addresses if ":" not in a]), clock)
    finally:
        if own and sock is not None:
            sock.close()
    for address in addresses:
        if address not in named and fallback.get(address):
            named[address] = fallback[address]
    return named


def _collect(sock, by_name: dict[str, str], named: dict[str, str], deadline: float, clock) -> None:
    while len(named) < len(by_name):
        left = deadline - clock()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return
        while True:
            try:
                packet = sock.recv(9000)
            except (BlockingIOError, InterruptedError):
                break
            for owner, target in ptr_answers(packet).items():
                address = by_name.get(owner)
                if address is not None and address not in named:
                    named[address] = target.rstrip(".")


def _sleep_until(deadline: float, done, clock) -> None:
    while not done() and clock() < deadline:
        time.sleep(0.01)
