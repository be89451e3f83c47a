# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""802.1Q / 802.1ad VLAN interfaces: desired state from parameters, one dump, a field-by-field plan, batched netlink.

Everything is validated and planned before the first change: a task refused then (bad input, the management link)
leaves the host as it was. A request the kernel refuses while applying (a VLAN id another interface holds on the trunk)
stops only what depends on it: the task fails naming it after the rest is done, reporting the interfaces as they are
(PartlyApplied), and a re-run converges.
Deleting many VLANs takes the kernel's group-delete path: each link is moved to an unused link group, then one
RTM_DELLINK removes the group (one by one, the kernel spends about 16 ms per deletion).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import shutil
import subprocess

from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._address_plan import AddressError, parse_cidrs, refuse_two_lengths, refuse_unassignable
from ansible_collections.layer2.linux.plugins.module_utils._address_plan import plan as plan_addresses
from ansible_collections.layer2.linux.plugins.module_utils._iface import check_interface_name
from ansible_collections.layer2.linux.plugins.module_utils._mgmt import carries_management, refusal

FLAGS = {"reorder_hdr": 0x1, "gvrp": 0x2, "loose_binding": 0x4, "mvrp": 0x8}
ETHERTYPES = {"802.1Q": 0x8100, "802.1ad": 0x88A8}
OPTIONS = ("parent", "vlan_id", "name", "protocol", "addresses", "purge_addresses", "mtu", "enabled", "state", "reorder_hdr", "gvrp",
           "mvrp", "loose_binding", "ingress_qos_map", "egress_qos_map", "replace", "force")
DELETE_GROUP_BASE = 0x4C320000  # link groups tried for a group delete; one no link uses is picked


class VlanError(Exception):
    """A refusal worded for the user; raised before any change unless the kernel itself refuses during apply."""


