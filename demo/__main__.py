# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: build a namespace lab, run the collection's stories against it, say what happened, tear down."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.lab import Lab
from tests.support.ansible import run_playbook

HERE = Path(__file__).resolve().parent

LAB = {
    "switches": ["lan"],
    "hosts": {
        "gateway": {"links": [{"switch": "lan", "mac": "02:00:5e:10:00:01", "addresses": ["192.0.2.1/24"]}]},
        "server": {"links": [{"switch": "lan", "mac": "02:00:5e:10:00:02", "addresses": ["192.0.2.10/24"]}]},
        "pi": {"links": [{"switch": "lan", "mac": "b8:27:eb:10:00:03", "addresses": ["192.0.2.20/24"]}]},
    },
}


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def story_hello(lab: Lab) -> bool:
    say("Every lab host answers Ansible through the layer2.linux.netns connection")
    run = run_playbook(HERE / "hello.yml", lab.inventory(python=sys.executable))
    for r in run.results:
        if r["task"] == "Tell what this host sees":
            print("  " + r["result"]["msg"].strip())
    return run.rc == 0


STORIES = [story_hello]


def main() -> int:
    say("Building the lab: a switch and three hosts, each a network namespace")
    with Lab(LAB) as lab:
        for host in lab.hosts:
            print(f"  {host:8} namespace {lab.netns(host)}")
        ok = all([story(lab) for story in STORIES])
    say("Lab torn down: no namespace of it is left")
    print("\nDemo " + ("finished: every story worked." if ok else "FAILED: see above."))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
