# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses on one interface: read and apply over netlink (pyroute2), with the management-connection guard; the plan is _address_plan."""

from __future__ import annotations

import ipaddress

from ansible_collections.layer2.linux.plugins.module_utils._address_plan import AddressError, parse_cidrs, plan
from ansible_collections.layer2.linux.plugins.module_utils._mgmt import carries_management, refusal
from ansible_collections.layer2.linux.plugins.module_utils._netlink import NetlinkError, addresses, kernel_says, netlink_session


def interface_index(ipr, name: str) -> int:
    found = ipr.link_lookup(ifname=name)
    if not found:
        raise AddressError(f"interface {name} does not exist on this host")
    return found[0]


def current_addresses(ipr, index: int) -> list:
    return [ipaddress.ip_interface(a["cidr"]) for a in addresses(ipr, index)]


def apply(ipr, index: int, remove, add) -> None:
    """Removals first: removing a primary IPv4 address also drops the secondaries of its subnet, new ones included."""
    for iface in remove:
        _netlink_addr(ipr, "del", index, iface)
    for iface in add:
        _netlink_addr(ipr, "add", index, iface)


def _netlink_addr(ipr, command: str, index: int, iface) -> None:
    extra = {}
    if command == "add" and iface.version == 4 and iface.network.prefixlen < 31:
        extra["broadcast"] = str(iface.network.broadcast_address)  # as `ip addr add ... brd +` and ifconfig do
    try:
        ipr.addr(command, index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen, **extra)
    except NetlinkError as exc:
        verb = "adding" if command == "add" else "removing"
        raise AddressError(f"the kernel refused {verb} {iface.with_prefixlen}: {kernel_says(exc)}") from None


def ensure_addresses(interface: str, cidrs, state: str = "present", exclusive: bool = False, force: bool = False,
                     check_mode: bool = False, environ=None) -> dict:
    """The whole task: validate, read, plan, guard, apply (not in check mode), read back. Returns the module result."""
    wanted = parse_cidrs(cidrs)
    with netlink_session() as ipr:
        index = interface_index(ipr, interface)
        before = current_addresses(ipr, index)
        remove, add = plan(before, wanted, state, exclusive)
        cut = carries_management([r.with_prefixlen for r in remove], environ)
        if cut and not force:
            raise AddressError(refusal(f"remove {cut} from {interface}", cut))
        if check_mode or not (remove or add):
            after = [a for a in before if a not in remove] + add
        else:
            apply(ipr, index, remove, add)
            after = current_addresses(ipr, index)
            missing = [a.with_prefixlen for a in add if a not in after]
            if missing:
                raise AddressError(f"{', '.join(missing)} did not stay on {interface} (a removed primary address took its secondaries?)")
    return result(interface, before, after, remove, add)


def result(interface: str, before, after, remove, add) -> dict:
    before_text, after_text = [b.with_prefixlen for b in before], [a.with_prefixlen for a in after]
    return {
        "changed": bool(remove or add),
        "interface": interface,
        "before": before_text,
        "after": after_text,
        "added": [a.with_prefixlen for a in add],
        "removed": [r.with_prefixlen for r in remove],
        "diff": {
            "before_header": f"{interface} addresses",
            "after_header": f"{interface} addresses",
            "before": "".join(f"{c}\n" for c in before_text),
            "after": "".join(f"{c}\n" for c in after_text),
        },
    }