class PartlyApplied(VlanError):
    """The kernel refused part of the work after the rest was done: the refusal, and the result of what was done."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result


# --- parameters -------------------------------------------------------------------------------------------------------

def desired_vlans(params: dict) -> list[dict]:
    """The VLANs asked for: the list form with top-level values as defaults, or the single form. Validated, names filled."""
    entries = params.get("vlans")
    if entries is None:
        entries = [{}]
    specs, errors, seen = [], [], {}
    for position, entry in enumerate(entries):
        spec = {key: entry.get(key) if entry.get(key) is not None else params.get(key) for key in OPTIONS}
        where = f"vlans[{position}]" if params.get("vlans") is not None else "the task"
        try:
            spec = validate(spec, where)
        except VlanError as exc:
            errors.append(str(exc))
            continue
        if spec["name"] in seen:
            errors.append(f"{spec['name']} is asked for twice ({seen[spec['name']]} and {where}); give each VLAN once")
        seen[spec["name"]] = where
        specs.append(spec)
    if errors:
        raise VlanError("; ".join(errors))
    return specs


def validate(spec: dict, where: str) -> dict:
    vid = spec["vlan_id"]
    if vid is not None:
        if isinstance(vid, bool) or not isinstance(vid, int):
            try:
                vid = int(str(vid), 10)
            except ValueError:
                raise VlanError(f"{where}: VLAN id {spec['vlan_id']!r} is not a number; VLAN ids are 1-4094") from None
        if not 1 <= vid <= 4094:
            raise VlanError(f"{where}: VLAN id {vid} is out of range 1-4094 (0 and 4095 are reserved by 802.1Q)")
        spec["vlan_id"] = vid
    if spec["state"] == "present" and (spec["parent"] is None or vid is None):
        raise VlanError(f"{where}: a VLAN needs parent (the trunk interface) and vlan_id")
    if spec["name"] is None:
        if spec["parent"] is None or vid is None:
            raise VlanError(f"{where}: give name, or parent and vlan_id to name the VLAN <parent>.<vlan_id>")
        spec["name"] = f"{spec['parent']}.{vid}"
    check_name(spec["name"], where)
    if spec["parent"] is not None:
        check_name(spec["parent"], where)
    if spec["protocol"] not in ETHERTYPES:
        raise VlanError(f"{where}: protocol {spec['protocol']!r} is not one of 802.1Q, 802.1ad")
    if spec["mtu"] is not None and not 68 <= int(spec["mtu"]) <= 65535:
        raise VlanError(f"{where}: MTU {spec['mtu']} is out of range 68-65535")
    spec["ingress_qos_map"] = qos_map(spec["ingress_qos_map"], where, "ingress_qos_map", from_max=7, to_max=0xFFFFFFFF)
    spec["egress_qos_map"] = qos_map(spec["egress_qos_map"], where, "egress_qos_map", from_max=0xFFFFFFFF, to_max=7)
    if spec["addresses"] is not None:
        try:
            spec["addresses"] = parse_cidrs(spec["addresses"], spec["name"])
            refuse_unassignable(spec["addresses"])
            refuse_two_lengths(spec["addresses"])
        except AddressError as exc:
            raise VlanError(f"{where}: {exc}") from None
    return spec


def check_name(name: str, where: str) -> None:
    try:
        check_interface_name(name)
    except ValueError as exc:
        raise VlanError(f"{where}: {exc}") from None


def qos_map(mapping, where: str, option: str, from_max: int, to_max: int) -> dict | None:
    """{from: to} with ints; zero targets dropped (the kernel does not keep them); None means not managed."""
    if mapping is None:
        return None
    if not isinstance(mapping, dict):
        raise VlanError(f"{where}: {option} must be a mapping such as {{0: 0, 5: 5}}")
    clean = {}
    for src, dst in mapping.items():
        try:
            src, dst = int(src), int(dst)
        except (TypeError, ValueError):
            raise VlanError(f"{where}: {option} entry {src!r}: {dst!r} is not a pair of numbers") from None
        if not (0 <= src <= from_max and 0 <= dst <= to_max):
            raise VlanError(f"{where}: {option} entry {src}: {dst} is out of range (from 0-{from_max}, to 0-{to_max})")
        if dst:
            clean[src] = dst
    return clean


# --- current state ----------------------------------------------------------------------------------------------------

def read_state(nl) -> tuple[dict, dict]:
    """(links by name, CIDRs by link index) from one link dump and one address dump."""
    links = {link["name"]: link for link in nl.links()}
    addrs: dict[int, list] = {}
    for entry in nl.addresses():
        addrs.setdefault(entry["index"], []).append(ipaddress.ip_interface(entry["cidr"]))
    return links, addrs


def facts(link: dict, links_by_index: dict, addrs: dict) -> dict:
    """What /proc/net/vlan/NAME and ifconfig show for one VLAN interface."""
    flags = link.get("vlan_flags", 0)
    parent = links_by_index.get(link.get("link"))
    return {
        "name": link["name"],
        "state": "present",
        "parent": parent["name"] if parent else None,
        "vlan_id": link.get("vlan_id"),
        "protocol": link.get("protocol"),
        "flags": {flag: bool(flags & bit) for flag, bit in FLAGS.items()},
        "ingress_qos_map": dict(link.get("ingress_qos_map", {})),
        "egress_qos_map": dict(link.get("egress_qos_map", {})),
        "mac": link["mac"],
        "mtu": link["mtu"],
        "enabled": link["up"],
        "operstate": link["operstate"],
        "addresses": [a.with_prefixlen for a in sorted(addrs.get(link["index"], []), key=address_order)],
        **link["stats"],
    }


# --- planning (pure) --------------------------------------------------------------------------------------------------

def plan(specs: list[dict], links: dict, addrs: dict, environ=None) -> dict:
    """What to delete, create, set and re-address, per VLAN; refuses (VlanError) anything unsafe or ambiguous, changing nothing."""
    work = {"delete": [], "create": [], "set": [], "addresses": [], "changed": [], "parents_up": []}
    errors = []
    will_exist = set(links)
    by_index = {link["index"]: link for link in links.values()}
    for spec in specs:
        try:
            plan_one(spec, links, by_index, addrs, environ, work, will_exist)
        except VlanError as exc:
            errors.append(str(exc))
    if errors:
        raise VlanError("; ".join(errors))
    return work


def plan_one(spec, links, by_index, addrs, environ, work, will_exist) -> None:
    name = spec["name"]
    link = links.get(name)
    if link is not None and link["kind"] != "vlan":
        raise VlanError(f"{name} exists but is a {link['kind'] or 'physical'} interface, not a VLAN; pick another name or remove it first")
    held = addrs.get(link["index"], []) if link else []
    if spec["state"] == "absent":
        if link is not None:
            guard(spec, held, f"remove VLAN interface {name}", environ)
            work["delete"].append(link)
            work["changed"].append(name)
            will_exist.discard(name)
        return
    if spec["parent"] not in will_exist:
        raise VlanError(f"parent interface {spec['parent']} of {name} does not exist on this host")
    parent = links.get(spec["parent"])
    if spec["mtu"] is not None and parent is not None and parent["mtu"] is not None and int(spec["mtu"]) > parent["mtu"]:
        raise VlanError(f"MTU {spec['mtu']} of {name} exceeds the MTU {parent['mtu']} of its parent {spec['parent']}; raise the parent's MTU first")
    # The kernel refuses to bring a VLAN up on a parent that is down (ENETDOWN): a trunk just plugged in, or after a reboot
    # whose files do not bring it up. The trunk is the router's own, so it is brought up first (reported as parents_up).
    if spec["enabled"] and parent is not None and not parent["up"] and parent not in work["parents_up"]:
        work["parents_up"].append(parent)
    if link is not None and identity_differs(spec, link, by_index):
        if not spec["replace"]:
            raise VlanError(f"{name} already exists as {describe(link, by_index)}, not {spec['protocol']} VLAN {spec['vlan_id']} on {spec['parent']}; "
                            "set replace=true to delete and recreate it")
        guard(spec, held, f"recreate VLAN interface {name}", environ)
        work["delete"].append(link)
        link, held = None, []
    if link is None:
        work["create"].append(spec)
        will_exist.add(name)
        work["changed"].append(name)
        if spec["addresses"]:
            work["addresses"].append((spec, [], list(spec["addresses"])))
        return
    changes = link_changes(spec, link)
    if changes.get("up") is False:
        guard(spec, held, f"take {name} down", environ)
    if changes:
        work["set"].append((spec, link, changes))
    if spec["addresses"] is not None:
        remove, add = plan_addresses(held, spec["addresses"], "present", bool(spec["purge_addresses"]))
        if remove:
            guard(spec, remove, f"remove an address from {name}", environ)
        if remove or add:
            work["addresses"].append((spec, remove, add))
    if changes or (work["addresses"] and work["addresses"][-1][0] is spec):
        work["changed"].append(name)


def identity_differs(spec, link, by_index) -> bool:
    parent = by_index.get(link["link"])
    return parent is None or parent["name"] != spec["parent"] or link["vlan_id"] != spec["vlan_id"] or link["protocol"] != spec["protocol"]


def describe(link, by_index) -> str:
    parent = by_index[link["link"]]["name"] if link["link"] in by_index else f"interface index {link['link']}"
    return f"{link['protocol']} VLAN {link['vlan_id']} on {parent}"


def guard(spec, cidrs, what: str, environ) -> None:
    cut = carries_management([c.with_prefixlen for c in cidrs], environ)
    if cut and not spec["force"]:
        raise VlanError(refusal(what, cut))


def link_changes(spec, link) -> dict:
    """Field by field: only the options given are compared."""
    changes = {}
    if spec["mtu"] is not None and int(spec["mtu"]) != link["mtu"]:
        changes["mtu"] = int(spec["mtu"])
    if spec["enabled"] is not None and bool(spec["enabled"]) != link["up"]:
        changes["up"] = bool(spec["enabled"])
    mask, wanted = flag_bits(spec)
    if (link["vlan_flags"] & mask) != wanted:
        changes["flags"] = (wanted, mask)
    for option in ("ingress_qos_map", "egress_qos_map"):
        if spec[option] is not None and spec[option] != link[option]:
            # Entries no longer wanted are written with target 0, which is how the kernel forgets them.
            changes[option] = {**dict.fromkeys(link[option], 0), **spec[option]}
    return changes


def flag_bits(spec) -> tuple[int, int]:
    mask = wanted = 0
    for flag, bit in FLAGS.items():
        if spec[flag] is not None:
            mask |= bit
            wanted |= bit if spec[flag] else 0
    return mask, wanted


# --- applying ---------------------------------------------------------------------------------------------------------

def ensure_8021q(check_mode: bool, run=subprocess.run) -> None:
    """VLANs need the kernel's 8021q support: load the module when it is missing, else say what to install."""
    if os.path.isdir("/proc/net/vlan"):
        return
    modprobe = find_modprobe()
    why = "modprobe was not found"
    if modprobe:
        proc = run([modprobe] + (["--dry-run"] if check_mode else []) + ["8021q"], capture_output=True, text=True, check=False)
        if proc.returncode == 0 and (check_mode or os.path.isdir("/proc/net/vlan")):
            return
        why = (proc.stderr or proc.stdout).strip() or f"modprobe exited {proc.returncode}"
    raise VlanError("this kernel has no 802.1Q VLAN support and the 8021q module could not be loaded "
                    f"({why}). Install the kernel's modules package (Debian/Ubuntu: linux-modules-extra-$(uname -r) "
                    "or the linux-image package with modules; Raspberry Pi OS has it built in), then run modprobe 8021q")


