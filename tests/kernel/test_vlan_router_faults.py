# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults during a run of the vlan_router role, 25 VLANs on the seed's lab (vlan_router_lab), in this order:

1. ansible-playbook is killed (SIGKILL) after the VLANs are made and before the files are written;
2. the next run writes the files, and its writer (config_files on the router) is killed in the middle of writing them:
   no file is left half written; the next run converges (changed, then changed=0) and the router passes the
   reachability matrix (one convergence for both kills: each run costs UML seconds);
4. after a "power off" of the VLANs and the trunk, the kernel refuses one VLAN of 25 halfway through the task (its id is held on the
   trunk by an interface of another name): the task fails naming it and reporting the trunk it brought up, the other
   24 are as asked;
5. the variable fixed (the VLAN takes that interface's name), the role converges.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.kernel import vlan_router_lab as seed
from tests.support.ansible import ROOT, run_playbook

PLAYBOOK = ROOT / "playbooks" / "vlan_router.yml"
PAYLOAD = "ansible_layer2.linux.config_files_payload_*"  # where config_files' AnsiballZ payload runs, under the temp directory
WRITE_FILES = "Write the persistence files and the nftables ruleset"  # the config_files task (register __vlan_router_files_result)
HELD = 1248  # the VLAN id an operator's interface holds on the trunk in step 4
EXTRA = [{"id": vid, "addresses": [f"10.2.{vid - 1200}.1/24"]} for vid in range(1240, 1262)]  # 22 more: 25 with the seed's


def variables(root: Path, held_name: str | None = None) -> dict:
    extra = [dict(vlan, name=held_name) if vlan["id"] == HELD and held_name else vlan for vlan in EXTRA]
    router_vars = seed.seed_vars(root)
    router_vars["vlan_router_vlans"] = router_vars["vlan_router_vlans"] + extra
    return router_vars


def vlans(lab) -> dict:
    """The router's VLAN interfaces: name -> (VLAN id, up, IPv4 addresses)."""
    return {link["ifname"]: (link["linkinfo"]["info_data"]["id"], "UP" in link["flags"], [a["local"] for a in link["addr_info"] if a["family"] == "inet"])
            for link in lab.ip_json("router", "-d", "addr", "show") if link.get("linkinfo", {}).get("info_kind") == "vlan"}


def files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def kill_the_writer_at_its_first_file(lab, first: Path, timeout: float = 300) -> threading.Thread:
    """Once `first` appears, SIGKILL every process in the router's namespace: config_files is then writing the others.
    Only the lab's processes live there (the module and the `ip netns exec` that runs it)."""
    netns = os.stat(f"/run/netns/{lab.netns('router')}").st_ino

    def in_router():
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.stat(f"/proc/{pid}/ns/net").st_ino == netns:
                    yield int(pid)
            except OSError:
                continue

    def watch():
        deadline = time.monotonic() + timeout
        while not first.exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        for pid in in_router():
            os.kill(pid, signal.SIGKILL)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """The role's root for the two kills and the convergence after them."""
    return tmp_path_factory.mktemp("faults") / "root"


@pytest.fixture(scope="module")
def lab(request):
    from tests.lab import Lab

    lab = Lab(seed.spec()).up()
    request.addfinalizer(lab.down)
    seed.bridge_vms(lab)
    assert seed.nft_ip_family(lab), "the fault tests need nf_tables' ip and inet families: run them in the tier's own kernel"
    return lab


def test_killed_before_the_files(lab, root):
    inventory = seed.inventory(lab, variables(root))
    killed = run_playbook(PLAYBOOK, inventory, env={"ANSIBLE_CALLBACKS_ENABLED": "record,sigkill_at", "LAYER2_SIGKILL_AT": WRITE_FILES})
    assert killed.rc == -signal.SIGKILL, killed.stdout + killed.stderr
    made = vlans(lab)
    assert len(made) == 25 and all(up for _vid, up, _addresses in made.values())
    assert not (root / "etc/systemd/network").exists() and not (root / "etc/nftables.d").exists()  # killed before the files


def test_then_the_writer_killed_in_the_middle_leaves_no_file_half_written_and_the_next_run_converges(lab, root):
    assert not (root / "etc/nftables.d").exists(), "the run killed before the files left every file of the 25 VLANs to be written"
    inventory = seed.inventory(lab, variables(root))
    payloads = set(Path(tempfile.gettempdir()).glob(PAYLOAD))
    watcher = kill_the_writer_at_its_first_file(lab, root / "etc/nftables.d/layer2-vlan-router.nft")
    try:
        killed = run_playbook(PLAYBOOK, inventory, args=["--limit", "routers"])
        watcher.join()
    finally:  # the killed module could not remove the directory its AnsiballZ payload ran from
        for leftover in set(Path(tempfile.gettempdir()).glob(PAYLOAD)) - payloads:
            shutil.rmtree(leftover, ignore_errors=True)
    # The module's process gone, Ansible reports the router unreachable for that task.
    assert killed.rc != 0 and killed.status("__vlan_router_files_result", "router", by="register") in ("failed", "unreachable"), killed.stdout
    torn = files(root)
    # The VMs' play too: the first kill came before it.
    first, again = run_playbook(PLAYBOOK, inventory), run_playbook(PLAYBOOK, inventory, args=["--limit", "routers"])
    assert first.rc == 0 and first.changed > 0, first.stdout + first.stderr
    assert again.rc == 0 and again.changed == 0, [r["task"] for r in again.results if r["result"].get("changed")]
    final = files(root)
    # config_files' own (sysctl.d is ip_forwarding's, written before; nftables.conf's include line comes after).
    role_files = [path for path in final if not path.startswith("etc/sysctl.d/") and path != "etc/nftables.conf"]
    written = [path for path in role_files if path in torn]
    leftovers = [path for path in torn if Path(path).name.startswith(".")]
    print(f"the writer killed with {len(written)} of {len(role_files)} files written; temporary files left: {leftovers}")
    assert 0 < len(written) < len(role_files), "the kill came before the first file or after the last: not in the middle"
    # Every file the killed writer left is whole (what the converged run has), and no temporary file is left behind.
    assert {path: torn[path] for path in written} == {path: final[path] for path in written}
    assert not [path for path in final if Path(path).name.startswith(".")]
    assert seed.unreachable(lab) == []


def test_a_vlan_the_kernel_refuses_halfway_fails_naming_it_then_converges(lab, tmp_path):
    root = tmp_path / "root"
    # "Power off" the VLANs and the trunk (the role brings it up: the kernel would refuse VLANs on it with ENETDOWN), then an
    # operator's interface holds VLAN 1248 on the trunk under another name.
    lab.run("router", ["ip", "-batch", "-"], input="".join(f"link del {name}\n" for name in vlans(lab)) + "link set eth1 down\n")
    lab.run("router", ["ip", "link", "add", "link", "eth1", "name", "voice", "type", "vlan", "id", str(HELD)])
    assert "UP" not in lab.ip_json("router", "link", "show", "dev", "eth1")[0]["flags"]
    refused = run_playbook(PLAYBOOK, seed.inventory(lab, variables(root)), args=["--limit", "routers"])
    assert refused.rc != 0
    result = refused.task("__vlan_router_vlan_result", "router", by="register")
    assert f"creating eth1.{HELD}" in result["msg"] and "EEXIST" in result["msg"], result["msg"]
    assert result["changed"] and result["parents_up"] == ["eth1"], result  # the failed task still says what it did
    made = vlans(lab)
    # voice was made down; the kernel brings a parent's VLANs up with it (unless loose_binding), as when the trunk comes up at boot.
    assert made.pop("voice") == (HELD, True, [])
    wanted = {vlan["name"] if vlan.get("name") else f"eth1.{vlan['id']}": [a.split("/")[0] for a in vlan["addresses"] if ":" not in a]
              for vlan in variables(root)["vlan_router_vlans"] if vlan["id"] != HELD}
    assert {name: (up, addresses) for name, (_vid, up, addresses) in made.items()} == {name: (True, addresses) for name, addresses in wanted.items()}

    fixed = seed.inventory(lab, variables(root, held_name="voice"))
    first, again = run_playbook(PLAYBOOK, fixed, args=["--limit", "routers"]), run_playbook(PLAYBOOK, fixed, args=["--limit", "routers"])
    assert first.rc == 0 and first.changed > 0, first.stdout + first.stderr
    assert again.rc == 0 and again.changed == 0, [r["task"] for r in again.results if r["result"].get("changed")]
    assert vlans(lab)["voice"] == (HELD, True, [f"10.2.{HELD - 1200}.1"])
    assert seed.unreachable(lab) == []
