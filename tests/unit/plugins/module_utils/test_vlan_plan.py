# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vlan_interface logic without a kernel: parameters and planning against links given as data, and a kernel that refuses."""

from __future__ import annotations

import errno
import ipaddress

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _vlan
from ansible_collections.layer2.linux.plugins.module_utils._vlan import OPTIONS, PartlyApplied, VlanError, desired_vlans, link_changes, plan

DEFAULTS = dict(dict.fromkeys(OPTIONS), protocol="802.1Q", purge_addresses=False, enabled=True, state="present", replace=False, force=False)


def params(**kw):
    return {**DEFAULTS, "vlans": None, **kw}


def link(index, name, kind=None, parent=None, vid=None, **kw):
    base = {"index": index, "name": name, "kind": kind, "link": parent, "up": True, "mtu": 1500, "mac": "02:00:00:00:00:01", "operstate": "UP",
            "group": 0, "stats": {}, "vlan_id": vid, "protocol": "802.1Q", "vlan_flags": 1, "ingress_qos_map": {}, "egress_qos_map": {}}
    return dict(base, **kw)


LINKS = {"lo": link(1, "lo"), "eth1": link(2, "eth1", kind="veth"), "eth1.10": link(3, "eth1.10", kind="vlan", parent=2, vid=10)}


def test_list_form_takes_top_level_defaults_and_names_vlans():
    specs = desired_vlans(params(parent="eth1", mtu=1496, vlans=[{"vlan_id": 10}, {"vlan_id": "20", "mtu": 1400, "name": "voice"}]))
    assert [(s["name"], s["vlan_id"], s["mtu"]) for s in specs] == [("eth1.10", 10, 1496), ("voice", 20, 1400)]


@pytest.mark.parametrize("entry,message", [
    ({"vlan_id": 0}, "VLAN id 0 is out of range 1-4094"),
    ({"vlan_id": 4095}, "VLAN id 4095 is out of range"),
    ({"vlan_id": "ten"}, "VLAN id 'ten' is not a number"),
    ({"vlan_id": 5, "name": "a-very-long-name"}, "is 16 characters; Linux allows at most 15"),
    ({"vlan_id": 5, "protocol": "802.1X"}, "protocol '802.1X' is not one of"),
    ({"vlan_id": 5, "egress_qos_map": {1: 9}}, "egress_qos_map entry 1: 9 is out of range"),
    ({"vlan_id": 5, "addresses": ["10.0.0.1/33"]}, "'10.0.0.1/33' is not an IPv4 or IPv6 address"),
])
def test_bad_entries_are_refused_by_position(entry, message):
    with pytest.raises(VlanError, match=r"vlans\[1\]: .*" + message.replace("(", r"\(").replace("[", r"\[")):
        desired_vlans(params(parent="eth1", vlans=[{"vlan_id": 7}, entry]))


def test_the_same_vlan_twice_is_refused():
    with pytest.raises(VlanError, match="eth1.7 is asked for twice"):
        desired_vlans(params(parent="eth1", vlans=[{"vlan_id": 7}, {"vlan_id": 7}]))


def test_plan_creates_corrects_and_leaves_alone():
    specs = desired_vlans(params(parent="eth1", vlans=[{"vlan_id": 10, "mtu": 1400, "gvrp": True}, {"vlan_id": 11, "addresses": ["10.0.11.1/24"]}]))
    work = plan(specs, LINKS, {})
    assert [s["name"] for s in work["create"]] == ["eth1.11"] and work["delete"] == []
    assert [(spec["name"], changes) for spec, _link, changes in work["set"]] == [("eth1.10", {"mtu": 1400, "flags": (2, 2)})]
    assert work["changed"] == ["eth1.10", "eth1.11"]
    assert plan(desired_vlans(params(parent="eth1", vlan_id=10)), LINKS, {})["changed"] == []


def test_a_parent_that_is_down_is_brought_up_once_for_vlans_that_are_to_be_up():
    # After a reboot the VLAN is gone and the trunk down: creating the VLAN up would fail with ENETDOWN.
    down = {**LINKS, "eth1": link(2, "eth1", kind="veth", up=False, operstate="DOWN"),
            "eth1.10": link(3, "eth1.10", kind="vlan", parent=2, vid=10, up=False, operstate="DOWN")}
    work = plan(desired_vlans(params(parent="eth1", vlans=[{"vlan_id": 10}, {"vlan_id": 11}])), down, {})
    assert [parent["name"] for parent in work["parents_up"]] == ["eth1"]
    assert [s["name"] for s in work["create"]] == ["eth1.11"] and [(spec["name"], c) for spec, _l, c in work["set"]] == [("eth1.10", {"up": True})]
    # A VLAN kept down, or one removed, needs no parent up; a parent that is up is left alone.
    assert plan(desired_vlans(params(parent="eth1", vlan_id=11, enabled=False)), down, {})["parents_up"] == []
    assert plan(desired_vlans(params(name="eth1.10", state="absent")), down, {})["parents_up"] == []
    assert plan(desired_vlans(params(parent="eth1", vlan_id=11)), LINKS, {})["parents_up"] == []


