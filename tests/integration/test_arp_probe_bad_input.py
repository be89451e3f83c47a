# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 18: arp_probe refuses bad input in words before any frame is sent, in one playbook run, and speaks for no
other host: the neighbour tables of gw and b (the other hosts of the segment) are the same after the run.

Before the run gw and b learn each other's and a's MACs (pings), so a probe sent with b's address as its sender would
move b's entry in gw's table to a's MAC. Only b itself could move it back, so one snapshot before and one after the
whole run cannot miss a poisoning case.
"""

from __future__ import annotations

from tests.support.bad_input import neighbour_suite

MODULE = "layer2.linux.arp_probe"
CASES = {
    "source another host's": ({"address": "192.0.2.1", "source": "192.0.2.20"}, ["source 192.0.2.20 is not an address of this host on eth0"]),
    "source another host's, check mode": (({"address": "192.0.2.1", "source": "192.0.2.20"}, {"check_mode": True}), ["source 192.0.2.20"]),
    "source the target's own": ({"address": "192.0.2.20", "source": "192.0.2.1", "interface": "eth0"}, ["source 192.0.2.1 is not an address"]),
    "source another host's IPv6": ({"address": "2001:db8::1", "source": "2001:db8::14"}, ["source 2001:db8::14 is not an address"]),
    "source broadcast, forced": ({"address": "192.0.2.1", "source": "255.255.255.255", "force": True}, ["source 255.255.255.255 is the broadcast"]),
    "source subnet broadcast": ({"address": "192.0.2.1", "source": "192.0.2.255"}, ["source 192.0.2.255 is not an address"]),
    "source multicast, forced": ({"address": "192.0.2.1", "source": "224.0.0.1", "force": True}, ["source 224.0.0.1 is a multicast"]),
    "source loopback, forced": ({"address": "2001:db8::1", "source": "::1", "force": True}, ["source ::1 is a loopback"]),
    "source other IP version": ({"address": "192.0.2.1", "source": "2001:db8::a"}, ["source 2001:db8::a and address 192.0.2.1"]),
    "source not an address": ({"address": "192.0.2.1", "source": "gw"}, ["source 'gw' is not an IPv4 or IPv6 address"]),
    "address not an address": ({"address": "192.0.2.300"}, ["address '192.0.2.300'"]),
    "interface a template": ({"address": "192.0.2.1", "interface": "eth%d"}, ["'eth%d' is not a Linux interface name"]),
    "interface missing": ({"address": "192.0.2.1", "interface": "eth9"}, ["interface 'eth9' does not exist"]),
    "count 0": ({"address": "192.0.2.1", "count": 0}, ["count 0 is out of range"]),
    "wait too long": ({"address": "192.0.2.1", "wait": 31}, ["wait 31.0 is out of range"]),
}


lab, refused, test_refused_in_words_naming_the_option, test_nothing_changed = neighbour_suite(MODULE, CASES)


def test_the_neighbour_tables_do_show_a_probe_from_another_hosts_address(refused, lab):
    # The control: the same probe with force does move b's address in gw's table to a's MAC, so the snapshot above would see it.
    from tests.support.ansible import run_module

    forced = run_module(lab, "a", MODULE, {"address": "192.0.2.1", "source": "192.0.2.20", "force": True, "count": 1, "wait": 0.1})
    assert forced["_status"] == "ok", forced
    assert lab.neighbour("gw", "192.0.2.20")["lladdr"] == "02:00:5e:00:00:0a"
