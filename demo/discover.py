# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Story: the seed's `arp-scan --localnet | grep b8:27:eb` as one module call, then the Pis as an Ansible inventory."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.lab import Lab
from tests.support.ansible import ROOT, ansible_env, run_module

TITLE = "Find every Raspberry Pi on a LAN with pi_discover, then use them as an inventory (arp_scan)"

PIS = {"pi-kitchen": ("b8:27:eb:3a:11:01", "192.168.7.21"), "pi-garage": ("dc:a6:32:3a:11:02", "192.168.7.35"),
       "pi-cam": ("2c:cf:67:3a:11:03", "192.168.7.48")}
OTHERS = {"laptop": ("3c:22:fb:3a:11:04", "192.168.7.60"), "nas": ("00:11:32:3a:11:05", "192.168.7.70")}
LATE_PI = ("192.168.7.99", "d8:3a:dd:3a:11:06")  # a Pi 5 busy enough to answer ARP 200 ms late


def _host(mac, ip):
    return {"links": [{"switch": "lan", "mac": mac, "addresses": [f"{ip}/24"]}]}


LAB = {"switches": ["lan"],
       "hosts": dict({"laptop-ansible": _host("02:00:5e:3a:11:00", "192.168.7.2")}, **{n: _host(*v) for n, v in {**PIS, **OTHERS}.items()})}


def run(say) -> bool:
    with Lab(LAB) as lab:
        say(f"lab: one LAN with {len(PIS) + 1} Raspberry Pis (one answers 200 ms late), a laptop and a NAS; we scan from 'laptop-ansible'")
        late = lab.popen("nas", [sys.executable, "-m", "tests.lab.responders", "--delay", "0.2", f"{LATE_PI[0]}={LATE_PI[1]}"],
                         stdout=subprocess.PIPE, text=True, cwd=ROOT)
        late.stdout.readline()
        result = run_module(lab, "laptop-ansible", "layer2.linux.pi_discover", {"interface": "eth0"})
        say(f"layer2.linux.pi_discover interface=eth0: asked {result['counts']['addresses_asked']} addresses in {result['duration']} s, "
            f"{result['counts']['responders']} answered, {result['counts']['raspberry_pis']} are Raspberry Pis:")
        for pi in result["raspberry_pis"]:
            say(f"  {pi['ip']:15} {pi['mac']}  {pi['vendor']}  ({pi['rtt_ms']} ms)")
        expected = {ip for _mac, ip in PIS.values()} | {LATE_PI[0]}
        found = {pi["ip"] for pi in result["raspberry_pis"]}

        with tempfile.TemporaryDirectory(prefix="layer2-demo-") as tmp:
            source = Path(tmp) / "pis.arp_scan.yml"
            source.write_text("plugin: layer2.linux.arp_scan\ninterface: eth0\ncompose:\n  ansible_user: \"'pi'\"\n")
            say("the same scan as an inventory source, pis.arp_scan.yml: plugin: layer2.linux.arp_scan, interface: eth0, ansible_user pi")
            inventory = lab.run("laptop-ansible", [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), "--graph"],
                                env=ansible_env()).stdout
            listed = json.loads(lab.run("laptop-ansible", [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), "--list"],
                                        env=ansible_env()).stdout)
        for line in inventory.splitlines():
            say(line)
        grouped = set(listed.get("raspberry_pi", {}).get("hosts", []))
        say(f"every Pi found: {found == expected}; nothing else called a Pi: {found <= expected}; inventory group raspberry_pi matches: {grouped == expected}")
        return found == expected and grouped == expected
