# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What gratuitous_arp and arp_probe share: the host's links and address holders over rtnetlink, and the link they refuse."""

from __future__ import annotations

import re

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _arp_host
from ansible_collections.layer2.linux.plugins.module_utils._arp_host import ArpError, usable_link
from ansible_collections.layer2.linux.plugins.module_utils._iface import ARPHRD_ETHER

LINKS = {"lo": {"name": "lo", "index": 1, "link_type": 772, "mac": None, "up": True},  # ARPHRD_LOOPBACK
         "eth0": {"name": "eth0", "index": 2, "link_type": ARPHRD_ETHER, "mac": "02:00:5e:00:00:0a", "up": True},
         "eth1": {"name": "eth1", "index": 3, "link_type": ARPHRD_ETHER, "mac": "02:00:5e:00:00:0b", "up": False}}


def test_stdlib_lookups_read_this_hosts_loopback():
    # The module finds interfaces and address holders without pyroute2 (rtnetlink dumps, no root needed).
    links = _arp_host.local_links()
    assert links["lo"]["mac"] is None and links["lo"]["up"]
    assert _arp_host.address_holder("127.0.0.1") == "lo"
    assert _arp_host.address_holder("192.0.2.254") is None


@pytest.mark.parametrize("name, message", [
    ("eth0:1", "'eth0:1' is not a Linux interface name"),
    ("eth9", "interface 'eth9' does not exist on this host (it has eth0, eth1, lo)"),
    ("eth1", "interface eth1 is down: bring it up before probing on it"),
    ("lo", "interface lo has no Ethernet address"),
])
def test_a_link_that_cannot_carry_arp_is_refused_in_words(name, message):
    with pytest.raises(ArpError, match=re.escape(message)):
        usable_link(LINKS, name, "probing")
    assert usable_link(LINKS, "eth0", "probing")["mac"] == "02:00:5e:00:00:0a"
