# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's dnsmasq in a lab without systemd: started from the file the role wrote under a router's
vlan_router_root, alone, as dnsmasq.service runs it, inside the router's namespace (beside keepalived.py's daemons).

The file is complete in itself (pid file and leases under the root), so nothing else is passed but what the unit passes
(--keep-in-foreground, root as the user, logging to the lab's file). It runs with a tmpfs of its own on /run (`ip netns
exec` gives it a private mount namespace), as a booted machine's would be. The lab kills it when it goes down.

    start_dnsmasq(lab, "router", root, ["10.1.35.1:53", "0.0.0.0:67"])   # ready once it listens on both

start_resolver stands in for the upstream resolvers the router forwards other names to: another dnsmasq, answering only
the names it is given.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

DNSMASQ_CONF = "etc/dnsmasq.d/layer2-vlan-router.conf"


def listening(lab, host: str, tcp: bool = False) -> set[str]:
    """The host's UDP sockets (listening TCP ones with tcp) as `ss` prints their local address, less the interface a
    socket is bound to: 10.1.35.1:53, [2001:db8::1]:53, 0.0.0.0:67 (dnsmasq's DHCP socket: a wildcard, bound to the
    interface when it serves only one)."""
    sockets = set()
    for line in lab.run(host, ["ss", "-Hlnt" if tcp else "-Hlnu"]).stdout.splitlines():
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
    return _start(lab, host, [f"--conf-file={root / DNSMASQ_CONF}"], root / "dnsmasq.log", listens, timeout)


def start_resolver(lab, host: str, address: str, answers: dict[str, str], log: Path, timeout: float = 30.0) -> subprocess.Popen:
    """A DNS server on address:53 (UDP and TCP) answering every name in each domain of `answers` with its address
    ({"example.test": "192.0.2.7"}) and nothing else: no file of the host's is read (no dnsmasq.conf, hosts, resolv.conf),
    so it never asks further. Logs its queries to `log`."""
    options = ["--conf-file=/dev/null", "--no-hosts", "--no-resolv", "--bind-interfaces", f"--listen-address={address}", "--port=53",
               "--pid-file=/run/resolver.pid", "--log-queries"] + [f"--address=/{domain}/{ip}" for domain, ip in answers.items()]
    return _start(lab, host, options, log, [f"[{address}]:53" if ":" in address else f"{address}:53"], timeout)


def _start(lab, host: str, options: list[str], log: Path, listens: list[str], timeout: float) -> subprocess.Popen:
    """dnsmasq with `options` in the foreground, on a /run of its own (its pid file never lands in the machine's)."""
    argv = ["sh", "-c", 'mount -t tmpfs tmpfs /run && exec dnsmasq "$@" --keep-in-foreground --user=root --log-facility=-', "dnsmasq", *options]
    proc = lab.popen(host, argv, stdout=open(log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115 (the lab owns the process and its file)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if set(listens) <= listening(lab, host):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"dnsmasq did not start on {host} (listening: {sorted(listening(lab, host))}):\n{log.read_text()}")
