# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role end to end in the seed's topology (see vlan_router_lab): one lab, four playbook runs.

check mode on the fresh router changes nothing -> the real run -> the re-run changes nothing -> the switch to
ifupdown rewrites only the persistence files. Between them, the traffic a tenant and the upstream would see.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kernel import vlan_router_lab as seed
from tests.support.ansible import ROOT, run_playbook

PLAYBOOK = ROOT / "playbooks" / "vlan_router.yml"


def tree(root: Path, relative_to: Path) -> dict:
    return {str(p.relative_to(relative_to)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def golden(backend: str) -> dict:
    return tree(seed.GOLDEN / backend, seed.GOLDEN / backend)


def written(root: Path, backend: str) -> dict:
    """The router's files under the role's root that the golden set knows about (sysctl.d belongs to ip_forwarding;
    etc/nftables.conf is nftables.service's, where the role only adds its include line when it loads its tables)."""
    return {rel: content for rel, content in tree(root, root).items() if not rel.startswith("etc/sysctl.d/") and rel != "etc/nftables.conf"}


def needs_nft_ip(inventory):
    if not inventory["all"]["children"]["routers"]["hosts"]["router"]["vlan_router_nftables_apply"]:
        pytest.skip("this kernel has no nf_tables ip/inet family (Debian UML); tests/integration/test_vlan_router_firewall.py covers it")


@pytest.fixture(scope="module")
def router(request, tmp_path_factory):
    """The seed's lab, the role applied once (after a check-mode run), and the runs' results."""
    from tests.lab import Lab

    root = tmp_path_factory.mktemp("router-root")
    lab = Lab(seed.spec()).up()
    request.addfinalizer(lab.down)
    seed.bridge_vms(lab)
    router_vars = seed.seed_vars(root)
    # Debian's UML kernel has nf_tables for the bridge family only: there the role writes its ruleset but cannot load it,
    # and isolation and NAT are proven by tests/integration/test_vlan_router_firewall.py on the host kernel instead.
    router_vars["vlan_router_nftables_apply"] = seed.nft_ip_family(lab)
    inventory = seed.inventory(lab, router_vars)
    runs = {"check": run_playbook(PLAYBOOK, inventory, check=True, diff=True)}
    runs["links_after_check"] = [link["ifname"] for link in lab.ip_json("router", "link", "show")]
    runs["first"] = run_playbook(PLAYBOOK, inventory, diff=True)
    runs["second"] = run_playbook(PLAYBOOK, inventory)
    return lab, root, inventory, runs


def test_check_mode_reports_changes_and_changes_nothing(router):
    lab, root, _inventory, runs = router
    check = runs["check"]
    assert check.rc == 0, check.stdout + check.stderr
    assert check.recap["router"]["changed"] > 0
    assert not [name for name in runs["links_after_check"] if name.startswith("eth1.")]
    assert check.recap["vm1"]["changed"] == 1  # the default route would be set


def test_first_run_applies_and_verifies(router):
    _lab, _root, _inventory, runs = router
    first = runs["first"]
    assert first.rc == 0, first.stdout + first.stderr
    assert first.recap["router"]["failures"] == 0 and first.recap["router"]["changed"] > 0
    verify = first.task("__vlan_router_verify_result", "router", by="register")
    assert not verify.get("failed")


def test_second_run_changes_nothing(router):
    second = router[3]["second"]
    assert second.rc == 0, second.stdout + second.stderr
    assert second.changed == 0, [r["task"] for r in second.results if r["result"].get("changed")]


def test_vms_reach_each_other_the_router_and_the_internet(router):
    lab = router[0]
    assert seed.unreachable(lab, ("reach",)) == []
    assert lab.ip_json("vm1", "route", "show", "default")[0]["gateway"] == "203.0.113.1"


def test_internet_reaches_public_addresses_through_proxy_arp(router):
    # The upstream treats the public subnet as on-link: it resolves the VMs' addresses to the router's uplink MAC.
    assert seed.unreachable(router[0], ("public",)) == []


def test_tenants_are_isolated_unless_allowed(router):
    needs_nft_ip(router[2])
    assert seed.unreachable(router[0], ("isolation",)) == []


def test_private_vlan_reaches_the_internet_with_its_source_rewritten(router):
    needs_nft_ip(router[2])
    assert seed.unreachable(router[0], ("nat",)) == []


def test_router_state_and_networkd_files(router):
    lab, root, _inventory, _runs = router
    vlan = lab.ip_json("router", "-d", "link", "show", "dev", "eth1.1236")[0]
    assert vlan["linkinfo"]["info_data"]["id"] == 1236 and vlan["mtu"] == 1400
    assert lab.run("router", ["cat", "/proc/sys/net/ipv4/conf/eth1.1234/proxy_arp", "/proc/sys/net/ipv4/conf/eth0/proxy_arp"]).stdout.split() == ["1", "1"]
    routes = lab.ip_json("router", "route", "show", "dev", "eth1.1234")
    assert {"dst": "203.0.113.64/28", "scope": "link"}.items() <= next(r for r in routes if r["dst"] == "203.0.113.64/28").items()
    if router[2]["all"]["children"]["routers"]["hosts"]["router"]["vlan_router_nftables_apply"]:
        tables = lab.run("router", ["nft", "list", "tables"]).stdout.split("\n")
        assert "table inet layer2_vlan_router_filter" in tables and "table ip layer2_vlan_router_nat" in tables
    assert written(root, "systemd-networkd") == golden("systemd-networkd")
    sysctl = (root / "etc/sysctl.d/90-layer2-vlan-router.conf").read_text()
    assert "net.ipv4.ip_forward" in sysctl and "eth1/1234.proxy_arp" in sysctl


def test_switch_to_ifupdown_rewrites_only_the_files(router):
    lab, root, inventory, _runs = router
    inventory["all"]["children"]["routers"]["hosts"]["router"]["vlan_router_persistence"] = "ifupdown"
    run = run_playbook(PLAYBOOK, inventory, args=["--limit", "routers"])
    assert run.rc == 0, run.stdout + run.stderr
    changed = [r.get("register") or r["task"] for r in run.results if r["result"].get("changed")]
    assert changed == ["__vlan_router_files_result"]
    assert written(root, "ifupdown") == golden("ifupdown")
    assert seed.pings(lab, "internet", "203.0.113.11")