def find_modprobe() -> str | None:
    """The modprobe the kernel itself calls (/proc/sys/kernel/modprobe) when it is there, else the one on PATH."""
    try:
        with open("/proc/sys/kernel/modprobe", encoding="utf-8") as handle:
            configured = handle.read().strip()
    except OSError:
        configured = ""
    candidates = [configured, shutil.which("modprobe"), "/usr/sbin/modprobe", "/sbin/modprobe"]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


class _Sent:
    """The requests of one apply and the kernel's answers, so that one refusal stops only what depends on it."""

    def __init__(self, nl):
        self.nl, self.results, self.labels = nl, [], []

    def __call__(self, requests: list, labels: list) -> list[bool]:
        """Send a batch; True for each request the kernel accepted."""
        results = self.nl.batch(requests)
        self.results += results
        self.labels += labels
        return [error is None for error in results]

    def refuse(self, labels: list, reasons: list) -> None:
        """Requests not sent because one they depend on was refused."""
        self.results += [rt.RtnlError(errno.ENODEV, reason) for reason in reasons]
        self.labels += labels

    def check(self) -> None:
        refused = rt.refusals(self.results, self.labels)
        if refused:
            raise VlanError(refused)


def apply(nl, work: dict, links: dict) -> None:
    """Apply the plan. A request the kernel refuses (a VLAN id another interface holds on the parent) fails the task naming
    it, after the rest is done: the other VLANs are as asked, and a re-run converges. A VLAN not created gets no address."""
    send = _Sent(nl)
    delete_links(send, work["delete"], links)
    send([set_request(parent["index"], {"up": True}) for parent in work["parents_up"]], [f"bringing up {parent['name']}" for parent in work["parents_up"]])
    indices = create_links(send, work["create"], links)
    send([set_request(link["index"], changes) for _spec, link, changes in work["set"]], [f"changing {spec['name']}" for spec, _link, _changes in work["set"]])
    address_requests, labels = [], []
    for spec, remove, add in work["addresses"]:
        index = indices.get(spec["name"]) or (links[spec["name"]]["index"] if spec["name"] in links and spec not in work["create"] else None)
        if index is None:  # its creation was refused
            continue
        for command, cidrs in ((rt.RTM_DELADDR, remove), (rt.RTM_NEWADDR, add)):
            for cidr in cidrs:
                address_requests.append(rt.address_change(command, index, cidr))
                labels.append(f"{'adding' if command == rt.RTM_NEWADDR else 'removing'} {cidr.with_prefixlen} on {spec['name']}")
    send(address_requests, labels)
    send.check()


