# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's slow responder asks the kernel for only the ARP requests it answers (its BPF filter, on a socketpair)."""

import ipaddress
import socket

from tests.lab import arp
from tests.lab.responders import only_requests_for

ME_MAC, ME_IP = "02:00:00:00:00:01", "192.0.2.1"


def test_only_requests_for_our_addresses_get_through():
    ours = [ipaddress.IPv4Address(a).packed for a in ("192.0.2.201", "192.0.2.202", "192.0.2.203")]
    sender, receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    with sender, receiver:
        only_requests_for(receiver, ours)
        for op, target in ((arp.ARP_REQUEST, "192.0.2.9"), (arp.ARP_REPLY, "192.0.2.202"), (arp.ARP_REQUEST, "192.0.2.203"),
                           (arp.ARP_REQUEST, "192.0.2.204"), (arp.ARP_REQUEST, "192.0.2.201")):
            sender.send(arp.request(ME_MAC, ME_IP, target, op=op))
        receiver.setblocking(False)
        got = []
        while True:
            try:
                got.append(arp.read(receiver.recv(128)))
            except BlockingIOError:
                break
    assert [(f.op, str(ipaddress.IPv4Address(f.target_ip))) for f in got] == [(arp.ARP_REQUEST, "192.0.2.203"), (arp.ARP_REQUEST, "192.0.2.201")]
