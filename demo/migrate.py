# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Story: an address moves to another server and the gateway follows at once (migrate_address playbook)."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.lab import Lab
from tests.support.ansible import ROOT, run_playbook

TITLE = "An address moves to a new server and the gateway follows within milliseconds (migrate_address)"

ADDR = "192.0.2.100"
MACS = {"02:00:5e:20:00:01": "the gateway", "02:00:5e:20:00:0a": "the old server", "02:00:5e:20:00:14": "the new server"}
LAB = {
    "switches": ["lan"],
    "hosts": {
        "gateway": {"links": [{"switch": "lan", "mac": "02:00:5e:20:00:01", "addresses": ["192.0.2.1/24"]}]},
        "old": {"links": [{"switch": "lan", "mac": "02:00:5e:20:00:0a", "addresses": ["192.0.2.10/24", f"{ADDR}/24"]}]},
        "new": {"links": [{"switch": "lan", "mac": "02:00:5e:20:00:14", "addresses": ["192.0.2.20/24"]}]},
    },
}


def entry(lab) -> str:
    found = lab.neighbour("gateway", ADDR)
    if not found or "lladdr" not in found:
        return "no entry"
    return f"{found['lladdr']} ({MACS.get(found['lladdr'], 'unknown')}), state {', '.join(found.get('state', []))}"


def run(say) -> bool:
    with Lab(LAB) as lab:
        lab.run("gateway", ["ping", "-c1", "-W2", ADDR])
        say(f"The old server holds {ADDR}. The gateway's neighbour entry for it: {entry(lab)}.")
        say("The gateway now pings the address every 10 ms while the playbook moves it to the new server "
            "(make-before-break: claim and announce on the new server, then release on the old one and announce again).")
        ping = lab.popen("gateway", ["ping", "-n", "-i", "0.01", "-W", "1", ADDR], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        play = run_playbook(ROOT / "playbooks" / "migrate_address.yml", lab.inventory(python=sys.executable),
                            extra_vars={"migrate_address_to": "new", "migrate_address_from": "old",
                                        "migrate_address_address": f"{ADDR}/24", "migrate_address_gateway": "192.0.2.1"})
        ping.send_signal(signal.SIGINT)  # ping prints its summary on SIGINT
        summary = next((line for line in ping.communicate()[0].splitlines() if "packets transmitted" in line), "no ping summary")
        say(f"The playbook {'finished' if play.rc == 0 else 'FAILED'} with {play.changed} changed tasks.")
        say(f"Right after it, the gateway's entry: {entry(lab)}.")
        old_holds = any(a["local"] == ADDR for a in lab.ip_json("old", "addr", "show", "dev", "eth0")[0]["addr_info"])
        say(f"The old server {'still holds' if old_holds else 'no longer holds'} the address, so it cannot win it back. "
            f"The gateway's pings during the move and the checks: {summary}.")
        again = run_playbook(ROOT / "playbooks" / "migrate_address.yml", lab.inventory(python=sys.executable),
                             extra_vars={"migrate_address_to": "new", "migrate_address_from": "old",
                                         "migrate_address_address": f"{ADDR}/24", "migrate_address_gateway": "192.0.2.1"})
        say(f"Running the playbook a second time changes {again.changed} tasks: the address is already where it belongs.")
        found = lab.neighbour("gateway", ADDR) or {}
        return play.rc == 0 and again.rc == 0 and again.changed == 0 and found.get("lladdr") == "02:00:5e:20:00:14" and not old_holds
