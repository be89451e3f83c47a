# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses on one interface: read and apply in one rtnetlink session (_rtnl), with the management-connection guard; the plan is _address_plan."""

from __future__ import annotations

import ipaddress

from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._address_plan import AddressError, parse_cidrs, plan, refuse_unassignable
from ansible_collections.layer2.linux.plugins.module_utils._iface import check_interface_name
from ansible_collections.layer2.linux.plugins.module_utils._mgmt import carries_management, refusal

ARPHRD_LOOPBACK = 772  # include/uapi/linux/if_arp.h


def checked_name(name) -> str:
    """The interface name, refused by the kernel's rules (_iface) before a socket is opened."""
    try:
        return check_interface_name(name)
    except ValueError as exc:
        raise AddressError(str(exc)) from None


def current_addresses(nl, index: int) -> list:
    return [ipaddress.ip_interface(a["cidr"]) for a in nl.addresses(index)]


def requests(index: int, remove, add, nodad: bool = False) -> list:
    """Removals first: removing a primary IPv4 address also drops the secondaries of its subnet, new ones included."""
    return [rt.address_change(rt.RTM_DELADDR, index, r) for r in remove] + [rt.address_change(rt.RTM_NEWADDR, index, a, nodad) for a in add]


def apply(nl, interface: str, index: int, remove, add, nodad: bool = False) -> None:
    """Every change in one batch; the kernel handles them in order and a refused one does not stop the others, so when
    one is refused the others are undone: the task fails with the interface as it was (flags and lifetimes aside)."""
    labels = [f"removing {r.with_prefixlen} from {interface}" for r in remove] + [f"adding {a.with_prefixlen} on {interface}" for a in add]
    results = nl.batch(requests(index, remove, add, nodad))
    refused = rt.refusals(results, labels)
    if refused:
        raise AddressError(refused + undo(nl, interface, index, remove, add))


def undo(nl, interface: str, index: int, remove, add) -> str:
    """Put back the addresses removed and take away those added; says how that went, for the failure message."""
    now = current_addresses(nl, index)
    back = [rt.address_change(rt.RTM_DELADDR, index, a) for a in add if a in now]
    back += [rt.address_change(rt.RTM_NEWADDR, index, r, True) for r in remove if r not in now]
    if not back:
        return "; nothing was changed"
    left = [r for r in nl.batch(back) if r is not None]
    if left:
        return f"; the other changes were made and {len(left)} of them could not be undone: {', '.join(map(str, left))}"
    return f"; the {len(back)} other changes were undone, so nothing was changed"


def ipv6_disabled(interface: str) -> bool:
    try:
        with open(f"/proc/sys/net/ipv6/conf/{interface}/disable_ipv6", encoding="ascii") as handle:
            return handle.read().strip() == "1"
    except FileNotFoundError:
        return True  # no IPv6 in this kernel, or none on this interface


def ensure_addresses(interface: str, cidrs, state: str = "present", exclusive: bool = False, force: bool = False, nodad: bool = False,
                     check_mode: bool = False, environ=None) -> dict:
    """The whole task: validate, read, plan, guard, apply (not in check mode), read back. Returns the module result.

    nodad only shapes the IPv6 addresses this task adds; an address already held is kept as it is, whatever its flags.
    """
    checked_name(interface)
    wanted = parse_cidrs(cidrs, interface)
    with rt.Rtnl() as nl:
        link = nl.link(interface)
        if link is None:
            raise AddressError(f"interface {interface} does not exist on this host")
        index = link["index"]
        before = current_addresses(nl, index)
        remove, add = plan(before, wanted, state, exclusive)
        refuse_unassignable(add, loopback=link["link_type"] == ARPHRD_LOOPBACK)
        if any(a.version == 6 for a in add) and ipv6_disabled(interface):
            raise AddressError(f"IPv6 is disabled on {interface} (net.ipv6.conf.{interface.replace('.', '/')}.disable_ipv6 = 1), so "
                               f"{', '.join(a.with_prefixlen for a in add if a.version == 6)} cannot be added; enable it or leave them out; "
                               "nothing was changed")
        cut = carries_management([r.with_prefixlen for r in remove], environ)
        if cut and not force:
            raise AddressError(refusal(f"remove {cut} from {interface}", cut))
        if check_mode or not (remove or add):
            after = [a for a in before if a not in remove] + add
        else:
            apply(nl, interface, index, remove, add, nodad)
            after = current_addresses(nl, index)
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
