# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan engine's logic, without root: targets, frames, resolution, and a scan against a LAN simulated over a socketpair."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import threading
import time

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _scan
from ansible_collections.layer2.linux.plugins.module_utils._scan import ArpScan, ScanError, build_request, parse_reply, plan_targets, resolve

ME_MAC, ME_IP = "02:00:5e:00:00:01", "192.0.2.1"


def net(text):
    return ipaddress.IPv4Network(text)


# -- targets ------------------------------------------------------------------------------------------------------------------

def test_targets_skip_own_excluded_and_duplicates():
    targets = plan_targets([net("192.0.2.0/29"), net("192.0.2.4/30")], exclude=["192.0.2.3", "192.0.2.6/31"], own=["192.0.2.1"])
    assert [str(t) for t in targets] == ["192.0.2.2", "192.0.2.4", "192.0.2.5"]


def test_small_networks_are_their_own_addresses():
    assert [str(t) for t in plan_targets([net("192.0.2.8/31"), net("192.0.2.20/32")])] == ["192.0.2.8", "192.0.2.9", "192.0.2.20"]


def test_networks_beyond_a_slash_16_need_permission():
    with pytest.raises(ScanError, match="more than a /16"):
        plan_targets([net("10.0.0.0/15")])
    assert len(plan_targets([net("10.0.0.0/15")], allow_large=True)) == 2**17 - 2


@pytest.mark.parametrize("text", ["192.0.2.0/33", "2001:db8::/64", "banana", ""])
def test_bad_networks_are_named(text):
    with pytest.raises(ScanError, match="is not an IPv4 network in CIDR form"):
        _scan.parse_network(text)


# -- frames -------------------------------------------------------------------------------------------------------------------

def reply(sha: str, spa: str, tha: str = ME_MAC, tpa: str = ME_IP, op: int = 2) -> bytes:
    mac = _scan.mac_bytes
    return (mac(tha) + mac(sha) + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac(sha) + socket.inet_aton(spa)
            + mac(tha) + socket.inet_aton(tpa) + b"\x00" * 18)


def test_a_request_is_a_broadcast_who_has():
    frame = build_request(_scan.mac_bytes(ME_MAC), socket.inet_aton(ME_IP), socket.inet_aton("192.0.2.9"))
    assert frame[:6] == b"\xff" * 6 and frame[6:12] == _scan.mac_bytes(ME_MAC) and frame[12:14] == b"\x08\x06"
    assert struct.unpack("!H", frame[20:22]) == (1,) and frame[28:32] == socket.inet_aton(ME_IP) and frame[38:42] == socket.inet_aton("192.0.2.9")
    assert len(frame) == 42


def test_only_ipv4_arp_replies_parse():
    expected = (_scan.mac_bytes("b8:27:eb:00:00:02"), socket.inet_aton("192.0.2.2"), socket.inet_aton(ME_IP))
    assert parse_reply(reply("b8:27:eb:00:00:02", "192.0.2.2")) == expected
    assert parse_reply(reply("b8:27:eb:00:00:02", "192.0.2.2", op=1)) is None
    assert parse_reply(b"\x00" * 20) is None
    assert parse_reply(reply("b8:27:eb:00:00:02", "192.0.2.2")[:12] + b"\x08\x00" + b"\x00" * 40) is None


# -- a scan against a simulated LAN ---------------------------------------------------------------------------------------------

class FakeLan(threading.Thread):
    """The far end of a socketpair: answers requests as the hosts given (ip -> [(mac, delay)]), and logs every request."""

    def __init__(self, sock, hosts, extra_replies=(), lose_first=()):
        super().__init__(daemon=True)
        self.sock, self.hosts, self.extra = sock, hosts, list(extra_replies)
        self.lose_first = set(lose_first)  # addresses whose first request is lost on the way (a lossy Wi-Fi link)
        self.requests: list[str] = []
        self.stop = False

    def run(self):
        pending = []
        self.sock.settimeout(0.005)
        while not self.stop:
            try:
                frame = self.sock.recv(128)
                ip = socket.inet_ntoa(frame[38:42])
                self.requests.append(ip)
                if ip in self.lose_first and self.requests.count(ip) == 1:
                    continue
                for mac, delay in self.hosts.get(ip, []):
                    pending.append((time.monotonic() + delay, reply(mac, ip)))
                pending += [(time.monotonic(), frame) for frame in self.extra]
                self.extra = []
            except TimeoutError:
                pass
            now = time.monotonic()
            for due, frame in [p for p in pending if p[0] <= now]:
                self.sock.send(frame)
                pending.remove((due, frame))


