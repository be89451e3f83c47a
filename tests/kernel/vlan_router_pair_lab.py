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

import json
import re
import select
import signal
import socket
import sys
import time
from pathlib import Path

from tests.kernel import vlan_router_lab as seed

ROOT = Path(__file__).resolve().parents[2]
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
    # No picking up of TCP connections in mid-stream (Linux's nf_conntrack_tcp_loose 1): vm3's connection can survive
    # r1's death only through conntrackd's copy.
    hosts = {router: {"links": _router_links(router) + [{"switch": "trunk", "ifname": "eth1"}],
                      "sysctl": {"net.netfilter.nf_conntrack_tcp_loose": "0"}} for router in ROUTERS}
    hosts["internet"] = _internet()
    for compute in sorted({compute for compute, _vid, _address in VMS.values()}):
        hosts[compute] = {"links": [{"switch": "trunk", "ifname": "eth0"}]}
    for vm, (compute, _vid, _address) in VMS.items():
        hosts[compute]["links"].append({"peer": f"{vm}:eth0", "ifname": vm})
        hosts[vm] = _vm(vm, {"peer": f"{compute}:{vm}"})
    return {"switches": ["uplink", "sync", "trunk"], "hosts": hosts}


def bridge_vms(lab) -> None:
    """On each compute node: a VLAN sub-interface per VLAN on the trunk, bridged with its VMs' cables (as the seed's lab)."""
    seed.bridge_vms(lab, VMS)


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


# -- traffic that a user would watch ---------------------------------------------------------------
TCP_PORT = 7777
REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=(\d+)", re.M)


def pinging(lab, host: str, address: str, log: Path, interval: float):
    """iputils ping every `interval` s until SIGINT, each reply time-stamped (-D) into `log` as it comes (line-buffered)."""
    return lab.popen(host, ["stdbuf", "-oL", "ping", "-D", "-i", str(interval), address], stdout=open(log, "w"), stderr=-3)  # noqa: SIM115


def replies(log: Path) -> list[tuple[float, int]]:
    """(time, icmp_seq) of every echo reply in a `pinging` log."""
    return [(float(t), int(seq)) for t, seq in REPLY.findall(log.read_text())] if log.exists() else []


def unanswered(log: Path) -> int:
    """Echo requests between the first and the last answered one that got no reply."""
    seqs = sorted({seq for _t, seq in replies(log)})
    return seqs[-1] - seqs[0] + 1 - len(seqs) if seqs else 0


def tcp_server() -> None:
    """In the internet: echo every byte back, one connection at a time, until killed."""
    listener = socket.create_server(("0.0.0.0", TCP_PORT), reuse_port=True)
    print("ready", flush=True)
    while True:
        conn, _peer = listener.accept()
        try:
            while data := conn.recv(4096):
                conn.sendall(data)
        except OSError:
            pass
        conn.close()


def tcp_client(out: str) -> None:
    """In vm3: one connection to the internet, a byte every 20 ms; one JSON line per echo received, or the error."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    conn = socket.create_connection((INTERNET, TCP_PORT), timeout=5)
    conn.setblocking(False)
    next_send = time.monotonic()
    with open(out, "w", buffering=1) as log:
        try:
            while not stop:
                if time.monotonic() >= next_send:
                    try:
                        conn.send(b"x")
                    except BlockingIOError:
                        pass  # the send buffer is full while the path is down: TCP retransmits what it holds
                    next_send += 0.020
                try:
                    ready = select.select([conn], [], [], max(0.0, next_send - time.monotonic()))[0]
                except InterruptedError:
                    continue
                if ready:
                    data = conn.recv(4096)
                    if not data:
                        raise ConnectionResetError("closed by the peer")
                    log.write(json.dumps(["echo", time.time(), len(data)]) + "\n")
        except OSError as exc:
            log.write(json.dumps(["error", time.time(), str(exc)]) + "\n")


def tcp_events(log: Path) -> list:
    """The client's log: ["echo", time, bytes] per echo, ["error", time, message] when the connection broke."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.endswith("]")] if log.exists() else []


def start_tcp(lab, log: Path) -> None:
    """The long-lived connection from vm3 (NAT VLAN) to the internet's echo server; back once the first echo came."""
    server = lab.popen("internet", [sys.executable, "-m", __name__, "tcp-server"], stdout=-1, text=True, cwd=ROOT)
    if server.stdout.readline().strip() != "ready":
        raise RuntimeError("the echo server did not start")
    lab.popen("vm3", [sys.executable, "-m", __name__, "tcp-client", str(log)], cwd=ROOT)
    for _attempt in range(200):
        if any(event[0] == "echo" for event in tcp_events(log)):
            return
        time.sleep(0.05)
    raise RuntimeError(f"vm3's TCP connection to the internet carried nothing: {tcp_events(log)}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["tcp-server"]:
        tcp_server()
    elif sys.argv[1:2] == ["tcp-client"]:
        tcp_client(sys.argv[2])
    else:
        sys.exit("usage: python -m tests.kernel.vlan_router_pair_lab tcp-server | tcp-client LOG")
