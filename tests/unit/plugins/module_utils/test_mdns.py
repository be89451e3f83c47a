# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mDNS reverse names: our queries read by scapy, answers scapy built read by us, and the asking on a simulated link
(all queries at once, bounded by the timeout, the resolver only for what mDNS left unnamed)."""

from __future__ import annotations

import socket
import time

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _mdns
from ansible_collections.layer2.linux.plugins.module_utils._mdns import ptr_answers, ptr_query, resolve_names, reverse_name

dns = pytest.importorskip("scapy.layers.dns")


def test_reverse_names():
    assert reverse_name("192.0.2.7") == "7.2.0.192.in-addr.arpa"
    assert reverse_name("fe80::1%eth0") == "1" + ".0" * 28 + ".8.e.f.ip6.arpa"


def test_scapy_reads_our_query_with_the_unicast_response_bit():
    query = dns.DNS(ptr_query(5, "7.2.0.192.in-addr.arpa"))
    assert (query.id, query.qr, query.qdcount) == (5, 0, 1)
    question = query.qd[0] if hasattr(query.qd, "__getitem__") else query.qd
    assert (question.qname, question.qtype) == (b"7.2.0.192.in-addr.arpa.", 12)
    assert question.unicastresponse == 1 and question.qclass == 1


def answer(ident, owner, target, compress=True):
    packet = dns.DNS(id=ident, qr=1, aa=1, qd=dns.DNSQR(qname=owner, qtype="PTR"), an=dns.DNSRR(rrname=owner, type="PTR", rdata=target, ttl=10))
    return bytes(dns.dns_compress(packet) if compress else packet)


@pytest.mark.parametrize("compress", [True, False])
def test_we_read_scapys_answers(compress):
    assert ptr_answers(answer(1, "7.2.0.192.in-addr.arpa", "pi-kitchen.local.", compress)) == {"7.2.0.192.in-addr.arpa": "pi-kitchen.local"}
    assert ptr_answers(ptr_query(1, "7.2.0.192.in-addr.arpa")) == {}, "a query is no answer"
    assert ptr_answers(answer(1, "7.2.0.192.in-addr.arpa", "x.local.")[:-6]) == {}, "truncated: nothing"


class SimulatedResponders:
    """A socket whose queries are answered by the named addresses right away (through a socketpair, so select works)."""

    def __init__(self, named):
        self.named, self.queries = named, []
        self._ours, self._theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._ours.setblocking(False)

    def fileno(self):
        return self._ours.fileno()

    def sendto(self, packet, destination):
        self.queries.append((packet, destination))
        name = dns.DNS(packet).qd[0].qname.decode().rstrip(".")
        for address, host in self.named.items():
            if reverse_name(address) == name:
                self._theirs.send(answer(1, name, host + "."))

    def recv(self, size):
        return self._ours.recv(size)


def test_every_query_leaves_at_once_and_the_fallback_names_only_ipv4_left_unnamed():
    sock = SimulatedResponders({"192.0.2.7": "pi-kitchen.local", "fe80::2": "pi-six.local"})
    asked = []

    def resolver(address):
        asked.append(address)
        return {"192.0.2.9": "printer.lab", "192.0.2.7": "wrong.lab"}.get(address)

    start = time.monotonic()
    names = resolve_names("eth0", ["192.0.2.7", "192.0.2.9", "192.0.2.10", "fe80::2", "fe80::3"], 0.3, resolver, sock=sock)
    took = time.monotonic() - start
    assert names == {"192.0.2.7": "pi-kitchen.local", "192.0.2.9": "printer.lab", "fe80::2": "pi-six.local"}
    assert [d[0] for _p, d in sock.queries] == ["::ffff:224.0.0.251"] * 3 + ["ff02::fb"] * 2 and {d[1] for _p, d in sock.queries} == {5353}
    assert sorted(asked) == ["192.0.2.10", "192.0.2.7", "192.0.2.9"], "the resolver is asked only for IPv4 addresses"
    assert 0.3 <= took < 0.5, "unanswered queries wait out the timeout, no more"


def test_a_slow_resolver_does_not_hold_the_scan():
    def slow(_address):
        time.sleep(2)
        return "late.lab"

    start = time.monotonic()
    assert resolve_names("eth0", ["192.0.2.9"], 0.2, slow, sock=SimulatedResponders({})) == {}
    assert time.monotonic() - start < 0.5


def test_no_resolver_no_fallback(monkeypatch):
    monkeypatch.setattr(_mdns, "system_reverse_dns", None)  # would raise if called
    assert resolve_names("eth0", ["192.0.2.9"], 0.05, None, sock=SimulatedResponders({})) == {}
