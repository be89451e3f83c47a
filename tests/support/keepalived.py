# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A redundant vlan_router pair's daemons in a lab without systemd: keepalived and conntrackd started from the files the
role wrote under a router's vlan_router_root, exactly as their Debian units start them, inside the router's namespace.

keepalived writes its pid files to /run: each one runs in a private mount namespace (`ip netns exec` makes one) with a
tmpfs of its own on /run, so two routers on one machine never see each other's. conntrackd's socket and lock live
under the root (the role's layout), where the notify script, run by keepalived, finds them. Every process is the lab's:
killed when the lab goes down, failed or not (deleting a namespace kills what runs in it, keepalived's children too).

    start_keepalived(lab, "r1", root)           # keepalived --dont-fork -f <root>/etc/keepalived/keepalived.conf
    start_conntrackd(lab, "r1", root)           # conntrackd -C <root>/etc/conntrackd/conntrackd.conf
    wait_for_address(lab, "r1", "eth1.1234", "203.0.113.1")
    kill_daemons(lab, "r1")                     # SIGKILL, as a power cut leaves them
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

KEEPALIVED_CONF = "etc/keepalived/keepalived.conf"
CONNTRACKD_CONF = "etc/conntrackd/conntrackd.conf"
DAEMONS = ("keepalived", "conntrackd")


def start_keepalived(lab, host: str, root: Path) -> subprocess.Popen:
    """keepalived as keepalived.service runs it (--dont-fork), logging to <root>/keepalived.log."""
    conf = Path(root) / KEEPALIVED_CONF
    log = open(Path(root) / "keepalived.log", "ab")  # noqa: SIM115 (the lab owns the process and its file)
    # ip netns exec gives the command a mount namespace of its own: the tmpfs on /run is keepalived's alone.
    return lab.popen(host, ["sh", "-c", 'mount -t tmpfs tmpfs /run && exec keepalived --dont-fork --log-console --log-detail -f "$0"', str(conf)],
                     stdout=log, stderr=subprocess.STDOUT)


def start_conntrackd(lab, host: str, root: Path) -> subprocess.Popen:
    """conntrackd as conntrackd.service runs it (in the foreground); ready once its control socket answers."""
    conf = Path(root) / CONNTRACKD_CONF
    (Path(root) / "run/lock").mkdir(parents=True, exist_ok=True)
    # A router that comes back after a power cut starts with an empty /run: a killed conntrackd's lock is gone.
    (Path(root) / "run/lock/conntrack.lock").unlink(missing_ok=True)
    log = open(Path(root) / "conntrackd.log", "ab")  # noqa: SIM115
    proc = lab.popen(host, ["conntrackd", "-C", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    for _attempt in range(100):
        if lab.run(host, ["conntrackd", "-C", str(conf), "-s"], check=False).returncode == 0:
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"conntrackd did not start on {host}: " + (Path(root) / "conntrackd.log").read_text())


def daemon_pids(lab, host: str, names=DAEMONS) -> list[int]:
    """The pids of the named daemons running in a host's namespace (keepalived's children included)."""
    pids = subprocess.run(["ip", "netns", "pids", lab.netns(host)], capture_output=True, text=True, check=False).stdout.split()
    found = []
    for pid in pids:
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if comm in names:
            found.append(int(pid))
    return found


def kill_daemons(lab, host: str, names=DAEMONS) -> None:
    """SIGKILL every named daemon of the host at once: nothing is said to the peer, as when the power goes."""
    for pid in daemon_pids(lab, host, names):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def holds(lab, host: str, ifname: str, address: str) -> bool:
    return any(a["local"] == address for link in lab.ip_json(host, "addr", "show", "dev", ifname) for a in link.get("addr_info", []))


def wait_for_address(lab, host: str, ifname: str, address: str, timeout: float = 10.0, present: bool = True) -> float:
    """Seconds until the host holds (or, present=False, no longer holds) the address on the interface; AssertionError after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if holds(lab, host, ifname, address) == present:
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"{host} {'never got' if present else 'still holds'} {address} on {ifname} after {timeout} s")
