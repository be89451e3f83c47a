# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Story: every lab host answers Ansible through the netns connection."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.lab import Lab
from tests.support.ansible import run_playbook

TITLE = "Every lab host answers Ansible through the layer2.linux.netns connection"

LAB = {
    "switches": ["lan"],
    "hosts": {
        "gateway": {"links": [{"switch": "lan", "mac": "02:00:5e:10:00:01", "addresses": ["192.0.2.1/24"]}]},
        "server": {"links": [{"switch": "lan", "mac": "02:00:5e:10:00:02", "addresses": ["192.0.2.10/24"]}]},
        "pi": {"links": [{"switch": "lan", "mac": "b8:27:eb:10:00:03", "addresses": ["192.0.2.20/24"]}]},
    },
}


def run(say) -> bool:
    with Lab(LAB) as lab:
        say(f"lab: a switch and {len(lab.hosts)} hosts, each a network namespace ({lab.prefix}*)")
        play = run_playbook(Path(__file__).with_name("hello.yml"), lab.inventory(python=sys.executable))
        for r in play.results:
            if r["task"] == "Tell what this host sees":
                say(r["result"]["msg"].strip())
        return play.rc == 0
