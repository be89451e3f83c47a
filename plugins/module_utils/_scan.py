# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ARP scan engine: which addresses to ask, asking them over an AF_PACKET socket at a bounded rate, and the answers.

One pass sends a broadcast ARP request to every target, paced at `rate` packets per second. An address that
stays silent for `retry_interval` (0.1 s) is asked again once the pass is over, up to `retries` more times;
addresses that answered never are.
A silent address is given up once `timeout` has passed since its first request: a host that answers within it is
found, however fast the rest of the LAN is (Wi-Fi clients in power save answer a broadcast 100-300 ms late, when
their access point wakes them). When it was asked again, the scan also listens after its last request for
RETRY_WAIT (0.15 s) plus the slowest answer seen so far, at most `timeout`: Wi-Fi loses broadcasts, and a slow host
whose first request was lost answers the retry as late as its neighbours answered theirs.
A reply counts only when it comes from an address we asked and is addressed to our source address;
one address answered from two MACs is a conflict.
The requests' sender address is one the interface holds, or 0.0.0.0 (a duplicate-address probe, which no host
learns from): another host's address would move that host's entry in every neighbour's ARP cache to us (unless forced).
A scan's time is bounded: at most MAX_RETRIES retries, an estimate over MAX_SCAN_SECONDS refused before anything is
sent, and the engine stops at twice the estimate whatever happens.

Asked, discover() also sends one ICMPv6 echo request to all nodes on each interface (_ndp_scan) while the ARP scan
runs, and merges the answers by MAC; then it asks every host's name (_mdns) for at most `timeout` more.

Requests leave from one thread per CPU (up to MAX_SENDERS): where the kernel does the copying of every broadcast
in the sender's context (a software bridge with many ports, on a hypervisor or a namespace lab), one thread stops
at what one core can flood; on a plain NIC the extra thread costs nothing.
"""

from __future__ import annotations

import collections
import errno
import ipaddress
import os
import queue
import select
import socket
import threading
import time
from dataclasses import dataclass, field

from ansible_collections.layer2.linux.plugins.module_utils._arp_frame import ETH_P_ARP, build_request, parse_reply
from ansible_collections.layer2.linux.plugins.module_utils._arp_socket import packet_socket, pending_frames
from ansible_collections.layer2.linux.plugins.module_utils._iface import ethernet_link, mac_bytes, mac_text
from ansible_collections.layer2.linux.plugins.module_utils._mdns import resolve_names, system_reverse_dns
from ansible_collections.layer2.linux.plugins.module_utils._ndp_scan import EchoError, EchoScan, eui64_mac, link_local_of
from ansible_collections.layer2.linux.plugins.module_utils._oui import OuiClassifier
from ansible_collections.layer2.linux.plugins.module_utils._rtnl import Rtnl

LARGEST_PREFIX = 16  # networks bigger than a /16 need allow_large
DEFAULT_RATE = 10000
DEFAULT_TIMEOUT = 0.5  # seconds each address is listened for after its first request
RETRY_WAIT = 0.15  # seconds listened after the last retry at least, on a LAN where every answer came at once
RETRY_INTERVAL = 0.1  # seconds an address stays silent before it is asked again
MAX_RATE = 100000
MAX_RETRIES = 10
MAX_SCAN_SECONDS = 300  # a scan estimated to take longer is refused before anything is sent
UNSPECIFIED = ipaddress.IPv4Address("0.0.0.0")
MAX_SENDERS = 4
CATCH_UP = 0.002  # seconds of sending schedule a late wake-up may catch up on: 20 requests at 10000/s
SENDERS_BUSY_WAIT = 0.0003  # seconds: how soon to look again when every sending thread has frames queued


class ScanError(Exception):
    """A scan that cannot be done as asked; the message says why in network terms."""


@dataclass
class Reply:
    ip: str
    mac: str
    rtt_ms: float


@dataclass
class ScanResult:
    replies: list[Reply] = field(default_factory=list)  # one per (ip, mac), in order of arrival
    asked: int = 0
    sent: int = 0
    duration: float = 0.0

    def conflicts(self) -> list[dict]:
        macs = collections.defaultdict(list)
        for reply in self.replies:
            macs[reply.ip].append(reply.mac)
        return [{"ip": ip, "macs": found} for ip, found in sorted(macs.items(), key=lambda kv: ipaddress.ip_address(kv[0])) if len(found) > 1]


# -- which addresses ------------------------------------------------------------------------------------------------------

def parse_network(text, option: str = "network") -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(str(text).strip(), strict=False)
    except ValueError:
        raise ScanError(f"{option} {text!r} is not an IPv4 network in CIDR form (for example 192.168.1.0/24); ARP scans are IPv4 only") from None


def parse_exclude(items) -> list[ipaddress.IPv4Network]:
    """Excluded addresses or networks ('192.168.1.1', '192.168.1.128/25')."""
    return [parse_network(item, "exclude") for item in items or []]


def refuse_large(network: ipaddress.IPv4Network, allow_large: bool = False) -> None:
    if network.prefixlen < LARGEST_PREFIX and not allow_large:
        raise ScanError(f"network {network} has {network.num_addresses} addresses, more than a /{LARGEST_PREFIX}: "
                        "scanning it floods the LAN for a long time; narrow the network or set allow_large_networks")


def hosts_of(network: ipaddress.IPv4Network, allow_large: bool = False) -> list[ipaddress.IPv4Address]:
    """The addresses an ARP scan of a network asks: its hosts (a /31 or /32 is its own addresses)."""
    refuse_large(network, allow_large)
    return list(network.hosts()) if network.prefixlen < 31 else list(network)


def plan_targets(networks, exclude=(), own=(), allow_large=False) -> list[ipaddress.IPv4Address]:
    """Every address to ask, once, in network order, without the excluded ones and the scanner's own."""
    excluded = parse_exclude(exclude)
    skip = {ipaddress.IPv4Address(str(a)) for a in own}
    seen, targets = set(), []
    for network in networks:
        for address in hosts_of(network, allow_large):
            if address in seen or address in skip or any(address in net for net in excluded):
                continue
            seen.add(address)
            targets.append(address)
    return targets


