# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""layer2.linux.vlan_interface in a kernel with 802.1Q.

Inside User-Mode Linux every Ansible start costs seconds, so the whole story is ONE playbook run (module scope): the
module's tasks interleaved with `ip -j` / `cat /proc/net/vlan` tasks that record the host's state at each step, then
one test per claim reads the recorded results.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.lab import Lab
from tests.support.ansible import run_playbook

M = "layer2.linux.vlan_interface"
SSH = {"SSH_CONNECTION": "10.12.34.99 50022 10.12.34.1 22"}  # as if Ansible reached `left` over eth0.1234
FIRST = {"parent": "eth0", "vlan_id": 1234, "addresses": ["10.12.34.1/24"], "mtu": 1400, "egress_qos_map": {0: 5}, "ingress_qos_map": {5: 5}}
CHANGED = {"parent": "eth0", "vlan_id": 1234, "addresses": ["10.12.34.1/24", "2001:db8:1234::1/64"], "purge_addresses": True, "mtu": 1300,
           "egress_qos_map": {1: 3}, "ingress_qos_map": {}, "gvrp": True, "reorder_hdr": False, "loose_binding": True}
QINQ = {"vlans": [{"parent": "eth0", "vlan_id": 100, "protocol": "802.1ad", "name": "svc100"},
                  {"parent": "svc100", "vlan_id": 10, "name": "svc100.10", "addresses": ["10.100.10.1/24"]}]}
ABSENT = {"state": "absent", "vlans": [{"name": "eth0.1234"}, {"name": "svc100.10"}, {"name": "svc100"}]}
BAD = {
    "vid 0": ({"parent": "eth0", "vlan_id": 0}, "VLAN id 0 is out of range 1-4094"),
    "vid 4095": ({"parent": "eth0", "vlan_id": 4095}, "VLAN id 4095 is out of range 1-4094"),
    "vid not a number": ({"parent": "eth0", "vlan_id": "abc"}, "vlan_id"),
    "name too long": ({"parent": "eth0", "vlan_id": 5, "name": "averyveryverylongname"}, "is 21 characters; Linux allows at most 15"),
    "parent missing": ({"parent": "eth9", "vlan_id": 5}, "parent interface eth9 of eth9.5 does not exist"),
    "name held by a non-VLAN": ({"parent": "eth0", "vlan_id": 5, "name": "eth0"}, "eth0 exists but is a veth interface, not a VLAN"),
    "name held by another vid": ({"parent": "eth0", "vlan_id": 1235, "name": "eth0.1234"},
                                 "eth0.1234 already exists as 802.1Q VLAN 1234 on eth0, not 802.1Q VLAN 1235 on eth0; set replace=true"),
    "MTU above the parent's": ({"parent": "eth0", "vlan_id": 8, "mtu": 9000}, "MTU 9000 of eth0.8 exceeds the MTU 1500 of its parent eth0"),
    "bad CIDR": ({"parent": "eth0", "vlan_id": 6, "addresses": ["10.6.0.300/24"]}, "'10.6.0.300/24' is not an IPv4 or IPv6 address"),
    "one bad in a list": ({"parent": "eth0", "vlans": [{"vlan_id": 7}, {"vlan_id": 4095}]}, "vlans[1]: VLAN id 4095 is out of range"),
}
GUARDED = {
    "remove the management VLAN": ({"name": "eth0.1234", "state": "absent"}, "refusing to remove VLAN interface eth0.1234"),
    "down the management VLAN": (dict(CHANGED, enabled=False), "refusing to take eth0.1234 down"),
    "purge the management address": (dict(CHANGED, addresses=["10.12.34.2/24"]), "refusing to remove an address from eth0.1234"),
}
DOWN_TRUNK = {"parent": "eth0", "vlan_id": 77, "addresses": ["10.77.0.1/24"]}
# 25 VLANs, VLAN 40 already held on the trunk by an interface named voice: the kernel refuses eth0.40 (EEXIST) halfway.
TWENTY_FIVE = [{"vlan_id": vid, "addresses": [f"10.40.{vid}.1/24"]} for vid in range(30, 55)]
FIXED = [dict(vlan, name="voice") if vlan["vlan_id"] == 40 else vlan for vlan in TWENTY_FIVE]
MANY = [{"vlan_id": vid, "addresses": [f"10.{vid // 256}.{vid % 256}.1/24"]} for vid in range(2000, 2500)]
ISOLATION = {
    "left": [{"vlan_id": 1234, "addresses": ["10.12.34.1/24"]}, {"vlan_id": 1235, "addresses": ["10.12.35.1/24"]}],
    "right": [{"vlan_id": 1234, "addresses": ["10.12.34.2/24"]}, {"vlan_id": 1236, "addresses": ["10.12.35.2/24"]}],
}


