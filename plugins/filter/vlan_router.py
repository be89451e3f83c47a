# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's logic: validated role variables -> one plan; the plan against router_facts -> changes, problems.

Plain functions over plain data (unit-tested without Ansible running); the filters at the end only wrap them.
Documentation: vlan_router_plan.yml, vlan_router_changes.yml and vlan_router_problems.yml next to this file.
"""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.layer2.linux.plugins.module_utils._sysctl import sysctl_name

VLAN_DEFAULTS = {"addresses": [], "routed": [], "proxy_arp": False, "nat": False, "mtu": None, "allow": [], "state": "present"}
BACKENDS = ("systemd-networkd", "ifupdown", "none")
# keepalived checks its own file (the pair's VRRP, the virtual servers) before config_files installs it, as dnsmasq does
# (config_files' validate: a regular temporary file; from a pipe keepalived -t would skip the check and succeed).
KEEPALIVED_CHECK = "keepalived -t -f %s"
# The drop-in the role adds to the trunk's own .network file (vlan_router_networkd_trunk_network).
NETWORKD_DROPIN = "60-layer2-vlan-router.conf"


class PlanError(ValueError):
    """Variables the plan cannot be built from, in words."""


def _root_join(root: str, relative: str) -> str:
    # "/" + "etc/x" is "/etc/x", "/tmp/r/" + "etc/x" is "/tmp/r/etc/x".
    return root.rstrip("/") + "/" + relative


def _network(prefix: str, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(prefix)
    except ValueError:
        try:
            exact = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            raise PlanError(f"{where}: {prefix!r} is not a prefix in CIDR notation (such as 203.0.113.64/28)") from None
        raise PlanError(f"{where}: {prefix} has host bits set; the prefix is {exact}") from None


def _interface_address(address: str) -> str:
    """An address in CIDR as the kernel prints it (203.0.113.1/26, 2001:db8::1/64); unparseable ones as given, lowercased."""
    try:
        return ipaddress.ip_interface(address).with_prefixlen
    except ValueError:
        return str(address).lower()


def _backend(persistence: str, detected: str | None) -> str:
    backend = persistence if persistence != "auto" else detected
    if backend not in BACKENDS:
        raise PlanError(f"vlan_router_persistence is {persistence!r} and no backend was detected yet "
                        "(the role's detect step runs before anything reads the plan)")
    return backend


def resolve_vlans(trunk: str, vlans: list[dict]) -> list[dict]:
    """Every VLAN with defaults filled in and its interface name resolved (<trunk>.<id> when none is given)."""
    out, seen = [], {}
    for index, given in enumerate(vlans):
        vlan = dict(VLAN_DEFAULTS)
        vlan.update({key: value for key, value in dict(given).items() if value is not None or key not in VLAN_DEFAULTS})
        vlan["name"] = vlan.get("name") or f"{trunk}.{vlan['id']}"
        for key in ("addresses", "routed", "allow"):
            vlan[key] = list(vlan[key])
        if vlan["id"] in seen:
            raise PlanError(f"vlan_router_vlans[{index}]: VLAN {vlan['id']} is listed twice (also as item {seen[vlan['id']]}); list each VLAN once")
        seen[vlan["id"]] = index
        for prefix in vlan["routed"]:
            _network(prefix, f"VLAN {vlan['id']} routed")
        out.append(vlan)
    return out


# --- static NAT, port forwards, ingress and egress rules (the nftables side of CloudStack's Virtual Router) ---

PROTOS = ("tcp", "udp", "icmp", "any")


def _nat_address(value, where: str) -> ipaddress.IPv4Address:
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        raise PlanError(f"{where}: {value!r} is not an IP address (such as 203.0.113.50)") from None
    if address.version != 4:
        raise PlanError(f"{where}: {address} is IPv6; static NAT and port forwards are IPv4 (IPv6 VMs are routed, not translated)")
    return address


def _port(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise PlanError(f"{where}: port {value!r} is out of range 1-65535")
    return value


def _ipv4_networks(present: list[dict]) -> list[tuple[dict, list]]:
    """Each present VLAN with its IPv4 subnets and routed prefixes, parsed once (not once per address looked up)."""
    out = []
    for vlan in present:
        networks = [ipaddress.ip_interface(a).network for a in vlan["addresses"]] + [ipaddress.ip_network(p) for p in vlan["routed"]]
        out.append((vlan, [network for network in networks if network.version == 4]))
    return out


def _holder(networks: list[tuple[dict, list]], address: ipaddress.IPv4Address) -> dict | None:
    """The VLAN (of _ipv4_networks) whose subnet or routed prefix holds the address, or None."""
    return next((vlan for vlan, held in networks if any(address in network for network in held)), None)


def _translations(settings: dict, present: list[dict]) -> dict:
    """vlan_router_static_nat and vlan_router_port_forwards checked and resolved: each with the VLAN of its private address.

    A public address belongs to one static NAT, or to port forwards (several, on distinct ports); it is routed /32 onto
    the private address's VLAN so that proxy ARP on the uplink answers for it (the kernel answers for what it routes
    out of another interface).
    """
    owners: dict[str, str] = {}  # public address -> the static NAT that took it whole
    ports: dict[tuple, str] = {}  # (public, proto, port) -> the entry
    static, forwards, routes = [], [], {}
    networks = _ipv4_networks(present)

    def private_vlan(address, where):
        vlan = _holder(networks, address)
        if vlan is None:
            raise PlanError(f"{where}: no VLAN holds the private address {address} (it is outside every VLAN's subnet and routed prefixes); "
                            "give the VM's address in one of vlan_router_vlans")
        return vlan

    def public_free(address, where):
        vlan = _holder(networks, address)
        if vlan is not None:
            raise PlanError(f"{where}: the public address {address} is inside VLAN {vlan['id']}'s own addresses; "
                            "a translated public address must not be routed to a VLAN already")

    for index, entry in enumerate(settings.get("static_nat") or []):
        where = f"vlan_router_static_nat[{index}] ({entry.get('public')} -> {entry.get('private')})"
        public, private = _nat_address(entry.get("public"), where), _nat_address(entry.get("private"), where)
        public_free(public, where)
        if str(public) in owners:
            raise PlanError(f"{where}: the public address {public} is already used by {owners[str(public)]}; a static NAT needs an address of its own")
        owners[str(public)] = where
        vlan = private_vlan(private, where)
        static.append({"public": str(public), "private": str(private), "vlan": vlan["name"]})
        routes.setdefault(str(public), vlan["name"])
    for index, entry in enumerate(settings.get("port_forwards") or []):
        where = (f"vlan_router_port_forwards[{index}] ({entry.get('public')}:{entry.get('port')}/{entry.get('proto', 'tcp')} -> "
                 f"{entry.get('private')}:{entry.get('port') if entry.get('private_port') is None else entry.get('private_port')})")
        proto = entry.get("proto") or "tcp"
        if proto not in ("tcp", "udp"):
            raise PlanError(f"{where}: the protocol {proto!r} is not tcp or udp")
        public, private = _nat_address(entry.get("public"), where), _nat_address(entry.get("private"), where)
        port = _port(entry.get("port"), where)
        private_port = _port(port if entry.get("private_port") is None else entry["private_port"], where)
        public_free(public, where)
        if str(public) in owners:
            raise PlanError(f"{where}: the public address {public} is already taken whole by {owners[str(public)]}")
        if (str(public), proto, port) in ports:
            raise PlanError(f"{where}: {public} port {port}/{proto} is already forwarded by {ports[(str(public), proto, port)]}")
        ports[(str(public), proto, port)] = where
        vlan = private_vlan(private, where)
        forwards.append({"public": str(public), "port": port, "proto": proto, "private": str(private), "private_port": private_port,
                         "vlan": vlan["name"]})
        routes.setdefault(str(public), vlan["name"])
    # (name, id, rules) of each VLAN with ingress or egress rules; a VLAN without them behaves as without this feature.
    rules = {direction: [(vlan["name"], vlan["id"], found) for vlan in present if (found := _rules(vlan, direction)) is not None]
             for direction in ("ingress", "egress")}
    return {"static": static, "forwards": forwards, "routes": routes, **rules}


def _rules(vlan: dict, direction: str) -> list[dict] | None:
    """A VLAN's ingress or egress rules as nft matches; None when the VLAN has none (it behaves as without rules)."""
    given = vlan.get(direction)
    if given is None:
        return None
    peer = "from" if direction == "ingress" else "to"
    field = "saddr" if direction == "ingress" else "daddr"
    out = []
    for index, rule in enumerate(given):
        where = f"VLAN {vlan['id']} {direction}[{index}]"
        proto = rule.get("proto") or "any"
        if proto not in PROTOS:
            raise PlanError(f"{where}: the protocol {proto!r} is not one of {', '.join(PROTOS)}")
        ports = [_port(port, where) for port in rule.get("ports") or []]
        if ports and proto not in ("tcp", "udp"):
            raise PlanError(f"{where}: ports are given but the protocol is {proto}; ports need tcp or udp")
        prefixes = [ipaddress.ip_network(_network(p, f"{where} {peer}").with_prefixlen) for p in rule.get(peer) or []]
        if rule.get("from" if peer == "to" else "to"):
            raise PlanError(f"{where}: {direction} rules match '{peer}', not '{'from' if peer == 'to' else 'to'}'")
        matches = []
        # One nft rule per address family the prefixes are in (ip saddr / ip6 saddr); any address when none is given.
        for family, version in (("ip", 4), ("ip6", 6)):
            listed = [p.with_prefixlen for p in prefixes if p.version == version]
            if listed:
                matches.append(f"{family} {field} {{ {', '.join(listed)} }}")
        if not matches:
            matches = [""]
        for address in matches:
            if proto == "icmp":
                what = ("meta l4proto icmpv6" if address.startswith("ip6") else "meta l4proto icmp") if address else "meta l4proto { icmp, icmpv6 }"
            elif proto in ("tcp", "udp"):
                what = f"{proto} dport {{ {', '.join(map(str, ports))} }}" if ports else f"meta l4proto {proto}"
            else:
                what = ""
            out.append({"match": " ".join(part for part in (address, what) if part), "where": where})
    return out


