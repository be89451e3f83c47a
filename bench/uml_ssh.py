# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A managed node inside User-Mode Linux, reached over SSH by an Ansible controller running on the host.

This is how a real router is managed: the controller is another machine, and each task is one SSH exchange. It
also keeps Ansible's controller out of UML, where every Python step is about 12 times slower.

    host                                         UML guest (tests/kernel/uml-exec)
    namespace l2mgmt-<pid>                        lab namespace "router" (built by the guest)
      tap l2mgmt0 10.254.0.1/30  <-- tuntap -->     mgmt0 10.254.0.2/30, sshd on it
      ansible-playbook (ssh, ControlPersist)        eth0 uplink, eth1 trunk (the lab's)

Host and guest talk through files in a shared directory (the guest's / is the host's, over hostfs): the guest
writes `ready` once sshd listens (JSON: what serve() was given to tell, such as whether the kernel loads nftables
ip tables), and stops when the host writes `stop`.
Everything is in namespaces this code creates; nothing touches the host's own interfaces.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import ssh_node  # noqa: E402

HOST_ADDRESS, NODE_ADDRESS = "10.254.0.1", "10.254.0.2"
TAP = "l2mgmt0"


def available() -> str | None:
    """Why this cannot run here, or None."""
    if not os.path.exists("/dev/net/tun"):
        return "needs /dev/net/tun for the tap device between host and UML"
    return ssh_node.missing()


def inventory_vars(directory: Path) -> dict:
    return ssh_node.inventory_vars(directory, NODE_ADDRESS)


@contextlib.contextmanager
def node(guest_argv: list[str], timeout: float = 300):
    """Boot UML running guest_argv (which must call serve()), wait for its sshd; yields (directory, ready data).

    The caller must already run in the namespace host_namespace_argv() made: UML attaches to the tap by name there.
    """
    directory = ssh_node.short_directory()
    ssh_node.prepare(directory, NODE_ADDRESS)
    env = dict(os.environ, L2_UML_ARGS=f"eth0=tuntap,{TAP}", L2_UML_NODE_DIR=str(directory))
    log = open(directory / "uml.log", "w")  # noqa: SIM115 -- open for the guest's whole life
    guest = subprocess.Popen([str(ROOT / "tests/kernel/uml-exec"), *guest_argv], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not (directory / "ready").exists():
            if guest.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the UML node did not come up:\n{(directory / 'uml.log').read_text()[-3000:]}")
            time.sleep(0.1)
        yield directory, json.loads((directory / "ready").read_text())
    finally:
        (directory / "stop").touch()
        try:
            guest.wait(timeout=120)
        except subprocess.TimeoutExpired:
            guest.kill()
        log.close()
        ssh_node.close_master(directory, NODE_ADDRESS)
        shutil.rmtree(directory, ignore_errors=True)


def host_namespace_argv(argv: list[str]) -> tuple[str, list[str]]:
    """A namespace of ours with the host end of the tap, and argv wrapped to run in it."""
    name = f"l2mgmt-{os.getpid()}"
    batch = [f"netns add {name}", f"-n {name} tuntap add {TAP} mode tap", f"-n {name} addr add {HOST_ADDRESS}/30 dev {TAP}",
             f"-n {name} link set {TAP} up", f"-n {name} link set lo up"]
    for line in batch:
        subprocess.run(["ip", *line.split()], check=True)
    return name, ["ip", "netns", "exec", name, *argv]


def serve(lab_netns: str, extra: dict) -> None:
    """Inside UML: move the NIC into the lab's router namespace, start sshd there, wait for `stop`."""
    directory = Path(os.environ["L2_UML_NODE_DIR"])
    for argv in (["ip", "link", "set", "eth0", "name", "mgmt0"], ["ip", "link", "set", "mgmt0", "netns", lab_netns],
                 ["ip", "-n", lab_netns, "addr", "add", f"{NODE_ADDRESS}/30", "dev", "mgmt0"], ["ip", "-n", lab_netns, "link", "set", "mgmt0", "up"]):
        subprocess.run(argv, check=True)
    # The guest's root is the host's /, so root's ~/.bashrc is the host's, which bash sources for every SSH command
    # (3.5 s of pyenv set-up inside UML here). A router's root has no such thing: hide it, in the guest only.
    subprocess.run(["mount", "--bind", "/dev/null", str(Path.home() / ".bashrc")], check=False)
    sshd = ssh_node.start(lab_netns, directory / "sshd_config", NODE_ADDRESS)
    try:
        (directory / "ready").write_text(json.dumps(extra))
        while not (directory / "stop").exists():
            time.sleep(0.1)
    finally:
        sshd.terminate()
        sshd.wait()
