# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's files (systemd-networkd, ifupdown, modules-load.d, nftables) against golden copies.

The role writes under vlan_router_root, here a temporary directory: nothing touches the real /etc.
Set LAYER2_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change (then review the diff).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kernel.vlan_router_lab import GOLDEN, seed_vars
from tests.support.ansible import run_playbook

# The role's tasks are found by their register names, which stay when a task's display name changes.
FILES = "__vlan_router_files_result"
LOCAL = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}


def role_play(tasks_from: str) -> list[dict]:
    return [{"hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "the role", "ansible.builtin.include_role": {"name": "layer2.linux.vlan_router", "tasks_from": tasks_from}}]}]


def write_files(root: Path, backend: str, check: bool = False, tasks_from: str = "persistence", **extra):
    return run_playbook(role_play(tasks_from), LOCAL, extra_vars=seed_vars(root, backend, **extra), check=check, diff=True)


def tree(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_matches_golden(root: Path, backend: str) -> None:
    golden_dir = GOLDEN / backend
    if os.environ.get("LAYER2_UPDATE_GOLDEN"):
        for rel, content in tree(root).items():
            (golden_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden_dir / rel).write_text(content)
    assert tree(root) == tree(golden_dir)


@pytest.mark.parametrize("backend", ["systemd-networkd", "ifupdown"])
def test_files_match_golden_and_rerun_changes_nothing(tmp_path, backend):
    check = write_files(tmp_path, backend, check=True)
    assert check.rc == 0, check.stdout
    assert check.task(FILES, by="register")["changed"]
    assert tree(tmp_path) == {}, "check mode wrote files"

    first = write_files(tmp_path, backend)
    assert first.rc == 0, first.stdout
    assert first.changed
    assert_matches_golden(tmp_path, backend)

    again = write_files(tmp_path, backend)
    assert again.rc == 0 and again.changed == 0, again.stdout


def test_removed_vlan_takes_its_networkd_files(tmp_path):
    assert write_files(tmp_path, "systemd-networkd").rc == 0
    variables = seed_vars(tmp_path, "systemd-networkd")
    variables["vlan_router_vlans"][2]["state"] = "absent"
    run = write_files(tmp_path, "systemd-networkd", vlan_router_vlans=variables["vlan_router_vlans"])
    assert run.rc == 0, run.stdout
    network = tmp_path / "etc/systemd/network"
    assert not list(network.glob("*1236*"))
    assert "VLAN=eth1.1236" not in (network / "60-layer2-vlan-router-eth1.network").read_text()
    assert sorted(run.task(FILES, by="register")["removed"]) == [
        str(network / "60-layer2-vlan-router-eth1.1236.netdev"), str(network / "60-layer2-vlan-router-eth1.1236.network")]


def test_switching_backend_removes_the_other_backends_files(tmp_path):
    assert write_files(tmp_path, "systemd-networkd").rc == 0
    assert write_files(tmp_path, "ifupdown").rc == 0
    assert_matches_golden(tmp_path, "ifupdown")


def test_trunk_with_its_own_network_file_gets_a_drop_in(tmp_path):
    run = write_files(tmp_path, "systemd-networkd", vlan_router_networkd_trunk_network="10-eth1.network")
    assert run.rc == 0, run.stdout
    network = tmp_path / "etc/systemd/network"
    assert not (network / "60-layer2-vlan-router-eth1.network").exists()
    dropin = (network / "10-eth1.network.d/60-layer2-vlan-router.conf").read_text()
    assert "[Match]" not in dropin and "VLAN=eth1.1234\nVLAN=eth1.1235\nVLAN=eth1.1236\n" in dropin


@pytest.mark.parametrize("vlans, words", [
    ([{"addresses": ["10.0.0.1/24"]}], "id"),
    ([{"id": "twelve"}], "id"),
    ([{"id": 12, "state": "gone"}], "state"),
])
def test_bad_variables_are_refused_before_anything_is_written(tmp_path, vlans, words):
    run = write_files(tmp_path, "systemd-networkd", tasks_from="main", vlan_router_vlans=vlans)
    assert run.rc != 0
    assert "Validating arguments against arg spec" in run.stdout and words in run.stdout
    assert tree(tmp_path) == {}


@pytest.mark.parametrize("marker, backend_file", [
    ("etc/systemd/system/multi-user.target.wants/systemd-networkd.service", "etc/systemd/network/60-layer2-vlan-router-eth1.network"),
    ("etc/network/interfaces", "etc/network/interfaces.d/layer2-vlan-router"),
    (None, None),
])
def test_auto_picks_the_backend_the_system_uses(tmp_path, marker, backend_file):
    if marker:
        (tmp_path / marker).parent.mkdir(parents=True)
        (tmp_path / marker).write_text("")
    run = write_files(tmp_path, "auto")
    assert run.rc == 0, run.stdout
    written = run.task(FILES, by="register")["written"]
    persistence = [path for path in written if not path.endswith(".nft")]
    if backend_file:
        assert str(tmp_path / backend_file) in persistence
    else:
        assert persistence == []


# An overlay over /etc in a private mount namespace: the role writes to the real paths, the writes land in UPPER.
OVERLAY_ETC = ('mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc && shift && exec "$@"')


def test_handlers_with_the_real_root_never_restart_a_link(tmp_path):
    """vlan_router_root '/', /etc behind an overlay: the files are written and notify the handlers, which look for a
    running systemd-networkd before reloading it (there is none here, so no reload) and restart nothing."""
    (tmp_path / "upper").mkdir()
    (tmp_path / "work").mkdir()
    before = set(os.listdir("/etc"))
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", OVERLAY_ETC, "sh", str(tmp_path)]
    run = run_playbook(role_play("persistence"), LOCAL, extra_vars=seed_vars(Path("/"), "systemd-networkd"), prefix=prefix)
    assert run.rc == 0, run.stdout + run.stderr
    assert run.status("__vlan_router_services", by="register") == "ok"  # is systemd-networkd running?
    assert run.status("__vlan_router_networkd_reload", by="register") == "skipped"
    assert run.status("__vlan_router_ifupdown_check", by="register") == "skipped"
    written = {str(p.relative_to(tmp_path / "upper")) for p in (tmp_path / "upper").rglob("*") if p.is_file()}
    assert "systemd/network/60-layer2-vlan-router-eth1.1234.netdev" in written and "nftables.d/layer2-vlan-router.nft" in written
    assert set(os.listdir("/etc")) == before and not os.path.exists("/etc/nftables.d/layer2-vlan-router.nft"), "the real /etc changed"


def test_the_dependencies_task_finds_the_commands_installed(tmp_path):
    """The role's dependency task through the system's package manager, in check mode on this Debian host (whose
    Python has the apt bindings): iproute2, kmod and nftables are installed, so nothing would change."""
    system_python = "/usr/bin/python3"
    if subprocess.run([system_python, "-c", "import apt"], capture_output=True, check=False).returncode != 0:
        pytest.skip("needs Debian's python3-apt for /usr/bin/python3 (the apt module's check mode)")
    local = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": system_python}}}}
    run = run_playbook(role_play("dependencies"), local, extra_vars=seed_vars(tmp_path, "none"), check=True)
    assert run.rc == 0, run.stdout + run.stderr
    install = run.task("__vlan_router_dependencies", by="register")
    assert run.status("__vlan_router_dependencies", by="register") == "ok" and not install["changed"], install