def _nft_data(settings: dict, present: list[dict], translations: dict, snat: str | None = None) -> dict:
    """snat: a redundant pair's shared uplink address, which its NAT VLANs leave with instead of each router's own (masquerade)."""
    names_by_id = {vlan["id"]: vlan["name"] for vlan in present}
    # (from, to) interface pairs the isolation filter lets open connections: each VLAN to itself and to its allow list
    # (an allowed id that is not a present VLAN is ignored: it may be on its way out).
    pairs = []
    for vlan in present:
        pairs.append([vlan["name"], vlan["name"]])
        pairs += [[vlan["name"], names_by_id[other]] for other in vlan["allow"] if other in names_by_id]
    return {
        "filter_table": settings["nft_filter_table"],
        "nat_table": settings["nft_nat_table"],
        "uplink": settings["uplink"],
        "isolate": bool(settings["isolation"] and present),
        "vlans": [vlan["name"] for vlan in present],
        "pairs": pairs,
        "nat": [vlan["name"] for vlan in present if vlan["nat"]],
    } | ({"snat": snat} if snat else {}) | ({"rules": {
        # Static NAT, port forwards, and the VLANs that hold their private addresses (hairpin within one VLAN).
        "static": translations["static"],
        "forwards": translations["forwards"],
        "hairpin": sorted({entry["vlan"] for entry in translations["static"] + translations["forwards"]}),
        # The filter table also holds the VLANs' ingress and egress rules, with isolation off too.
        "filter": _filter_wanted(settings, present, translations),
        "ingress": [{"vlan": name, "chain": f"ingress_{vlan_id}", "rules": rules} for name, vlan_id, rules in translations["ingress"]],
        "egress": [{"vlan": name, "chain": f"egress_{vlan_id}", "rules": rules} for name, vlan_id, rules in translations["egress"]],
    }} if translations["static"] or translations["forwards"] or translations["ingress"] or translations["egress"] else {})


def _chains(data: dict) -> dict:
    """The chains nftables.nft.j2 prints in the filter and the NAT table, from the data it prints."""
    rules = data.get("rules", {})
    return {"filter": ["forward"] + [chain["chain"] for chain in rules.get("ingress", []) + rules.get("egress", [])],
            "nat": (["prerouting", "output"] if rules.get("static") or rules.get("forwards") else []) + ["postrouting"]}


def _filter_wanted(settings: dict, present: list[dict], translations: dict) -> bool:
    return bool(present) and bool(settings["isolation"] or translations["ingress"] or translations["egress"])


def _ifupdown_vlan(vlan: dict) -> dict:
    v4 = [address for address in vlan["addresses"] if ":" not in address]
    return {
        "id": vlan["id"],
        "name": vlan["name"],
        "method": "static" if v4 else "manual",
        "address": v4[0] if v4 else None,
        "mtu": vlan["mtu"],
        "routed": vlan["routed"],
        "more_ipv4": v4[1:],
        "ipv6": [address for address in vlan["addresses"] if ":" in address],
        # Per-interface values go in the stanza itself: at boot systemd-sysctl runs before the VLAN exists, and only
        # udev's rule would apply the sysctl.d line when it appears (networkd sets IPv4ProxyARP= itself).
        "sysctl": [f"{sysctl_name(('net', 'ipv4', 'conf', vlan['name'], 'proxy_arp'))}={int(bool(vlan['proxy_arp']))}"],
    }


def _files(settings: dict, backend: str, present: list[dict], paths: dict, layout: dict, translations: dict, modules: list[str],
           snat: str | None = None) -> list[dict]:
    """The persistence files and the ruleset: path, the template that prints it, and the data it prints."""
    trunk = settings["trunk"]
    files = [{"path": paths["nft"], "template": "nftables.nft.j2", "data": _nft_data(settings, present, translations, snat)}]
    # The translated public addresses are routed /32 onto their VLAN at boot too (proxy ARP on the uplink answers for them).
    present = [{**vlan, "routed": vlan["routed"] + [f"{public}/32" for public, name in translations["routes"].items() if name == vlan["name"]]}
               for vlan in present]
    # The kernel modules to load at boot: 8021q for the VLANs, IPVS for the virtual servers (listed with `modules`).
    modules = (["8021q"] if settings["persist_8021q"] else []) + modules
    if modules and backend != "none":
        files.append({"path": paths["modules_load"], "template": "modules-load.conf.j2", "data": {"modules": modules}})
    if not present:
        return files
    if backend == "systemd-networkd":
        own = settings["networkd_trunk_network"]
        trunk_path = (f"{paths['networkd_dir']}/{own}.d/{NETWORKD_DROPIN}" if own
                      else f"{paths['networkd_dir']}/{layout['networkd_prefix']}{trunk}.network")
        files.append({"path": trunk_path, "template": "networkd-trunk.network.j2",
                      "data": {"trunk": trunk, "dropin": bool(own), "vlans": [vlan["name"] for vlan in present]}})
        for vlan in present:
            base = f"{paths['networkd_dir']}/{layout['networkd_prefix']}{vlan['name']}"
            files.append({"path": base + ".netdev", "template": "networkd-vlan.netdev.j2",
                          "data": {"id": vlan["id"], "name": vlan["name"], "trunk": trunk, "mtu": vlan["mtu"]}})
            files.append({"path": base + ".network", "template": "networkd-vlan.network.j2",
                          "data": {"id": vlan["id"], "name": vlan["name"], "addresses": vlan["addresses"], "routed": vlan["routed"],
                                   "proxy_arp": vlan["proxy_arp"],
                                   "link_local": "ipv6" if any(":" in address for address in vlan["addresses"]) else "no"}})
    elif backend == "ifupdown":
        files.append({"path": paths["ifupdown"], "template": "ifupdown.j2",
                      "data": {"trunk": trunk, "vlans": [_ifupdown_vlan(vlan) for vlan in present]}})
    return files


MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
LEASE_TIME = re.compile(r"^([0-9]+[smhdw]?|infinite)$")