def delete_links(send, doomed: list[dict], links: dict) -> None:
    """One deletion is one request; many go to an unused link group first, then one request deletes the group."""
    if not doomed:
        return
    if len(doomed) == 1:
        send([(rt.RTM_DELLINK, 0, rt.link_request(doomed[0]["index"]))], [f"removing {doomed[0]['name']}"])
        return
    used = {link["group"] for link in links.values()}
    group = next(g for g in range(DELETE_GROUP_BASE, DELETE_GROUP_BASE + len(used) + 1) if g not in used)
    send([(rt.RTM_NEWLINK, 0, rt.link_request(link["index"], attrs=rt.u32(rt.IFLA_GROUP, group))) for link in doomed],
         [f"removing {link['name']}" for link in doomed])
    send([(rt.RTM_DELLINK, 0, rt.link_request(attrs=rt.u32(rt.IFLA_GROUP, group)))], [f"removing {len(doomed)} VLAN interfaces"])


def create_links(send, specs: list[dict], links: dict) -> dict:
    """Create in waves: a VLAN whose parent is created in the same task (802.1ad outer, 802.1Q inner) waits for it.
    Returns the indices of the links created; one whose parent could not be created is refused in words."""
    index_of = {name: link["index"] for name, link in links.items()}
    pending, created = list(specs), {}
    while pending:
        ready = [s for s in pending if s["parent"] in index_of]
        if not ready:  # their parents' creation was refused
            send.refuse([f"creating {s['name']}" for s in pending], [f"its parent {s['parent']} was not created" for s in pending])
            break
        accepted = send([create_request(s, index_of[s["parent"]]) for s in ready], [f"creating {s['name']}" for s in ready])
        pending = [s for s in pending if s not in ready]
        if any(s["addresses"] for s in ready) or pending:
            fresh = {link["name"]: link["index"] for link in send.nl.links()}
            made = {s["name"]: fresh[s["name"]] for s, ok in zip(ready, accepted, strict=True) if ok}
            index_of.update(made)
            created.update(made)
    return created


