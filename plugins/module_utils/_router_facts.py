# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a router is, read back as plain data: links with their addresses, the main table's routes, forwarding and
per-interface proxy ARP/NDP, the nftables tables with their chains, and (asked) the listening UDP sockets with the process
holding each. One rtnetlink socket, /proc/sys, `nft -j list tables; list chains`, /proc/net/udp{,6} and /proc/PID/fd."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import sys

from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._route import view
from ansible_collections.layer2.linux.plugins.module_utils._sysctl import PROC_SYS, read_value

# One nft call, two JSON documents (one a line): the tables, then every chain of them.
NFT_ARGV = ["nft", "-j", "list tables; list chains"]
PROC = "/proc"
SOCKET_LINK = re.compile(r"^socket:\[(\d+)\]$")
UDP_UNCONNECTED = "07"  # TCP_CLOSE: a UDP socket bound but connected to no peer, which is what a server listens with
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
    """`nft -j list tables; list chains` through run(argv) -> (rc, stdout, stderr), or run None when nft is not installed.

    Returns the nftables facts (each table with the names of its chains) and, when nft ran but could not list (no
    nf_tables in the kernel, no permission), its words.
    """
    if run is None:
        return {"available": False, "tables": []}, None
    rc, out, err = run(NFT_ARGV)
    command = " ".join(NFT_ARGV[:2]) + f" '{NFT_ARGV[2]}'"
    if rc != 0:
        return {"available": False, "tables": []}, f"{command} exited {rc}: {(err or out).strip()}"
    try:
        items = [item for line in (out or "").splitlines() if line.strip() for item in json.loads(line).get("nftables", [])]
    except (ValueError, AttributeError):
        return {"available": False, "tables": []}, f"{command} printed no JSON: {out[:200]!r}"
    items = [item for item in items if isinstance(item, dict)]
    tables = [{"family": i["table"]["family"], "name": i["table"]["name"], "chains": []} for i in items if "table" in i]
    by_key = {(table["family"], table["name"]): table for table in tables}
    for chain in (i["chain"] for i in items if "chain" in i):
        by_key.get((chain["family"], chain["table"]), {"chains": []})["chains"].append(chain["name"])
    return {"available": True, "tables": tables}, None


def _proc_address(text: str) -> str:
    """An address as /proc/net/udp{,6} prints it: hex, in 32-bit words of the host's byte order."""
    raw = bytes.fromhex(text)
    if sys.byteorder == "little":
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(raw)
    return str(getattr(address, "ipv4_mapped", None) or address)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:  # the process ended meanwhile, or is not ours to read
        return None


def _socket_owners(inodes: set, proc: str) -> dict:
    """socket inode -> (pid, process name, command line) of the process holding it, from every /proc/PID/fd."""
    owners = {}
    for pid in (name for name in os.listdir(proc) if name.isdigit()):
        try:
            fds = os.listdir(f"{proc}/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                held = SOCKET_LINK.match(os.readlink(f"{proc}/{pid}/fd/{fd}"))
            except OSError:
                continue
            if held and int(held.group(1)) in inodes:
                name, cmdline = _read(f"{proc}/{pid}/comm") or b"", _read(f"{proc}/{pid}/cmdline") or b""
                owners[int(held.group(1))] = (int(pid), name.decode(errors="replace").strip(),
                                              [arg.decode(errors="replace") for arg in cmdline.split(b"\0") if arg])
        if len(owners) == len(inodes):
            break
    return owners


def listening_udp(proc: str = PROC) -> list[dict]:
    """The UDP sockets of this network namespace that wait for datagrams, with the process holding each (null when none
    could be read), sorted by port and address."""
    found = []
    for family, name in (("ipv4", "udp"), ("ipv6", "udp6")):
        try:
            with open(f"{proc}/net/{name}", encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except FileNotFoundError:  # IPv6 off
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != UDP_UNCONNECTED:
                continue
            address, port = fields[1].split(":")
            found.append({"family": family, "address": _proc_address(address), "port": int(port, 16), "inode": int(fields[9])})
    owners = _socket_owners({item["inode"] for item in found if item["inode"]}, proc)
    out = []
    for item in found:
        pid, process, cmdline = owners.get(item.pop("inode"), (None, None, []))
        out.append(item | {"pid": pid, "process": process, "cmdline": cmdline})
    return sorted(out, key=lambda item: (item["port"], item["family"], item["address"]))


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
           nftables_conf: str | None = None, listening: bool = False) -> tuple[dict, list]:
    """The facts, and warnings (nft could not list its tables). run: see nft_tables; ignored when nftables is False.
    nftables_conf: also read which files that boot-time ruleset includes (nftables.boot). listening: also the listening
    UDP sockets (listening_udp)."""
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
    if listening:
        facts["listening"] = listening_udp()
    return facts, warnings