@contextlib.contextmanager
def fake_lan(hosts, extra_replies=(), lose_first=()):
    """The engine's end of a socketpair, and the FakeLan answering at the other end."""
    engine_end, lan_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    engine_end.setblocking(False)
    lan = FakeLan(lan_end, hosts, extra_replies, lose_first)
    lan.start()
    try:
        yield engine_end, lan
    finally:
        lan.stop = True
        lan.join()
        engine_end.close()
        lan_end.close()


def fake_engine(sock, targets, **options) -> ArpScan:
    return ArpScan("eth0", ME_MAC, ME_IP, [ipaddress.IPv4Address(t) for t in targets], sock=sock, **options)


def scan_fake(hosts, targets, extra_replies=(), lose_first=(), **options):
    with fake_lan(hosts, extra_replies, lose_first) as (sock, lan):
        return fake_engine(sock, targets, **options).run(), lan.requests


def test_silent_addresses_are_retried_and_answered_ones_are_not():
    result, requests = scan_fake({"192.0.2.2": [("b8:27:eb:00:00:02", 0)]}, ["192.0.2.2", "192.0.2.3"], retries=2, timeout=0.2)
    assert [(r.ip, r.mac) for r in result.replies] == [("192.0.2.2", "b8:27:eb:00:00:02")]
    assert requests.count("192.0.2.2") == 1 and requests.count("192.0.2.3") == 3
    assert result.sent == 4 and result.asked == 2


def test_every_address_is_asked_once_before_any_is_asked_again():
    targets = [f"192.0.2.{n}" for n in range(10, 40)]  # at 200/s the pass (0.15 s) outlasts retry_interval (0.1 s)
    requests = scan_fake({}, targets, rate=200, retries=1, timeout=0.1)[1]
    assert requests[:30] == targets and sorted(requests[30:]) == sorted(targets)


def test_the_callers_slow_work_waits_until_the_last_request_has_left():
    """after_sending reads the IEEE registry, 60 ms holding Python's lock: run while retries were still going out, it
    slowed a /20's retry pass by a tenth."""
    sent_when_called = []
    with fake_lan({}) as (sock, _lan):
        engine = fake_engine(sock, ["192.0.2.2", "192.0.2.3", "192.0.2.4"], retries=2, retry_interval=0.01, timeout=0.1,
                             after_sending=lambda: sent_when_called.append(engine.result.sent))
        engine.run()
    assert sent_when_called == [9]


def test_a_late_answer_is_caught_by_the_retries_and_missed_without():
    hosts = {"192.0.2.5": [("dc:a6:32:00:00:05", 0.2)]}
    hurried = scan_fake(hosts, ["192.0.2.5"], retries=0, timeout=0.05)[0]
    assert hurried.replies == []
    patient = scan_fake(hosts, ["192.0.2.5"], retries=2, timeout=0.1)[0]
    assert [r.ip for r in patient.replies] == ["192.0.2.5"] and patient.replies[0].rtt_ms >= 190


def test_a_lone_slow_host_is_found_within_the_timeout_however_fast_the_others():
    """A Wi-Fi Pi in power save answers 300 ms late while every other host answers at once: the timeout, not the
    speed of the others, decides (an engine that shortened its wait after fast answers missed it)."""
    hosts = {f"192.0.2.{n}": [(f"00:11:32:00:00:{n:02x}", 0)] for n in range(10, 30)}
    hosts["192.0.2.99"] = [("d8:3a:dd:00:00:99", 0.3)]
    targets = [f"192.0.2.{n}" for n in range(1, 120)]
    found = scan_fake(hosts, targets)[0]
    assert "192.0.2.99" in [r.ip for r in found.replies] and found.duration < 0.7
    hurried = scan_fake(hosts, targets, timeout=0.2)[0]
    assert "192.0.2.99" not in [r.ip for r in hurried.replies] and len(hurried.replies) == 20