# -- the socket -----------------------------------------------------------------------------------------------------------

def open_socket(interface: str) -> socket.socket:
    """A raw ARP socket bound to one interface; ScanError with the reason when the kernel says no."""
    try:  # a big buffer: replies to a whole /16 may arrive while we are busy sending
        sock = packet_socket(interface, ETH_P_ARP, ignore_outgoing=True, receive_buffer=8 << 20)
    except PermissionError:
        raise ScanError("sending raw ARP needs root or the CAP_NET_RAW capability (run with become, or "
                        "setcap cap_net_raw+ep on the Python interpreter)") from None
    except OSError as exc:
        raise ScanError(f"cannot bind to interface {interface!r}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


class _DirectSender:
    """Sends on the scan's own (non-blocking) socket, in the scan's thread: one CPU, or a socket given by a test."""

    def __init__(self, sock):
        self._sock = sock

    def ready(self) -> bool:
        return True

    def send(self, frame: bytes) -> bool:
        """False when the device queue is full (ask again on the next tick)."""
        try:
            self._sock.send(frame)
        except BlockingIOError:
            return False
        return True

    def close(self) -> None:
        pass


class _ThreadedSenders:
    """One thread per CPU, all sending on the scan's socket; the scan hands them frames through a short queue, so the
    pacing and every timestamp stay in the scan's thread. send() raises the OSError a thread met (the scan words it).
    One socket, not one per thread: closing a packet socket waits for the kernel's RCU grace period (~12 ms each)."""

    DEPTH = 2  # frames queued per thread: enough to keep them busy, few enough that a send time is a few frames late

    def __init__(self, sock, count: int):
        self._frames: queue.SimpleQueue = queue.SimpleQueue()
        self._error: OSError | None = None
        self._sock = sock
        self._threads = [threading.Thread(target=self._run, daemon=True) for _thread in range(count)]
        for thread in self._threads:
            thread.start()

    def ready(self) -> bool:
        return self._frames.qsize() < self.DEPTH * len(self._threads)

    def send(self, frame: bytes) -> bool:
        if self._error is not None:
            raise self._error
        self._frames.put(frame)
        return True

    def close(self) -> None:
        for _thread in self._threads:
            self._frames.put(None)
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        while (frame := self._frames.get()) is not None:
            for _attempt in range(100):  # a full device queue or send buffer drains in well under 0.1 s
                try:
                    self._sock.send(frame)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.ENOBUFS, errno.EAGAIN):
                        self._error = exc
                        break
                    time.sleep(0.001)


