# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data: the MAC prefixes (IEEE MA-L assignments) held by Raspberry Pi, what pi_discover calls a Pi by default.

Kept as a Python module so Ansible ships it to the managed node with the module that imports it.
Each prefix below was checked against the IEEE registry; 88:a2:9e is left out because no registry
record for Raspberry Pi could be found for it (add it here with its source when there is one).
"""

from __future__ import annotations

SOURCE = "IEEE MA-L (OUI) public listing, https://standards-oui.ieee.org/oui/oui.txt, as shipped in netaddr 1.3.0"
CHECKED = "2026-11-24"

# prefix -> organisation as registered
RASPBERRY_PI_OUIS = {
    "b8:27:eb": "Raspberry Pi Foundation",
    "dc:a6:32": "Raspberry Pi Trading Ltd",
    "e4:5f:01": "Raspberry Pi Trading Ltd",
    "28:cd:c1": "Raspberry Pi Trading Ltd",
    "d8:3a:dd": "Raspberry Pi Trading Ltd",
    "2c:cf:67": "Raspberry Pi (Trading) Ltd",
}
