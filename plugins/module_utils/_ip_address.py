# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses on one interface: read and apply in one rtnetlink session (_rtnl), with the management-connection guard; the plan is _address_plan."""

from __future__ import annotations

import ipaddress

from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._address_plan import AddressError, parse_cidrs, plan
from ansible_collections.layer2.linux.plugins.module_utils._iface import check_interface_name
from ansible_collections.layer2.linux.plugins.module_utils._mgmt import carries_management, refusal


def checked_name(name) -> str:
    """The interface name, refused by the kernel's rules (_iface) before a socket is opened."""
    try:
        return check_interface_name(name)
    except ValueError as exc:
        raise AddressError(str(exc)) from None


def interface_index(nl, name: str) -> int:
    link = nl.link(name)
    if link is None:
        raise AddressError(f"interface {name} does not exist on this host")
    return link["index"]


def current_addresses(nl, index: int) -> list:
    return [ipaddress.ip_interface(a["cidr"]) for a in nl.addresses(index)]


def requests(index: int, remove, add, nodad: bool = False) -> list:
    """Removals first: removing a primary IPv4 address also drops the secondaries of its subnet, new ones included."""
    return [rt.address_change(rt.RTM_DELADDR, index, r) for r in remove] + [rt.address_change(rt.RTM_NEWADDR, index, a, nodad) for a in add]


def apply(nl, interface: str, index: int, remove, add, nodad: bool = False) -> None:
    """Every change in one batch; the kernel handles them in order and a refused one does not stop the others."""
    labels = [f"removing {r.with_prefixlen} from {interface}" for r in remove] + [f"adding {a.with_prefixlen} on {interface}" for a in add]
    results = nl.batch(requests(index, remove, add, nodad))
    refused = rt.refusals(results, labels)
    if refused:
        done = sum(r is None for r in results)
        made = {0: "; nothing was changed", 1: " (the other change was made)"}.get(done, f" (the other {done} changes were made)")
        raise AddressError(refused + made)


def ensure_addresses(interface: str, cidrs, state: str = "present", exclusive: bool = False, force: bool = False, nodad: bool = False,
                     check_mode: bool = False, environ=None) -> dict:
    """The whole task: validate, read, plan, guard, apply (not in check mode), read back. Returns the module result.

    nodad only shapes the IPv6 addresses this task adds; an address already held is kept as it is, whatever its flags.
    """
    checked_name(interface)
    wanted = parse_cidrs(cidrs)
    with rt.Rtnl() as nl:
        index = interface_index(nl, interface)
        before = current_addresses(nl, index)
        remove, add = plan(before, wanted, state, exclusive)
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