def _packed(address) -> bytes:
    if isinstance(address, ipaddress.IPv4Address):
        return address.packed
    return ipaddress.IPv4Address(str(address)).packed


def _wait_readable(sock, seconds: float) -> None:
    select.select([sock], [], [], seconds)


def sender_count() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_SENDERS))


# -- the scan -------------------------------------------------------------------------------------------------------------

def estimate_seconds(addresses: int, rate: int, retries: int, timeout: float) -> float:
    """How long a scan takes at most when nobody answers: every request at `rate`, the retries' spacing, the timeout."""
    return addresses * (1 + retries) / rate + retries * RETRY_INTERVAL + timeout


def wait_after_retry(slowest: float, timeout: float) -> float:
    """Seconds listened after the last retry: RETRY_WAIT plus the slowest answer seen so far, at most `timeout`."""
    return min(timeout, RETRY_WAIT + slowest)


@dataclass
class _Target:
    attempts: int = 0
    first_sent: float = 0.0
    answered: bool = False


class ArpScan:
    """One scan on one interface. `run()` returns a ScanResult; the socket can be given (tests) or is opened here."""

    def __init__(self, interface: str, src_mac: str, src_ip, targets, rate: int = DEFAULT_RATE, retries: int = 1,
                 timeout: float = DEFAULT_TIMEOUT, retry_interval: float = RETRY_INTERVAL, sock=None, clock=time.monotonic, after_sending=None,
                 wait=None, deadline: float | None = None):
        """after_sending: called once the last request (retries included) has left, for a caller's own slow work: run
        then, it overlaps the wait for answers instead of holding Python's lock against the sending.
        sock, clock and wait(sock, seconds) (until a frame arrives or the seconds pass) are the world the scan runs in:
        the interface, time.monotonic and select by default; the unit tests give a LAN in simulated time.
        deadline: seconds after which the scan stops, asked or not (default: twice its estimated time, plus a second)."""
        if not 1 <= rate <= MAX_RATE:
            raise ScanError(f"rate {rate} packets/s is outside 1-{MAX_RATE}")
        if not 0 <= retries <= MAX_RETRIES or timeout <= 0:
            raise ScanError(f"retries must be 0-{MAX_RETRIES} and timeout more than 0 seconds")
        self.interface = interface
        self.src_mac = mac_bytes(src_mac)
        self.src_ip = _packed(src_ip)
        self.rate = rate
        self.attempts = 1 + retries
        self.timeout = timeout
        self.retry_interval = retry_interval
        # plan_targets gives addresses already parsed; parsing a /16 of them again from text costs 0.15 s
        self.targets = {_packed(t): _Target() for t in targets}
        self._fresh = collections.deque(self.targets)
        self._retry = collections.deque()  # (due, packed ip), due times never decrease
        self._sock = sock
        self._clock = clock
        self._wait = wait or _wait_readable
        self.result = ScanResult(asked=len(self.targets))
        self._seen: set[tuple[bytes, bytes]] = set()
        self._slowest = 0.0  # seconds: the slowest answer so far
        self._after_sending = after_sending
        self.deadline = deadline if deadline is not None else 2 * estimate_seconds(len(self.targets), rate, retries, timeout) + 1

    def run(self) -> ScanResult:
        own_socket = self._sock is None
        sock = open_socket(self.interface) if own_socket else self._sock
        senders = None
        try:
            count = sender_count() if own_socket else 1
            senders = _ThreadedSenders(sock, count) if count > 1 else _DirectSender(sock)
            self._loop(sock, senders)
        finally:
            if senders is not None:
                senders.close()
            if own_socket:
                sock.close()
        return self.result

    def _loop(self, sock, senders) -> None:
        interval = 1.0 / self.rate
        start = next_send = self._last_send = self._last_first_send = self._clock()
        while True:
            now = self._clock()
            while now >= next_send and senders.ready():
                ip = self._next_address(now)
                if ip is None:
                    break
                self._send(senders, ip, now)
                # A late wake-up (Python, the scheduler) may catch up on at most CATCH_UP of schedule, so the rate
                # holds on average; after a longer stall the schedule restarts from now instead of bursting.
                next_send = max(next_send + interval, now - CATCH_UP)
            if self._after_sending is not None and not self._fresh and not self._retry:
                self._after_sending()
                self._after_sending = None
            self._drain(sock)
            self._drop_answered_retries()
            if (not self._fresh and not self._retry and now >= self._end()) or now - start >= self.deadline:
                break
            wake = self._next_wake(next_send) if senders.ready() else now + SENDERS_BUSY_WAIT
            self._wait(sock, max(0.0, wake - self._clock()))
        self.result.duration = self._clock() - start

    def _next_address(self, now):
        """The next address not asked yet, else a due retry, else None. First requests go first so that the last
        of them, from which the wait for slow answerers runs, leaves as early as it can."""
        if self._fresh:
            return self._fresh.popleft()
        while self._retry and self._retry[0][0] <= now:
            ip = self._retry.popleft()[1]
            if not self.targets[ip].answered:
                return ip
        return None

    def _drop_answered_retries(self) -> None:
        while self._retry and self.targets[self._retry[0][1]].answered:
            self._retry.popleft()

    def _send(self, senders, ip: bytes, now: float) -> None:
        target = self.targets[ip]
        try:
            if not senders.send(build_request(self.src_mac, self.src_ip, ip)):  # the device queue is full: ask again on the next tick
                self._fresh.appendleft(ip)
                return
        except OSError as exc:
            raise ScanError(f"sending on {self.interface} failed: {exc.strerror}") from None
        target.attempts += 1
        self._last_send = now
        if not target.first_sent:
            target.first_sent = self._last_first_send = now
        self.result.sent += 1
        if target.attempts < self.attempts:
            self._retry.append((now + self.retry_interval, ip))

    def _next_wake(self, next_send: float) -> float:
        if self._fresh:
            return next_send
        if self._retry:
            return max(next_send, self._retry[0][0])
        return self._end()

    def _end(self) -> float:
        """When the last silent address is given up: `timeout` after its first request, and after its last request
        RETRY_WAIT plus the slowest answer seen (at most `timeout`)."""
        return max(self._last_first_send + self.timeout, self._last_send + wait_after_retry(self._slowest, self.timeout))

    def _drain(self, sock) -> None:
        for frame in pending_frames(sock, 128):
            self._accept(parse_reply(frame), self._clock())

    def _accept(self, parsed, when: float) -> None:
        if parsed is None:
            return
        sha, spa, tpa = parsed
        target = self.targets.get(spa)
        if target is None or target.attempts == 0 or tpa != self.src_ip or (spa, sha) in self._seen:
            return  # not an address we asked, not an answer to us, or a repeat
        self._seen.add((spa, sha))
        target.answered = True
        rtt = max(0.0, when - target.first_sent)  # from the first request: a slow host is asked again before it answers
        self._slowest = max(self._slowest, rtt)
        self.result.replies.append(Reply(str(ipaddress.IPv4Address(spa)), mac_text(sha), round(rtt * 1000, 2)))