def sh(name, script):
    return {"name": name, "ansible.builtin.command": {"argv": ["sh", "-c", script]}, "changed_when": False}


def task(name, params, check=False, env=None, failing=False):
    t = {"name": name, M: params}
    if check:
        t["check_mode"] = True
    if env:
        t["environment"] = env
    if failing:
        t["ignore_errors"] = True
    return t


SNAPSHOT = "ip -j -d link show; ip -j addr show"


def plays():
    life = [
        task("create (check)", FIRST, check=True), sh("links after check", "ip -j link show"),
        task("create", FIRST), task("create again", FIRST), task("create again (check)", FIRST, check=True),
        sh("proc after create", "cat /proc/net/vlan/eth0.1234"), sh("link after create", "ip -j -d link show dev eth0.1234"),
        sh("stray address", "ip addr add 10.99.0.1/24 dev eth0.1234"),
        task("change (check)", CHANGED, check=True), task("change", CHANGED), task("change again", CHANGED),
        sh("link after change", "ip -j -d link show dev eth0.1234"), sh("addr after change", "ip -j addr show dev eth0.1234"),
        sh("proc after change", "cat /proc/net/vlan/eth0.1234"),
        task("qinq", QINQ), task("qinq again", QINQ), sh("qinq links", "ip -j -d link show"),
        sh("snapshot before bad input", SNAPSHOT),
    ]
    life += [task(f"bad: {name}", params, failing=True) for name, (params, _msg) in BAD.items()]
    life += [task(f"guard: {name}", params, env=SSH, failing=True) for name, (params, _msg) in GUARDED.items()]
    life += [task(f"guard (check): {name}", params, env=SSH, check=True, failing=True) for name, (params, _msg) in GUARDED.items()]
    life += [
        sh("snapshot after bad input", SNAPSHOT),
        task("forced down", dict(CHANGED, enabled=False, force=True), env=SSH), sh("link after forced down", "ip -j link show dev eth0.1234"),
        task("replace", {"parent": "eth0", "vlan_id": 1235, "name": "eth0.1234", "replace": True}),
        sh("link after replace", "ip -j -d link show dev eth0.1234"),
        task("absent (check)", ABSENT, check=True), sh("links after absent check", "ip -j link show"),
        task("absent", ABSENT), task("absent again", ABSENT), sh("links after absent", "ip -j link show"),
        # A trunk that is administratively down (after a reboot, a cable just plugged): the VLAN cannot come up on it.
        sh("trunk down", "ip link set eth0 down"),
        task("on a down trunk (check)", DOWN_TRUNK, check=True), sh("trunk after check", "ip -j link show dev eth0"),
        task("on a down trunk", DOWN_TRUNK), task("on a down trunk again", DOWN_TRUNK), sh("links after the trunk came up", "ip -j link show"),
        sh("VLAN 40 held by another name", "ip link add link eth0 name voice type vlan id 40"),
        task("25, one refused", {"parent": "eth0", "vlans": TWENTY_FIVE}, failing=True), sh("addresses after one refused", "ip -j addr show"),
        task("25, fixed", {"parent": "eth0", "vlans": FIXED}), task("25, fixed again", {"parent": "eth0", "vlans": FIXED}),
        task("25 and the trunk's VLAN 77 absent", {"state": "absent", "vlans": [{"name": "eth0.77"}] + [{"name": f"eth0.{v['vlan_id']}"} for v in FIXED]}),
    ]
    isolation = [
        task("tagged", {"parent": "eth0", "vlans": "{{ isolation[inventory_hostname] }}"}),
        {"name": "same vid", "ansible.builtin.command": "ping -c 1 -W 2 10.12.34.2", "when": "inventory_hostname == 'left'", "ignore_errors": True},
        {"name": "other vid", "ansible.builtin.command": "ping -c 1 -W 2 10.12.35.2", "when": "inventory_hostname == 'left'", "ignore_errors": True},
        task("counters", {"parent": "eth0", "vlans": "{{ isolation[inventory_hostname] }}"}),
    ]
    many = [
        task("500 (check)", {"parent": "eth0", "vlans": MANY}, check=True), task("500", {"parent": "eth0", "vlans": MANY}),
        task("500 again", {"parent": "eth0", "vlans": MANY}), sh("500 count", "ls /proc/net/vlan | grep -c '^eth0\\.2'"),
        sh("500 address", "ip -j addr show dev eth0.2499"),
        task("500 absent", {"parent": "eth0", "state": "absent", "vlans": MANY}), sh("500 count after", "ls /proc/net/vlan | grep -c '^eth0\\.2' || true"),
    ]
    return [
        {"name": "life", "hosts": "left", "gather_facts": False, "tasks": life},
        {"name": "isolation", "hosts": "left:right", "gather_facts": False, "vars": {"isolation": ISOLATION}, "tasks": isolation},
        {"name": "many", "hosts": "right", "gather_facts": False, "tasks": many},
    ]


