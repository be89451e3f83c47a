# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's services end to end in the seed's topology (see vlan_router_lab), over real 802.1Q VLANs.

The seed's router with the services on its VLANs: DHCP with a reservation for vm3 and DNS names on 1235 (NATed), a
static NAT to vm3, a port forward to vm4, ingress rules on 1234, router advertisements and egress rules on 1236.
The role's main entry point (playbooks/vlan_router.yml) runs once, then dnsmasq is started from the role's file in
the router's namespace, as a lab without systemd runs it (its own mount namespace with a private /run; killed with the
lab), and the role's second run changes nothing and verifies that dnsmasq listens where asked.
Then real clients over the VLANs: busybox udhcpc, busybox nslookup, the kernel's SLAAC, TCP and UDP through the NAT.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.test_vlan_router_nat_rules import connect, serve, udp_source
from tests.integration.test_vlan_router_services import assert_advertised
from tests.kernel import vlan_router_lab as seed
from tests.support.ansible import ROOT, run_playbook
from tests.support.dnsmasq import DNSMASQ_CONF as CONF
from tests.support.dnsmasq import start_dnsmasq

PLAYBOOK = ROOT / "playbooks" / "vlan_router.yml"
STATIC_PUBLIC, FORWARD_PUBLIC = "198.51.100.50", "198.51.100.51"
# udhcpc runs this on each event: on "bound" it records what it was given and configures the VM with it.
SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
echo "ip=$ip mask=$mask router=$router dns=$dns domain=$domain" >"$0.lease"
ip addr add "$ip/$mask" dev "$interface"
ip route replace default via "$router"
"""


def services_vars(root, vm3_mac: str) -> dict:
    variables = seed.seed_vars(root)
    public, private, other = variables["vlan_router_vlans"]
    public["ingress"] = [{"proto": "tcp", "ports": [8080], "from": [f"{seed.INTERNET}/32"]}]
    private["dhcp"] = {"range": ["10.1.35.100", "10.1.35.199"], "domain": "tenant1.internal", "lease_time": "12h",
                       "hosts": [{"mac": vm3_mac, "ip": "10.1.35.11", "name": "web1"}]}
    other["ipv6_ra"] = True
    other["egress"] = [{"proto": "udp", "ports": [5555]}]
    return variables | {
        "vlan_router_ipv6_forwarding": True,  # ipv6_ra needs it
        "vlan_router_static_nat": [{"public": STATIC_PUBLIC, "private": "10.1.35.11"}],
        "vlan_router_port_forwards": [{"public": FORWARD_PUBLIC, "port": 2222, "proto": "tcp", "private": "10.1.36.11", "private_port": 22}],
        # the internet stands for the upstream resolver: nothing answers there, no name leaves the lab
        "vlan_router_dns_upstream": [seed.INTERNET],
    }


@pytest.fixture(scope="module")
def router(request, tmp_path_factory):
    """The seed's lab with the services: the role's first run, dnsmasq started from its file, the second run."""
    from tests.lab import Lab

    root = tmp_path_factory.mktemp("router-root")
    lab = Lab(seed.spec()).up()
    request.addfinalizer(lab.down)
    seed.bridge_vms(lab)
    if not seed.nft_ip_family(lab):
        pytest.fail("this kernel cannot load nf_tables ip/inet tables: the services need the tier's own kernel (tests/kernel/build-uml-kernel)")
    lab.run("vm3", ["ip", "addr", "flush", "dev", "eth0"])  # vm3 takes its address from DHCP
    inventory = seed.inventory(lab, services_vars(root, lab.mac("vm3")))
    del inventory["all"]["children"]["vlan_router_clients"]["hosts"]["vm3"]  # its gateway comes with the lease
    runs = {"first": run_playbook(PLAYBOOK, inventory, diff=True)}
    assert runs["first"].rc == 0, runs["first"].stdout[-3000:] + runs["first"].stderr[-2000:]
    start_dnsmasq(lab, "router", root, ["10.1.35.1:53", "0.0.0.0:67"])
    runs["second"] = run_playbook(PLAYBOOK, inventory)
    return lab, root, runs


def dhcp(lab, host, script) -> dict | None:
    done = lab.run(host, ["busybox", "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "5", "-T", "3", "-s", str(script)], check=False, timeout=60)
    lease = script.parent / f"{script.name}.lease"
    return dict(item.split("=", 1) for item in lease.read_text().split()) if done.returncode == 0 else None


def lookup(lab, host, name, server) -> list[str]:
    out = lab.run(host, ["busybox", "nslookup", name, server], check=False, timeout=30).stdout
    return re.findall(r"^Address:?\s+(\S+)$", out.split("\n\n", 1)[-1], re.M) + re.findall(r"name = (\S+)", out)


def test_second_run_changes_nothing_and_verifies_dnsmasq(router):
    lab, root, runs = router
    second = runs["second"]
    assert second.rc == 0, second.stdout[-3000:]
    assert second.changed == 0, [(r["task"], r["result"]) for r in second.results if r["result"].get("changed")]
    assert not second.task("__vlan_router_verify_result", "router", by="register").get("failed")
    assert "dhcp-host=" in (root / CONF).read_text()


def test_dhcp_reserved_lease_and_dns_through_the_router(router, tmp_path):
    lab = router[0]
    script = tmp_path / "udhcpc.sh"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    assert dhcp(lab, "vm3", script) == {"ip": "10.1.35.11", "mask": "24", "router": "10.1.35.1", "dns": "10.1.35.1", "domain": "tenant1.internal"}
    assert lab.run("vm3", ["ping", "-c", "1", "-W", "3", "10.1.35.1"], check=False).returncode == 0
    # vm4, on another VLAN, asks the router there: the reservation's name forward and back
    assert lookup(lab, "vm4", "web1.tenant1.internal", "10.1.36.1") == ["10.1.35.11"]
    assert lookup(lab, "vm4", "10.1.35.11", "10.1.36.1") == ["web1.tenant1.internal"]


def test_router_advertisements_give_an_address_and_a_default_route(router):
    assert_advertised(router[0], "vm4", "eth1.1236", "2001:db8:36::/64", tries=150)


def test_static_nat_and_port_forward_both_ways_with_hairpin(router):
    lab = router[0]
    if not lab.ip_json("vm3", "-4", "addr", "show", "dev", "eth0")[0]["addr_info"]:  # when run alone: the lease is the DHCP test's
        lab.run("vm3", ["ip", "addr", "add", "10.1.35.11/24", "dev", "eth0"])
        lab.run("vm3", ["ip", "route", "replace", "default", "via", "10.1.35.1"])
    serve(lab, "internet", 7000)
    for vm in ("vm3", "vm4"):
        serve(lab, vm, 22)
    # static NAT: out with the public address, in at it from the internet, and from another VLAN (hairpin)
    assert connect(lab, "vm3", seed.INTERNET, 7000) == STATIC_PUBLIC
    assert connect(lab, "internet", STATIC_PUBLIC, 22) == seed.INTERNET
    assert connect(lab, "vm4", STATIC_PUBLIC, 22) == "10.1.36.11"
    lab.run("internet", ["ip", "route", "replace", "10.1.35.0/24", "via", seed.ROUTER_UPLINK])
    assert connect(lab, "internet", "10.1.35.11", 22) is None  # the private address stays unreachable, routed or not
    # the port forward: exactly its port, from the internet and by hairpin
    assert connect(lab, "internet", FORWARD_PUBLIC, 2222) == seed.INTERNET
    assert connect(lab, "internet", FORWARD_PUBLIC, 22) is None
    assert connect(lab, "vm3", FORWARD_PUBLIC, 2222) == "10.1.35.11"
    neighbours = {n["dst"]: n.get("lladdr") for n in lab.ip_json("internet", "neigh", "show", "dev", "eth0")}
    assert neighbours[STATIC_PUBLIC] == neighbours[FORWARD_PUBLIC] == lab.mac("router", "eth0")


def test_ingress_and_egress_rules(router):
    lab = router[0]
    for port in (8080, 8081):
        serve(lab, "vm1", port)
    # ingress on 1234: tcp 8080 from the internet's address, not 8081
    assert connect(lab, "internet", "203.0.113.11", 8080) == seed.INTERNET
    assert connect(lab, "internet", "203.0.113.11", 8081) is None
    # egress on 1236: udp 5555 leaves, 5556 does not
    assert udp_source(lab, "vm4", 5555) == "10.1.36.11"
    assert udp_source(lab, "vm4", 5556) is None