# -- a discovery: networks and interfaces resolved, scanned, classified ------------------------------------------------------

@dataclass
class ScanPlan:
    interface: str
    mac: str
    source: str
    networks: list = field(default_factory=list)
    own: list = field(default_factory=list)


@dataclass
class EchoPlan:
    interface: str
    mac: str
    link_local: str


def _ipv4_by_interface(link_facts: dict, addresses: list[dict]) -> dict[str, list[ipaddress.IPv4Interface]]:
    names = {facts["index"]: name for name, facts in link_facts.items()}
    found = collections.defaultdict(list)
    for entry in addresses:
        if entry["family"] == "ipv4" and entry["index"] in names:
            found[names[entry["index"]]].append(ipaddress.IPv4Interface(entry["cidr"]))
    return found


def _usable(link_facts: dict, name: str) -> None:
    try:
        ethernet_link(link_facts, name, "scanning")
    except ValueError as exc:
        raise ScanError(str(exc)) from None


def resolve(link_facts: dict, addresses: list[dict], networks=None, interface=None, source_address=None, force=False, ipv6=False) -> list[ScanPlan]:
    """Which interface and source address scan which network, from the host's links and addresses (as _rtnl reads them).
    With ipv6 and an interface that has no IPv4 network, no ARP scan at all: the echo to all nodes finds the hosts."""
    if networks is not None and not list(networks):
        raise ScanError("network is an empty list: no network given; give at least one network in CIDR form, or leave network out and give interface")
    nets = [parse_network(n) for n in networks or []]
    source = _parse_source(source_address)
    own = _ipv4_by_interface(link_facts, addresses)
    plans: dict[tuple[str, str], ScanPlan] = {}
    if interface is not None:
        _usable(link_facts, interface)
        if not nets:
            nets = [a.network for a in own[interface] if a.network.prefixlen < 32]
            if not nets and ipv6 and source is None:
                return []
            if not nets:
                raise ScanError(f"interface {interface} has no IPv4 network to scan: give network (and source_address), or ipv6: true for its IPv6 link")
        for net in nets:
            src = source or _source_in(own[interface], net)
            if src is None:
                raise ScanError(f"interface {interface} has no address in network {net}: give source_address, an address of {net} to ask from "
                                "(0.0.0.0 asks as a duplicate-address probe)")
            _plan(plans, interface, link_facts, src, net, own, force)
        return list(plans.values())
    for net in nets:
        candidates = [name for name in sorted(own) if name != "lo" and _source_in(own[name], net)]
        if not candidates:
            raise ScanError(f"network {net}: no interface of this host has an address in it: give interface and source_address")
        name = candidates[0]
        _usable(link_facts, name)
        _plan(plans, name, link_facts, source or _source_in(own[name], net), net, own, force)
    return list(plans.values())


