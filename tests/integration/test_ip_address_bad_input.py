# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 18: ip_address refuses bad input in words, with every address checked before the first change, in one playbook
run. Most cases put a good address (10.50.0.9/24) before the bad one: a case that applied the first before failing on
the second would leave it on eth0. Addresses are compared once before and once after the run; no case here may add
anything, so no later case could take a stray address away again (state absent is never asked).
"""

from __future__ import annotations

from tests.support.ansible import run_module
from tests.support.bad_input import lab_for_module, suite

MODULE = "layer2.linux.ip_address"
GOOD = "10.50.0.9/24"
CASES = {
    "IPv6 loopback after a good one": ({"interface": "eth0", "addresses": [GOOD, "::1/128"]}, ["address ::1/128", "loopback interface only"]),
    "IPv6 loopback, check mode": (({"interface": "eth0", "addresses": [GOOD, "::1/128"]}, {"check_mode": True}), ["address ::1/128"]),
    "IPv6 unspecified": ({"interface": "eth0", "addresses": [GOOD, "::/128"]}, ["address ::/128", "unspecified"]),
    "IPv4 unspecified": ({"interface": "eth0", "addresses": [GOOD, "0.0.0.0/8"]}, ["address 0.0.0.0/8", "unspecified"]),
    "IPv6 multicast": ({"interface": "eth0", "addresses": [GOOD, "ff02::5/128"]}, ["address ff02::5/128", "multicast"]),
    "zone of another interface": ({"interface": "eth0", "addresses": [GOOD, "fe80::1%eth1/64"]}, ["address fe80::1%eth1/64", "zone 'eth1'"]),
    "two prefix lengths": ({"interface": "eth0", "addresses": [GOOD, "10.50.0.9/25"]}, ["addresses", "10.50.0.9/24 and 10.50.0.9/25"]),
    "not an address": ({"interface": "eth0", "addresses": [GOOD, "10.50.0.300/24"]}, ["'10.50.0.300/24' is not an IPv4 or IPv6 address"]),
    "IPv6 disabled on the interface": ({"interface": "eth1", "addresses": ["10.60.0.9/24", "2001:db8:60::9/64"]}, ["IPv6 is disabled on eth1"]),
    "interface a template": ({"interface": "eth%d", "addresses": [GOOD]}, ["'eth%d' is not a Linux interface name"]),
    "interface of 16 bytes": ({"interface": "é" * 8, "addresses": [GOOD]}, ["'éééééééé' is not a Linux interface name", "16 bytes"]),
    "interface an alias": ({"interface": "eth0:1", "addresses": [GOOD]}, ["'eth0:1' is not a Linux interface name"]),
    "interface missing": ({"interface": "eth9", "addresses": [GOOD]}, ["interface eth9 does not exist"]),
    "state unknown": ({"interface": "eth0", "addresses": [GOOD], "state": "gone"}, ["state"]),
    "nodad not a bool": ({"interface": "eth0", "addresses": ["2001:db8::13/64"], "nodad": "sometimes"}, ["nodad"]),
}


def one_host_two_links():
    yield from lab_for_module({"switches": ["lan", "other"], "hosts": {"a": {
        "links": [{"switch": "lan", "addresses": ["192.0.2.10/24", "2001:db8::a/64"]}, {"switch": "other", "ifname": "eth1"}],
        "sysctl": {"net.ipv6.conf.eth1.disable_ipv6": "1"}}}})


lab, refused, test_refused_in_words_naming_the_option, test_nothing_changed = suite(
    MODULE, CASES, one_host_two_links, "a", proc_sys=["net/ipv6/conf/eth0/disable_ipv6", "net/ipv6/conf/eth1/disable_ipv6"])


def test_a_zone_naming_the_interface_is_accepted_and_idempotent(refused, lab):
    params = {"interface": "eth0", "addresses": ["fe80::1%eth0/64"], "nodad": True}
    first = run_module(lab, "a", MODULE, params)
    assert first["_status"] == "ok" and first["changed"] and first["added"] == ["fe80::1/64"], first
    again = run_module(lab, "a", MODULE, params)
    assert again["_status"] == "ok" and not again["changed"], again
