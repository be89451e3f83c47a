# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Story: a host becomes the router of a segment with ip_address and ip_forwarding (proxy ARP on a dotted name)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.lab import Lab
from tests.support.ansible import run_playbook

TITLE = "A lab host becomes a segment's router: ip_address, then ip_forwarding with proxy ARP (persisted)"

LAB = {
    "switches": ["lan", "segment"],
    "hosts": {
        # eth1.1234 is a veth with a VLAN-style name: this machine's kernel has no 802.1Q, so the real VLAN story
        # (vlan_interface) runs only in the User-Mode Linux kernel tier; /proc/sys treats the dotted name the same.
        "router": {"links": [{"switch": "lan", "addresses": ["10.0.1.1/24"]}, {"switch": "segment", "ifname": "eth1.1234"}]},
        "laptop": {"links": [{"switch": "segment", "addresses": ["10.0.2.10/16"]}]},
        "server": {"links": [{"switch": "lan", "addresses": ["10.0.1.20/24"]}], "routes": ["default via 10.0.1.1"]},
    },
}


def tasks(conf: str) -> list[dict]:
    address = {"layer2.linux.ip_address": {"interface": "eth1.1234", "addresses": ["10.0.2.1/24"]}}
    forwarding = {"layer2.linux.ip_forwarding": {"ipv4_forwarding": True, "interfaces": [{"name": "eth1.1234", "proxy_arp": True}],
                                                 "persist": True, "persist_path": conf}}
    return [{"name": "address", **address}, {"name": "forwarding", **forwarding},
            {"name": "address again", **address}, {"name": "forwarding again", **forwarding}]


def reaches(lab) -> bool:
    return lab.run("laptop", ["ping", "-c", "1", "-W", "2", "10.0.1.20"], check=False).returncode == 0


def run(say) -> bool:
    with Lab(LAB) as lab, tempfile.TemporaryDirectory(prefix="layer2-demo-") as tmp:
        conf = str(Path(tmp) / "90-layer2-linux.conf")
        say("lab: a router between the office LAN (10.0.1.0/24, with a server) and a segment on its interface eth1.1234, "
            "where a laptop is set up with a flat 10.0.2.10/16, so it asks by ARP for the server's address directly.")
        before = reaches(lab)
        say(f"before: the laptop {'reaches' if before else 'cannot reach'} the server (the router has no address on the segment and does not forward).")
        play = run_playbook([{"hosts": "router", "gather_facts": False, "tasks": tasks(conf)}], lab.inventory(python=sys.executable))
        if play.rc != 0:
            say("the play failed: " + play.stdout[-1500:])
            return False
        address, forwarding = play.task("address"), play.task("forwarding")

        def routable(cidrs):
            return [a for a in cidrs if not a.startswith("fe80:")] or "no routable address"

        say(f"ip_address: eth1.1234 had {routable(address['before'])}, now {routable(address['after'])} "
            f"(changed={address['changed']}).")
        flips = {k: f"{v} -> {forwarding['after'][k]}" for k, v in forwarding["before"].items()}
        say(f"ip_forwarding: {flips}, written in that order (forwarding first); the boot-time file {Path(conf).name} now reads:")
        for line in Path(conf).read_text().splitlines():
            say(f"    {line}")
        again = [play.task("address again")["changed"], play.task("forwarding again")["changed"]]
        say(f"running both tasks again reports changed={again}: nothing left to do.")
        after = reaches(lab)
        arp = lab.neighbour("laptop", "10.0.1.20") or {}
        say(f"after: the laptop {'reaches' if after else 'still cannot reach'} the server; it learned 10.0.1.20 at "
            f"{arp.get('lladdr')} (the router's MAC {lab.mac('router', 'eth1.1234')}): proxy ARP answered for the server.")
        return not before and after and again == [False, False] and arp.get("lladdr") == lab.mac("router", "eth1.1234")