@pytest.fixture(scope="module")
def story():
    if os.geteuid() != 0:
        pytest.skip("namespace labs need root")
    with Lab({"hosts": {"left": {"links": [{"peer": "right:eth0"}]}, "right": {"links": [{"peer": "left:eth0"}]}}}) as lab:
        run = run_playbook(plays(), lab.inventory(python=sys.executable), diff=True, timeout=1500)
        yield run


def failed(story, name, host="left"):
    """A task's recorded status (ignore_errors keeps the play going, the record still says failed)."""
    return story.status(name, host) in ("failed", "ignored")


def out(story, name, host="left"):
    return story.task(name, host)["stdout"]


def js(story, name, host="left"):
    return json.loads(out(story, name, host))


def test_create_check_real_idempotent(story):
    check, real, again, check_again = (story.task(n) for n in ("create (check)", "create", "create again", "create again (check)"))
    assert [r["changed"] for r in (check, real, again, check_again)] == [True, True, False, False], story.stdout[-3000:]
    assert "eth0.1234" not in [link["ifname"] for link in js(story, "links after check")]
    assert check["diff"]["before"] == {"eth0.1234": None} and check["diff"]["after"]["eth0.1234"]["mtu"] == 1400
    link = js(story, "link after create")[0]
    assert link["mtu"] == 1400 and "UP" in link["flags"]
    info = link["linkinfo"]["info_data"]
    assert info["protocol"] == "802.1Q" and info["id"] == 1234
    assert info["egress_qos"] == [{"from": 0, "to": 5}] and {"from": 5, "to": 5} in info["ingress_qos"]
    proc = out(story, "proc after create")
    assert "VID: 1234" in proc and "REORDER_HDR: 1" in proc and "EGRESS priority mappings: 0:5" in proc
    facts = real["interfaces"][0]
    assert facts["name"] == "eth0.1234" and facts["vlan_id"] == 1234 and facts["parent"] == "eth0" and facts["protocol"] == "802.1Q"
    assert [a for a in facts["addresses"] if not a.startswith("fe80:")] == ["10.12.34.1/24"]
    assert facts["mac"] == link["address"] and facts["egress_qos_map"] == {"0": 5}
    assert facts["flags"] == {"reorder_hdr": True, "gvrp": False, "loose_binding": False, "mvrp": False}
    assert {"operstate", "rx_packets", "tx_packets", "rx_bytes", "tx_bytes"} <= set(facts)


def test_an_existing_vlan_is_corrected_field_by_field(story):
    check, real, again = (story.task(n) for n in ("change (check)", "change", "change again"))
    assert [check["changed"], real["changed"], again["changed"]] == [True, True, False]
    assert real["modified"] == ["eth0.1234"] and real["created"] == []
    link = js(story, "link after change")[0]
    info = link["linkinfo"]["info_data"]
    assert link["mtu"] == 1300 and info["id"] == 1234
    assert set(info["flags"]) == {"GVRP", "LOOSE_BINDING"}, info["flags"]
    assert info.get("egress_qos") == [{"from": 1, "to": 3}] and all(m["to"] == 0 for m in info.get("ingress_qos", []))
    cidrs = sorted(f"{a['local']}/{a['prefixlen']}" for a in js(story, "addr after change")[0]["addr_info"] if a["scope"] == "global")
    assert cidrs == ["10.12.34.1/24", "2001:db8:1234::1/64"], "purge_addresses should remove the stray 10.99.0.1/24"
    assert "REORDER_HDR: 0" in out(story, "proc after change")
    assert check["diff"]["after"] == real["diff"]["after"]


def test_802_1ad_service_vlan_carries_an_802_1q_vlan(story):
    assert story.task("qinq")["changed"] and not story.task("qinq again")["changed"]
    links = {link["ifname"]: link for link in js(story, "qinq links")}
    assert links["svc100"]["linkinfo"]["info_data"]["protocol"] == "802.1ad" and links["svc100"]["linkinfo"]["info_data"]["id"] == 100
    assert links["svc100.10"]["link"] == "svc100" and links["svc100.10"]["linkinfo"]["info_data"]["protocol"] == "802.1Q"


