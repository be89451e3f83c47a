# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What gratuitous_arp and arp_probe share: their common parameters checked, and this host's interface for an address,
read over rtnetlink with the standard library (importing a netlink library alone costs 0.1-0.25 s)."""

from __future__ import annotations

import ipaddress
import socket

from ansible_collections.layer2.linux.plugins.module_utils._iface import ethernet_link, is_ethernet
from ansible_collections.layer2.linux.plugins.module_utils._rtnl import Rtnl


class ArpError(Exception):
    """A request the modules refuse, worded for the user."""


def plain_address(text: str, what: str = "address") -> str:
    """`192.0.2.100/24` or `192.0.2.100` -> `192.0.2.100`; anything else is refused in words."""
    try:
        return str(ipaddress.ip_interface(str(text).strip()).ip)
    except ValueError:
        raise ArpError(f"{what} {text!r} is not an IPv4 or IPv6 address") from None


def check_numbers(count: int, interval: float) -> None:
    if not 1 <= count <= 100:
        raise ArpError(f"count {count} is out of range 1-100")
    if not 0 <= interval <= 10:
        raise ArpError(f"interval {interval} is out of range 0-10 seconds")


def usable_link(all_links: dict, name: str, doing: str) -> dict:
    """The named link of local_links(), refused in words unless it exists, is up and speaks Ethernet."""
    try:
        return ethernet_link(all_links, name, doing)
    except ValueError as exc:
        raise ArpError(str(exc)) from None


def local_links() -> dict[str, dict]:
    """Every interface of this namespace by name: index, link type, MAC (None unless Ethernet) and whether it is up."""
    with Rtnl() as nl:
        found = nl.links_by_name()
    return {name: {"name": name, "index": link["index"], "link_type": link["link_type"], "mac": link["mac"] if is_ethernet(link) else None,
                   "up": link["up"]}
            for name, link in found.items()}


def address_holder(address: str) -> str | None:
    """The interface holding `address` (one RTM_GETADDR dump over rtnetlink), or None."""
    wanted = ipaddress.ip_address(address)
    with Rtnl() as nl:
        held = nl.addresses()
    for entry in held:
        if ipaddress.ip_interface(entry["cidr"]).ip == wanted:
            return socket.if_indextoname(entry["index"])
    return None


LIMITED_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
LINK_LOCAL_BROADCAST = ipaddress.IPv4Address("169.254.255.255")  # the broadcast address of 169.254.0.0/16 (RFC 3927)


def held_on(index: int) -> list:
    """The addresses (ip_interface) held on one interface, from one RTM_GETADDR dump."""
    with Rtnl() as nl:
        return [ipaddress.ip_interface(a["cidr"]) for a in nl.addresses(index)]


def refuse_shared(address: str, what: str, held=()) -> None:
    """Refuse an address no host can own alone, whatever force says: unspecified, loopback, multicast, the limited and
    link-local broadcasts, and the broadcast address of a subnet on the interface (`held`, its ip_interface objects).
    Announcing one of these would put this host's MAC behind an address every host on the segment uses."""
    ip = ipaddress.ip_address(address)
    directed = {h.network.broadcast_address for h in held if h.version == 4 and h.network.prefixlen < 31}
    kind = ("the unspecified address" if ip.is_unspecified else "a loopback address" if ip.is_loopback
            else "a multicast address" if ip.is_multicast
            else "the broadcast address" if ip in (LIMITED_BROADCAST, LINK_LOCAL_BROADCAST) or ip in directed else None)
    if kind:
        raise ArpError(f"{what} {address} is {kind}, which no single host owns; it cannot be announced or used as a sender "
                       "address, with or without force")
