# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Persistence proven by a reboot: the router comes back from its own files, through the real programs of a Debian boot.

The seed's lab (vlan_router_lab), four boots in a row, each:
  1. the role applied, its files under a scratch vlan_router_root, and the reachability matrix checked after every run
     that changed the router (a boot whose variables are the last boot's runs no role before it);
  2. "power off": every VLAN, address, route, forwarding and proxy ARP value and nftables table gone, the booted daemons
     killed and IPVS emptied; the trunk and the uplink down (8021q stays loaded: unloading it would delete the compute
     nodes' VLANs in this same kernel);
  3. "boot", in the router's namespace and a private mount namespace (tests/kernel/boot.py): systemd-modules-load, systemd-sysctl,
     `nft -f /etc/nftables.conf`, then systemd-networkd or `ifup -a`, and dnsmasq and keepalived as their units run them,
     the real programs of Debian's packages;
  4. vm3 asks for its address again and gets its reservation from the booted dnsmasq, and the internet reaches vm3
     through the booted keepalived's virtual server; the reachability matrix again, and a run of the role that changes
     nothing.
The boots: systemd-networkd with the role's own trunk file; networkd with the management address on the trunk in a
.network file of the machine's (vlan_router_networkd_trunk_network, the role adds a drop-in); ifupdown; ifupdown with the
trunk's own stanza carrying the management address. The uplink's address is the machine's too (its own file), so the
boot brings it back as well. Every boot has the daemons' files: DHCP on VLAN 1235 with a reservation for vm3 (dnsmasq),
and a virtual server 203.0.113.80:80 whose real server is vm3:8080 (keepalived, IPVS). With networkd, dnsmasq starts
before networkd has made the VLANs, as at a real boot (the race its `bind-dynamic` is for).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.test_vlan_router_nat_rules import connect, serve
from tests.kernel import boot
from tests.kernel import vlan_router_lab as seed
from tests.kernel.test_vlan_router_load_balancer import PORT as VIP_PORT
from tests.kernel.test_vlan_router_load_balancer import VIP, live, wait_for
from tests.kernel.test_vlan_router_services import SCRIPT as UDHCPC_SCRIPT
from tests.kernel.test_vlan_router_services import dhcp
from tests.support.ansible import ROOT, run_playbook

PLAYBOOK = ROOT / "playbooks" / "vlan_router.yml"
MANAGEMENT, MANAGEMENT_PEER = "192.0.2.2", "192.0.2.11"  # the router's and compute1's untagged addresses on the trunk
BOOTS = [("systemd-networkd", False), ("systemd-networkd", True), ("ifupdown", False), ("ifupdown", True)]
# What the boot brings back, waited for before the matrix: (interface, address), and the routed prefix.
ADDRESSES = [("eth0", seed.ROUTER_UPLINK), ("eth1.1234", "203.0.113.1"), ("eth1.1235", "10.1.35.1"), ("eth1.1236", "10.1.36.1")]
# The real /etc is never written: what the boot binds or reads and what the role could write, compared before and after.
REAL_ETC = ["/etc/nftables.conf", "/etc/sysconfig", "/etc/network", "/etc/systemd/network", "/etc/sysctl.d", "/etc/modules-load.d",
            "/etc/nftables.d", "/etc/dnsmasq.d", "/etc/keepalived", "/etc/conntrackd", "/etc/default"]


def machine_files(root: Path, backend: str, management: bool) -> None:
    """The machine's own network configuration (not the role's): the uplink's address, and the trunk's management address."""
    networkd = root / "etc/systemd/network"
    networkd.mkdir(parents=True, exist_ok=True)
    (networkd / "10-uplink.network").write_text(f"[Match]\nName=eth0\n\n[Network]\nAddress={seed.ROUTER_UPLINK}/24\nLinkLocalAddressing=no\n")
    trunk = networkd / "10-eth1.network"
    if backend == "systemd-networkd" and management:
        trunk.write_text(f"[Match]\nName=eth1\n\n[Network]\nAddress={MANAGEMENT}/24\nLinkLocalAddressing=no\n")
    elif trunk.exists():
        trunk.unlink()
    (root / "etc/network").mkdir(parents=True, exist_ok=True)
    stanzas = ["auto lo", "iface lo inet loopback", "", "auto eth0", "iface eth0 inet static", f"    address {seed.ROUTER_UPLINK}/24", ""]
    if management:
        stanzas += ["auto eth1", "iface eth1 inet static", f"    address {MANAGEMENT}/24", ""]
    (root / "etc/network/interfaces").write_text("\n".join(stanzas + ["source /etc/network/interfaces.d/*", ""]))


def router_vars(root: Path, backend: str, management: bool, vm3_mac: str) -> dict:
    """The seed's router, with DHCP on VLAN 1235 too, vm3's reservation (its address in the seed), and a virtual server
    whose real server is vm3:8080 (the default TCP check)."""
    extra = {"vlan_router_networkd_trunk_network": "10-eth1.network"} if backend == "systemd-networkd" and management else {}
    variables = seed.seed_vars(root, backend, **extra)
    variables["vlan_router_vlans"][1]["dhcp"] = {"hosts": [{"mac": vm3_mac, "ip": "10.1.35.11", "name": "vm3"}]}
    variables["vlan_router_dns_upstream"] = [seed.INTERNET]  # nothing answers there: no name leaves the lab
    variables["vlan_router_virtual_servers"] = [
        {"address": VIP, "port": VIP_PORT, "protocol": "tcp", "real_servers": [{"address": "10.1.35.11", "port": 8080}]}
    ]
    for directory in ("run/dnsmasq", "var/lib/misc"):  # the role's pid and lease files, on the machine's disk
        (root / directory).mkdir(parents=True, exist_ok=True)
    return variables


def power_off(lab) -> None:
    """The router as a fresh boot finds it (boot.power_off), and the upstream forgets the router's answers, so proxy ARP
    has to answer again after the boot."""
    boot.power_off(lab, "router", ["eth0", "eth1"])
    lab.run("internet", ["ip", "neigh", "flush", "dev", "eth0"])


def booted(lab, proc: subprocess.Popen, log: Path, management: bool, timeout: float = 180) -> float:
    """Seconds until the router holds its addresses and the routed prefix; fails with the boot's log when it does not."""
    wanted = ADDRESSES + ([("eth1", MANAGEMENT)] if management else [])
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        held = {(link["ifname"], a["local"]) for link in lab.ip_json("router", "addr", "show") for a in link["addr_info"]}
        routed = any(route["dst"] == "203.0.113.64/28" for route in lab.ip_json("router", "route", "show"))
        if set(wanted) <= held and routed:
            return time.monotonic() - start
        if proc.poll() not in (None, 0):
            break
        time.sleep(0.5)
    pytest.fail(f"the router did not come back (boot exited {proc.poll()}); missing {sorted(set(wanted) - held)}, routed {routed}:\n{log.read_text()}")


def fingerprint(paths: list[str]) -> dict:
    out = {}
    for path in map(Path, paths):
        for item in [path, *sorted(path.rglob("*"))] if path.is_dir() else [path]:
            out[str(item)] = hashlib.sha256(item.read_bytes()).hexdigest() if item.is_file() else ("dir" if item.exists() else None)
    return out


@dataclass
class Router:
    lab: object
    root: Path
    etc_before: dict
    network: subprocess.Popen | None = None  # the running boot (networkd), stopped by the next power off or the lab's teardown
    applied: dict | None = None  # the role's variables last applied


@pytest.fixture(scope="module")
def router(request, tmp_path_factory):
    from tests.lab import Lab

    lab = Lab(seed.spec()).up()
    request.addfinalizer(lab.down)
    seed.bridge_vms(lab)
    assert seed.nft_ip_family(lab), "the reboot test needs nf_tables' ip and inet families: run it in the tier's own kernel"
    lab.run("compute1", ["ip", "addr", "add", f"{MANAGEMENT_PEER}/24", "dev", "eth0"])
    serve(lab, "vm3", 8080)  # the virtual server's real server
    return Router(lab, tmp_path_factory.mktemp("router-root"), fingerprint(REAL_ETC))


@pytest.mark.parametrize("backend,management", BOOTS, ids=[f"{b}{'-management' if m else ''}" for b, m in BOOTS])
def test_the_router_comes_back_from_its_files_after_a_reboot(router, backend, management, tmp_path):
    lab, root = router.lab, router.root
    machine_files(root, backend, management)
    variables = router_vars(root, backend, management, lab.mac("vm3"))
    inventory = seed.inventory(lab, variables)
    # 1. The role applied (the VMs' default routes too, the first time), unless the last boot's re-run applied the same
    # variables (ifupdown with the management address differs from ifupdown only in the machine's own file); the matrix
    # after each run that changed the router, before it is powered off.
    matrix = 0.0
    if variables != router.applied:
        applied = run_playbook(PLAYBOOK, inventory, args=[] if router.applied is None else ["--limit", "routers"])
        assert applied.rc == 0, applied.stdout + applied.stderr
        if applied.changed:
            start = time.monotonic()
            assert seed.unreachable(lab) == [], f"after the role's run, before the power off ({backend}, management {management})"
            matrix = time.monotonic() - start
    router.applied = variables
    assert "8021q" in (root / "etc/modules-load.d/layer2-vlan-router.conf").read_text().split()
    if backend == "systemd-networkd":  # the VLANs hang off the machine's trunk file (a drop-in) or the role's own one
        own = (root / "etc/systemd/network/60-layer2-vlan-router-eth1.network").exists()
        assert own != management and (root / "etc/systemd/network/10-eth1.network.d/60-layer2-vlan-router.conf").exists() == management

    # 2. Power off.
    boot.stop(router.network)
    router.network = None
    power_off(lab)
    assert boot.powered_off(lab, "router") == boot.POWERED_OFF
    assert os.path.isdir("/proc/net/vlan")  # 8021q stays loaded (see the module's docstring)

    # 3. Boot.
    log = tmp_path / "boot.log"
    proc = boot.boot(lab, "router", root, backend, log)
    if backend == "systemd-networkd":
        router.network = proc
    seconds = booted(lab, proc, log, management)
    if backend == "ifupdown":
        assert proc.wait(timeout=120) == 0, log.read_text()

    # 4. vm3's reserved lease from the booted dnsmasq (it gives vm3 its seed address and gateway back), the internet
    # through the booted keepalived's virtual server to vm3 (the client's own address reaches it: LVS-NAT), the same
    # matrix, the management address on the trunk, and a run of the role that changes nothing.
    lab.run("vm3", ["ip", "addr", "flush", "dev", "eth0"])
    script = tmp_path / "udhcpc.sh"
    script.write_text(UDHCPC_SCRIPT)
    script.chmod(0o755)
    lease = dhcp(lab, "vm3", script)
    assert lease and (lease["ip"], lease["router"]) == ("10.1.35.11", "10.1.35.1"), f"{lease}\n{log.read_text()}"
    wait_for("keepalived putting vm3 in IPVS", lambda: live(lab) == {"10.1.35.11": 1}, 60)
    assert connect(lab, "internet", VIP, VIP_PORT) == seed.INTERNET, log.read_text()
    # The boot's steps, complete once keepalived serves (with networkd it starts after wait-online).
    steps = boot.steps(log)
    assert "boot: conntrackd" not in steps, steps  # a router alone: the role wrote no conntrackd file (the machine's is Debian's example)
    print(f"{backend}{' with the management address' if management else ''}: back {seconds:.1f} s after the boot began"
          f"{f'; matrix before the power off {matrix:.1f} s' if matrix else ''}; {steps}")
    started = next((line.split("links", 1)[1].split() for line in steps if line.startswith("boot: dnsmasq")), None)
    assert started is not None, log.read_text()
    if backend == "systemd-networkd":  # the race bind-dynamic is for: dnsmasq started before its VLAN existed
        assert "eth1.1235" not in started, steps
    assert seed.unreachable(lab) == [], log.read_text()
    if management:
        assert seed.pings(lab, "compute1", MANAGEMENT)
    again = run_playbook(PLAYBOOK, inventory, args=["--limit", "routers"])
    assert again.rc == 0, again.stdout + again.stderr
    assert again.changed == 0, [r.get("register") or r["task"] for r in again.results if r["result"].get("changed")]


def test_the_real_etc_was_never_written(router):
    bound = ["/" + str(path.relative_to(router.root)) for path in (router.root / "etc").rglob("*") if path.is_file()]
    assert [path for path in bound if not any(path == kept or path.startswith(kept + "/") for kept in REAL_ETC)] == []
    assert fingerprint(REAL_ETC) == router.etc_before
