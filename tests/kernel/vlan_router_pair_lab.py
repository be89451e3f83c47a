# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A redundant vlan_router pair, as data: shared by the kernel-tier test (real 802.1Q) and bench/router_failover
(the host kernel, stand-in interfaces named like VLANs).

    internet 198.51.100.1 --[uplink]--+-- eth0 r1 .2  (sync0 192.0.2.11) -[sync]- (sync0 192.0.2.12)  r2 .3 eth0 --+
    (203.0.113.0/24 on-link)          +-- shared uplink address 198.51.100.4 (the pair's NAT source, VRRP)      |
                                                                                                                  |
                          r1 eth1 --[trunk]-- r2 eth1, compute1: vm1 (1234), vm3 (1235); compute2: vm2 (1234)   <-+

VLAN 1234 is public (203.0.113.0/26; r1 .2, r2 .3, gateway .1; vm1 .11, vm2 .12): the upstream treats
203.0.113.0/24 as on-link and ARPs for the VMs on the uplink, where only the master answers by proxy ARP.
VLAN 1235 is private behind NAT (10.1.35.0/24; r1 .2, r2 .3, gateway .1; vm3 .11), leaving from 198.51.100.4.
Stand-ins (`stand_in_spec`): each VLAN is a switch of its own and the routers' interfaces on it are named eth1.1234
and eth1.1235, so the failover can be timed on a kernel without 802.1Q; the VMs are plain hosts on those switches.
"""

from __future__ import annotations

import sys

INTERNET, SHARED_UPLINK = "198.51.100.1", "198.51.100.4"
ROUTERS = {  # name -> (uplink, sync link, own address per VLAN, VRRP priority)
    "r1": ("198.51.100.2", "192.0.2.11", {1234: "203.0.113.2", 1235: "10.1.35.2"}, 200),
    "r2": ("198.51.100.3", "192.0.2.12", {1234: "203.0.113.3", 1235: "10.1.35.3"}, 100),
}
# VLAN id -> (prefix length, gateway, proxy ARP on the uplink, NAT)
VLANS = {1234: (26, "203.0.113.1", True, False), 1235: (24, "10.1.35.1", False, True)}
# vm name -> (compute node, VLAN id, address)
VMS = {"vm1": ("compute1", 1234, "203.0.113.11"), "vm2": ("compute2", 1234, "203.0.113.12"), "vm3": ("compute1", 1235, "10.1.35.11")}
VIRTUAL_ROUTER_ID = 51
PUBLIC = "203.0.113.0/24"  # what the upstream treats as on-link: it ARPs on the uplink for every VM of VLAN 1234


def peer(router: str) -> str:
    return "r2" if router == "r1" else "r1"


def _internet() -> dict:
    return {"links": [{"switch": "uplink", "ifname": "eth0", "addresses": [f"{INTERNET}/24"]}], "routes": [f"{PUBLIC} dev eth0"]}


def _vm(vm: str, link: dict) -> dict:
    _compute, vid, address = VMS[vm]
    return {"links": [{**link, "ifname": "eth0", "addresses": [f"{address}/{VLANS[vid][0]}"]}], "routes": [f"default via {VLANS[vid][1]}"]}


def _router_links(router: str) -> list[dict]:
    uplink, sync, _own, _priority = ROUTERS[router]
    return [{"switch": "uplink", "ifname": "eth0", "addresses": [f"{uplink}/24"]}, {"switch": "sync", "ifname": "sync0", "addresses": [f"{sync}/24"]}]


def stand_in_spec() -> dict:
    """The pair on the host kernel: one switch per VLAN, the routers' interfaces on it named like their VLAN sub-interfaces,
    with the routers' own addresses (the role's `redundancy` entry point is for interfaces configured by other means)."""
    hosts = {router: {"links": _router_links(router) + [{"switch": f"v{vid}", "ifname": f"eth1.{vid}", "addresses": [f"{own[vid]}/{VLANS[vid][0]}"]}
                                                        for vid in VLANS],
                      "sysctl": {"net.ipv4.ip_forward": "1"}} for router, (_uplink, _sync, own, _priority) in ROUTERS.items()}
    hosts["internet"] = _internet()
    hosts.update({vm: _vm(vm, {"switch": f"v{vid}"}) for vm, (_compute, vid, _address) in VMS.items()})
    return {"switches": ["uplink", "sync"] + [f"v{vid}" for vid in VLANS], "hosts": hosts}


def spec() -> dict:
    """The pair on a trunk with real 802.1Q (the kernel tier): compute nodes bridge their VMs onto the trunk's VLANs."""
    hosts = {router: {"links": _router_links(router) + [{"switch": "trunk", "ifname": "eth1"}]} for router in ROUTERS}
    hosts["internet"] = _internet()
    for compute in sorted({compute for compute, _vid, _address in VMS.values()}):
        hosts[compute] = {"links": [{"switch": "trunk", "ifname": "eth0"}]}
    for vm, (compute, _vid, _address) in VMS.items():
        hosts[compute]["links"].append({"peer": f"{vm}:eth0", "ifname": vm})
        hosts[vm] = _vm(vm, {"peer": f"{compute}:{vm}"})
    return {"switches": ["uplink", "sync", "trunk"], "hosts": hosts}


def bridge_vms(lab) -> None:
    """On each compute node: a VLAN sub-interface per VLAN on the trunk, bridged with its VMs' cables."""
    by_compute: dict[str, dict[int, list[str]]] = {}
    for vm, (compute, vid, _address) in VMS.items():
        by_compute.setdefault(compute, {}).setdefault(vid, []).append(vm)
    for compute, vlans in by_compute.items():
        lines = []
        for vid, vms in vlans.items():
            lines += [f"link add link eth0 name eth0.{vid} type vlan id {vid}", f"link add name br{vid} type bridge",
                      f"link set eth0.{vid} master br{vid}", f"link set eth0.{vid} up", f"link set br{vid} up"]
            lines += [f"link set {vm} master br{vid}" for vm in vms]
        lab.run(compute, ["ip", "-batch", "-"], input="\n".join(lines) + "\n")


def router_vars(router: str, root, conntrack_sync: bool = True, **redundancy) -> dict:
    """The role's variables for one router of the pair (its own addresses, the shared gateways, the pair's settings)."""
    _uplink, _sync, own, priority = ROUTERS[router]
    vlans = [{"id": vid, "addresses": [f"{own[vid]}/{length}"], "gateway": f"{gateway}/{length}", "proxy_arp": proxy_arp, "nat": nat}
             for vid, (length, gateway, proxy_arp, nat) in VLANS.items()]
    return {
        "vlan_router_trunk": "eth1", "vlan_router_uplink": "eth0", "vlan_router_root": str(root), "vlan_router_persistence": "none",
        "vlan_router_install_dependencies": False, "vlan_router_vlans": vlans,
        "vlan_router_redundancy": {"priority": priority, "virtual_router_id": VIRTUAL_ROUTER_ID, "sync_interface": "sync0",
                                   "peer": ROUTERS[peer(router)][1], "conntrack_sync": conntrack_sync, "preempt": False,
                                   "uplink_address": f"{SHARED_UPLINK}/24", **redundancy},
    }


def inventory(lab, variables: dict) -> dict:
    """routers: r1 and r2 with their variables (host -> dict)."""
    inv = lab.inventory(python=sys.executable)
    inv["all"]["children"] = {"routers": {"hosts": {router: dict(variables.get(router, {})) for router in ROUTERS}}}
    return inv