def _parse_source(text):
    if text is None:
        return None
    try:
        source = ipaddress.IPv4Address(str(text).strip())
    except ValueError:
        raise ScanError(f"source_address {text!r} is not an IPv4 address") from None
    if source.is_multicast or source.is_loopback or source == ipaddress.IPv4Address("255.255.255.255"):
        raise ScanError(f"source_address {source} is a multicast, loopback or broadcast address: no host may send ARP from it (force does not lift this)")
    return source


def _source_in(addresses, net):
    """An address of the interface on the scanned segment: inside the network, or on a connected network overlapping it."""
    inside = [a.ip for a in addresses if a.ip in net]
    return (inside or [a.ip for a in addresses if a.network.prefixlen < 32 and a.network.overlaps(net)] or [None])[0]


def _check_source(name, src, net, held, force) -> None:
    """The requests' sender address must be the interface's own, or 0.0.0.0, unless forced: see the module docstring."""
    if net.prefixlen < 31 and src == net.broadcast_address:
        raise ScanError(f"source_address {src} is the broadcast address of network {net}: no host may send ARP from it (force does not lift this)")
    if src == UNSPECIFIED or src in held or force:
        return
    raise ScanError(f"source_address {src} is not an address of interface {name}: asking from it would make every host that hears the "
                    f"requests send {src}'s traffic to this host. Give an address {name} holds, 0.0.0.0 (a duplicate-address probe, "
                    "which changes no host's ARP cache), or force: true when the address is this host's to use")


def _plan(plans, name, link_facts, src, net, own, force=False) -> None:
    held = [a.ip for a in own[name]]
    _check_source(name, src, net, held, force)
    plan = plans.setdefault((name, str(src)), ScanPlan(name, link_facts[name]["mac"], str(src), own=held))
    plan.networks.append(net)


