# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a router is, read back as plain data: links with their addresses, the main table's routes, forwarding and
per-interface proxy ARP/NDP, and the nftables tables. One rtnetlink socket, /proc/sys, and `nft -j list tables`."""

from __future__ import annotations

import json
import re
import socket

from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._route import view
from ansible_collections.layer2.linux.plugins.module_utils._sysctl import PROC_SYS, read_value

NFT_ARGV = ["nft", "-j", "list", "tables"]
FORWARDING = {"ipv4": ("net", "ipv4", "ip_forward"), "ipv6": ("net", "ipv6", "conf", "all", "forwarding")}
PER_INTERFACE = {"proxy_arp": ("net", "ipv4", "conf"), "proxy_ndp": ("net", "ipv6", "conf"), "ipv6_forwarding": ("net", "ipv6", "conf")}
PER_INTERFACE_FILE = {"proxy_arp": "proxy_arp", "proxy_ndp": "proxy_ndp", "ipv6_forwarding": "forwarding"}


def switch(parts, root: str = PROC_SYS):
    """A /proc/sys switch as a bool (any non-zero value is on), or None when the file is not there (IPv6 off, no such link)."""
    try:
        return read_value(parts, root) not in ("", "0")
    except FileNotFoundError:
        return None


def link_facts(links: list, addresses: list) -> dict:
    """Links by name in the shape router_facts returns; VLAN fields and parent only for VLANs."""
    names = {link["index"]: link["name"] for link in links}
    found = {}
    for link in links:
        entry = {
            "index": link["index"], "kind": link["kind"], "mtu": link["mtu"], "mac": link["mac"], "up": link["up"],
            "operstate": link["operstate"], "addresses": [a["cidr"] for a in addresses if a["index"] == link["index"]],
        }
        if link["kind"] == "vlan":
            local = link.get("link_netnsid") is None  # otherwise IFLA_LINK is an index in another namespace
            entry.update(vlan_id=link.get("vlan_id"), vlan_protocol=link.get("protocol"), parent=names.get(link["link"]) if local else None)
        found[link["name"]] = entry
    return found


def route_facts(routes: list, names: dict, all_route_types: bool = False) -> list:
    """The main table's routes, IPv4 then IPv6 (in the kernel's order within a family), unicast only unless all types asked."""
    main = [view(r, names) for r in routes if r["table"] == "main" and (all_route_types or r["type"] == "unicast")]
    return [r for r in main if r["family"] == "ipv4"] + [r for r in main if r["family"] == "ipv6"]


def interface_facts(link_names, root: str = PROC_SYS) -> dict:
    return {name: {key: switch(PER_INTERFACE[key] + (name, PER_INTERFACE_FILE[key]), root) for key in PER_INTERFACE} for name in link_names}


def nft_tables(run) -> tuple[dict, str | None]:
    """`nft -j list tables` through run(argv) -> (rc, stdout, stderr), or run None when nft is not installed.

    Returns the nftables facts and, when nft ran but could not list (no nf_tables in the kernel, no permission), its words.
    """
    if run is None:
        return {"available": False, "tables": []}, None
    rc, out, err = run(NFT_ARGV)
    if rc != 0:
        return {"available": False, "tables": []}, f"nft -j list tables exited {rc}: {(err or out).strip()}"
    try:
        items = json.loads(out or "{}").get("nftables", [])
    except ValueError:
        return {"available": False, "tables": []}, f"nft -j list tables printed no JSON: {out[:200]!r}"
    tables = [{"family": i["table"]["family"], "name": i["table"]["name"]} for i in items if isinstance(i, dict) and "table" in i]
    return {"available": True, "tables": tables}, None


INCLUDE = re.compile(r'^\s*include\s+"([^"]+)"')


def boot_includes(path: str) -> dict:
    """What nftables.service loads at boot from its file: whether the file exists and the paths its include lines name."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return {"path": path, "exists": False, "includes": []}
    return {"path": path, "exists": True, "includes": [m.group(1) for m in map(INCLUDE.match, lines) if m]}


def gather(run=None, nftables: bool = True, all_route_types: bool = False, root: str = PROC_SYS,
           nftables_conf: str | None = None) -> tuple[dict, list]:
    """The facts, and warnings (nft could not list its tables). run: see nft_tables; ignored when nftables is False.
    nftables_conf: also read which files that boot-time ruleset includes (nftables.boot)."""
    with rt.Rtnl() as nl:
        links = nl.links()
        addresses = nl.addresses()
        routes = nl.routes(socket.AF_INET) + nl.routes(socket.AF_INET6)
    names = {link["index"]: link["name"] for link in links}
    facts = {
        "links": link_facts(links, addresses),
        "routes": route_facts(routes, names, all_route_types),
        "forwarding": {family: switch(parts, root) for family, parts in FORWARDING.items()},
        "interfaces": interface_facts(sorted(names.values()), root),
    }
    warnings = []
    if nftables:
        facts["nftables"], problem = nft_tables(run)
        warnings += [problem] if problem else []
        if nftables_conf:
            facts["nftables"]["boot"] = boot_includes(nftables_conf)
    return facts, warnings
