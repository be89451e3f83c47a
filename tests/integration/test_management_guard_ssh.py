# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Never cut the branch you sit on, over a real SSH session: a controller namespace manages a node namespace
through sshd, and ip_address refuses to remove the address the session arrived on, while removing another."""

from __future__ import annotations

import shutil

import pytest

from tests.support import ssh_node
from tests.support.ansible import run_playbook

NODE, OTHER = "192.0.2.10", "192.0.2.11"


@pytest.fixture
def managed(make_lab):
    if ssh_node.missing():
        pytest.fail(ssh_node.missing())
    directory = ssh_node.short_directory()  # the control socket's path must stay under 108 bytes
    lab = make_lab({"switches": ["lan"], "hosts": {
        "controller": {"links": [{"switch": "lan", "addresses": ["192.0.2.1/24"]}]},
        "node": {"links": [{"switch": "lan", "addresses": [f"{NODE}/24", f"{OTHER}/24"]}]},
    }})
    sshd = ssh_node.start(lab.netns("node"), ssh_node.prepare(directory, NODE), NODE)
    yield lab, {"all": {"hosts": {"node": ssh_node.inventory_vars(directory, NODE)}}}
    ssh_node.close_master(directory, NODE)
    sshd.terminate()
    sshd.wait()
    shutil.rmtree(directory)


def addresses(lab) -> list[str]:
    return [a["local"] for link in lab.ip_json("node", "addr", "show", "dev", "eth0") for a in link["addr_info"] if a["family"] == "inet"]


def remove(address: str) -> list[dict]:
    return [{"hosts": "node", "gather_facts": False, "tasks": [
        {"name": "session", "ansible.builtin.command": "printenv SSH_CONNECTION", "changed_when": False},
        {"name": "remove", "layer2.linux.ip_address": {"interface": "eth0", "addresses": [f"{address}/24"], "state": "absent"},
         "ignore_errors": True},
    ]}]


def test_the_address_carrying_the_session_is_refused_and_another_is_removed(managed):
    lab, inventory = managed
    refused = run_playbook(remove(NODE), inventory, prefix=["ip", "netns", "exec", lab.netns("controller")])
    assert refused.task("session", "node")["stdout"].split()[2] == NODE, "the task did not arrive over SSH on the node's address"
    result = refused.task("remove", "node")
    assert refused.status("remove") == "ignored" and "carries the current management connection (SSH_CONNECTION)" in result["msg"], result
    assert NODE in addresses(lab) and OTHER in addresses(lab), "the refused task changed the node"

    removed = run_playbook(remove(OTHER), inventory, prefix=["ip", "netns", "exec", lab.netns("controller")])
    assert removed.status("remove") == "ok" and removed.task("remove", "node")["changed"], removed.task("remove", "node")
    assert addresses(lab) == [NODE]
