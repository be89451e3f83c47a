# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's slow responder asks the kernel for only the ARP requests it answers (its BPF filter, on a socketpair)."""

import ipaddress
import socket
import struct

from tests.lab.responders import ARP, only_requests_for


def arp_frame(op: int, target: str) -> bytes:
    mac = bytes.fromhex("020000000001")
    eth = b"\xff" * 6 + mac + b"\x08\x06"
    return eth + ARP.pack(1, 0x0800, 6, 4, op, mac, ipaddress.IPv4Address("192.0.2.1").packed, bytes(6), ipaddress.IPv4Address(target).packed)


def test_only_requests_for_our_addresses_get_through():
    ours = [ipaddress.IPv4Address(a).packed for a in ("192.0.2.201", "192.0.2.202", "192.0.2.203")]
    sender, receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    with sender, receiver:
        only_requests_for(receiver, ours)
        for op, target in ((1, "192.0.2.9"), (2, "192.0.2.202"), (1, "192.0.2.203"), (1, "192.0.2.204"), (1, "192.0.2.201")):
            sender.send(arp_frame(op, target))
        receiver.setblocking(False)
        got = []
        while True:
            try:
                got.append(receiver.recv(128))
            except BlockingIOError:
                break
    assert [(struct.unpack_from("!H", f, 20)[0], str(ipaddress.IPv4Address(f[38:42]))) for f in got] == [(1, "192.0.2.203"), (1, "192.0.2.201")]
