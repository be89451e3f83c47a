# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 18: gratuitous_arp refuses bad input in words before any frame is sent, in one playbook run: an address this
host does not hold (without force), and with or without force the addresses no single host owns (broadcast,
unspecified, multicast, loopback, link-local broadcast, the subnet's broadcast). The neighbour tables of gw and b are
the same after the run.

gw and b know every MAC before the run; an announcement of b's address from a would move b's entry in gw's table to
a's MAC, and only b could move it back, so one snapshot before and one after the whole run cannot miss it.
"""

from __future__ import annotations

from tests.support.bad_input import neighbour_suite

MODULE = "layer2.linux.gratuitous_arp"
FORCED = {"force": True, "interface": "eth0", "count": 1}
CASES = {
    "another host's address": ({"address": "192.0.2.20", "count": 1}, ["address 192.0.2.20: this host does not hold 192.0.2.20"]),
    "another host's address, check mode": (({"address": "192.0.2.20"}, {"check_mode": True}), ["address 192.0.2.20: this host does not hold"]),
    "another host's IPv6 address": ({"address": "2001:db8::14", "count": 1}, ["address 2001:db8::14: this host does not hold"]),
    "limited broadcast, forced": ({"address": "255.255.255.255", **FORCED}, ["address 255.255.255.255 is the broadcast address"]),
    "subnet broadcast, forced": ({"address": "192.0.2.255", **FORCED}, ["address 192.0.2.255 is the broadcast address"]),
    "link-local broadcast, forced": ({"address": "169.254.255.255", **FORCED}, ["address 169.254.255.255 is the broadcast address"]),
    "unspecified, forced": ({"address": "0.0.0.0", **FORCED}, ["address 0.0.0.0 is the unspecified address"]),
    "IPv6 unspecified, forced": ({"address": "::", **FORCED}, ["address :: is the unspecified address"]),
    "all-nodes multicast, forced": ({"address": "ff02::1", **FORCED}, ["address ff02::1 is a multicast address"]),
    "IPv4 multicast, forced": ({"address": "224.0.0.1", **FORCED}, ["address 224.0.0.1 is a multicast address"]),
    "loopback, forced": ({"address": "127.0.0.1", **FORCED}, ["address 127.0.0.1 is a loopback address"]),
    "gateway broadcast": ({"address": "192.0.2.10", "gateway": "255.255.255.255", "count": 1}, ["gateway 255.255.255.255 is the broadcast"]),
    "gateway subnet broadcast": ({"address": "192.0.2.10", "gateway": "192.0.2.255", "count": 1}, ["gateway 192.0.2.255 is the broadcast"]),
    "interface of 16 bytes": ({"address": "192.0.2.10", "interface": "é" * 8}, ["'éééééééé' is not a Linux interface name"]),
    "count too big": ({"address": "192.0.2.10", "count": 101}, ["count 101 is out of range"]),
    "mode unknown": ({"address": "192.0.2.10", "mode": "sideways"}, ["mode"]),
}


lab, refused, test_refused_in_words_naming_the_option, test_nothing_changed = neighbour_suite(MODULE, CASES)