def echo_plans(link_facts: dict, addresses: list[dict], interfaces) -> list[EchoPlan]:
    """The IPv6 echo's interface, MAC and link-local source for each interface scanned; refused in words when one has none."""
    plans = []
    for name in interfaces:
        _usable(link_facts, name)
        source = link_local_of(addresses, link_facts[name]["index"])
        if source is None:
            raise ScanError(f"ipv6: interface {name} has no usable IPv6 link-local address (IPv6 is disabled on it, or the address is still "
                            "in duplicate address detection): enable IPv6 on it, or leave ipv6 off")
        plans.append(EchoPlan(name, link_facts[name]["mac"], source))
    return plans


class _EchoThread(threading.Thread):
    """The IPv6 echo of one interface, run while the ARP scans send and listen."""

    def __init__(self, plan: EchoPlan, timeout: float):
        super().__init__(daemon=True)
        self.plan, self.timeout, self.replies, self.error = plan, timeout, [], None

    def run(self) -> None:
        try:
            self.replies = EchoScan(self.plan.interface, self.plan.mac, self.plan.link_local, self.timeout).run()
        except EchoError as exc:
            self.error = exc

    def result(self) -> list:
        self.join()
        if self.error is not None:
            raise ScanError(f"ipv6: {self.error}")
        return self.replies


def _host(classifier, ip, mac, rtt_ms, interface) -> dict:
    return {"ip": ip, "mac": mac, "vendor": classifier.vendor(mac), "is_raspberry_pi": classifier.is_raspberry_pi(mac), "rtt_ms": rtt_ms,
            "interface": interface, "ipv6_link_local": None, "hostname": None}


def merge_echo(hosts: list[dict], replies, interface: str, classifier) -> None:
    """Give each host the link-local address its MAC answered the echo from; a MAC that ARP did not find is a new host
    with ip None. A modified-EUI-64 address whose MAC is a Pi's makes the host a Pi whatever MAC answered."""
    by_mac = collections.defaultdict(list)
    for host in hosts:
        if host["interface"] == interface:
            by_mac[host["mac"]].append(host)
    for reply in sorted(replies, key=lambda r: ipaddress.IPv6Address(r.address)):
        found = by_mac[reply.mac]
        if not found:
            found.append(_host(classifier, None, reply.mac, reply.rtt_ms, interface))
            hosts.append(found[0])
        for host in found:
            if host["ipv6_link_local"] is None:
                host["ipv6_link_local"] = f"{reply.address}%{interface}"
                embedded = eui64_mac(reply.address)
                host["is_raspberry_pi"] = host["is_raspberry_pi"] or (embedded is not None and classifier.is_raspberry_pi(embedded))


def name_hosts(hosts: list[dict], timeout: float, resolver) -> None:
    """Each host's name: mDNS for its IPv4 and link-local addresses, all at once per interface, `timeout` at most in all."""
    deadline = time.monotonic() + timeout
    for interface in sorted({h["interface"] for h in hosts}):
        mine = [h for h in hosts if h["interface"] == interface]
        wanted = [a for h in mine for a in (h["ip"], _plain(h["ipv6_link_local"])) if a]
        names = resolve_names(interface, wanted, max(0.0, deadline - time.monotonic()), resolver)
        for host in mine:
            host["hostname"] = names.get(host["ip"]) or names.get(_plain(host["ipv6_link_local"]))


def _plain(link_local):
    return link_local.split("%", 1)[0] if link_local else None


def _sort_key(host):
    return (host["ip"] is None, ipaddress.IPv4Address(host["ip"] or 0), host["mac"])


def check_bounds(rate, retries, timeout) -> None:
    if not 1 <= rate <= MAX_RATE:
        raise ScanError(f"rate {rate} packets/s is outside 1-{MAX_RATE}: the rate bounds how hard the scan loads the LAN")
    if not 0 <= retries <= MAX_RETRIES:
        raise ScanError(f"retries {retries} is outside 0-{MAX_RETRIES}: a silent address is asked at most {MAX_RETRIES} more times")
    if not 0 < timeout <= 60:
        raise ScanError(f"timeout {timeout} is outside 0-60 seconds (more than 0)")


