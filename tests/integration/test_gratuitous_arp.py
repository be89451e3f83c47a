# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gratuitous_arp and arp_probe against real kernels: what the gateway's neighbour table shows after an announcement."""

from __future__ import annotations

import pytest

from tests.support import migration_lab
from tests.support.ansible import run_module
from tests.support.migration_lab import ADDR, ADDR6, GW_MAC, NEW_MAC, OLD_MAC, gw_mac


@pytest.fixture
def lab(make_lab):
    return migration_lab.build(make_lab)


def move(lab, address, prefix):
    """The address leaves old and lands on new, without telling anybody (the state a failover leaves)."""
    lab.run("old", ["ip", "addr", "del", f"{address}/{prefix}", "dev", "eth0"])
    lab.run("new", ["ip", "addr", "add", f"{address}/{prefix}", "dev", "eth0"] + (["nodad"] if ":" in address else []))


def test_the_gateway_shows_the_new_mac_right_after_with_arp_accept_0(lab):
    assert lab.run("gw", ["sysctl", "-n", "net.ipv4.conf.eth0.arp_accept"]).stdout.strip() == "0"
    move(lab, ADDR, 24)
    result = run_module(lab, "new", "layer2.linux.gratuitous_arp", {"address": ADDR, "gateway": "192.0.2.1", "count": 2, "interval": 0.05})
    assert result["_status"] == "ok" and result["changed"], result
    assert gw_mac(lab, ADDR) == NEW_MAC
    assert (result["interface"], result["mac"], result["sent"]) == ("eth0", NEW_MAC, 6)
    assert [f["kind"] for f in result["frames"]] == ["gratuitous request", "gratuitous reply", "request"] * 2
    first = result["frames"][0]
    assert (first["sender_ip"], first["target_ip"], first["sender_mac"], first["dst_mac"]) == (ADDR, ADDR, NEW_MAC, "ff:ff:ff:ff:ff:ff")
    assert result["frames"][2]["target_ip"] == "192.0.2.1"
    assert result["frames"][3]["time"] - result["frames"][0]["time"] >= 0.05


@pytest.mark.parametrize("mode", ["request", "reply"])
def test_true_gratuitous_frames_override_inside_the_gateways_locktime(lab, mode):
    # locktime 30 s: the gateway's entry was just confirmed, so only a true gratuitous ARP may replace the MAC now.
    lab.run("gw", ["sysctl", "-qw", "net.ipv4.neigh.eth0.locktime=3000"])
    lab.run("gw", ["ping", "-c1", "-W2", ADDR])
    move(lab, ADDR, 24)
    result = run_module(lab, "new", "layer2.linux.gratuitous_arp", {"address": ADDR, "mode": mode, "count": 1})
    assert [f["kind"] for f in result["frames"]] == [f"gratuitous {mode}"]
    assert gw_mac(lab, ADDR) == NEW_MAC


def test_the_targeted_request_creates_the_entry_a_gratuitous_arp_cannot(lab):
    # arp_accept=0: a gateway with no entry ignores gratuitous ARP; a request addressed to it creates the entry.
    lab.run("gw", ["ip", "neigh", "flush", "to", ADDR])
    move(lab, ADDR, 24)
    run_module(lab, "new", "layer2.linux.gratuitous_arp", {"address": ADDR, "count": 1})
    assert gw_mac(lab, ADDR) is None
    run_module(lab, "new", "layer2.linux.gratuitous_arp", {"address": ADDR, "count": 1, "gateway": "192.0.2.1"})
    assert gw_mac(lab, ADDR) == NEW_MAC


def test_ipv6_unsolicited_advertisement_overrides_the_gateways_entry(lab):
    move(lab, ADDR6, 64)
    result = run_module(lab, "new", "layer2.linux.gratuitous_arp", {"address": f"{ADDR6}/64", "count": 1, "mode": "request"})
    assert result["_status"] == "ok" and result["changed"], result
    assert gw_mac(lab, ADDR6) == NEW_MAC
    [frame] = result["frames"]
    assert frame["kind"] == "neighbour advertisement" and frame["override"]
    assert (frame["sender_ip"], frame["destination_ip"], frame["target_ip"], frame["lladdr"]) == (ADDR6, "ff02::1", ADDR6, NEW_MAC)


