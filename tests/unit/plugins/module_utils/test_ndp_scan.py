# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv6 discovery: the echo request checked by scapy, replies parsed, EUI-64 MACs read back, the scan on a simulated link,
and the merge with the ARP results by MAC."""

from __future__ import annotations

import collections

import pytest
from ansible_collections.layer2.linux.plugins.module_utils._ndp_scan import EchoReply, EchoScan, echo_request, eui64_mac, link_local_of, parse_echo_reply
from ansible_collections.layer2.linux.plugins.module_utils._oui import OuiClassifier
from ansible_collections.layer2.linux.plugins.module_utils._scan import merge_echo

l2 = pytest.importorskip("scapy.layers.l2")
inet6 = pytest.importorskip("scapy.layers.inet6")

ME_MAC, ME_LL = "02:00:5e:00:00:01", "fe80::5eff:fe00:1"


def reply(mac, src, ident, dst=ME_LL, kind=None):
    icmp = inet6.ICMPv6EchoReply(id=ident, seq=1, data=b"x") if kind is None else kind
    return bytes(l2.Ether(src=mac, dst=ME_MAC) / inet6.IPv6(src=src, dst=dst) / icmp)


def test_scapy_reads_our_echo_request_to_all_nodes():
    frame = l2.Ether(echo_request(ME_MAC, ME_LL, 0x1234))
    assert (frame.dst, frame.src) == ("33:33:00:00:00:01", ME_MAC)
    assert (frame[inet6.IPv6].src, frame[inet6.IPv6].dst) == (ME_LL, "ff02::1")
    echo = frame[inet6.ICMPv6EchoRequest]
    assert (echo.id, echo.seq) == (0x1234, 1)
    checksum = echo.cksum
    del echo.cksum
    assert l2.Ether(bytes(frame))[inet6.ICMPv6EchoRequest].cksum == checksum, "scapy computes the same checksum"


def test_only_echo_replies_to_us_from_link_local_addresses_count():
    assert parse_echo_reply(reply("b8:27:eb:00:00:03", "fe80::ba27:ebff:fe00:3", 7), 7) == ("b8:27:eb:00:00:03", "fe80::ba27:ebff:fe00:3")
    assert parse_echo_reply(reply("b8:27:eb:00:00:03", "fe80::ba27:ebff:fe00:3", 8), 7) is None  # another ping's
    assert parse_echo_reply(reply("b8:27:eb:00:00:03", "2001:db8::3", 7), 7) is None
    assert parse_echo_reply(reply("b8:27:eb:00:00:03", "fe80::3", 7, kind=inet6.ICMPv6EchoRequest(id=7)), 7) is None
    assert parse_echo_reply(b"\x00" * 30, 7) is None


@pytest.mark.parametrize("address, mac", [("fe80::ba27:ebff:fe00:3", "b8:27:eb:00:00:03"), ("fe80::8aa2:9eff:fe12:3456%eth0", "88:a2:9e:12:34:56"),
                                          ("fe80::5eff:fe00:1", "02:00:5e:00:00:01"), ("fe80::1c2b:3a4d:5e6f:7081", None)])
def test_eui64_link_locals_give_their_mac_back(address, mac):
    assert eui64_mac(address) == mac


def test_a_usable_link_local_is_neither_tentative_nor_failed():
    dump = [{"family": "ipv6", "index": 2, "cidr": "fe80::1/64", "flags": 0x40}, {"family": "ipv6", "index": 2, "cidr": "2001:db8::1/64", "flags": 0},
            {"family": "ipv6", "index": 3, "cidr": "fe80::3/64", "flags": 0}, {"family": "ipv4", "index": 2, "cidr": "192.0.2.1/24", "flags": 0}]
    assert link_local_of(dump, 2) is None
    assert link_local_of(dump, 3) == "fe80::3"


class SimulatedLink:
    """The echo's world: every host answers the request after its delay (simulated seconds), once, some twice."""

    def __init__(self, hosts):
        self.now, self.hosts, self.sent, self.inbox = 50.0, hosts, [], collections.deque()

    def clock(self):
        return self.now

    def send(self, frame):
        self.sent.append(frame)
        ident = l2.Ether(frame)[inet6.ICMPv6EchoRequest].id
        for mac, address, delay in self.hosts:
            self.inbox.append((self.now + delay, reply(mac, address, ident)))
        return len(frame)

    def recvfrom(self, _size):
        if self.inbox and self.inbox[0][0] <= self.now:
            return self.inbox.popleft()[1], ("eth0", 0x86DD, 0)
        raise BlockingIOError

    def wait(self, _sock, seconds):
        self.now = min(self.now + seconds, self.inbox[0][0]) if self.inbox else self.now + seconds


def test_one_request_and_every_answer_within_the_timeout():
    link = SimulatedLink([("b8:27:eb:00:00:03", "fe80::ba27:ebff:fe00:3", 0.001), ("b8:27:eb:00:00:03", "fe80::ba27:ebff:fe00:3", 0.002),
                          ("00:1b:21:00:00:04", "fe80::4", 0.3), ("2c:cf:67:00:00:05", "fe80::5", 0.7)])
    replies = EchoScan("eth0", ME_MAC, ME_LL, 0.5, sock=link, clock=link.clock, wait=link.wait, ident=9).run()
    assert len(link.sent) == 1
    assert [(r.mac, r.address) for r in replies] == [("b8:27:eb:00:00:03", "fe80::ba27:ebff:fe00:3"), ("00:1b:21:00:00:04", "fe80::4")]
    assert replies[1].rtt_ms == pytest.approx(300)
    assert link.now == pytest.approx(50.5)


def arp_host(ip, mac):
    return {"ip": ip, "mac": mac, "vendor": None, "is_raspberry_pi": mac.startswith("b8:27:eb"), "rtt_ms": 1.0, "interface": "eth0",
            "ipv6_link_local": None, "hostname": None}


def test_echo_answers_merge_with_arp_hosts_by_mac():
    hosts = [arp_host("192.0.2.3", "b8:27:eb:00:00:03"), arp_host("192.0.2.9", "00:1b:21:00:00:09")]
    replies = [EchoReply("fe80::ba27:ebff:fe00:3", "b8:27:eb:00:00:03", 0.2), EchoReply("fe80::2ccf:67ff:fe00:5", "2c:cf:67:00:00:05", 0.3),
               EchoReply("fe80::8aa2:9eff:fe00:6", "00:1b:21:00:00:09", 0.3)]  # a bridge answering for a Pi from its own MAC
    merge_echo(hosts, replies, "eth0", OuiClassifier())
    by_mac = {h["mac"]: h for h in hosts}
    assert len(hosts) == 3
    assert by_mac["b8:27:eb:00:00:03"]["ipv6_link_local"] == "fe80::ba27:ebff:fe00:3%eth0" and by_mac["b8:27:eb:00:00:03"]["ip"] == "192.0.2.3"
    only6 = by_mac["2c:cf:67:00:00:05"]
    assert (only6["ip"], only6["ipv6_link_local"], only6["is_raspberry_pi"]) == (None, "fe80::2ccf:67ff:fe00:5%eth0", True)
    assert by_mac["00:1b:21:00:00:09"]["is_raspberry_pi"] is True, "its EUI-64 link-local carries a Pi's MAC"
