# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A redundant vlan_router pair's notify script: what a router does when keepalived makes it master, backup or faulty.

keepalived moves the gateway addresses and announces them itself. What it cannot do is left here:
- proxy ARP (on the uplink, and on the VLANs that ask) is the master's alone: on as master, off otherwise;
- the upstream router still has the dead master's MAC for every address the pair proxies (the VMs' public addresses):
  the new master announces each of them on the uplink with gratuitous ARP, the same frames as the gratuitous_arp
  module's, from its own MAC (arping refuses to announce an address the host does not hold);
- conntrackd: the new master commits the connections its peer synced into the kernel, as Debian's primary-backup.sh.

Runs as `vlan-router-notify DATA_FILE GROUP|INSTANCE NAME STATE PRIORITY` with the standard library and the
collection's module_utils only (no Ansible on the router at that moment). The data file is the role's plan.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import syslog
import time

from ansible_collections.layer2.linux.plugins.module_utils._arp_announce import send_burst
from ansible_collections.layer2.linux.plugins.module_utils._arp_frame import gratuitous_reply, gratuitous_request
from ansible_collections.layer2.linux.plugins.module_utils._arp_host import local_links
from ansible_collections.layer2.linux.plugins.module_utils._sysctl import write_value

# Debian's primary-backup.sh: commit the synced connections, flush both caches, resync with the kernel, send a bulk update.
CONNTRACKD_MASTER = ("-c", "-f", "-R", "-B")
# As backup: shorten the kernel's timers (the master's connections there go stale), ask the master for a resync.
CONNTRACKD_BACKUP = ("-t", "-n")
CONNTRACKD_FAULT = ("-t",)


def actions(data: dict, state: str) -> list[tuple]:
    """What to do on entering `state`, in order, as plain data (unit-tested): ("proxy_arp", name, 0|1),
    ("conntrackd", argv), ("announce", interface, addresses, rounds, interval) and ("wait", seconds)."""
    master = state == "MASTER"
    out = [("proxy_arp", name, int(master)) for name in data["proxy_arp"]]
    steps = CONNTRACKD_MASTER if master else CONNTRACKD_BACKUP if state == "BACKUP" else CONNTRACKD_FAULT
    conntrackd = [("conntrackd", list(data["conntrackd"]) + [step]) for step in steps] if data.get("conntrackd") else []
    announce = data["announce"]
    if not (master and announce["addresses"]):
        return out + conntrackd
    # One round of the announcement at once (the upstream's traffic to the VMs' addresses turns here), conntrackd's
    # commit right after it (keepalived already announced the shared NAT address; a reply that comes before the commit
    # is dropped by the NAT table and sent again), then the other rounds.
    first = ("announce", announce["interface"], announce["addresses"], 1, 0)
    more = [("wait", announce["interval"]), ("announce", announce["interface"], announce["addresses"], announce["rounds"] - 1, announce["interval"])]
    return out + [first] + conntrackd + (more if announce["rounds"] > 1 else [])


def _announce(interface: str, addresses: list[str], rounds: int, interval: float) -> int:
    """Gratuitous request and reply for each address from the interface's own MAC: the upstream's entry for each moves here."""
    mac = local_links()[interface]["mac"]
    frames = [frame for address in addresses for frame in (gratuitous_request(mac, address), gratuitous_reply(mac, address))]
    return len(send_burst(interface, frames, rounds, interval))


def run(data: dict, state: str) -> list[str]:
    """Carry the actions out; each failure is logged and the others still run. Returns the failures in words."""
    failures = []
    for action in actions(data, state):
        try:
            if action[0] == "proxy_arp":
                write_value(("net", "ipv4", "conf", action[1], "proxy_arp"), action[2])
            elif action[0] == "conntrackd":
                done = subprocess.run(action[1], capture_output=True, text=True, timeout=30, check=False)
                if done.returncode != 0:
                    failures.append(f"{' '.join(action[1])} exited {done.returncode}: {done.stderr.strip()}")
            elif action[0] == "wait":
                time.sleep(action[1])
            else:
                _announce(*action[1:])
        except (OSError, KeyError, subprocess.SubprocessError) as exc:
            failures.append(f"{action[0]} {action[1]}: {exc}")
    return failures


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        sys.stderr.write("usage: vlan-router-notify DATA_FILE GROUP|INSTANCE NAME STATE [PRIORITY]\n")
        return 2
    state = argv[3]
    syslog.openlog("vlan-router-notify")
    syslog.syslog(syslog.LOG_NOTICE, f"{argv[1].lower()} {argv[2]} is {state}")
    with open(argv[0], encoding="utf-8") as handle:
        # keepalived starts a script per change without waiting: the lock keeps a slow BACKUP run from undoing the
        # MASTER run that follows it (turning proxy ARP off after it was turned on).
        fcntl.flock(handle, fcntl.LOCK_EX)
        failures = run(json.load(handle), state)
    for failure in failures:
        syslog.syslog(syslog.LOG_ERR, failure)
        sys.stderr.write(failure + "\n")
    return 1 if failures else 0
