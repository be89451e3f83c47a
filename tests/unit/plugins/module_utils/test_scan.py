# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan engine's logic, without root: targets, frames, resolution, and scans against a LAN in simulated time."""

from __future__ import annotations

import collections
import heapq
import ipaddress
import itertools
import socket
import struct

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _scan
from ansible_collections.layer2.linux.plugins.module_utils._arp_frame import build_request, parse_reply
from ansible_collections.layer2.linux.plugins.module_utils._iface import ARPHRD_ETHER, mac_bytes
from ansible_collections.layer2.linux.plugins.module_utils._oui import OuiClassifier
from ansible_collections.layer2.linux.plugins.module_utils._scan import ArpScan, ScanError, check_bounds, plan_targets, resolve

from tests.lab import arp

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

def test_a_request_is_a_broadcast_who_has():
    frame = build_request(mac_bytes(ME_MAC), socket.inet_aton(ME_IP), socket.inet_aton("192.0.2.9"))
    assert frame[:6] == b"\xff" * 6 and frame[6:12] == mac_bytes(ME_MAC) and frame[12:14] == b"\x08\x06"
    assert struct.unpack("!H", frame[20:22]) == (1,) and frame[28:32] == socket.inet_aton(ME_IP) and frame[38:42] == socket.inet_aton("192.0.2.9")
    assert len(frame) == 42


def test_only_ipv4_arp_replies_parse():
    expected = (mac_bytes("b8:27:eb:00:00:02"), socket.inet_aton("192.0.2.2"), socket.inet_aton(ME_IP))
    assert parse_reply(arp.reply("b8:27:eb:00:00:02", "192.0.2.2", ME_MAC, ME_IP)) == expected
    assert parse_reply(arp.reply("b8:27:eb:00:00:02", "192.0.2.2", ME_MAC, ME_IP, op=arp.ARP_REQUEST)) is None
    assert parse_reply(b"\x00" * 20) is None
    assert parse_reply(arp.reply("b8:27:eb:00:00:02", "192.0.2.2", ME_MAC, ME_IP)[:12] + b"\x08\x00" + b"\x00" * 40) is None


# -- a scan against a LAN in simulated time -------------------------------------------------------------------------------------

TIMER_SLACK = 50e-6  # seconds: the least a select() with a timeout sleeps on Linux (the default timer slack)


class SimulatedLan:
    """The engine's world in simulated time: its clock, its socket and its wait. Hosts answer requests as given
    (ip -> [(mac, delay)]) `delay` simulated seconds later; every request is logged with the time it left. The engine
    then runs as fast as Python does, and the tests check its schedule, never a loaded machine's wall clock."""

    def __init__(self, hosts, extra_replies=(), lose_first=()):
        self.now = 1000.0  # a monotonic clock starts anywhere
        self.hosts, self.extra = hosts, list(extra_replies)
        self.lose_first = set(lose_first)  # addresses whose first request is lost on the way (a lossy Wi-Fi link)
        self.requests: list[str] = []
        self.sent_at: list[float] = []
        self._arriving: list[tuple[float, int, bytes]] = []  # a heap of (due, order, frame)
        self._order = itertools.count()
        self._inbox: collections.deque[bytes] = collections.deque()

    def clock(self) -> float:
        return self.now

    def send(self, frame: bytes) -> int:
        ip = str(ipaddress.IPv4Address(arp.read(frame).target_ip))
        self.requests.append(ip)
        self.sent_at.append(self.now)
        if not (ip in self.lose_first and self.requests.count(ip) == 1):
            for mac, delay in self.hosts.get(ip, []):
                self._arrive(self.now + delay, arp.reply(mac, ip, ME_MAC, ME_IP))
        for extra in self.extra:
            self._arrive(self.now, extra)
        self.extra = []
        return len(frame)

    def recvfrom(self, size: int):
        self._deliver()
        if not self._inbox:
            raise BlockingIOError
        return self._inbox.popleft()[:size], ("eth0", arp.ETH_P_ARP, 0, 1, mac_bytes(ME_MAC))  # PACKET_HOST: sent to us

    def wait(self, _sock, seconds: float) -> None:
        """select(): back when a frame arrives, or once `seconds` have passed."""
        until = self.now + max(seconds, TIMER_SLACK)
        if self._arriving:
            until = min(until, max(self.now, self._arriving[0][0]))
        self.now = until
        self._deliver()

    def _arrive(self, due: float, frame: bytes) -> None:
        heapq.heappush(self._arriving, (due, next(self._order), frame))

    def _deliver(self) -> None:
        while self._arriving and self._arriving[0][0] <= self.now:
            self._inbox.append(heapq.heappop(self._arriving)[2])