def discover(plans, classifier, exclude=(), rate=DEFAULT_RATE, retries=1, timeout=DEFAULT_TIMEOUT, allow_large=False, all_hosts=False,
             echoes=(), names=False, resolver=system_reverse_dns) -> dict:
    """Scan every plan (one after the other, the IPv6 echoes meanwhile) and return the result as pi_discover documents it."""
    targets = [plan_targets(p.networks, exclude, p.own, allow_large) for p in plans]  # refuse bad input before sending anything
    estimate = sum(estimate_seconds(len(t), rate, retries, timeout) for t in targets)
    if estimate > MAX_SCAN_SECONDS:
        raise ScanError(f"{sum(len(t) for t in targets)} addresses at rate {rate}/s with retries {retries} would take about {estimate:.0f} s, "
                        f"more than {MAX_SCAN_SECONDS} s: raise rate, lower retries, or narrow network")
    start = time.monotonic()
    threads = [_EchoThread(e, timeout) for e in echoes]
    for thread in threads:
        thread.start()
    hosts, conflicts, asked, sent = [], [], 0, 0
    for plan, plan_targets_ in zip(plans, targets, strict=True):
        result = ArpScan(plan.interface, plan.mac, plan.source, plan_targets_, rate=rate, retries=retries, timeout=timeout,
                         after_sending=classifier.load_registry_in_background).run()
        asked, sent = asked + result.asked, sent + result.sent
        conflicts += result.conflicts()
        hosts += [_host(classifier, reply.ip, reply.mac, reply.rtt_ms, plan.interface) for reply in result.replies]
    ipv6_macs = set()
    for thread in threads:
        replies = thread.result()
        ipv6_macs |= {(thread.plan.interface, r.mac) for r in replies}
        merge_echo(hosts, replies, thread.plan.interface, classifier)
    if names:
        name_hosts(hosts, timeout, resolver)
    hosts.sort(key=_sort_key)
    pis = [h for h in hosts if h["is_raspberry_pi"]]
    return {
        "hosts": hosts if all_hosts else pis,
        "raspberry_pis": pis,
        "conflicts": conflicts,
        "counts": {"addresses_asked": asked, "requests_sent": sent, "responders": len({(h["ip"], h["mac"]) for h in hosts}),
                   "ipv6_responders": len(ipv6_macs), "raspberry_pis": len(pis), "conflicts": len(conflicts)},
        "networks": [str(n) for p in plans for n in p.networks],
        "interfaces": sorted({p.interface for p in plans} | {e.interface for e in echoes}),
        "duration": round(time.monotonic() - start, 3),
    }


def discover_here(network=None, interface=None, source_address=None, ouis=None, exclude=(), rate=DEFAULT_RATE, retries=1,
                  timeout=DEFAULT_TIMEOUT, allow_large_networks=False, all_hosts=False, ipv6=False, names=False, reverse_dns=True,
                  force=False, resolver=system_reverse_dns) -> dict:
    """The whole discovery on this host (the module on a managed node, the inventory plugin on the controller).
    resolver: the names' fallback for IPv4 addresses (reverse_dns=False: none); a lab gives its own."""
    try:
        classifier = OuiClassifier(ouis)
    except ValueError as exc:
        raise ScanError(f"ouis: {exc}") from None
    check_bounds(rate, retries, timeout)
    for net in network or []:
        refuse_large(parse_network(net), allow_large_networks)
    parse_exclude(exclude)
    with Rtnl() as nl:
        link_facts, held = nl.links_by_name(), nl.addresses()
    plans = resolve(link_facts, held, network, interface, source_address, force, ipv6)
    echoes = echo_plans(link_facts, held, sorted({p.interface for p in plans} | ({interface} if interface else set()))) if ipv6 else []
    return discover(plans, classifier, exclude, rate, retries, timeout, allow_large_networks, all_hosts, echoes, names,
                    resolver if reverse_dns else None)
