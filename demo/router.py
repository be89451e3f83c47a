# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Story: the seed's VLAN router. A trunk, tenant VLANs, VMs on them, the vlan_router role applied, what reaches what.

802.1Q needs a kernel this machine may lack, so the story runs in one boot of the kernel tier's User-Mode Linux
(tests/kernel/uml-exec); on the host, run() obtains that kernel (built on first use) and boots it with
`python -m demo.router --inside`. The lab is tests/kernel/vlan_router_lab.py, the one the kernel-tier test uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TITLE = "A Linux box replaces the CloudStack Virtual Router of its VLANs: the vlan_router role (in User-Mode Linux)"

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "tests" / "kernel" / "build-uml-kernel"
UML_EXEC = ROOT / "tests" / "kernel" / "uml-exec"


def uml_kernel(say) -> str | None:
    """The kernel tier's UML kernel (its path is build-uml-kernel's last line); built here on first use."""
    say("the kernel: tests/kernel/build-uml-kernel finds it built, or builds it now, once (Debian's linux-source-6.1 "
        "for ARCH=um with 802.1Q and nf_tables: about 4 to 7 minutes on a 2-core machine) ...")
    start = time.monotonic()
    build = subprocess.Popen([str(BUILD)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    built = False
    for line in build.stderr:  # stdout carries only the kernel's path, printed last: no pipe can fill meanwhile
        line = line.rstrip()
        if ": building " in line:
            built = True
            say("not built yet: building it now.")
        elif line:
            say(line)
    path = build.stdout.read().strip().splitlines()
    if build.wait() != 0 or not path:
        say(f"tests/kernel/build-uml-kernel failed (exit {build.returncode}); the story cannot run without its kernel.")
        return None
    say(f"built in {time.monotonic() - start:.0f} s, kept in {Path(path[-1]).parent} for the next run." if built else f"already built: {path[-1]}")
    return path[-1]


def run(say) -> bool:
    say("this story needs 802.1Q VLANs: it runs in one boot of User-Mode Linux (the kernel tier's own kernel), "
        "with Ansible and the lab inside it, everything there about 12 times slower than here.")
    kernel = uml_kernel(say)
    if not kernel:
        return False
    env = dict(os.environ, L2_UML_KERNEL=kernel, L2_UML_MODULES_DIR=str(Path(kernel).parent / "modules"))
    start = time.monotonic()
    booted = subprocess.run([str(UML_EXEC), sys.executable, "-m", "demo.router", "--inside"], cwd=ROOT, env=env, check=False)
    say(f"(the UML boot took {time.monotonic() - start:.0f} s; its end removed whatever the lab left inside it.)")
    return booted.returncode == 0


# Inside the UML kernel from here on.


def pings(lab, host: str, address: str) -> bool:
    return lab.run(host, ["ping", "-c", "1", "-W", "2", address], check=False).returncode == 0


def router_links(lab) -> str:
    out = []
    for link in lab.ip_json("router", "addr", "show"):
        if link["ifname"].startswith("eth1."):
            addresses = " ".join(f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if not a["local"].startswith("fe80:"))
            out.append(f"{link['ifname']} {addresses}" + (f" (MTU {link['mtu']})" if link["mtu"] != 1500 else ""))
    return "; ".join(out) or "none"


def source_seen_by_internet(lab, seed, vm: str) -> str | None:
    """Send one UDP datagram from the VM to the internet host; return the source address it arrived from."""
    sink = lab.popen("internet", [sys.executable, "-c", seed.UDP_SINK], stdout=subprocess.PIPE, text=True)
    try:
        if sink.stdout.readline().strip() != "ready":
            return None
        lab.run(vm, ["bash", "-c", f"echo hello >/dev/udp/{seed.INTERNET}/5555"], check=False)
        return sink.stdout.readline().strip() or None
    finally:
        sink.kill()
        sink.wait()


def inside(say) -> bool:
    from tests.kernel import vlan_router_lab as seed
    from tests.lab import Lab
    from tests.support.ansible import run_playbook

    with Lab(seed.spec()) as lab, tempfile.TemporaryDirectory(prefix="layer2-demo-router-") as root:
        seed.bridge_vms(lab)
        say("lab: a router with an uplink (eth0, 198.51.100.2) to the internet (198.51.100.1) and a trunk (eth1) to two "
            "KVM-style compute nodes, which bridge their VMs onto 802.1Q VLANs: 1234 is public (vm1 203.0.113.11, "
            "vm2 203.0.113.12), 1235 is private behind NAT (vm3 10.1.35.11), 1236 is private and may open connections "
            "to 1234 (vm4 10.1.36.11). The internet treats 203.0.113.0/24 as on its own wire.")
        before = {"vm1 -> vm2": pings(lab, "vm1", "203.0.113.12"), "vm1 -> internet": pings(lab, "vm1", seed.INTERNET),
                  "internet -> vm1": pings(lab, "internet", "203.0.113.11")}
        say("before: vm1 " + ("reaches" if before["vm1 -> vm2"] else "cannot reach") + " vm2 (same VLAN, carried by the trunk), "
            "but " + ("reaches" if before["vm1 -> internet"] else "not") + " the internet, and the internet "
            + ("reaches" if before["internet -> vm1"] else "cannot reach") + " vm1: nothing routes between the VLANs and the uplink yet.")

        router_vars = seed.seed_vars(root)
        nft = seed.nft_ip_family(lab)
        router_vars["vlan_router_nftables_apply"] = nft
        say("applying playbooks/vlan_router.yml through the layer2.linux.netns connection: the role on the router "
            "(variables: tests/golden/vlan_router/vars.yml), then each VM's default route pointed at its VLAN's router address ...")
        start = time.monotonic()
        play = run_playbook(ROOT / "playbooks" / "vlan_router.yml", seed.inventory(lab, router_vars))
        if play.rc != 0:
            say("the playbook failed: " + (play.stdout + play.stderr)[-1500:])
            return False
        say(f"done in {time.monotonic() - start:.0f} s, {play.recap['router']['changed']} changes on the router. "
            f"It now has VLAN sub-interfaces on the trunk: {router_links(lab)}; IP forwarding on, proxy ARP on eth0 and "
            f"eth1.1234, routes to 203.0.113.64/28 on eth1.1234, and its boot-time files under {root}"
            + (", and the nftables tables for isolation and NAT loaded." if nft else
               ". (This kernel has no nf_tables ip family: the ruleset is written, not loaded.)"))

        checks = []

        def tell(ok: bool, expected: bool, text: str) -> None:
            checks.append(ok == expected)
            say(("yes: " if ok else "no:  ") + text + ("" if ok == expected else "  <- NOT AS EXPECTED"))

        say("after:")
        tell(pings(lab, "vm1", "203.0.113.12"), True, "vm1 reaches vm2, its neighbour on VLAN 1234 on the other compute node.")
        gateway = (lab.ip_json("vm1", "route", "show", "default") or [{}])[0].get("gateway")
        tell(pings(lab, "vm1", seed.INTERNET), True, f"vm1 reaches the internet, through its default gateway {gateway}, the router.")
        reached = pings(lab, "internet", "203.0.113.11")
        learned = (lab.neighbour("internet", "203.0.113.11") or {}).get("lladdr")
        tell(reached and learned == lab.mac("router", "eth0"), True,
             f"the internet reaches vm1's public 203.0.113.11: it asked by ARP on its wire, and the router answered with its own MAC "
             f"{lab.mac('router', 'eth0')} (proxy ARP), then forwarded to VLAN 1234 (the internet learned {learned}).")
        if nft:
            source = source_seen_by_internet(lab, seed, "vm3")
            tell(source == seed.ROUTER_UPLINK, True,
                 f"vm3 (private 10.1.35.11, VLAN 1235) reaches the internet: a datagram from it arrives from {source}, "
                 "the router's uplink address (NAT), since the internet has no route back to 10.1.35.0/24.")
            tell(pings(lab, "vm3", "203.0.113.11"), False, "vm3 (VLAN 1235) reaches vm1 (VLAN 1234): the tenants are isolated.")
            tell(pings(lab, "vm1", "10.1.35.11"), False, "vm1 (VLAN 1234) reaches vm3 (VLAN 1235): isolated both ways.")
            tell(pings(lab, "vm4", "203.0.113.11"), True, "vm4 (VLAN 1236) reaches vm1: 1236 is allowed to open connections to 1234 ...")
            tell(pings(lab, "vm1", "10.1.36.11"), False, "vm1 reaches vm4: ... and not the other way round.")
        else:
            say("isolation and NAT are not shown: this kernel cannot load them (tests/integration/test_vlan_router_firewall.py proves them).")
        return not before["vm1 -> internet"] and not before["internet -> vm1"] and all(checks)


if __name__ == "__main__":
    from demo.__main__ import say as print_say

    if "--inside" in sys.argv[1:]:
        sys.exit(0 if inside(print_say) else 1)
    sys.exit(0 if run(print_say) else 1)