def simulated_engine(lan, targets, **options) -> ArpScan:
    return ArpScan("eth0", ME_MAC, ME_IP, [ipaddress.IPv4Address(t) for t in targets], sock=lan, clock=lan.clock, wait=lan.wait, **options)


def scan_simulated(hosts, targets, extra_replies=(), lose_first=(), **options):
    lan = SimulatedLan(hosts, extra_replies, lose_first)
    return simulated_engine(lan, targets, **options).run(), lan.requests


def test_silent_addresses_are_retried_and_answered_ones_are_not():
    result, requests = scan_simulated({"192.0.2.2": [("b8:27:eb:00:00:02", 0)]}, ["192.0.2.2", "192.0.2.3"], retries=2, timeout=0.2)
    assert [(r.ip, r.mac) for r in result.replies] == [("192.0.2.2", "b8:27:eb:00:00:02")]
    assert requests.count("192.0.2.2") == 1 and requests.count("192.0.2.3") == 3
    assert result.sent == 4 and result.asked == 2


def test_every_address_is_asked_once_before_any_is_asked_again():
    targets = [f"192.0.2.{n}" for n in range(10, 40)]  # at 200/s the pass (0.15 s) outlasts retry_interval (0.1 s)
    requests = scan_simulated({}, targets, rate=200, retries=1, timeout=0.1)[1]
    assert requests[:30] == targets and sorted(requests[30:]) == sorted(targets)


def test_the_callers_slow_work_waits_until_the_last_request_has_left():
    """after_sending reads the IEEE registry, 60 ms holding Python's lock: run while retries were still going out, it
    slowed a /20's retry pass by a tenth."""
    sent_when_called = []
    lan = SimulatedLan({})
    engine = simulated_engine(lan, ["192.0.2.2", "192.0.2.3", "192.0.2.4"], retries=2, retry_interval=0.01, timeout=0.1,
                              after_sending=lambda: sent_when_called.append(engine.result.sent))
    engine.run()
    assert sent_when_called == [9]


def test_a_late_answer_is_caught_by_the_retries_and_missed_without():
    hosts = {"192.0.2.5": [("dc:a6:32:00:00:05", 0.2)]}
    hurried = scan_simulated(hosts, ["192.0.2.5"], retries=0, timeout=0.05)[0]
    assert hurried.replies == []
    patient = scan_simulated(hosts, ["192.0.2.5"], retries=2, timeout=0.1)[0]
    assert [r.ip for r in patient.replies] == ["192.0.2.5"] and patient.replies[0].rtt_ms >= 190


def test_a_lone_slow_host_is_found_within_the_timeout_however_fast_the_others():
    """A Wi-Fi Pi in power save answers 300 ms late while every other host answers at once: the timeout, not the
    speed of the others, decides (an engine that shortened its wait after fast answers missed it)."""
    hosts = {f"192.0.2.{n}": [(f"00:11:32:00:00:{n:02x}", 0)] for n in range(10, 30)}
    hosts["192.0.2.99"] = [("d8:3a:dd:00:00:99", 0.3)]
    targets = [f"192.0.2.{n}" for n in range(1, 120)]
    found = scan_simulated(hosts, targets)[0]
    assert "192.0.2.99" in [r.ip for r in found.replies] and found.duration < 0.7
    hurried = scan_simulated(hosts, targets, timeout=0.2)[0]
    assert "192.0.2.99" not in [r.ip for r in hurried.replies] and len(hurried.replies) == 20