def _domain(value: str, where: str) -> str:
    name = str(value).lower().rstrip(".")
    if not name or len(name) > 253 or not all(LABEL.match(label) for label in name.split(".")):
        raise PlanError(f"{where}: {value!r} is not a DNS name (labels of letters, digits and hyphens, such as tenant1.internal)")
    return name


def _address(value, where: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        raise PlanError(f"{where}: {value!r} is not an IPv4 address") from None


def _dhcp_vlan(vlan: dict) -> dict:
    """One VLAN's dhcp variables checked against its addresses -> what dnsmasq's file prints for it."""
    where = f"VLAN {vlan['id']} dhcp"
    dhcp = dict(vlan["dhcp"])
    own = [ipaddress.ip_interface(address) for address in vlan["addresses"] if ":" not in address]
    if not own:
        raise PlanError(f"{where}: the VLAN has no IPv4 address; DHCP serves the subnet of one of the router's addresses (give the VLAN one)")
    subnets = [address.network for address in own]

    def subnet_of(address, what):
        found = next((net for net in subnets if address in net and address not in (net.network_address, net.broadcast_address)), None)
        if found is None:
            raise PlanError(f"{where}: {what} {address} is outside the VLAN's subnet{'s' if len(subnets) > 1 else ''} "
                            f"{', '.join(map(str, subnets))} (or is its network or broadcast address)")
        return found

    lease_time = str(dhcp.get("lease_time") or "1h")
    if not LEASE_TIME.match(lease_time):
        raise PlanError(f"{where}: lease_time {lease_time!r} is not a duration (seconds, or a number with s, m, h, d or w, or infinite)")
    ranges = []
    if dhcp.get("range"):
        if len(dhcp["range"]) != 2:
            raise PlanError(f"{where}: range {dhcp['range']} must be two addresses, the first and the last of the pool")
        start, end = (_address(address, f"{where} range") for address in dhcp["range"])
        net = subnet_of(start, "range start")
        if end not in net or end == net.broadcast_address or end < start:
            raise PlanError(f"{where}: range {start}-{end} is outside the VLAN's subnet {net} (or ends before it starts)")
        ranges.append({"start": str(start), "end": str(end), "netmask": str(net.netmask)})
    domain = _domain(dhcp["domain"], f"{where} domain") if dhcp.get("domain") else None
    # A VLAN's gateway (the pair's shared address, or one more address) is the VMs' router and resolver.
    router = ipaddress.ip_interface(vlan["gateway"]).ip if vlan.get("gateway") else own[0].ip
    dns_servers = [str(_address(server, f"{where} dns_servers")) for server in dhcp.get("dns_servers") or [router]]

    hosts, macs, ips, names = [], {}, {}, {}
    for index, host in enumerate(dhcp.get("hosts") or []):
        entry = f"hosts[{index}]"
        mac = str(host.get("mac", "")).lower().replace("-", ":")
        if not MAC.match(mac):
            raise PlanError(f"{where} {entry}: {host.get('mac')!r} is not a MAC address (six hex pairs such as 02:00:00:00:35:02)")
        ip = _address(host.get("ip"), f"{where} {entry} ({mac})")
        subnet_of(ip, f"{entry} ({mac}) address")
        if ip in {address.ip for address in own}:
            raise PlanError(f"{where} {entry} ({mac}): {ip} is the router's own address on the VLAN")
        if mac in macs:
            raise PlanError(f"{where} {entry}: MAC {mac} is reserved twice (also {macs[mac]}); one reservation per MAC")
        if ip in ips:
            raise PlanError(f"{where} {entry} ({mac}): {ip} is reserved twice (also {ips[ip]}); one reservation per address")
        name = None
        if host.get("name"):
            name = str(host["name"]).lower()
            if not LABEL.match(name):
                raise PlanError(f"{where} {entry} ({mac}): name {host['name']!r} is not a host name (letters, digits and hyphens, no dots)")
            if name in names:
                raise PlanError(f"{where} {entry} ({mac}): the name {name} is given twice (also {names[name]})")
            names[name] = entry
        macs[mac], ips[ip] = entry, entry
        hosts.append({"mac": mac, "ip": str(ip), "name": name, "fqdn": f"{name}.{domain}" if name and domain else name})
    # Reservations only (CloudStack's "static"): a static context per subnet, so dnsmasq answers the reserved MACs alone.
    static = [] if ranges else [{"network": str(net.network_address), "netmask": str(net.netmask)} for net in subnets]
    return {"lease_time": lease_time, "ranges": ranges, "static": static, "router": str(router), "dns_servers": dns_servers,
            "domain": domain, "subnets": [str(net) for net in subnets], "hosts": hosts}


def _dnsmasq(settings: dict, present: list[dict], paths: dict) -> dict | None:
    """dnsmasq's file (DHCP, DNS for the reservations, router advertisements) for the VLANs that ask; None when none asks."""
    served = []
    for vlan in present:
        # dhcp: {} is DHCP with every default (reservations only, none yet); absent or null is no DHCP.
        if vlan.get("dhcp") is None and not vlan.get("ipv6_ra"):
            continue
        item = {"id": vlan["id"], "name": vlan["name"], "tag": f"vlan{vlan['id']}", "dhcp": _dhcp_vlan(vlan) if vlan.get("dhcp") is not None else None,
                "ipv6_ra": bool(vlan.get("ipv6_ra"))}
        if item["ipv6_ra"] and not any(":" in a and not ipaddress.ip_interface(a).is_link_local for a in vlan["addresses"]):
            raise PlanError(f"VLAN {vlan['id']} ipv6_ra: the VLAN has no global IPv6 address; router advertisements announce the prefix "
                            "of one (give the VLAN an address such as 2001:db8:35::1/64)")
        # Without forwarding the router also accepts its own advertisements and takes an address from them on every run.
        if item["ipv6_ra"] and not settings["ipv6_forwarding"]:
            raise PlanError(f"VLAN {vlan['id']} ipv6_ra: vlan_router_ipv6_forwarding is false; router advertisements make the router "
                            "the VLAN's IPv6 default route, which needs IPv6 forwarding (set vlan_router_ipv6_forwarding: true)")
        served.append(item)
    if not served:
        return None
    if settings["uplink"] in [vlan["name"] for vlan in served]:
        raise PlanError(f"the uplink {settings['uplink']} is also a VLAN asking for dhcp or ipv6_ra: dnsmasq never serves the uplink")
    fqdns = {}
    for vlan in served:
        for host in (vlan["dhcp"] or {}).get("hosts", []):
            if host["fqdn"] and host["fqdn"] in fqdns:
                raise PlanError(f"VLAN {vlan['id']} dhcp: the name {host['fqdn']} is also a reservation of VLAN {fqdns[host['fqdn']]}")
            fqdns[host["fqdn"]] = vlan["id"]
    upstream = []
    for server in settings.get("dns_upstream") or []:
        try:
            upstream.append(str(ipaddress.ip_address(server)))
        except ValueError:
            raise PlanError(f"vlan_router_dns_upstream: {server!r} is not an IP address (the resolvers other names are forwarded to)") from None
    return {"uplink": settings["uplink"], "vlans": served, "upstream": upstream,
            "pid_file": paths["dnsmasq_pid"], "lease_file": paths["dnsmasq_leases"]}


# --- the redundant pair: keepalived (VRRP) moves the gateways, conntrackd keeps the connection tables in step ---

REDUNDANCY_DEFAULTS = {
    "advert_interval": 0.1, "virtual_router_id": 51, "sync_interface": None, "peer": None, "conntrack_sync": False, "preempt": False,
    "uplink_address": None, "garp_master_delay": 1, "garp_master_repeat": 3, "garp_master_refresh": 60, "garp_lower_prio_repeat": 1,
    "announce_limit": 4096,
}
SYNC_GROUP = "layer2_vlan_router"
# The notify script's announcement on the uplink: this many rounds this far apart (the first round is what counts;
# the others cover a frame lost to a busy upstream).
ANNOUNCE_ROUNDS = 3
ANNOUNCE_INTERVAL = 0.2
CONNTRACKD = "/usr/sbin/conntrackd"
# What the notify script imports, installed under <lib>/ansible_collections/... (the daemons run without Ansible).
NOTIFY_MODULE_UTILS = ("_vrrp_notify.py", "_arp_announce.py", "_arp_frame.py", "_arp_host.py", "_arp_socket.py", "_iface.py", "_rtnl.py",
                       "_sysctl.py")
MODULE_UTILS_DIR = "ansible_collections/layer2/linux/plugins/module_utils"
# conntrackd 1.4's configuration lexer reads `Interface e2` (or ab1, ee) as a piece of an IPv6 address: a syntax error.
HEX_NAME = re.compile(r"^[0-9a-fA-F]+$")


def resolve_gateways(vlans: list[dict], pair: bool) -> list[dict]:
    """Each present VLAN's gateway checked against its own subnets. Without a pair the gateway is one more address of
    the VLAN; with one it is keepalived's (the master holds it), not the VLAN's own."""
    out = []
    for vlan in vlans:
        if vlan.get("gateway") is None or vlan["state"] != "present":
            out.append(vlan)
            continue
        where = f"VLAN {vlan['id']} gateway"
        try:
            gateway = ipaddress.ip_interface(str(vlan["gateway"]))
        except ValueError:
            raise PlanError(f"{where}: {vlan['gateway']!r} is not an address in CIDR notation (such as 8.254.123.10/24)") from None
        if gateway.version != 4:
            raise PlanError(f"{where}: {gateway} is IPv6; the gateway is IPv4 (IPv6 VMs find their router by router advertisements)")
        own = [ipaddress.ip_interface(address) for address in vlan["addresses"] if ":" not in address]
        if not any(gateway.network == address.network for address in own) or "/" not in str(vlan["gateway"]):
            raise PlanError(f"{where}: {vlan['gateway']} is outside the VLAN's own subnet"
                            f"{'s' if len(own) != 1 else ''} {', '.join(str(a.network) for a in own) or '(the VLAN has no IPv4 address)'}; "
                            "give an address of the VLAN's subnet with its prefix length, such as 8.254.123.10/24 next to 8.254.123.11/24")
        if gateway.ip in {address.ip for address in own}:
            raise PlanError(f"{where}: {gateway.ip} is also one of the VLAN's own addresses; each router keeps its own address "
                            "and the gateway is a third one, shared by the pair")
        if gateway.network.prefixlen < 31 and gateway.ip in (gateway.network.network_address, gateway.network.broadcast_address):
            raise PlanError(f"{where}: {gateway} is the network or broadcast address of {gateway.network}")
        vlan = {**vlan, "gateway": gateway.with_prefixlen}
        if not pair:
            vlan["addresses"] = vlan["addresses"] + [vlan["gateway"]]
        out.append(vlan)
    return out


def _number(value, low, high, hint: str, what: str, integer: bool = True):
    """A vlan_router_redundancy number checked against its range; `hint` ends the refusal (the unit, why the range)."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise PlanError(f"vlan_router_redundancy: {what} {value!r} is out of range {low}-{high}{hint}")
    return value


def _announced(present: list[dict], translations: dict, limit: int) -> tuple[list[str], int]:
    """The addresses the master answers for by proxy ARP on the uplink, in the order they are announced: the translated
    public addresses, the VLANs' routed prefixes, then the subnets of the VLANs with proxy_arp; at most `limit` of them.
    Returns them and how many more there are (the upstream learns those again itself when its entry goes stale)."""
    own = {ipaddress.ip_interface(address).ip for vlan in present for address in vlan["addresses"] + ([vlan["gateway"]] if vlan.get("gateway") else [])}
    prefixes = [ipaddress.ip_network(f"{public}/32") for public in translations["routes"]]
    prefixes += [ipaddress.ip_network(prefix) for vlan in present for prefix in vlan["routed"]]
    prefixes += [ipaddress.ip_interface(address).network for vlan in present if vlan["proxy_arp"] for address in vlan["addresses"]]
    out, seen, more = [], set(), 0
    for prefix in (prefix for prefix in prefixes if prefix.version == 4):
        size = prefix.num_addresses - 2 if prefix.prefixlen < 31 else prefix.num_addresses
        if len(out) == limit:
            more += size
            continue
        for consumed, address in enumerate(prefix.hosts() if prefix.prefixlen < 31 else prefix, 1):
            if address not in own and address not in seen:
                seen.add(address)
                out.append(str(address))
                if len(out) == limit:
                    more += size - consumed  # counted, never walked: a /8 past the limit costs nothing
                    break
    return out, more


def redundancy(settings: dict, present: list[dict], translations: dict, paths: dict, virtual_servers: list[dict]) -> dict | None:
    """vlan_router_redundancy checked -> keepalived's and conntrackd's files' data and the notify script's; None without a pair.

    One VRRP instance per VLAN with a gateway and one on the uplink for the shared address and the virtual servers'
    addresses, all in one sync group so that they fail over together. Ids: the uplink's is virtual_router_id, the VLANs'
    follow in list order. The virtual servers print in the same keepalived.conf.
    """
    given = settings.get("redundancy")
    if not given:
        return None
    unknown = sorted(set(given) - set(REDUNDANCY_DEFAULTS) - {"priority"})
    if unknown:
        raise PlanError(f"vlan_router_redundancy: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    pair = {**REDUNDANCY_DEFAULTS, **{key: value for key, value in given.items() if value is not None}}
    if pair.get("priority") is None:
        raise PlanError("vlan_router_redundancy: priority is required (1-254; the higher of the pair holds the gateways)")
    priority = _number(pair["priority"], 1, 254, " (255 belongs to an address's owner; a pair shares its addresses)", "priority")
    advert = _number(pair["advert_interval"], 0.01, 40, " seconds (VRRPv3 counts centiseconds)", "advert_interval", integer=False)
    if abs(advert * 100 - round(advert * 100)) > 1e-6:
        raise PlanError(f"vlan_router_redundancy: advert_interval {advert} is not a whole number of centiseconds")
    vrid = _number(pair["virtual_router_id"], 1, 255, "", "virtual_router_id")
    for key in ("garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_lower_prio_repeat"):
        _number(pair[key], 0, 86400, "", key)
    limit = _number(pair["announce_limit"], 0, 1 << 20, "", "announce_limit")
    sync = pair["sync_interface"]
    peer = None
    if pair["peer"] is not None:
        peer = str(_address(pair["peer"], "vlan_router_redundancy peer"))
        if not sync:
            raise PlanError("vlan_router_redundancy: peer is given without sync_interface; unicast VRRP goes to the peer over the link between the pair")
    if pair["conntrack_sync"] and not sync:
        raise PlanError("vlan_router_redundancy: conntrack_sync needs sync_interface, the link between the pair conntrackd talks over")
    if pair["conntrack_sync"] and HEX_NAME.match(sync):
        raise PlanError(f"vlan_router_redundancy: conntrackd cannot read the interface name {sync} (its parser takes a name of hex digits alone "
                        "for part of an IPv6 address); give the link between the pair another name, such as sync0")
    if sync and sync in [vlan["name"] for vlan in present] + [settings["uplink"]]:
        raise PlanError(f"vlan_router_redundancy: sync_interface {sync} is also {'the uplink' if sync == settings['uplink'] else 'a VLAN'}; "
                        "give the link between the pair")
    shared = None
    if pair["uplink_address"] is not None:
        try:
            shared = ipaddress.ip_interface(str(pair["uplink_address"]))
        except ValueError:
            shared = None
        if shared is None or shared.version != 4 or "/" not in str(pair["uplink_address"]):
            raise PlanError(f"vlan_router_redundancy: uplink_address {pair['uplink_address']!r} is not an IPv4 address in CIDR notation "
                            "(the pair's shared address on the uplink, such as 198.51.100.10/24)")
    nat = [vlan["id"] for vlan in present if vlan["nat"]]
    if nat and shared is None:
        raise PlanError(f"vlan_router_redundancy: VLAN {nat[0]} is nat, and without uplink_address each router would masquerade to its own "
                        "address, so no connection survives a failover; give uplink_address, the pair's shared address on the uplink")

    gateways = [vlan for vlan in present if vlan.get("gateway")]
    for index, vs in enumerate(virtual_servers):
        if shared is not None and vs["address"] == str(shared.ip):
            # The NAT table drops new connections to the shared address (it is NAT's alone).
            raise PlanError(f"vlan_router_virtual_servers[{index}] ({vs['address']}:{vs['port']}/{vs['protocol']}): {vs['address']} is the pair's "
                            "uplink_address, the NAT VLANs' source; give the virtual server an address of its own")
    # Only the master may answer for a virtual address (both routers would answer ARP for a /32 of their own): it is a
    # VRRP address on the uplink.
    on_uplink = ([shared.with_prefixlen] if shared is not None else []) + list(dict.fromkeys(f"{vs['address']}/32" for vs in virtual_servers))
    if not gateways and not on_uplink:
        raise PlanError("vlan_router_redundancy: no VLAN has a gateway, no uplink_address is given and there is no virtual server, so the pair "
                        "has no address to hold; give the VLANs a gateway")
    if vrid + len(gateways) > 255:
        raise PlanError(f"vlan_router_redundancy: virtual_router_id {vrid} and {len(gateways)} VLANs with a gateway need ids up to "
                        f"{vrid + len(gateways)}, past 255; lower virtual_router_id")

    def instance(name, interface, number, addresses):
        return {"name": name, "interface": sync if peer else interface, "track": [interface] if peer else [], "vrid": number,
                "addresses": addresses, "dev": interface}

    instances = [instance(f"vlan_{vlan['id']}", vlan["name"], vrid + 1 + index, [vlan["gateway"]]) for index, vlan in enumerate(gateways)]
    if on_uplink:
        instances.insert(0, instance("uplink", settings["uplink"], vrid, on_uplink))

    announce, more = _announced(present, translations, limit) if settings["uplink_proxy_arp"] else ([], 0)
    # The interfaces whose proxy ARP only the master may answer with; the notify script sets them, the role leaves them alone.
    proxy_arp = ([settings["uplink"]] if settings["uplink_proxy_arp"] else []) + [vlan["name"] for vlan in present if vlan["proxy_arp"]]
    lib = paths["redundancy_lib"]
    script = f"{lib}/vlan-router-notify"
    conntrackd = None
    if pair["conntrack_sync"]:
        # Traffic to and from the routers themselves is not synced (as Debian's example ignores its own addresses).
        ignore = ["127.0.0.1"] + [str(ipaddress.ip_interface(a).ip) for vlan in present for a in vlan["addresses"] if ":" not in a]
        ignore += [str(ipaddress.ip_interface(address).ip) for item in instances for address in item["addresses"]]
        conntrackd = {"interface": sync, "peer": peer, "socket": paths["conntrackd_socket"], "lock": paths["conntrackd_lock"],
                      "ignore": list(dict.fromkeys(ignore))}
    keepalived = {
        "sync_group": SYNC_GROUP if len(instances) > 1 else None,  # keepalived refuses a group of one
        "notify": f"{script} {paths['notify_data']}",
        "handover": paths["handover"],
        "priority": priority, "advert_interval": advert, "preempt": bool(pair["preempt"]), "peer": peer,
        "garp": {key.removeprefix("garp_"): pair[key] for key in REDUNDANCY_DEFAULTS if key.startswith("garp_")},
        "instances": instances,
        "virtual_servers": virtual_servers,
    }
    notify = {"proxy_arp": proxy_arp, "conntrackd": [CONNTRACKD, "-C", paths["conntrackd"]] if conntrackd else None,
              "announce": {"interface": settings["uplink"], "addresses": announce, "rounds": ANNOUNCE_ROUNDS, "interval": ANNOUNCE_INTERVAL}}
    files = [{"path": paths["keepalived"], "template": "keepalived.conf.j2", "data": keepalived, "validate": KEEPALIVED_CHECK},
             {"path": paths["notify_data"], "template": "json.j2", "data": notify},
             {"path": script, "template": "vlan-router-notify.j2", "data": {}, "mode": "0755"}]
    files += [{"path": f"{lib}/{MODULE_UTILS_DIR}/{name}", "source": f"plugins/module_utils/{name}", "data": {}} for name in NOTIFY_MODULE_UTILS]
    if conntrackd:
        files.append({"path": paths["conntrackd"], "template": "conntrackd.conf.j2", "data": conntrackd})
    return {
        "conntrackd": paths["conntrackd"] if conntrackd else None,
        "notify": script,
        "handover": paths["handover"],
        "snat": str(shared.ip) if shared is not None and nat else None,
        "proxy_arp": proxy_arp,
        "announce": len(announce),
        "announce_left_out": more,
        "instances": [item["name"] for item in instances],
        "files": files,
    }


# --- the load balancer: keepalived's LVS-NAT virtual servers in front of private VLANs ---

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "sh", "mh")
CHECKS = {"http": "HTTP_GET", "tcp": "TCP_CHECK", "udp": "UDP_CHECK"}
# The check types each protocol's service can answer; the first is the default. A tcp check of a udp service is
# allowed: a service that also listens on TCP on the same port (DNS) is checked more surely by a connection.
PROTOCOL_CHECKS = {"tcp": ("tcp", "http"), "udp": ("udp", "tcp")}
IPVS_CONNTRACK = "net.ipv4.vs.conntrack"
CHECK_DEFAULTS = {"path": "/", "status": 200, "interval": 1, "timeout": 1, "retries": 2}


def _seconds(value, where: str, name: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
        raise PlanError(f"{where}: check {name} {value!r} is not a number of seconds above 0 and at most 3600")
    return value


def _check(given, protocol: str, where: str) -> dict:
    """A virtual server's health check with its defaults: keepalived's checker block and how long a death takes to notice."""
    check = {**CHECK_DEFAULTS, "type": PROTOCOL_CHECKS[protocol][0], **{key: value for key, value in dict(given or {}).items() if value is not None}}
    if check["type"] not in CHECKS:
        raise PlanError(f"{where}: the check type {check['type']!r} is not one of {', '.join(CHECKS)}")
    if check["type"] not in PROTOCOL_CHECKS[protocol]:
        raise PlanError(f"{where}: the check type {check['type']!r} cannot check a {protocol} service (every check would fail and take all "
                        f"its real servers out); use {' or '.join(PROTOCOL_CHECKS[protocol])}")
    retries, status = check["retries"], check["status"]
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 100:
        raise PlanError(f"{where}: check retries {retries!r} is not a count from 0 to 100")
    if check["type"] == "http" and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise PlanError(f"{where}: check status {status!r} is not an HTTP status code (100-599)")
    if check["type"] == "http" and not str(check["path"]).startswith("/"):
        raise PlanError(f"{where}: check path {check['path']!r} does not start with /")
    interval, timeout = _seconds(check["interval"], where, "interval"), _seconds(check["timeout"], where, "timeout")
    # A failed check is retried every interval (delay_before_retry): a dead server is out at most interval * (retries + 1)
    # after it died (plus the timeout when it stops answering instead of refusing). The udp check sends a datagram and
    # fails on the ICMP error that comes back (port unreachable: nothing listens; host unreachable: ARP failed, after
    # about 3 s); silence within the timeout passes, as a UDP service need not answer an unknown datagram.
    return {"checker": CHECKS[check["type"]], "path": str(check["path"]), "status": status, "interval": interval, "timeout": timeout,
            "retries": retries}


def _virtual_servers(settings: dict, present: list[dict], translations: dict) -> list[dict]:
    """vlan_router_virtual_servers checked -> keepalived's virtual_server blocks, each with the VLAN that holds its address.

    Every real server (and the sorry server) lies in a VLAN of the router, which LVS-NAT needs: its replies must come back
    through the router. The virtual address is held by a router alone as a /32 on the VLAN of the first real server: local,
    so IPVS sees the requests, answered on the uplink by the kernel's ARP, and kept at boot with the VLAN's addresses.
    A pair's master holds it instead, as a VRRP address on the uplink (see redundancy).
    """
    out, seen, networks = [], {}, _ipv4_networks(present)
    taken = {entry["public"] for entry in translations["static"]} | {
        (entry["public"], entry["proto"], entry["port"]) for entry in translations["forwards"]}
    for index, entry in enumerate(settings.get("virtual_servers") or []):
        protocol = entry.get("protocol") or "tcp"
        where = f"vlan_router_virtual_servers[{index}] ({entry.get('address')}:{entry.get('port')}/{protocol})"
        address, port = _nat_address(entry.get("address"), where), _port(entry.get("port"), where)
        if protocol not in ("tcp", "udp"):
            raise PlanError(f"{where}: the protocol {protocol!r} is not tcp or udp")
        scheduler = entry.get("scheduler") or "wrr"
        if scheduler not in SCHEDULERS:
            raise PlanError(f"{where}: the scheduler {scheduler!r} is not one of {', '.join(SCHEDULERS)}")
        persistence = entry.get("persistence_timeout") or 0
        if isinstance(persistence, bool) or not isinstance(persistence, int) or persistence < 0:
            raise PlanError(f"{where}: persistence_timeout {persistence!r} is not a number of seconds (0: none)")
        holder = _holder(networks, address)
        if holder is not None:
            raise PlanError(f"{where}: the virtual address {address} is inside VLAN {holder['id']}'s own addresses; it must be an address "
                            "the upstream reaches through the uplink")
        if str(address) in taken or (str(address), protocol, port) in taken:
            raise PlanError(f"{where}: {address} is already a static NAT or port forward's public address on that port")
        if (str(address), protocol, port) in seen:
            raise PlanError(f"{where}: the same address, port and protocol as vlan_router_virtual_servers[{seen[(str(address), protocol, port)]}]")
        seen[(str(address), protocol, port)] = index
        check = _check(entry.get("check"), protocol, where)

        real_servers = [_member(networks, server, f"{where} real_servers[{at}]", port, weighted=True)
                        for at, server in enumerate(entry.get("real_servers") or [])]
        if not real_servers:
            raise PlanError(f"{where}: no real_servers; a virtual server needs at least one")
        if not any(server["weight"] for server in real_servers):
            raise PlanError(f"{where}: every real server has weight 0, so no connection would be sent anywhere; give one a weight above 0")
        pairs = [(server["address"], server["port"]) for server in real_servers]
        doubles = sorted({pair for pair in pairs if pairs.count(pair) > 1})
        if doubles:
            raise PlanError(f"{where}: the real server {' and '.join(f'{a}:{p}' for a, p in sorted(doubles))} is listed twice")
        sorry = _member(networks, entry["sorry_server"], f"{where} sorry_server", port, weighted=False) if entry.get("sorry_server") else None
        out.append({"address": str(address), "port": port, "protocol": protocol, "scheduler": scheduler, "persistence_timeout": persistence,
                    "check": check, "sorry_server": sorry, "real_servers": real_servers, "vlan": real_servers[0]["vlan"]})
    return out


def _member(networks: list[tuple[dict, list]], server, where: str, port: int, weighted: bool) -> dict:
    """A real server (weighted) or the sorry server: in a VLAN of the router, its port the virtual one unless given."""
    if not isinstance(server, dict):
        raise PlanError(f"{where}: {server!r} is not a mapping with address and port")
    where = f"{where} {server.get('address')}:{server.get('port', port)}"
    address = _nat_address(server.get("address"), where)
    vlan = _holder(networks, address)
    if vlan is None:
        raise PlanError(f"{where}: {address} is outside every VLAN of the router; LVS-NAT needs the server's replies to come back "
                        "through the router, so it must be in one of vlan_router_vlans (with the router as its gateway)")
    item = {"address": str(address), "port": _port(server.get("port", port), where), "vlan": vlan["name"]}
    if weighted:
        weight = server.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 65535:
            raise PlanError(f"{where}: weight {weight!r} is not from 0 to 65535")
        item["weight"] = weight
    return item


def _ipvs_modules(virtual_servers: list[dict]) -> list[str]:
    """ip_vs and the schedulers the virtual servers use (the kernel would load a scheduler on demand; at boot they are listed)."""
    return ["ip_vs"] + [f"ip_vs_{name}" for name in sorted({vs["scheduler"] for vs in virtual_servers})] if virtual_servers else []


def _with_virtual_addresses(vlans: list[dict], virtual_servers: list[dict]) -> list[dict]:
    """The VLANs with each virtual address as a /32 on its VLAN (after the VLAN's own addresses: the first stays the gateway)."""
    extra: dict[str, list[str]] = {}
    for vs in virtual_servers:
        address = f"{vs['address']}/32"
        if address not in extra.setdefault(vs["vlan"], []):
            extra[vs["vlan"]].append(address)
    return [{**vlan, "addresses": vlan["addresses"] + [a for a in extra.get(vlan["name"], []) if a not in vlan["addresses"]]}
            if vlan["state"] == "present" else vlan for vlan in vlans]


def _load_balancer_files(virtual_servers: list[dict], paths: dict, pair: bool) -> list[dict]:
    """keepalived's file, whose virtual_server blocks keepalived-virtual-servers.j2 prints (a pair's keepalived.conf
    prints them already), and the IPVS sysctl that lets the role's nftables state rules see IPVS connections
    (net.ipv4.vs.conntrack exists only once ip_vs is loaded: a file of its own, applied after the module)."""
    if not virtual_servers:
        return []
    keepalived = [] if pair else [{"path": paths["keepalived"], "template": "keepalived.conf.j2", "data": {"virtual_servers": virtual_servers},
                                   "validate": KEEPALIVED_CHECK}]
    return keepalived + [{"path": paths["ipvs_sysctl"], "template": "sysctl.conf.j2", "data": {"values": {IPVS_CONNTRACK: 1}}}]


def plan(settings: dict, layout: dict) -> dict:
    """The role's variables (without their vlan_router_ prefix) and its file layout (paths relative to the root) -> the plan.

    settings: trunk, uplink, uplink_proxy_arp, vlans, ipv4_forwarding, ipv6_forwarding, persistence, detected_backend,
    persist_8021q, networkd_trunk_network, root, isolation, nft_filter_table, nft_nat_table, nftables_apply, static_nat,
    port_forwards, dns_upstream, virtual_servers, redundancy.
    """
    vlans = resolve_gateways(resolve_vlans(settings["trunk"], settings["vlans"]), bool(settings.get("redundancy")))
    present = [vlan for vlan in vlans if vlan["state"] == "present"]
    backend = _backend(settings["persistence"], settings.get("detected_backend"))
    root = settings["root"]
    paths = {key: _root_join(root, value) for key, value in layout.items() if key != "networkd_prefix"}
    translations = _translations(settings, present)
    dnsmasq = _dnsmasq(settings, present, paths)
    virtual_servers = _virtual_servers(settings, present, translations)
    pair = redundancy(settings, present, translations, paths, virtual_servers)
    if not pair:
        # From here on the VLANs hold the virtual addresses too (created, persisted and verified with their own); a
        # pair's are keepalived's, on the uplink.
        vlans = _with_virtual_addresses(vlans, virtual_servers)
        present = [vlan for vlan in vlans if vlan["state"] == "present"]

    vlan_params = []
    for vlan in vlans:
        item = {"vlan_id": vlan["id"], "name": vlan["name"], "state": vlan["state"]}
        if vlan["state"] == "present":
            # The router owns these interfaces: stray addresses go, but for the pair's gateway (keepalived's).
            item.update(addresses=vlan["addresses"], purge_addresses=not (settings.get("redundancy") and vlan.get("gateway")))
            if vlan["mtu"]:
                item["mtu"] = vlan["mtu"]
        vlan_params.append(item)

    routed = [(vlan["name"], _network(prefix, f"VLAN {vlan['id']} routed")) for vlan in present for prefix in vlan["routed"]]
    routed += [(name, ipaddress.ip_network(f"{public}/32")) for public, name in translations["routes"].items()]
    # IPv6 routes on the VLANs are the role's only when some routed prefix is IPv6: otherwise others may own them.
    families = ["ipv4"] + (["ipv6"] if any(network.version == 6 for _name, network in routed) else [])

    served = [vlan for vlan in present if dnsmasq and vlan["name"] in {item["name"] for item in dnsmasq["vlans"]}]

    # A pair member boots with proxy ARP off: only the master answers, once its notify script has turned it on.
    booted = [{**vlan, "proxy_arp": False} if pair and vlan["name"] in pair["proxy_arp"] else vlan for vlan in present]
    files = (_files(settings, backend, booted, paths, layout, translations, _ipvs_modules(virtual_servers), pair and pair["snat"])
             # dnsmasq checks its own file before config_files installs it (and in check mode), only when its content changed
             + ([{"path": paths["dnsmasq"], "template": "dnsmasq.conf.j2", "data": dnsmasq, "validate": "dnsmasq --test --conf-file=%s"}]
                if dnsmasq else [])
             + (pair["files"] if pair else [])
             + _load_balancer_files(virtual_servers, paths, bool(pair)))
    chains = _chains(next(file["data"] for file in files if file["path"] == paths["nft"]))
    wanted_tables = []
    if _filter_wanted(settings, present, translations):
        wanted_tables.append({"family": "inet", "name": settings["nft_filter_table"], "chains": chains["filter"]})
    if any(vlan["nat"] for vlan in present) or translations["static"] or translations["forwards"]:
        wanted_tables.append({"family": "ip", "name": settings["nft_nat_table"], "chains": chains["nat"]})

    return {
        "trunk": settings["trunk"],
        "uplink": settings["uplink"],
        "backend": backend,
        "vlans": vlans,
        "present": present,
        "vlan_interface": vlan_params,
        "forwarding": {
            "ipv4": settings["ipv4_forwarding"],
            "ipv6": settings["ipv6_forwarding"],
            # Proxy ARP on the uplink and on each VLAN that asks (off on the others).
            # With a pair, proxy ARP is the master's alone: the notify script sets it and the role leaves it out.
            "interfaces": [item for item in [{"name": settings["uplink"], "proxy_arp": settings["uplink_proxy_arp"]}]
                           + [{"name": vlan["name"], "proxy_arp": vlan["proxy_arp"]} for vlan in present]
                           if not pair or item["name"] not in pair["proxy_arp"]],
        },
        "routes": {
            # What `ip route replace PREFIX dev VLAN` makes: protocol boot, scope link.
            "routes": [{"dst": network.with_prefixlen, "dev": name, "scope": "link", "protocol": "boot"} for name, network in routed],
            # The routes the role owns: gatewayless ones out of its VLANs, in these families (see _routes_in_scope).
            "scope": {"interfaces": [vlan["name"] for vlan in present], "families": families, "table": "main"},
        },
        "nftables": {
            "apply": settings["nftables_apply"],
            "path": paths["nft"],
            "tables": wanted_tables,
            "owned": [{"family": "inet", "name": settings["nft_filter_table"]}, {"family": "ip", "name": settings["nft_nat_table"]}],
        },
        "files": files,
        # keepalived's file, for the pair's VRRP and the virtual servers alike (None with neither).
        "keepalived": paths["keepalived"] if pair or virtual_servers else None,
        # The redundant pair (conntrackd, the notify script, the VRRP instances), or None.
        "redundancy": {key: value for key, value in pair.items() if key != "files"} if pair else None,
        # One dnsmasq for the router, present while some VLAN asks for dhcp or ipv6_ra (path None otherwise), and where
        # it listens: DNS on each address of the VLANs it serves, DHCP (UDP port 67) for the VLANs with dhcp.
        "dnsmasq": {"path": paths["dnsmasq"] if dnsmasq else None, "interfaces": [vlan["name"] for vlan in served],
                    "dns": [{"interface": vlan["name"], "address": str(ipaddress.ip_interface(address).ip)}
                            for vlan in served for address in vlan["addresses"]],
                    "dhcp": [vlan["name"] for vlan in served if vlan.get("dhcp") is not None]},
        # keepalived's LVS-NAT virtual servers and the kernel modules IPVS needs.
        "load_balancer": {"virtual_servers": virtual_servers, "modules": _ipvs_modules(virtual_servers)},
        # What the role's files were last time and are not any more is removed: a VLAN taken out, a backend switched.
        "purge": [
            f"{paths['networkd_dir']}/{layout['networkd_prefix']}*",
            f"{paths['networkd_dir']}/*.network.d/{NETWORKD_DROPIN}",
            paths["ifupdown"],
            paths["modules_load"],
            paths["dnsmasq"],
            # keepalived.conf is not purged: it is Debian's own path, which an operator may fill by hand.
            paths["ipvs_sysctl"],
        ],
        "paths": paths,
        # The files are this system's own (vlan_router_root /), not another system's or an image's.
        "this_system": root.rstrip("/") == "",
    }


def _route_key(route: dict) -> tuple[str, str]:
    return (ipaddress.ip_network(route["dst"]).with_prefixlen, route["dev"])


def _routes_in_scope(the_plan: dict, routes: list[dict]) -> list[dict]:
    """The live routes the role owns: out of its VLANs without a gateway, in its families, unicast, not the kernel's
    connected ones, not default. A route through a gateway out of a VLAN (an operator's, a tenant's BGP peer's) is not
    the role's, which is why the role lists what it removes instead of handing ip_route a purge scope, which would take
    those too."""
    scope = the_plan["routes"]["scope"]
    return [route for route in routes
            if route.get("dev") in scope["interfaces"] and route.get("family") in scope["families"] and not route.get("via")
            and str(route.get("table", "main")) == scope["table"] and route.get("protocol") != "kernel"
            and route.get("type", "unicast") == "unicast" and route.get("dst") != "default"]


def _identity(route: dict) -> tuple[str, int]:
    """How the kernel tells routes of one table apart: the prefix and the metric (0 for IPv4, 1024 for IPv6 by default)."""
    network = ipaddress.ip_network(route["dst"])
    return (network.with_prefixlen, route.get("metric", 0 if network.version == 4 else 1024))


def changes(the_plan: dict, facts: dict) -> dict:
    """What the live state (router_facts) lacks or has too much of, and layer2.linux.ip_route's routes that fix it.

    Routes onto an interface that does not exist are left out (only in check mode, before the VLAN is created). A route
    of the role's no longer asked for is listed absent, unless a wanted route takes its place (same prefix and metric on
    another VLAN: ip_route replaces it in place).
    """
    links = facts.get("links", {})
    wanted = [route for route in the_plan["routes"]["routes"] if route["dev"] in links]
    live = _routes_in_scope(the_plan, facts.get("routes", []))
    wanted_keys = {_route_key(route) for route in wanted}
    live_keys = {_route_key(route) for route in live}
    extra = [route for route in live if _route_key(route) not in wanted_keys]
    replaced = {_identity(route) for route in wanted}
    absent = [{"dst": route["dst"], "dev": route["dev"], "metric": route["metric"], "state": "absent"}
              for route in extra if _identity(route) not in replaced]

    nft = the_plan["nftables"]
    owned = [(table["family"], table["name"]) for table in nft["owned"]]
    live_tables = {(table["family"], table["name"]) for table in facts.get("nftables", {}).get("tables", [])} & set(owned)
    wanted_tables = {(table["family"], table["name"]) for table in nft["tables"]}
    live_chains = {(table["family"], table["name"]): table["chains"] for table in facts.get("nftables", {}).get("tables", []) if "chains" in table}
    return {
        "routes": {
            "routes": wanted + absent,
            "missing": [route for route in wanted if _route_key(route) not in live_keys],
            "extra": [{"dst": route["dst"], "dev": route["dev"]} for route in extra],
        },
        "nftables": {
            "missing": [{"family": f, "name": n} for f, n in owned if (f, n) in wanted_tables - live_tables],
            "extra": [{"family": f, "name": n} for f, n in owned if (f, n) in live_tables - wanted_tables],
            # the chains a wanted table that is loaded lacks (a table missing whole is listed above)
            "chains": [{"family": table["family"], "name": table["name"], "chain": chain} for table in nft["tables"]
                       for chain in table["chains"] if chain not in live_chains.get((table["family"], table["name"]), table["chains"])],
        },
    }


def _bit(value) -> int:
    return int(bool(value))


def _started_from(cmdline: list[str], path: str) -> bool:
    """Whether a dnsmasq command line reads this file (--conf-file=FILE, --conf-file FILE, -C FILE, -CFILE)."""
    return any(arg in (f"--conf-file={path}", f"-C{path}") or (arg in ("--conf-file", "-C") and following == path)
               for arg, following in zip(cmdline, [*cmdline[1:], ""], strict=True))


def _dnsmasq_problems(the_plan: dict, listening: list[dict] | None) -> list[str]:
    """Whether dnsmasq listens where the plan says (listening: router_facts' UDP sockets; None when not read).

    The router's own (vlan_router_root /) is any dnsmasq process, however started. Under another root the role starts
    no daemon: a dnsmasq started from the role's file (a lab without systemd) is checked, and none running is no problem.
    """
    served = the_plan.get("dnsmasq", {})
    if listening is None or not served.get("path"):
        return []
    ours = [s for s in listening if s.get("process") == "dnsmasq" and (the_plan["this_system"] or _started_from(s.get("cmdline", []), served["path"]))]
    if not ours:
        return [f"dnsmasq is not running (no dnsmasq process listens in the router's network namespace): DHCP, DNS and router "
                f"advertisements on {', '.join(served['interfaces'])} are not served"] if the_plan["this_system"] else []
    bound = {(s["address"], s["port"]) for s in ours}
    out = [f"dnsmasq does not answer DNS on {dns['address']} ({dns['interface']}, UDP port 53)" for dns in served["dns"]
           if not {(dns["address"], 53), ("::" if ":" in dns["address"] else "0.0.0.0", 53)} & bound]
    if served["dhcp"] and not any(port == 67 for _address, port in bound):
        out.append(f"dnsmasq does not listen for DHCP (UDP port 67): {', '.join(served['dhcp'])} get no leases")
    return out


def _keepalived_problems(the_plan: dict, services: dict | None, ipvs: dict | None) -> list[str]:
    """IPVS against the plan's virtual servers; keepalived.service (and conntrackd.service) against the pair and the
    virtual servers, when the role runs them (services: vlan_router_root /)."""
    pair, balanced = the_plan.get("redundancy"), the_plan.get("load_balancer", {}).get("virtual_servers")
    out = []
    if balanced and ipvs is not None and not ipvs.get("available"):
        out.append("IPVS is not available (ip_vs is not loaded): the virtual servers cannot be served")
    elif balanced and ipvs is not None and not ipvs.get("conntrack"):
        out.append("net.ipv4.vs.conntrack is 0: the isolation filter's state rules do not see the virtual servers' connections")
    if services is None or not the_plan.get("keepalived"):
        return out
    lost = (["the gateways fail over to nothing and this router holds none"] if pair else []) + (["the virtual servers are not served"] if balanced else [])
    units = [("keepalived.service", " and ".join(lost))]
    if pair and pair["conntrackd"]:
        units.append(("conntrackd.service", "connections through NAT do not survive a failover"))
    for unit, what in units:
        state = services.get(unit, {}).get("state", "not installed")
        if state != "running":
            out.append(f"{unit} is {state}, not running: {what}")
    return out


def problems(the_plan: dict, facts: dict, routes: list[dict] | None = None, nft_loaded: bool = False, services: dict | None = None,
             ipvs: dict | None = None) -> list[str]:
    """Every difference between the plan and the live state, in words; empty when the router is as asked.

    facts: router_facts' result, read after vlan_interface and ip_forwarding ran. routes: ip_route's `routes` when that task
    ran after the read (the routes in its scope now). nft_loaded: the ruleset was loaded after the read (nft -f is one
    transaction: the role's tables are then as the file says). facts' listening (router_facts listening=true, read after
    dnsmasq last (re)started) tells where dnsmasq serves. services: service_facts' services on the router itself (for
    keepalived and conntrackd). ipvs: ipvs_facts' result, read after the load balancer's tasks.
    """
    out = []
    forwarding = facts.get("forwarding", {})
    wanted = the_plan["forwarding"]
    if _bit(forwarding.get("ipv4")) != _bit(wanted["ipv4"]):
        out.append(f"IPv4 forwarding is {_bit(forwarding.get('ipv4'))}, not {_bit(wanted['ipv4'])}")
    if forwarding.get("ipv6") is not None and _bit(forwarding["ipv6"]) != _bit(wanted["ipv6"]):
        out.append(f"IPv6 forwarding is {_bit(forwarding['ipv6'])}, not {_bit(wanted['ipv6'])}")
    switches = facts.get("interfaces", {})
    # Proxy ARP as the role sets it (a pair's master-only interfaces are the notify script's, not listed).
    proxy_arp_wanted = {item["name"]: item["proxy_arp"] for item in wanted["interfaces"]}
    uplink = the_plan["uplink"]
    if uplink not in switches:
        out.append(f"the uplink {uplink} does not exist")
    elif uplink in proxy_arp_wanted and _bit(switches[uplink].get("proxy_arp")) != _bit(proxy_arp_wanted[uplink]):
        out.append(f"proxy ARP on the uplink {uplink} is {_bit(switches[uplink].get('proxy_arp'))}")

    links = facts.get("links", {})
    for vlan in the_plan["present"]:
        name, link = vlan["name"], links.get(vlan["name"])
        if link is None:
            out.append(f"{name} does not exist")
            continue
        if link.get("kind") != "vlan" or link.get("vlan_id") != vlan["id"] or link.get("parent") != the_plan["trunk"]:
            out.append(f"{name} is not VLAN {vlan['id']} on {the_plan['trunk']}")
        if not link.get("up") or link.get("operstate") not in ("UP", "UNKNOWN"):
            out.append(f"{name} is not up (operstate {link.get('operstate')})")
        live = {_interface_address(address) for address in link.get("addresses", [])}
        out += [f"{name} lacks the address {address}" for address in vlan["addresses"] if _interface_address(address) not in live]
        if vlan["mtu"] and link.get("mtu") != vlan["mtu"]:
            out.append(f"{name} has MTU {link.get('mtu')}, not {vlan['mtu']}")
        proxy_arp = switches.get(name, {}).get("proxy_arp")
        if name in proxy_arp_wanted and _bit(proxy_arp) != _bit(vlan["proxy_arp"]):
            out.append(f"proxy ARP on {name} is {_bit(proxy_arp)}")

    after = dict(facts)
    if routes is not None:
        # ip_route's result holds every route of the families it was given, as they are after it ran.
        families = {route.get("family") for route in routes}
        after["routes"] = [route for route in facts.get("routes", []) if route.get("family") not in families] + list(routes)
    drift = changes(the_plan, after)
    out += [f"{route['dst']} is not routed onto {route['dev']}" for route in drift["routes"]["missing"]]
    out += [f"{route['dst']} is routed onto {route['dev']} but not asked for" for route in drift["routes"]["extra"]]
    if the_plan["nftables"]["apply"] and not nft_loaded:
        if the_plan["nftables"]["tables"] and not facts.get("nftables", {}).get("available", False):
            out.append("nftables is not available on the router (no nft command, or a kernel without nf_tables): the role's tables cannot be loaded")
        else:
            out += [f"the nftables table {t['family']} {t['name']} is missing" for t in drift["nftables"]["missing"]]
            out += [f"the nftables table {t['family']} {t['name']} is loaded but not asked for" for t in drift["nftables"]["extra"]]
            out += [f"the nftables table {c['family']} {c['name']} lacks its chain {c['chain']}" for c in drift["nftables"]["chains"]]
    return out + _dnsmasq_problems(the_plan, facts.get("listening")) + _keepalived_problems(the_plan, services, ipvs)


def _filter(function):
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except PlanError as e:
            raise AnsibleFilterError(str(e)) from e

    wrapped.__name__ = function.__name__
    return wrapped


class FilterModule:
    def filters(self):
        return {
            "vlan_router_plan": _filter(plan),
            "vlan_router_changes": _filter(changes),
            "vlan_router_problems": _filter(problems),
        }