def test_check_mode_sends_nothing_but_lists_what_it_would_send(lab):
    move(lab, ADDR, 24)
    result = run_module(lab, "new", "layer2.linux.gratuitous_arp", {"address": ADDR, "gateway": "192.0.2.1", "count": 2}, check=True)
    assert result["_status"] == "ok" and result["changed"], result
    assert result["sent"] == 0
    assert [(f["kind"], f["round"], f["time"]) for f in result["frames"]] == [
        ("gratuitous request", 1, None), ("gratuitous reply", 1, None), ("request", 1, None),
        ("gratuitous request", 2, None), ("gratuitous reply", 2, None), ("request", 2, None),
    ]
    assert gw_mac(lab, ADDR) == OLD_MAC


def test_an_address_this_host_does_not_hold_is_refused_unless_forced(lab):
    result = run_module(lab, "new", "layer2.linux.gratuitous_arp", {"address": ADDR})
    assert result["_status"] == "failed"
    assert "does not hold 192.0.2.100" in result["msg"] and "ARP poisoning" in result["msg"]
    assert gw_mac(lab, ADDR) == OLD_MAC
    result = run_module(lab, "new", "layer2.linux.gratuitous_arp", {"address": ADDR, "force": True, "count": 1})
    assert result["_status"] == "failed" and "interface to announce on must be given" in result["msg"]
    result = run_module(lab, "new", "layer2.linux.gratuitous_arp", {"address": ADDR, "force": True, "interface": "eth0", "count": 1})
    assert result["_status"] == "ok" and result["changed"], result
    assert gw_mac(lab, ADDR) == NEW_MAC


@pytest.mark.parametrize(
    "params, message",
    [
        ({"address": "192.0.2.300"}, "'192.0.2.300' is not an IPv4 or IPv6 address"),
        ({"address": ADDR, "mode": "sideways"}, "value of mode must be one of: request, reply, both"),
        ({"address": ADDR, "count": 0}, "count 0 is out of range 1-100"),
        ({"address": ADDR, "interval": -1}, "interval -1.0 is out of range 0-10 seconds"),
        ({"address": ADDR, "interface": "eth9"}, "interface 'eth9' does not exist on this host"),
        ({"address": ADDR, "interface": "lo"}, "interface lo has no Ethernet address"),
        ({"address": ADDR, "gateway": "2001:db8::1"}, "are not the same IP version"),
    ],
)
def test_bad_input_fails_clearly_and_sends_nothing(lab, params, message):
    move(lab, ADDR, 24)
    result = run_module(lab, "new", "layer2.linux.gratuitous_arp", params)
    assert result["_status"] == "failed"
    assert message in result["msg"]
    assert gw_mac(lab, ADDR) == OLD_MAC


def test_probe_finds_the_gateway_and_every_holder_of_an_address(lab):
    gateway = run_module(lab, "new", "layer2.linux.arp_probe", {"address": "192.0.2.1"})
    assert (gateway["_status"], gateway["answered"], gateway["macs"], gateway["source"]) == ("ok", True, [GW_MAC], "192.0.2.20")
    # A second holder of the address (a duplicate) answers too: duplicate detection lists both.
    lab.run("gw", ["ip", "addr", "add", f"{ADDR}/24", "dev", "eth0"])
    holders = run_module(lab, "new", "layer2.linux.arp_probe", {"address": ADDR, "dad": True, "count": 2, "wait": 0.3})
    assert (holders["source"], holders["macs"]) == ("0.0.0.0", sorted([OLD_MAC, GW_MAC]))
    nobody = run_module(lab, "new", "layer2.linux.arp_probe", {"address": "192.0.2.77", "dad": True, "count": 1, "wait": 0.2})
    assert (nobody["answered"], nobody["macs"]) == (False, [])
    holders6 = run_module(lab, "new", "layer2.linux.arp_probe", {"address": ADDR6, "dad": True, "count": 1, "wait": 0.3})
    assert (holders6["source"], holders6["macs"]) == ("::", [OLD_MAC])


def test_probe_bad_input_fails_clearly(lab):
    result = run_module(lab, "new", "layer2.linux.arp_probe", {"address": "192.0.2.1", "interface": "eth9"})
    assert result["_status"] == "failed" and "interface 'eth9' does not exist" in result["msg"]
    result = run_module(lab, "new", "layer2.linux.arp_probe", {"address": "192.0.2.1", "source": "2001:db8::14"})
    assert result["_status"] == "failed" and "not the same IP version" in result["msg"]