def test_a_slow_host_whose_request_was_lost_is_found_by_a_late_retry_when_the_lan_is_slow():
    """Wi-Fi loses broadcasts and its Pis answer late. A retry that leaves at the end of a long scan is listened for
    as long as the slowest answer took, and RETRY_WAIT more (up to the timeout); on a fast LAN, RETRY_WAIT only."""
    targets = [f"192.0.2.{n}" for n in range(10, 70)]  # at 200/s: the first pass ends at 0.3 s, the retries at 0.58 s
    fast = {f"192.0.2.{n}": [(f"00:11:32:00:00:{n:02x}", 0)] for n in range(10, 13)}
    lossy = {"192.0.2.69": [("e4:5f:01:00:00:69", 0.3)]}  # retried last, answers the retry 0.3 s later
    slow_peers = {f"192.0.2.{n}": [(f"d8:3a:dd:00:00:{n:02x}", 0.3)] for n in (13, 14)}
    on_slow_lan = scan_simulated(dict(fast, **lossy, **slow_peers), targets, lose_first=lossy, rate=200)[0]
    assert "192.0.2.69" in [r.ip for r in on_slow_lan.replies]
    on_fast_lan = scan_simulated(dict(fast, **lossy), targets, lose_first=lossy, rate=200)[0]
    assert "192.0.2.69" not in [r.ip for r in on_fast_lan.replies], "nothing slow seen: 0.15 s after the last retry"
    assert on_fast_lan.duration < on_slow_lan.duration - 0.15


def test_two_macs_for_one_address_are_a_conflict():
    result = scan_simulated({"192.0.2.7": [("b8:27:eb:00:00:07", 0), ("00:11:32:00:00:07", 0.01)]}, ["192.0.2.7"], timeout=0.2)[0]
    assert result.conflicts() == [{"ip": "192.0.2.7", "macs": ["b8:27:eb:00:00:07", "00:11:32:00:00:07"]}]


def test_replies_nobody_asked_for_are_ignored():
    unasked = [arp.reply("b8:27:eb:00:00:09", "198.51.100.9", ME_MAC, ME_IP), arp.reply("b8:27:eb:00:00:03", "192.0.2.3", ME_MAC, "192.0.2.99")]
    result = scan_simulated({}, ["192.0.2.3"], extra_replies=unasked, retries=0, timeout=0.2)[0]
    assert result.replies == []


def test_the_rate_bounds_the_sending():
    lan = SimulatedLan({})
    result = simulated_engine(lan, [f"192.0.2.{n}" for n in range(2, 22)], retries=0, timeout=0.01, rate=100).run()
    assert len(lan.requests) == 20 and result.duration >= 0.19
    gaps = [later - earlier for earlier, later in itertools.pairwise(lan.sent_at)]
    assert min(gaps) >= 0.01 - 1e-9, "no two requests closer than 1/rate"


@pytest.mark.parametrize("options, message", [({"rate": 0}, "rate 0"), ({"rate": 100001}, "outside 1-100000"), ({"retries": -1}, "retries"),
                                              ({"timeout": 0}, "timeout")])
def test_engine_refuses_bad_settings(options, message):
    with pytest.raises(ScanError, match=message):
        ArpScan("eth0", ME_MAC, ME_IP, [], **options)


# -- which interface ----------------------------------------------------------------------------------------------------------

LINKS = {"lo": {"index": 1, "link_type": 772, "mac": "00:00:00:00:00:00", "up": True},  # ARPHRD_LOOPBACK
         "eth0": {"index": 2, "link_type": ARPHRD_ETHER, "mac": ME_MAC, "up": True},
         "eth1": {"index": 3, "link_type": ARPHRD_ETHER, "mac": "02:00:5e:00:00:02", "up": False}}
ADDRESSES = [{"cidr": "127.0.0.1/8", "family": "ipv4", "index": 1}, {"cidr": "192.0.2.1/24", "family": "ipv4", "index": 2},
             {"cidr": "2001:db8::1/64", "family": "ipv6", "index": 2}, {"cidr": "198.51.100.1/24", "family": "ipv4", "index": 3}]


def test_an_interface_scans_its_own_networks():
    [plan] = resolve(LINKS, ADDRESSES, interface="eth0")
    assert (plan.interface, plan.mac, plan.source, [str(n) for n in plan.networks]) == ("eth0", ME_MAC, "192.0.2.1", ["192.0.2.0/24"])


def test_a_network_finds_its_interface():
    [plan] = resolve(LINKS, ADDRESSES, networks=["192.0.2.128/25"])
    assert (plan.interface, plan.source) == ("eth0", "192.0.2.1")


