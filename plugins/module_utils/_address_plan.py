# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which addresses to add and remove on an interface: pure, shared by ip_address and vlan_interface (both apply it through _rtnl)."""

from __future__ import annotations

import ipaddress


class AddressError(Exception):
    """A refusal or failure, worded for the user; nothing was changed when it is raised before apply()."""


def parse_cidrs(values, interface: str | None = None) -> list:
    """CIDR strings as ip_interface objects, in order, without duplicates; a bad one is refused by name.

    A zone (fe80::1%eth0/64) is accepted when it names `interface`, and dropped: the kernel keeps no zone on an address.
    """
    parsed = []
    for value in values or []:
        try:
            iface = ipaddress.ip_interface(str(value).strip())
        except ValueError:
            raise AddressError(f"{value!r} is not an IPv4 or IPv6 address in CIDR form (such as 192.0.2.10/24 or 2001:db8::10/64)") from None
        if iface.version == 6 and iface.scope_id is not None:
            if iface.scope_id != interface:
                raise AddressError(f"address {value} names the zone {iface.scope_id!r}, but the interface is {interface}; "
                                   "leave the zone out (the interface is the zone) or name this interface")
            iface = ipaddress.ip_interface(f"{iface.ip}/{iface.network.prefixlen}")  # .ip carries no zone
        if iface not in parsed:
            parsed.append(iface)
    return parsed


def refuse_unassignable(wanted, loopback: bool = False) -> None:
    """Refuse, before any change, what the kernel will not hold on an interface: the unspecified address (IPv4 0.0.0.0
    is dropped without an error, IPv6 :: refused), IPv6 multicast, and ::1 anywhere but on a loopback interface."""
    for iface in wanted:
        ip = iface.ip
        why = ("it is the unspecified address" if ip.is_unspecified
               else "IPv6 multicast addresses are groups an interface joins, not addresses it holds" if iface.version == 6 and ip.is_multicast
               else "::1 lives on the loopback interface only" if iface.version == 6 and ip.is_loopback and not loopback else None)
        if why:
            raise AddressError(f"address {iface.with_prefixlen} cannot be put on an interface: {why}; nothing was changed")


def refuse_two_lengths(wanted) -> None:
    """One address listed with two prefix lengths is a contradiction (an interface holds an address once)."""
    lengths = {}
    for w in wanted:
        lengths.setdefault(w.ip, []).append(w.with_prefixlen)
    twice = [" and ".join(given) for given in lengths.values() if len(given) > 1]
    if twice:
        raise AddressError(f"addresses lists the same address with two prefix lengths ({'; '.join(twice)}); an interface holds an address "
                           "once, so give each address with one prefix length")


def plan(current, wanted, state: str, exclusive: bool) -> tuple[list, list]:
    """(to_remove, to_add) turning the current addresses into what is asked; pure, ip_interface objects in and out.

    present: add what is missing; an address held with another prefix length is replaced; exclusive also removes
    every address not listed, except IPv6 link-local ones (the kernel owns those).
    absent: remove the listed addresses, whatever prefix length they are held with.
    """
    if state == "absent":
        unwanted = {w.ip for w in wanted}
        return [c for c in current if c.ip in unwanted], []
    refuse_two_lengths(wanted)
    wanted_ips = {w.ip for w in wanted}
    remove = [c for c in current if c not in wanted and (c.ip in wanted_ips or (exclusive and not _is_link_local(c)))]
    add = [w for w in wanted if w not in current]
    return remove, add


def _is_link_local(iface) -> bool:
    return iface.version == 6 and iface.ip.is_link_local
