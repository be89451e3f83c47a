# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 18: vlan_interface refuses bad input in words before any netlink change, in one playbook run.

Every case here is refused by validation or by the plan, before the module would load 8021q or create a link, so it
runs on the host kernel (which has no 802.1Q); the VLANs themselves are tested in tests/kernel. Links and addresses
are compared once before and once after the run: no case may create anything, so none could hide another's link.
"""

from __future__ import annotations

from tests.support.bad_input import lab_for_module, suite

MODULE = "layer2.linux.vlan_interface"
CASES = {
    "vid 0": ({"parent": "eth0", "vlan_id": 0}, ["VLAN id 0 is out of range 1-4094"]),
    "vid 4095": ({"parent": "eth0", "vlan_id": 4095}, ["VLAN id 4095 is out of range 1-4094"]),
    "vid not a number": ({"parent": "eth0", "vlan_id": "abc"}, ["vlan_id"]),
    "name of 16 bytes": ({"parent": "eth0", "vlan_id": 5, "name": "é" * 8}, ["'éééééééé' is not a Linux interface name", "16 bytes"]),
    "name a template": ({"parent": "eth0", "vlan_id": 5, "name": "vlan%d"}, ["'vlan%d' is not a Linux interface name", "template"]),
    "name too long by default": ({"parent": "eth0.12345678", "vlan_id": 1234}, ["'eth0.12345678.1234' is not a Linux interface name"]),
    "parent an alias": ({"parent": "eth0:1", "vlan_id": 5, "name": "v5"}, ["'eth0:1' is not a Linux interface name"]),
    "parent missing": ({"parent": "eth9", "vlan_id": 5}, ["parent interface eth9 of eth9.5 does not exist"]),
    "protocol unknown": ({"parent": "eth0", "vlan_id": 5, "protocol": "802.1x"}, ["protocol"]),
    "MTU too small": ({"parent": "eth0", "vlan_id": 5, "mtu": 10}, ["MTU 10 is out of range 68-65535"]),
    "bad CIDR": ({"parent": "eth0", "vlan_id": 6, "addresses": ["10.6.0.300/24"]}, ["'10.6.0.300/24' is not an IPv4 or IPv6 address"]),
    "IPv6 loopback": ({"parent": "eth0", "vlan_id": 6, "addresses": ["10.6.0.1/24", "::1/128"]}, ["address ::1/128", "loopback interface only"]),
    "zone of another interface": ({"parent": "eth0", "vlan_id": 6, "addresses": ["fe80::6%eth0/64"]}, ["zone 'eth0', but the interface is eth0.6"]),
    "two prefix lengths": ({"parent": "eth0", "vlan_id": 6, "addresses": ["10.6.0.1/24", "10.6.0.1/25"]}, ["10.6.0.1/24 and 10.6.0.1/25"]),
    "one bad in a list": ({"parent": "eth0", "vlans": [{"vlan_id": 7}, {"vlan_id": 4095}]}, ["vlans[1]: VLAN id 4095 is out of range"]),
    "asked twice": ({"parent": "eth0", "vlans": [{"vlan_id": 7}, {"vlan_id": 7}]}, ["eth0.7 is asked for twice"]),
}


def one_host():
    yield from lab_for_module({"switches": ["lan"], "hosts": {"a": {"links": [{"switch": "lan", "addresses": ["192.0.2.10/24"]}]}}})


lab, refused, test_refused_in_words_naming_the_option, test_nothing_changed = suite(MODULE, CASES, one_host, "a")