@pytest.mark.parametrize("kwargs, message", [
    ({"interface": "eth7"}, "interface 'eth7' does not exist on this host"),
    ({"interface": "lo"}, "interface lo has no Ethernet address"),
    ({"interface": "eth1"}, "interface eth1 is down: bring it up before scanning on it"),
    ({"interface": "eth0", "networks": ["203.0.113.0/24"]}, "interface eth0 has no address in network 203.0.113.0/24: give source_address"),
    ({"networks": ["203.0.113.0/24"]}, "network 203.0.113.0/24: no interface of this host has an address in it"),
    ({"interface": "eth0", "source_address": "300.1.1.1"}, "is not an IPv4 address"),
    ({"interface": "eth0", "networks": []}, "network is an empty list: no network given"),
    ({"networks": []}, "no network given"),
    ({"interface": "eth0", "source_address": "192.0.2.7"}, "source_address 192.0.2.7 is not an address of interface eth0"),
    ({"interface": "eth0", "source_address": "198.51.100.1"}, "is not an address of interface eth0"),  # eth1's, not eth0's
    ({"interface": "eth0", "source_address": "192.0.2.255"}, "is the broadcast address of network 192.0.2.0/24"),
    ({"interface": "eth0", "source_address": "192.0.2.255", "force": True}, "force does not lift this"),
    ({"interface": "eth0", "source_address": "224.0.0.1", "force": True}, "multicast, loopback or broadcast"),
    ({"interface": "eth0", "source_address": "255.255.255.255", "force": True}, "multicast, loopback or broadcast"),
    ({"interface": "eth0", "source_address": "127.0.0.1"}, "multicast, loopback or broadcast"),
    ({"interface": "eth2"}, "interface 'eth2' does not exist"),
])
def test_resolution_refuses_clearly(kwargs, message):
    with pytest.raises(ScanError, match=message):
        resolve(LINKS, ADDRESSES, **kwargs)


def test_a_foreign_network_is_asked_from_0_0_0_0_or_a_forced_address():
    [plan] = resolve(LINKS, ADDRESSES, networks=["203.0.113.0/24"], interface="eth0", source_address="0.0.0.0")
    assert plan.source == "0.0.0.0"
    [plan] = resolve(LINKS, ADDRESSES, networks=["203.0.113.0/24"], interface="eth0", source_address="203.0.113.250", force=True)
    assert plan.source == "203.0.113.250"


def test_an_interface_without_ipv4_is_scanned_over_ipv6_only():
    links = dict(LINKS, eth3={"index": 4, "link_type": ARPHRD_ETHER, "mac": "02:00:5e:00:00:03", "up": True})
    assert resolve(links, ADDRESSES, interface="eth3", ipv6=True) == []
    with pytest.raises(ScanError, match="has no IPv4 network to scan"):
        resolve(links, ADDRESSES, interface="eth3")


@pytest.mark.parametrize("options, message", [({"rate": 0, "retries": 1, "timeout": 0.5}, "rate 0"),
                                              ({"rate": 10, "retries": 11, "timeout": 0.5}, "retries 11 is outside 0-10"),
                                              ({"rate": 10, "retries": -1, "timeout": 0.5}, "retries -1 is outside 0-10"),
                                              ({"rate": 10, "retries": 1, "timeout": 61}, "timeout 61 is outside 0-60")])
def test_bounds_name_the_option(options, message):
    with pytest.raises(ScanError, match=message):
        check_bounds(**options)


def test_a_scan_estimated_beyond_the_bound_is_refused_before_sending(monkeypatch):
    monkeypatch.setattr(_scan, "ArpScan", None)  # nothing may be sent
    plan = _scan.ScanPlan("eth0", ME_MAC, ME_IP, [ipaddress.IPv4Network("10.0.0.0/16")])
    with pytest.raises(ScanError, match=r"65534 addresses at rate 100/s with retries 2 would take about 1967 s"):
        _scan.discover([plan], OuiClassifier(), rate=100, retries=2)


def test_the_engine_stops_at_its_deadline_whatever_happens():
    lan = SimulatedLan({})
    result = simulated_engine(lan, [f"192.0.2.{n}" for n in range(2, 200)], rate=10, retries=3, deadline=1.0).run()
    assert 1.0 <= result.duration < 1.2 and len(lan.requests) <= 12
