# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which addresses to add and remove on an interface: pure, shared by ip_address and vlan_interface (both apply it through _rtnl)."""

from __future__ import annotations

import ipaddress


class AddressError(Exception):
    """A refusal or failure, worded for the user; nothing was changed when it is raised before apply()."""


def parse_cidrs(values) -> list:
    """CIDR strings as ip_interface objects, in order, without duplicates; a bad one is refused by name."""
    parsed = []
    for value in values or []:
        try:
            iface = ipaddress.ip_interface(str(value).strip())
        except ValueError:
            raise AddressError(f"{value!r} is not an IPv4 or IPv6 address in CIDR form (such as 192.0.2.10/24 or 2001:db8::10/64)") from None
        if iface not in parsed:
            parsed.append(iface)
    return parsed


def plan(current, wanted, state: str, exclusive: bool) -> tuple[list, list]:
    """(to_remove, to_add) turning the current addresses into what is asked; pure, ip_interface objects in and out.

    present: add what is missing; an address held with another prefix length is replaced; exclusive also removes
    every address not listed, except IPv6 link-local ones (the kernel owns those).
    absent: remove the listed addresses, whatever prefix length they are held with.
    """
    if state == "absent":
        unwanted = {w.ip for w in wanted}
        return [c for c in current if c.ip in unwanted], []
    wanted_ips = {w.ip for w in wanted}
    remove = [c for c in current if c not in wanted and (c.ip in wanted_ips or (exclusive and not _is_link_local(c)))]
    add = [w for w in wanted if w not in current]
    return remove, add


def _is_link_local(iface) -> bool:
    return iface.version == 6 and iface.ip.is_link_local