def create_request(spec, parent_index: int):
    mask, wanted = flag_bits(spec)
    attrs = rt.attr(rt.IFLA_IFNAME, spec["name"].encode() + b"\0") + rt.u32(rt.IFLA_LINK, parent_index)
    if spec["mtu"] is not None:
        attrs += rt.u32(rt.IFLA_MTU, int(spec["mtu"]))
    attrs += rt.vlan_info(spec["vlan_id"], ETHERTYPES[spec["protocol"]], (wanted, mask) if mask else None,
                          spec["ingress_qos_map"], spec["egress_qos_map"])
    return rt.RTM_NEWLINK, rt.NLM_F_CREATE | rt.NLM_F_EXCL, rt.link_request(up=bool(spec["enabled"]), attrs=attrs)


def set_request(index: int, changes: dict):
    attrs = rt.u32(rt.IFLA_MTU, changes["mtu"]) if "mtu" in changes else b""
    if {"flags", "ingress_qos_map", "egress_qos_map"} & set(changes):
        attrs += rt.vlan_info(flags=changes.get("flags"), ingress=changes.get("ingress_qos_map"), egress=changes.get("egress_qos_map"))
    return rt.RTM_NEWLINK, 0, rt.link_request(index, up=changes.get("up"), attrs=attrs)


# --- the task ---------------------------------------------------------------------------------------------------------

