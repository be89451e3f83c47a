# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The arp_probe module's logic: ask who holds an address, from the interface the routing table picks, and report every MAC that answers."""

from __future__ import annotations

import ipaddress
import time

from ansible_collections.layer2.linux.plugins.module_utils import _arp_host
from ansible_collections.layer2.linux.plugins.module_utils._arp_frame import is_answer, is_ipv6, probe_frame
from ansible_collections.layer2.linux.plugins.module_utils._arp_host import ArpError, check_numbers, local_links, plain_address, usable_link
from ansible_collections.layer2.linux.plugins.module_utils._arp_socket import RawLink
from ansible_collections.layer2.linux.plugins.module_utils._rtnl import Rtnl


def probe(ifname: str, mac: str, target: str, source: str | None = None, count: int = 3, interval: float = 0.2,
          wait: float = 0.5, collect_all: bool = False) -> list[dict]:
    """Ask who holds `target`, `count` times `interval` apart; return every distinct answering MAC.

    Stops at the first answer unless `collect_all` (duplicate detection listens through every probe and `wait` after).
    """
    frame = probe_frame(mac, target, source)
    answers: dict[str, dict] = {}
    with RawLink(ifname, listen=True) as link:
        for round_no in range(count):
            link.send(frame)
            deadline = time.monotonic() + (interval if round_no < count - 1 else wait)
            for when, parsed in link.receive(deadline):
                if is_answer(parsed, target):
                    mac_seen = parsed.get("lladdr") or parsed.get("sender_mac") or parsed["src_mac"]
                    answers.setdefault(mac_seen, {"mac": mac_seen, "ip": target, "time": when, "kind": parsed["kind"]})
                    if not collect_all:
                        return list(answers.values())
    return list(answers.values())


def _probing_link(target: str, interface: str | None) -> tuple[dict, str | None]:
    """The interface towards `target` (from the routing table unless given) and the source address the kernel would pick."""
    all_links = local_links()
    with Rtnl() as nl:
        route = nl.route_get(target)
    by_index = {link["index"]: link for link in all_links.values()}
    routed = by_index.get(route["oif"]) if route is not None else None
    if interface is None:
        if routed is None or routed["name"] == "lo":
            raise ArpError(f"cannot tell which interface leads to {target} (no route, or it is local); give interface")
        interface = routed["name"]
    source = route["prefsrc"] if routed is not None and routed["name"] == interface else None
    return usable_link(all_links, interface, "probing"), source


def check_source(source: str, link: dict, force: bool) -> None:
    """A sender address this host holds on the probing interface, or the unspecified one (a duplicate-address probe).
    Any other makes every neighbour that hears the probe point that address at our MAC (ARP poisoning), so it takes force.
    Checked before any frame is sent, in check mode too."""
    if ipaddress.ip_address(source).is_unspecified:
        return
    _arp_host.refuse_shared(source, "source")
    held = _arp_host.held_on(link["index"])
    if force or any(h.ip == ipaddress.ip_address(source) for h in held):
        return
    raise ArpError(f"source {source} is not an address of this host on {link['name']} (it has {', '.join(str(h.ip) for h in held) or 'none'}); "
                   "probing with another host's address makes the neighbours send its traffic here (ARP poisoning). Leave source out, "
                   "give one of these, use dad: true (or source 0.0.0.0 / ::), or set force: true if this is intended")


def probe_target(params: dict) -> dict:
    """The arp_probe module: ask who holds an address and report every MAC that answers; changes nothing."""
    target = plain_address(params["address"])
    dad = params.get("dad", False)
    count, interval, wait = params.get("count", 3), params.get("interval", 0.2), params.get("wait", 0.5)
    check_numbers(count, interval)
    if not 0 <= wait <= 30:
        raise ArpError(f"wait {wait} is out of range 0-30 seconds")
    link, routed_source = _probing_link(target, params.get("interface"))
    source = None
    if not dad:
        source = plain_address(params["source"], "source") if params.get("source") else routed_source
        if source and is_ipv6(source) != is_ipv6(target):
            raise ArpError(f"source {source} and address {target} are not the same IP version")
        if params.get("source"):
            check_source(source, link, params.get("force", False))
    try:
        answers = probe(link["name"], link["mac"], target, source, count, interval, wait, collect_all=dad)
    except OSError as exc:
        raise ArpError(f"probing on {link['name']} failed: {exc.strerror or exc}") from None
    return {
        "address": target,
        "interface": link["name"],
        "source": source or ("::" if is_ipv6(target) else "0.0.0.0"),
        "answered": bool(answers),
        "answers": answers,
        "macs": sorted({a["mac"] for a in answers}),
    }
