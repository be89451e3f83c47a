# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data: the MAC prefixes (IEEE MA-L assignments) held by Raspberry Pi, what pi_discover calls a Pi by default.

Kept as a Python module so Ansible ships it to the managed node with the module that imports it.
Each prefix has its source in SOURCES. The organisation names are the registry's spelling; where netaddr's copy of
the registry lacks a prefix we ship (88:a2:9e, assigned in 2025), the vendor name comes from here.
"""

from __future__ import annotations

NETADDR = "IEEE MA-L (OUI) public listing, https://standards-oui.ieee.org/oui/oui.txt, as shipped in netaddr 1.3.0"
NETDISCOVER = ("IEEE MA-L listing as generated into netdiscover's src/oui.h (github.com/netdiscover-scanner/netdiscover, "
               "entry added in commit e9b1ab04 of 2025-03-26, list downloaded 2025-08-14 from standards-oui.ieee.org)")
SOURCE = f"{NETADDR}; 88:a2:9e: {NETDISCOVER}"
CHECKED = "2026-11-26"

# prefix -> organisation as registered
RASPBERRY_PI_OUIS = {
    "b8:27:eb": "Raspberry Pi Foundation",
    "dc:a6:32": "Raspberry Pi Trading Ltd",
    "e4:5f:01": "Raspberry Pi Trading Ltd",
    "28:cd:c1": "Raspberry Pi Trading Ltd",
    "d8:3a:dd": "Raspberry Pi Trading Ltd",
    "2c:cf:67": "Raspberry Pi (Trading) Ltd",
    "88:a2:9e": "Raspberry Pi (Trading) Ltd",
}

# where each prefix was checked
SOURCES = {prefix: NETADDR for prefix in RASPBERRY_PI_OUIS} | {"88:a2:9e": NETDISCOVER}
