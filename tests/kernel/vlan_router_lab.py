# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed's topology for the vlan_router role, as data: shared by the kernel-tier test, Molecule and the bench.

    internet (198.51.100.1, treats 203.0.113.0/24 as on-link) --[uplink]-- eth0 router eth1 --[trunk]--+-- compute1: vm1 (1234), vm3 (1235)
                                                                                                       +-- compute2: vm2 (1234), vm4 (1236)

Each compute node bridges its VMs onto the trunk through its own VLAN sub-interfaces, as a KVM host does.
VLAN 1234 is public (vm1 203.0.113.11, vm2 203.0.113.12 and the routed 203.0.113.65); 1235 is private behind
NAT (vm3 10.1.35.11); 1236 is private and may open connections to 1234 (vm4 10.1.36.11).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "vlan_router"

# vm name -> (compute node, VLAN id, addresses, the router's address in that VLAN)
VMS = {
    "vm1": ("compute1", 1234, ["203.0.113.11/26"], "203.0.113.1"),
    "vm2": ("compute2", 1234, ["203.0.113.12/26", "203.0.113.65/32"], "203.0.113.1"),
    "vm3": ("compute1", 1235, ["10.1.35.11/24"], "10.1.35.1"),
    "vm4": ("compute2", 1236, ["10.1.36.11/24"], "10.1.36.1"),
}
ROUTER_UPLINK = "198.51.100.2"
INTERNET = "198.51.100.1"
# Run in the internet namespace: prints "ready", then the source address of the first UDP datagram to port 5555.
UDP_SINK = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 5555)); s.settimeout(60)\n"
    "print('ready', flush=True); data, peer = s.recvfrom(100); print(peer[0], flush=True)\n"
)


# The seed's reachability matrix: (group, from, to, answers). "isolation" and "nat" need the role's nftables tables.
MATRIX = [
    ("reach", "vm1", "203.0.113.12", True),  # same VLAN, on-link
    ("reach", "vm1", "203.0.113.1", True),  # each VM <-> its router address
    ("reach", "vm3", "10.1.35.1", True),
    ("reach", "vm4", "10.1.36.1", True),
    ("reach", "vm1", INTERNET, True),  # VM -> internet, routed
    ("public", "internet", "203.0.113.11", True),  # internet -> a VM's public address, through proxy ARP on the uplink
    ("public", "internet", "203.0.113.65", True),  # a routed prefix behind VLAN 1234 (vm2's extra address)
    ("isolation", "vm3", "203.0.113.11", False),  # 1235 -> 1234
    ("isolation", "vm1", "10.1.35.11", False),  # 1234 -> 1235
    ("isolation", "vm4", "203.0.113.11", True),  # 1236 may open connections to 1234 ...
    ("isolation", "vm1", "10.1.36.11", False),  # ... not the other way round
    ("nat", "vm3", INTERNET, True),  # the internet has no route to 10.1.35.0/24: only NAT makes this work
]


def pings(lab, host, address) -> bool:
    return lab.run(host, ["ping", "-c", "1", "-W", "3", address], check=False).returncode == 0


