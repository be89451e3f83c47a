# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's dnsmasq in a lab without systemd: started from the file the role wrote under a router's
vlan_router_root, alone, as dnsmasq.service runs it, inside the router's namespace (beside keepalived.py's daemons).

The file is complete in itself (pid file and leases under the root), so nothing else is passed but what the unit passes
(--keep-in-foreground, root as the user, logging to the lab's file). It runs with a tmpfs of its own on /run (`ip netns
exec` gives it a private mount namespace), as a booted machine's would be. The lab kills it when it goes down.

    start_dnsmasq(lab, "router", root, ["10.1.35.1:53", "0.0.0.0:67"])   # ready once it listens on both
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

DNSMASQ_CONF = "etc/dnsmasq.d/layer2-vlan-router.conf"


def udp_listening(lab, host: str) -> set[str]:
    """The host's UDP sockets as `ss` prints their local address, less the interface a socket is bound to:
    10.1.35.1:53, [2001:db8::1]:53, 0.0.0.0:67 (dnsmasq binds its DHCP socket to the interface when it serves one)."""
    sockets = set()
    for line in lab.run(host, ["ss", "-Hlnu"]).stdout.splitlines():
        fields = line.split()
        if len(fields) > 3:
            address, port = fields[3].rsplit(":", 1)
            sockets.add(f"{address.split('%', 1)[0]}:{port}")
    return sockets


def start_dnsmasq(lab, host: str, root: Path, listens: list[str], timeout: float = 30.0) -> subprocess.Popen:
    """dnsmasq from <root>/etc/dnsmasq.d/layer2-vlan-router.conf, logging to <root>/dnsmasq.log; back once it listens on
    every one of `listens` (UDP, as `ss` names them; none: at once). AssertionError with its log when it does not."""
    root = Path(root)
    for directory in ("run/dnsmasq", "var/lib/misc"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    log = root / "dnsmasq.log"
    argv = ["sh", "-c", 'mount -t tmpfs tmpfs /run && exec dnsmasq --conf-file="$0" --keep-in-foreground --user=root --log-facility=-',
            str(root / DNSMASQ_CONF)]
    proc = lab.popen(host, argv, stdout=open(log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115 (the lab owns the process and its file)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if set(listens) <= udp_listening(lab, host):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"dnsmasq did not start on {host} (listening: {sorted(udp_listening(lab, host))}):\n{log.read_text()}")