def test_bad_input_is_refused_with_a_clear_message_and_the_host_unchanged(story):
    for name, (_params, message) in BAD.items():
        result = story.task(f"bad: {name}")
        assert failed(story, f"bad: {name}") and message in result["msg"], (name, result.get("msg"))
    for name, (_params, message) in GUARDED.items():
        for prefix in ("guard", "guard (check)"):
            result = story.task(f"{prefix}: {name}")
            assert failed(story, f"{prefix}: {name}") and message in result["msg"] and "force=true" in result["msg"], (name, result.get("msg"))
    assert out(story, "snapshot before bad input") == out(story, "snapshot after bad input")


def test_force_replace_and_absent(story):
    assert story.task("forced down")["changed"] and "UP" not in js(story, "link after forced down")[0]["flags"]
    replaced = story.task("replace")
    assert replaced["changed"] and replaced["created"] == ["eth0.1234"]
    assert js(story, "link after replace")[0]["linkinfo"]["info_data"]["id"] == 1235
    check, real, again = (story.task(n) for n in ("absent (check)", "absent", "absent again"))
    assert [check["changed"], real["changed"], again["changed"]] == [True, True, False]
    assert {"eth0.1234", "svc100", "svc100.10"} <= {link["ifname"] for link in js(story, "links after absent check")}
    assert sorted(link["ifname"] for link in js(story, "links after absent")) == ["eth0", "lo"]
    assert sorted(real["deleted"]) == ["eth0.1234", "svc100", "svc100.10"]
    assert [i["state"] for i in again["interfaces"]] == ["absent"] * 3


def test_a_trunk_that_is_down_is_brought_up_for_its_vlans(story):
    check, real, again = (story.task(n) for n in ("on a down trunk (check)", "on a down trunk", "on a down trunk again"))
    assert [check["changed"], real["changed"], again["changed"]] == [True, True, False], real.get("msg")
    assert check["parents_up"] == ["eth0"] and "UP" not in js(story, "trunk after check")[0]["flags"]
    assert real["parents_up"] == ["eth0"] and again["parents_up"] == []
    assert real["diff"]["before"]["eth0"] == {"name": "eth0", "enabled": False} and real["diff"]["after"]["eth0"] == {"name": "eth0", "enabled": True}
    links = {link["ifname"]: link for link in js(story, "links after the trunk came up")}
    assert "UP" in links["eth0"]["flags"] and "UP" in links["eth0.77"]["flags"]


def test_a_vlan_the_kernel_refuses_halfway_fails_the_task_naming_it_and_the_others_are_done(story):
    refused = story.task("25, one refused")
    assert failed(story, "25, one refused") and "creating eth0.40" in refused["msg"] and "EEXIST" in refused["msg"], refused["msg"]
    assert "eth0.39" not in refused["msg"] and "eth0.41" not in refused["msg"]
    held = {a["ifname"]: [f"{i['local']}/{i['prefixlen']}" for i in a["addr_info"] if i["family"] == "inet"] for a in js(story, "addresses after one refused")}
    assert "eth0.40" not in held and held["voice"] == []
    assert all(held[f"eth0.{vid}"] == [f"10.40.{vid}.1/24"] for vid in range(30, 55) if vid != 40)
    fixed, again = story.task("25, fixed"), story.task("25, fixed again")
    assert fixed["changed"] and fixed["modified"] == ["voice"] and fixed["created"] == [] and not again["changed"]


def test_same_vid_pings_other_vid_does_not(story):
    assert story.task("tagged", "left")["changed"] and story.task("tagged", "right")["changed"]
    assert story.task("same vid", "left")["rc"] == 0
    assert story.task("other vid", "left")["rc"] != 0
    counters = {i["name"]: i for i in story.task("counters", "left")["interfaces"]}
    assert counters["eth0.1234"]["tx_packets"] > 0 and counters["eth0.1234"]["rx_packets"] > 0
    assert counters["eth0.1235"]["rx_packets"] == 0


def test_500_vlans_in_one_task(story):
    check, real, again = (story.task(n, "right") for n in ("500 (check)", "500", "500 again"))
    assert [check["changed"], real["changed"], again["changed"]] == [True, True, False]
    assert len(real["created"]) == 500 and len(real["interfaces"]) == 500
    assert out(story, "500 count", "right").strip() == "500"
    assert [f"{a['local']}/{a['prefixlen']}" for a in js(story, "500 address", "right")[0]["addr_info"] if a["family"] == "inet"] == ["10.9.195.1/24"]
    gone = story.task("500 absent", "right")
    assert gone["changed"] and len(gone["deleted"]) == 500
    assert out(story, "500 count after", "right").strip() == "0"