def unreachable(lab, groups=("reach", "public", "isolation", "nat")) -> list[str]:
    """Every entry of the matrix (in the groups given) whose outcome is not as it should be, in words; [] when all are.

    The pings run at once (three tries each, any answer counts); then the checks a ping cannot make: the upstream
    resolved the public address to the router's uplink MAC (proxy ARP), and NAT rewrote the private VLAN's source.
    """
    entries = [entry for entry in MATRIX if entry[0] in groups]
    procs = [subprocess.Popen(lab.argv(source, ["ping", "-c", "3", "-i", "0.3", "-W", "2", target]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _group, source, target, _answers in entries]
    wrong = [f"{source} -> {target} {'does not answer' if answers else 'answers'}"
             for (_group, source, target, answers), proc in zip(entries, procs, strict=True) if (proc.wait() == 0) != answers]
    if "public" in groups and (lab.neighbour("internet", "203.0.113.11") or {}).get("lladdr") != lab.mac("router", "eth0"):
        wrong.append("the internet does not resolve 203.0.113.11 to the router's uplink MAC")
    if "nat" in groups and (source := nat_source(lab)) != ROUTER_UPLINK:
        wrong.append(f"vm3's datagram reached the internet from {source}, not from the router's uplink {ROUTER_UPLINK}")
    return wrong


def nat_source(lab) -> str:
    """The source address the internet sees on a UDP datagram from vm3 (the private, NAT VLAN)."""
    sink = lab.popen("internet", [sys.executable, "-c", UDP_SINK], stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout.readline().strip() == "ready"
        lab.run("vm3", ["bash", "-c", f"echo hello >/dev/udp/{INTERNET}/5555"])
        return sink.stdout.readline().strip()
    finally:
        sink.kill()
        sink.wait()


def spec() -> dict:
    hosts = {
        "router": {"links": [{"switch": "trunk", "ifname": "eth1"}, {"switch": "uplink", "ifname": "eth0", "addresses": [f"{ROUTER_UPLINK}/24"]}]},
        # The upstream router: the public subnet is on-link for it, so it ARPs for the VMs' addresses on the uplink.
        "internet": {"links": [{"switch": "uplink", "ifname": "eth0", "addresses": [f"{INTERNET}/24"]}], "routes": ["203.0.113.0/24 dev eth0"]},
        "compute1": {"links": [{"switch": "trunk", "ifname": "eth0"}]},
        "compute2": {"links": [{"switch": "trunk", "ifname": "eth0"}]},
    }
    for vm, (compute, _vid, addresses, _gw) in VMS.items():
        hosts[compute]["links"].append({"peer": f"{vm}:eth0", "ifname": vm})
        hosts[vm] = {"links": [{"peer": f"{compute}:{vm}", "ifname": "eth0", "addresses": addresses}]}
    return {"switches": ["trunk", "uplink"], "hosts": hosts}


def bridge_vms(lab, vms: dict | None = None) -> None:
    """On each compute node: a VLAN sub-interface per tenant VLAN on the trunk, bridged with its VMs' cables.
    vms: vm name -> (compute node, VLAN id, ...), this topology's VMS unless given (the pair's lab has its own)."""
    by_compute: dict[str, dict[int, list[str]]] = {}
    for vm, (compute, vid, *_rest) in (vms or VMS).items():
        by_compute.setdefault(compute, {}).setdefault(vid, []).append(vm)
    for compute, vlans in by_compute.items():
        lines = []
        for vid, vms in vlans.items():
            lines += [f"link add link eth0 name eth0.{vid} type vlan id {vid}", f"link add name br{vid} type bridge",
                      f"link set eth0.{vid} master br{vid}", f"link set eth0.{vid} up", f"link set br{vid} up"]
            lines += [f"link set {vm} master br{vid}" for vm in vms]
        lab.run(compute, ["ip", "-batch", "-"], input="\n".join(lines) + "\n")


def seed_vars(root, backend: str = "systemd-networkd", **extra) -> dict:
    variables = yaml.safe_load((GOLDEN / "vars.yml").read_text())
    variables.update(vlan_router_root=str(root), vlan_router_persistence=backend, **extra)
    return variables


def inventory(lab, router_vars: dict | None = None) -> dict:
    """routers: the router (with its variables); vlan_router_clients: the VMs with their gateway."""
    inv = lab.inventory(python=sys.executable)
    inv["all"]["children"] = {
        "routers": {"hosts": {"router": dict(router_vars or {})}},
        "vlan_router_clients": {"hosts": {vm: {"vlan_router_gateway": gw} for vm, (_c, _v, _a, gw) in VMS.items()}},
    }
    return inv


def nft_ip_family(lab, host: str = "router") -> bool:
    """Can this kernel load nf_tables tables of the ip family? (Debian's UML kernel cannot: bridge family only.)"""
    probe = lab.run(host, ["nft", "add", "table", "ip", "l2probe"], check=False).returncode == 0
    lab.run(host, ["nft", "delete", "table", "ip", "l2probe"], check=False)
    return probe


def hold(state_file: str) -> int:
    """Build the lab in a detached process that keeps it until SIGTERM (Molecule's prepare and cleanup use this).

    The parent returns once the child wrote the state file: its pid and each host's namespace name.
    """
    import json
    import os
    import signal
    import time

    if os.path.exists(state_file):
        os.unlink(state_file)
    log = state_file + ".log"
    child = os.fork()
    if child:
        for _attempt in range(1200):
            if os.path.exists(state_file):
                return 0
            if os.waitpid(child, os.WNOHANG)[0]:
                break
            time.sleep(0.1)
        sys.stderr.write(f"the lab did not come up; see {log}:\n" + (open(log).read() if os.path.exists(log) else ""))
        return 1
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    logfd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    # The caller (Ansible's command module) waits for its pipes to close: the holder keeps none of them.
    os.dup2(devnull, 0)
    os.dup2(logfd, 1)
    os.dup2(logfd, 2)
    from tests.lab import Lab

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    lab = Lab(spec(), name="molecule").up()
    bridge_vms(lab)
    state = {"pid": os.getpid(), "netns": {host: lab.netns(host) for host in lab.hosts}, "nft_ip_family": nft_ip_family(lab),
             "gateways": {vm: gw for vm, (_c, _v, _a, gw) in VMS.items()}}
    with open(state_file + ".tmp", "w") as handle:
        json.dump(state, handle)
    os.replace(state_file + ".tmp", state_file)
    signal.sigwait({signal.SIGTERM})  # blocked since before the lab came up: nothing is lost to a race
    lab.down()
    return 0


if __name__ == "__main__":
    import sys as _sys

    if len(_sys.argv) != 3 or _sys.argv[1] != "hold":
        _sys.exit("usage: python -m tests.kernel.vlan_router_lab hold STATE_FILE")
    _sys.exit(hold(_sys.argv[2]))