def test_a_slow_host_whose_request_was_lost_is_found_by_a_late_retry_when_the_lan_is_slow():
    """Wi-Fi loses broadcasts and its Pis answer late. A retry that leaves at the end of a long scan is listened for
    as long as the slowest answer took, and RETRY_WAIT more (up to the timeout); on a fast LAN, RETRY_WAIT only."""
    targets = [f"192.0.2.{n}" for n in range(10, 70)]  # at 200/s: the first pass ends at 0.3 s, the retries at 0.58 s
    fast = {f"192.0.2.{n}": [(f"00:11:32:00:00:{n:02x}", 0)] for n in range(10, 13)}
    lossy = {"192.0.2.69": [("e4:5f:01:00:00:69", 0.3)]}  # retried last, answers the retry 0.3 s later
    slow_peers = {f"192.0.2.{n}": [(f"d8:3a:dd:00:00:{n:02x}", 0.3)] for n in (13, 14)}
    on_slow_lan = scan_fake(dict(fast, **lossy, **slow_peers), targets, lose_first=lossy, rate=200)[0]
    assert "192.0.2.69" in [r.ip for r in on_slow_lan.replies]
    on_fast_lan = scan_fake(dict(fast, **lossy), targets, lose_first=lossy, rate=200)[0]
    assert "192.0.2.69" not in [r.ip for r in on_fast_lan.replies], "nothing slow seen: 0.15 s after the last retry"
    assert on_fast_lan.duration < on_slow_lan.duration - 0.15


def test_two_macs_for_one_address_are_a_conflict():
    result = scan_fake({"192.0.2.7": [("b8:27:eb:00:00:07", 0), ("00:11:32:00:00:07", 0.01)]}, ["192.0.2.7"], timeout=0.2)[0]
    assert result.conflicts() == [{"ip": "192.0.2.7", "macs": ["b8:27:eb:00:00:07", "00:11:32:00:00:07"]}]


def test_replies_nobody_asked_for_are_ignored():
    unasked = [reply("b8:27:eb:00:00:09", "198.51.100.9"), reply("b8:27:eb:00:00:03", "192.0.2.3", tpa="192.0.2.99")]
    result = scan_fake({}, ["192.0.2.3"], extra_replies=unasked, retries=0, timeout=0.2)[0]
    assert result.replies == []


def test_the_rate_bounds_the_sending():
    result, requests = scan_fake({}, [f"192.0.2.{n}" for n in range(2, 22)], retries=0, timeout=0.01, rate=100)
    assert len(requests) == 20 and result.duration >= 0.19


@pytest.mark.parametrize("options, message", [({"rate": 0}, "rate 0"), ({"rate": 100001}, "outside 1-100000"), ({"retries": -1}, "retries"),
                                              ({"timeout": 0}, "timeout")])
def test_engine_refuses_bad_settings(options, message):
    with pytest.raises(ScanError, match=message):
        ArpScan("eth0", ME_MAC, ME_IP, [], **options)


# -- which interface ----------------------------------------------------------------------------------------------------------

LINKS = {"lo": {"index": 1, "mac": "00:00:00:00:00:00", "up": True}, "eth0": {"index": 2, "mac": ME_MAC, "up": True},
         "eth1": {"index": 3, "mac": "02:00:5e:00:00:02", "up": False}}
ADDRESSES = [{"cidr": "127.0.0.1/8", "family": "ipv4", "index": 1}, {"cidr": "192.0.2.1/24", "family": "ipv4", "index": 2},
             {"cidr": "2001:db8::1/64", "family": "ipv6", "index": 2}, {"cidr": "198.51.100.1/24", "family": "ipv4", "index": 3}]


def test_an_interface_scans_its_own_networks():
    [plan] = resolve(LINKS, ADDRESSES, interface="eth0")
    assert (plan.interface, plan.mac, plan.source, [str(n) for n in plan.networks]) == ("eth0", ME_MAC, "192.0.2.1", ["192.0.2.0/24"])


def test_a_network_finds_its_interface():
    [plan] = resolve(LINKS, ADDRESSES, networks=["192.0.2.128/25"])
    assert (plan.interface, plan.source) == ("eth0", "192.0.2.1")


@pytest.mark.parametrize("kwargs, message", [
    ({"interface": "eth7"}, "there is no interface 'eth7'"),
    ({"interface": "lo"}, "ARP needs an Ethernet interface"),
    ({"interface": "eth1"}, "administratively down"),
    ({"interface": "eth0", "networks": ["203.0.113.0/24"]}, "eth0 has no address in 203.0.113.0/24: give source_address"),
    ({"networks": ["203.0.113.0/24"]}, "no interface of this host has an address in 203.0.113.0/24"),
    ({"interface": "eth0", "source_address": "300.1.1.1"}, "is not an IPv4 address"),
])
def test_resolution_refuses_clearly(kwargs, message):
    with pytest.raises(ScanError, match=message):
        resolve(LINKS, ADDRESSES, **kwargs)


def test_a_source_address_allows_a_foreign_network():
    [plan] = resolve(LINKS, ADDRESSES, networks=["203.0.113.0/24"], interface="eth0", source_address="203.0.113.250")
    assert plan.source == "203.0.113.250"
