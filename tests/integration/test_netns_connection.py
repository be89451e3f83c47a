# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The netns connection: facts and changes stay inside the namespace the task runs in."""

from __future__ import annotations

import subprocess
import sys

from tests.support.ansible import run_module, run_playbook


def test_facts_show_only_the_namespace_interfaces(lan):
    play = [{"hosts": "a", "gather_facts": True, "tasks": [{"name": "facts", "ansible.builtin.debug": {"var": "ansible_facts.interfaces"}}]}]
    run = run_playbook(play, lan.inventory(python=sys.executable))
    assert run.rc == 0, run.stdout + run.stderr
    assert sorted(run.task("facts")["ansible_facts.interfaces"]) == ["eth0", "lo"]
    facts = run.results[0]["result"]["ansible_facts"]
    assert facts["ansible_eth0"]["macaddress"] == "02:00:5e:00:00:0a"
    assert facts["ansible_eth0"]["ipv4"]["address"] == "192.0.2.10"


def test_a_module_changes_only_its_namespace(lan):
    result = run_module(lan, "a", "ansible.builtin.command", {"argv": ["ip", "link", "add", "name", "dummy7", "type", "bridge"]})
    assert result["_status"] == "ok", result
    assert lan.ip_json("a", "link", "show", "dev", "dummy7")[0]["ifname"] == "dummy7"
    assert not any(link["ifname"] == "dummy7" for link in lan.ip_json("b", "link", "show"))
    host_links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=False).stdout
    assert "dummy7" not in host_links


def test_a_missing_namespace_is_unreachable_with_a_clear_message(lan):
    inventory = {"all": {"hosts": {"ghost": {"ansible_connection": "layer2.linux.netns", "ansible_netns_name": "l2lab-no-such-ns"}}}}
    run = run_playbook([{"hosts": "ghost", "gather_facts": False, "tasks": [{"name": "t", "ansible.builtin.ping": {}}]}], inventory)
    assert run.rc != 0
    assert "does not exist" in run.stdout + run.stderr
    assert not subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.count("l2lab-no-such-ns")
