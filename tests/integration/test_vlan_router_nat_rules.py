# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static NAT, port forwards and the VLANs' ingress/egress rules on the host kernel, with real traffic.

The stand-ins of test_vlan_router_firewall.py (plain interfaces named eth1.1234 ... each on its own switch) plus a second
VM on the NAT VLAN and a second address on the internet. The role runs read_facts, routes (the public addresses are
routed /32 onto their VLAN: proxy ARP on the uplink answers for them) and its firewall entry point, as main.yml does.
TCP is carried by Python's socket module: the server answers each connection with the address it saw and the bytes it got.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.integration.test_vlan_router_firewall import LOAD, VERIFY, role_tasks
from tests.integration.test_vlan_router_firewall import spec as firewall_spec
from tests.kernel import vlan_router_lab as seed

STATIC_PUBLIC, FORWARD_PUBLIC, OTHER_INTERNET = "198.51.100.50", "198.51.100.51", "198.51.100.9"
STATIC = [{"public": STATIC_PUBLIC, "private": "10.1.35.11"}]
FORWARDS = [{"public": FORWARD_PUBLIC, "port": 2222, "proto": "tcp", "private": "10.1.35.12", "private_port": 22}]

SERVER = (
    "import socket, sys\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(8)\n"
    "print('ready', flush=True)\n"
    "while True:\n"
    "    c, peer = s.accept(); c.sendall(peer[0].encode() + b' ' + c.recv(100)); c.close()\n"
)
CLIENT = (
    "import socket, sys\n"
    "try:\n"
    "    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3); c.sendall(b'hello'); print(c.recv(100).decode())\n"
    "except OSError as e:\n"
    "    print('failed', e); sys.exit(1)\n"
)


def spec() -> dict:
    out = firewall_spec()
    out["hosts"]["vm5"] = {"links": [{"switch": "v1235", "addresses": ["10.1.35.12/24"]}], "routes": ["default via 10.1.35.1"]}
    out["hosts"]["internet"]["links"][0]["addresses"].append(f"{OTHER_INTERNET}/24")
    return out


def apply(lab, root, check=False, ok=True, **extra):
    return role_tasks(lab, root, "read_facts", "routes", "firewall", check=check, ok=ok,
                      vlan_router_static_nat=extra.pop("static_nat", STATIC), vlan_router_port_forwards=extra.pop("forwards", FORWARDS), **extra)


def serve(lab, host, port):
    server = lab.popen(host, [sys.executable, "-c", SERVER, str(port)], stdout=-1, text=True)
    assert server.stdout.readline().strip() == "ready"


def connect(lab, host, address, port) -> str | None:
    """The server's answer: the source address it saw and 'hello'; None when the connection failed."""
    run = lab.run(host, [sys.executable, "-c", CLIENT, address, str(port)], check=False)
    return run.stdout.split()[0] if run.returncode == 0 and run.stdout.strip().endswith("hello") else None


def udp_source(lab, host, port=5555) -> str | None:
    """Where a datagram from host to the internet's port appears to come from (None when it never arrives)."""
    sink = lab.popen("internet", [sys.executable, "-c", seed.UDP_SINK.replace("5555", str(port)).replace("settimeout(60)", "settimeout(3)")],
                     stdout=-1, text=True)
    assert sink.stdout.readline().strip() == "ready"
    lab.run(host, ["bash", "-c", f"echo hello >/dev/udp/{seed.INTERNET}/{port}"])
    line = sink.stdout.readline().strip()
    return line or None


def pings(lab, host, address) -> bool:
    return lab.run(host, ["ping", "-c", "2", "-W", "2", address], check=False).returncode == 0


