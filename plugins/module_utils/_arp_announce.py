# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gratuitous_arp module's logic: validate, find the interface and MAC of the address, send the burst."""

from __future__ import annotations

import time

from ansible_collections.layer2.linux.plugins.module_utils._arp_frame import announcement, describe, is_ipv6
from ansible_collections.layer2.linux.plugins.module_utils._arp_host import (
    ArpError,
    address_holder,
    check_numbers,
    held_on,
    local_links,
    plain_address,
    refuse_shared,
    usable_link,
)
from ansible_collections.layer2.linux.plugins.module_utils._arp_socket import RawLink

MODES = ("request", "reply", "both")


def send_burst(ifname: str, frames: list[bytes], count: int, interval: float) -> list[dict]:
    """Send each frame `count` times, rounds `interval` seconds apart; return what went out and when."""
    sent = []
    with RawLink(ifname) as link:
        for round_no in range(count):
            if round_no:
                time.sleep(interval)
            for frame in frames:
                sent.append(dict(describe(frame), round=round_no + 1, time=link.send(frame)))
    return sent


def _announcing_link(address: str, interface: str | None, force: bool) -> dict:
    all_links = local_links()
    if interface:
        usable_link(all_links, interface, "announcing")
    owner = address_holder(address)
    if owner is None and not force:
        raise ArpError(
            f"address {address}: this host does not hold {address} on any interface; announcing an address another host holds diverts its traffic "
            f"(ARP poisoning). Add the address first (layer2.linux.ip_address), or set force: true if this is intended"
        )
    if owner is not None and interface and owner != interface and not force:
        raise ArpError(f"{address} is on {owner}, not on {interface}; leave interface out or name {owner} (or set force: true)")
    if owner is None and not interface:
        raise ArpError(f"no interface holds {address}, so with force: true the interface to announce on must be given")
    return usable_link(all_links, interface or owner, "announcing")


def announce(params: dict, check_mode: bool = False) -> dict:
    """The gratuitous_arp module: validate, find the interface and MAC, send the burst (or list it in check mode)."""
    address = plain_address(params["address"])
    refuse_shared(address, "address")
    gateway = plain_address(params["gateway"], "gateway") if params.get("gateway") else None
    if gateway:
        refuse_shared(gateway, "gateway")
    if gateway and is_ipv6(gateway) != is_ipv6(address):
        raise ArpError(f"gateway {gateway} and address {address} are not the same IP version")
    mode = params.get("mode") or "both"
    if mode not in MODES:
        raise ArpError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    count, interval = params.get("count", 3), params.get("interval", 0.2)
    check_numbers(count, interval)
    link = _announcing_link(address, params.get("interface"), params.get("force", False))
    held = held_on(link["index"])
    refuse_shared(address, "address", held)  # the broadcast address of a subnet on this link
    if gateway:
        refuse_shared(gateway, "gateway", held)
    frames = announcement(link["mac"], address, mode, None if is_ipv6(address) else gateway)
    if check_mode:
        planned = [dict(describe(f), round=r + 1, time=None) for r in range(count) for f in frames]
        return {"address": address, "interface": link["name"], "mac": link["mac"], "frames": planned, "sent": 0}
    try:
        sent = send_burst(link["name"], frames, count, interval)
    except OSError as exc:
        raise ArpError(f"sending on {link['name']} failed: {exc.strerror or exc}") from None
    return {"address": address, "interface": link["name"], "mac": link["mac"], "frames": sent, "sent": len(sent)}