def test_plan_refuses_non_vlans_other_identities_and_missing_parents():
    with pytest.raises(VlanError, match="eth1 exists but is a veth interface"):
        plan(desired_vlans(params(parent="lo", vlan_id=3, name="eth1")), LINKS, {})
    with pytest.raises(VlanError, match="already exists as 802.1Q VLAN 10 on eth1, not 802.1ad VLAN 10 on eth1; set replace=true"):
        plan(desired_vlans(params(parent="eth1", vlan_id=10, protocol="802.1ad")), LINKS, {})
    with pytest.raises(VlanError, match="MTU 9000 of eth1.12 exceeds the MTU 1500 of its parent eth1"):
        plan(desired_vlans(params(parent="eth1", vlan_id=12, mtu=9000)), LINKS, {})
    with pytest.raises(VlanError, match="parent interface eth2 of eth2.5 does not exist"):
        plan(desired_vlans(params(parent="eth2", vlan_id=5)), LINKS, {})
    replaced = plan(desired_vlans(params(parent="eth1", vlan_id=10, protocol="802.1ad", replace=True)), LINKS, {})
    assert [lk["name"] for lk in replaced["delete"]] == ["eth1.10"] and [s["name"] for s in replaced["create"]] == ["eth1.10"]


def test_qinq_parent_created_in_the_same_task_is_accepted():
    specs = desired_vlans(params(vlans=[{"parent": "eth1", "vlan_id": 100, "protocol": "802.1ad", "name": "s100"},
                                        {"parent": "s100", "vlan_id": 10, "name": "s100.10"}]))
    assert [s["name"] for s in plan(specs, LINKS, {})["create"]] == ["s100", "s100.10"]


def test_management_guard():
    addrs = {3: [ipaddress.ip_interface("10.0.10.1/24")]}
    ssh = {"SSH_CONNECTION": "10.0.10.9 5000 10.0.10.1 22"}
    for kw in ({"state": "absent"}, {"enabled": False}, {"addresses": ["10.0.10.2/24"], "purge_addresses": True}):
        with pytest.raises(VlanError, match="10.0.10.1/24 carries the current management connection"):
            plan(desired_vlans(params(parent="eth1", vlan_id=10, **kw)), LINKS, addrs, ssh)
    forced = plan(desired_vlans(params(parent="eth1", vlan_id=10, state="absent", force=True)), LINKS, addrs, ssh)
    assert [lk["name"] for lk in forced["delete"]] == ["eth1.10"]


def test_qos_maps_given_are_whole_maps():
    current = link(3, "eth1.10", kind="vlan", parent=2, vid=10, egress_qos_map={1: 3, 2: 4})
    spec = desired_vlans(params(parent="eth1", vlan_id=10, egress_qos_map={"2": 4}))[0]
    assert link_changes(spec, current) == {"egress_qos_map": {1: 0, 2: 4}}


class RefusingKernel:
    """Rtnl as ensure_vlans uses it: accepts a parent's `up` and refuses every creation, as when the id is held (EEXIST)."""

    def __init__(self, links):
        self.state = {name: dict(entry) for name, entry in links.items()}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def links(self):
        return list(self.state.values())

    def addresses(self):
        return []

    def batch(self, requests):
        results = []
        for _kind, flags, _payload in requests:
            if flags & _vlan.rt.NLM_F_CREATE:
                results.append(_vlan.rt.RtnlError(errno.EEXIST))
            else:  # the only other request here: bringing the trunk up
                self.state["eth1"]["up"] = True
                results.append(None)
        return results


def test_a_creation_the_kernel_refuses_fails_with_what_was_done(monkeypatch):
    kernel = RefusingKernel({"lo": LINKS["lo"], "eth1": link(2, "eth1", kind="veth", up=False)})
    monkeypatch.setattr(_vlan.rt, "Rtnl", lambda: kernel)
    monkeypatch.setattr(_vlan, "ensure_8021q", lambda check_mode: None)
    with pytest.raises(PartlyApplied) as refused:
        _vlan.ensure_vlans(params(parent="eth1", vlans=[{"vlan_id": 20}]))
    assert "creating eth1.20: File exists (EEXIST)" in str(refused.value)
    assert refused.value.result == {"changed": True, "interfaces": [{"name": "eth1.20", "state": "absent"}], "parents_up": ["eth1"]}