def tree(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def router(make_lab, tmp_path):
    return make_lab(spec()), tmp_path


def test_static_nat_and_port_forward_both_ways_with_hairpin(router):
    lab, root = router
    serve(lab, "internet", 7000)
    for vm in ("vm3", "vm5"):
        serve(lab, vm, 22)
    assert connect(lab, "internet", STATIC_PUBLIC, 22) is None  # before: nothing answers for the public address

    check = apply(lab, root, check=True)
    assert check.changed and connect(lab, "internet", STATIC_PUBLIC, 22) is None
    first = apply(lab, root)
    assert first.changed
    routes = {route["dst"] for route in lab.ip_json("router", "route", "show", "dev", "eth1.1235")}
    assert {f"{STATIC_PUBLIC}", f"{FORWARD_PUBLIC}"} <= routes

    # Static NAT: out with the public address, in at the public address (any port), from the internet and by hairpin.
    assert connect(lab, "vm3", seed.INTERNET, 7000) == STATIC_PUBLIC
    assert udp_source(lab, "vm3") == STATIC_PUBLIC
    assert connect(lab, "internet", STATIC_PUBLIC, 22) == seed.INTERNET
    assert connect(lab, "vm1", STATIC_PUBLIC, 22) == "203.0.113.11"  # hairpin from another VLAN: the VM sees who called
    assert connect(lab, "vm5", STATIC_PUBLIC, 22) == "10.1.35.1"  # hairpin within the VLAN: through the router
    assert connect(lab, "router", STATIC_PUBLIC, 22) is not None
    # The other NAT VM still leaves with the uplink's address, and stays unreachable from the internet.
    assert connect(lab, "vm5", seed.INTERNET, 7000) == seed.ROUTER_UPLINK
    assert connect(lab, "internet", "10.1.35.12", 22) is None

    # The port forward: exactly that port, from the internet and by hairpin.
    assert connect(lab, "internet", FORWARD_PUBLIC, 2222) == seed.INTERNET
    assert connect(lab, "internet", FORWARD_PUBLIC, 22) is None
    assert connect(lab, "vm1", FORWARD_PUBLIC, 2222) == "203.0.113.11"
    assert connect(lab, "vm3", FORWARD_PUBLIC, 2222) == "10.1.35.1"
    # The router answers ARP for both public addresses on the uplink, with its own MAC.
    router_mac = lab.ip_json("router", "link", "show", "eth0")[0]["address"]
    neighbours = {n["dst"]: n.get("lladdr") for n in lab.ip_json("internet", "neigh", "show", "dev", "eth0")}
    assert neighbours[STATIC_PUBLIC] == router_mac and neighbours[FORWARD_PUBLIC] == router_mac
    # nftables.service's file was created with the include (vlan_router_nftables_include follows nftables_apply).
    assert 'include "/etc/nftables.d/layer2-vlan-router.nft"' in (root / "etc/nftables.conf").read_text()

    again = apply(lab, root)
    assert again.changed == 0, again.stdout

    # A chain lost live (someone's nft delete): verify names it, and the next run loads the tables again.
    lab.run("router", ["nft", "delete", "chain", "ip", "layer2_vlan_router_nat", "prerouting"])
    assert connect(lab, "internet", STATIC_PUBLIC, 22) is None
    told = role_tasks(lab, root, "read_facts", "verify", ok=False, vlan_router_static_nat=STATIC, vlan_router_port_forwards=FORWARDS)
    assert "the nftables table ip layer2_vlan_router_nat lacks its chain prerouting" in told.task(VERIFY, by="register")["msg"]
    mended = apply(lab, root)
    assert mended.task(LOAD, by="register")["changed"] and connect(lab, "internet", STATIC_PUBLIC, 22) == seed.INTERNET


def test_ingress_and_egress_rules_open_exactly_what_they_list(router):
    lab, root = router
    serve(lab, "vm1", 8080)
    serve(lab, "vm1", 8081)
    serve(lab, "internet", 80)
    lab.run("internet", ["ip", "route", "add", "10.1.36.0/24", "via", seed.ROUTER_UPLINK])  # vm4's replies come back without NAT
    vlans = seed.seed_vars(root)["vlan_router_vlans"]
    vlans[0]["ingress"] = [{"proto": "tcp", "ports": [8080], "from": [f"{seed.INTERNET}/32"]}, {"proto": "icmp"}]
    vlans[2]["egress"] = [{"proto": "udp", "ports": [5555]}, {"proto": "tcp", "to": [f"{seed.INTERNET}/32"]}]
    # Before: the public VLAN takes every connection from the internet, and 1236 reaches every port out there.
    assert connect(lab, "internet", "203.0.113.11", 8081) == seed.INTERNET
    assert udp_source(lab, "vm4", 5556) == "10.1.36.11"

    apply(lab, root, vlan_router_vlans=vlans)
    # ingress, tcp port and source prefix: 8080 from the listed address, not 8081, not 8080 from another source.
    assert connect(lab, "internet", "203.0.113.11", 8080) == seed.INTERNET
    assert connect(lab, "internet", "203.0.113.11", 8081) is None
    lab.run("internet", ["ip", "route", "replace", "203.0.113.0/24", "dev", "eth0", "src", OTHER_INTERNET])
    assert connect(lab, "internet", "203.0.113.11", 8080) is None
    lab.run("internet", ["ip", "route", "replace", "203.0.113.0/24", "dev", "eth0"])
    # ingress, icmp: allowed; the VLAN's own connections out are untouched by ingress rules (replies pass).
    assert pings(lab, "internet", "203.0.113.11")
    assert connect(lab, "vm1", seed.INTERNET, 80) == "203.0.113.11"
    # egress, udp port: 5555 leaves, 5556 does not.
    assert udp_source(lab, "vm4", 5555) == "10.1.36.11"
    assert udp_source(lab, "vm4", 5556) is None
    # egress, tcp to a prefix: to the listed address, not to another; a VLAN without egress rules is unchanged.
    assert connect(lab, "vm4", seed.INTERNET, 80) == "10.1.36.11"
    assert connect(lab, "vm4", OTHER_INTERNET, 80) is None
    assert connect(lab, "vm1", OTHER_INTERNET, 80) == "203.0.113.11"
    # Tenant isolation is as before.
    assert pings(lab, "vm4", "203.0.113.11") and not pings(lab, "vm1", "10.1.36.11")
    assert apply(lab, root, vlan_router_vlans=vlans).changed == 0

    # Each VLAN's rules live in a chain of its own, which verify looks for.
    lab.run("router", ["nft", "flush", "chain", "inet", "layer2_vlan_router_filter", "forward"])
    lab.run("router", ["nft", "delete", "chain", "inet", "layer2_vlan_router_filter", "ingress_1234"])
    told = role_tasks(lab, root, "read_facts", "verify", ok=False, vlan_router_vlans=vlans, vlan_router_static_nat=STATIC,
                      vlan_router_port_forwards=FORWARDS)
    assert "the nftables table inet layer2_vlan_router_filter lacks its chain ingress_1234" in told.task(VERIFY, by="register")["msg"]
    assert "egress_1236" not in told.task(VERIFY, by="register")["msg"]
    assert apply(lab, root, vlan_router_vlans=vlans).task(LOAD, by="register")["changed"]
    assert connect(lab, "internet", "203.0.113.11", 8081) is None


def test_ingress_rules_govern_static_nat_not_port_forwards(router):
    """An ingress rule on the VLAN of the static NAT target: from the uplink, the public address takes only what the
    rules list. A port forward into the same VLAN is open from anywhere, as docs/vlan-router.md says: it is itself the rule."""
    lab, root = router
    serve(lab, "internet", 7000)
    for vm, port in (("vm3", 8080), ("vm3", 22), ("vm5", 22)):
        serve(lab, vm, port)
    vlans = seed.seed_vars(root)["vlan_router_vlans"]
    vlans[1]["ingress"] = [{"proto": "tcp", "ports": [8080]}]  # 1235: vm3 (static NAT) and vm5 (port forward to its 22)
    apply(lab, root, vlan_router_vlans=vlans)

    assert connect(lab, "internet", STATIC_PUBLIC, 8080) == seed.INTERNET  # listed
    assert connect(lab, "internet", STATIC_PUBLIC, 22) is None  # not listed
    assert connect(lab, "internet", FORWARD_PUBLIC, 2222) == seed.INTERNET  # to vm5's port 22, not listed either
    # Ingress rules are the uplink's: the hairpin from another VLAN, and the VM's own connections out, are as before.
    assert connect(lab, "vm1", STATIC_PUBLIC, 22) == "203.0.113.11"
    assert connect(lab, "vm3", seed.INTERNET, 7000) == STATIC_PUBLIC


@pytest.mark.parametrize(("extra", "words"), [
    ({"static_nat": [{"public": "198.51.100.60", "private": "10.9.9.2"}]},
     "vlan_router_static_nat[0] (198.51.100.60 -> 10.9.9.2): no VLAN holds the private address 10.9.9.2"),
    ({"static_nat": STATIC, "forwards": [{**FORWARDS[0], "public": STATIC_PUBLIC}]},
     "the public address 198.51.100.50 is already taken whole by vlan_router_static_nat[0]"),
    ({"forwards": [{**FORWARDS[0], "port": 70000}]}, "vlan_router_port_forwards[0] (198.51.100.51:70000/tcp -> 10.1.35.12:22): port 70000 is out of range"),
    ({"forwards": [{**FORWARDS[0], "proto": "sctp"}]}, "proto"),
])
def test_bad_input_is_refused_with_nothing_changed(router, extra, words):
    lab, root = router
    apply(lab, root)
    ruleset, files = lab.run("router", ["nft", "list", "ruleset"]).stdout, tree(root)
    routes = lab.ip_json("router", "route", "show")
    bad = apply(lab, root, ok=False, **extra)
    assert bad.rc != 0 and words in bad.stdout + bad.stderr
    assert lab.run("router", ["nft", "list", "ruleset"]).stdout == ruleset and tree(root) == files
    assert lab.ip_json("router", "route", "show") == routes