def ensure_vlans(params: dict, check_mode: bool = False, environ=None) -> dict:
    specs = desired_vlans(params)
    refused = None
    with rt.Rtnl() as nl:
        links, addrs = read_state(nl)
        work = plan(specs, links, addrs, environ)
        if work["create"]:
            ensure_8021q(check_mode)
        interfaces = report(links, addrs, specs)
        before = {s["name"]: config_view(f) for s, f in zip_specs(specs, interfaces)}
        if check_mode:
            after = {s["name"]: predicted(s, before[s["name"]], work) for s in specs}
            interfaces = [dict(after[s["name"]], state="present") if after[s["name"]] else {"name": s["name"], "state": "absent"} for s in specs]
        elif work["changed"] or work["parents_up"]:
            try:
                apply(nl, work, links)
            except VlanError as exc:
                refused = exc
            links, addrs = read_state(nl)
            interfaces = report(links, addrs, specs)
            after = {s["name"]: config_view(f) for s, f in zip_specs(specs, interfaces)}
        else:
            after = before
    changed = list(dict.fromkeys(work["changed"]))
    created = {s["name"] for s in work["create"]}
    deleted = {link["name"] for link in work["delete"]}
    parents_up = [parent["name"] for parent in work["parents_up"]]
    if refused is not None:  # what the kernel did: the trunks now up, the interfaces as they are
        parents_up = [name for name in parents_up if links.get(name, {}).get("up")]
        raise PartlyApplied(str(refused), {"changed": True, "interfaces": interfaces, "parents_up": parents_up})
    return {
        "changed": bool(changed or parents_up),
        "interfaces": interfaces,
        "created": [n for n in changed if n in created],
        "deleted": [n for n in changed if n in deleted and n not in created],
        "modified": [n for n in changed if n not in created and n not in deleted],
        "parents_up": parents_up,
        "diff": {"before": {n: before[n] for n in changed} | {n: {"name": n, "enabled": False} for n in parents_up},
                 "after": {n: after[n] for n in changed} | {n: {"name": n, "enabled": True} for n in parents_up}},
    }


def zip_specs(specs, facts_list):
    return [(specs[i], facts_list[i]) for i in range(len(specs))]


def reported(links, by_index, addrs, name) -> dict:
    link = links.get(name)
    if link is None:
        return {"name": name, "state": "absent"}
    return facts(link, by_index, addrs)


CONFIG_FIELDS = ("parent", "vlan_id", "protocol", "flags", "ingress_qos_map", "egress_qos_map", "mtu", "enabled", "addresses")


def config_view(full: dict) -> dict | None:
    """The configurable fields of a VLAN's facts (no counters), for diff; None when absent."""
    return None if full["state"] == "absent" else {k: full[k] for k in ("name",) + CONFIG_FIELDS}


def report(links, addrs, specs) -> list[dict]:
    by_index = {link["index"]: link for link in links.values()}
    return [reported(links, by_index, addrs, s["name"]) for s in specs]


def predicted(spec, current: dict | None, work) -> dict | None:
    """What a VLAN would look like after the task, for check mode."""
    if spec["state"] == "absent":
        return None
    recreated = spec in work["create"]
    view = {"name": spec["name"], "parent": spec["parent"], "vlan_id": spec["vlan_id"], "protocol": spec["protocol"],
            "flags": {"reorder_hdr": True, "gvrp": False, "loose_binding": False, "mvrp": False},
            "ingress_qos_map": {}, "egress_qos_map": {}, "mtu": None, "enabled": True, "addresses": []}
    if current and not recreated:
        view.update(current)
    view["flags"] = {flag: (bool(spec[flag]) if spec[flag] is not None else view["flags"][flag]) for flag in FLAGS}
    for option in ("ingress_qos_map", "egress_qos_map", "mtu", "enabled"):
        if spec[option] is not None:
            view[option] = spec[option]
    for _spec, remove, add in (w for w in work["addresses"] if w[0] is spec):
        kept = [ipaddress.ip_interface(a) for a in view["addresses"] if a not in {r.with_prefixlen for r in remove}]
        view["addresses"] = [a.with_prefixlen for a in sorted(kept + list(add), key=address_order)]
    return view


def address_order(iface):
    """IPv4 before IPv6, then by address: the same order whatever order the kernel dumps them in."""
    return iface.version, int(iface.ip), iface.network.prefixlen
