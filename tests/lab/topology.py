# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a small Ethernet network out of Linux network namespaces, described as data.

Hosts are network namespaces; a switch is a Linux bridge that lives in a namespace of its own;
a link joins a host interface to a switch port (or to another host) with a veth pair. Nothing
is created in the caller's namespace, so tearing the lab down is deleting its namespaces.

Every name carries a per-run prefix (``l2lab-<pid>-<n>-``) so two runs never collide, and a
lab whose creator died is reaped by the next one (``reap_stale``).

    spec = {
        "switches": ["lan"],
        "hosts": {
            "gw":  {"links": [{"switch": "lan", "mac": "02:00:00:00:00:01", "addresses": ["192.0.2.1/24"]}]},
            "pi1": {"links": [{"switch": "lan", "mac": "b8:27:eb:00:00:01", "addresses": ["192.0.2.11/24"]}],
                    "routes": ["default via 192.0.2.1"]},
        },
    }
    with Lab(spec) as lab:
        lab.run("pi1", ["ping", "-c1", "192.0.2.1"])
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import signal
import subprocess
import weakref
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "l2lab-"
BRIDGE_NETFILTER = ("arptables", "iptables", "ip6tables")
_counter = itertools.count()
_live_labs: weakref.WeakSet = weakref.WeakSet()


@dataclass
class Link:
    """One host interface: plugged into a switch, or the peer of another host's interface."""

    switch: str | None = None
    peer: str | None = None  # "host:ifname" for a direct cable
    ifname: str = "eth0"
    mac: str | None = None
    addresses: list[str] = field(default_factory=list)
    mtu: int | None = None
    up: bool = True


@dataclass
class Host:
    name: str
    links: list[Link] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    sysctl: dict[str, str] = field(default_factory=dict)


def _ip_batch(lines: list[str], netns: str | None = None) -> None:
    if not lines:
        return
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    proc = subprocess.run(cmd, input="\n".join(lines) + "\n", text=True, capture_output=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")


class LabError(RuntimeError):
    pass


def _all_netns() -> list[str]:
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


def lab_namespaces(pid: int | None = None) -> list[str]:
    """The network namespaces labs have made: those of one process (its labs still up, or left behind), or of every process."""
    prefix = PREFIX if pid is None else f"{PREFIX}{pid}-"
    return [name for name in _all_netns() if name.startswith(prefix)]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete_netns(names: list[str]) -> None:
    """Kill what runs inside, then delete the namespaces in one batch."""
    for name in names:
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
    if names:
        subprocess.run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {n}\n" for n in names), text=True, capture_output=True, check=False)


def reap_stale() -> list[str]:
    """Delete lab namespaces left behind by processes that no longer exist (a killed run)."""
    stale = []
    for name in _all_netns():
        m = re.match(rf"{PREFIX}(\d+)-", name)
        if m and not _pid_alive(int(m.group(1))):
            stale.append(name)
    _delete_netns(stale)
    return stale


def _parse_hosts(spec_hosts) -> list[Host]:
    hosts = []
    for name, h in spec_hosts.items():
        links = [Link(**link) for link in h.get("links", [])]
        hosts.append(Host(name=name, links=links, routes=list(h.get("routes", [])), sysctl=dict(h.get("sysctl", {}))))
    return hosts


class Lab:
    """A topology of namespaces; use as a context manager so it is always torn down."""

    def __init__(self, spec: dict, name: str | None = None):
        self.switches: list[str] = list(spec.get("switches", []))
        self.hosts: dict[str, Host] = {h.name: h for h in _parse_hosts(spec.get("hosts", {}))}
        self.prefix = f"{PREFIX}{os.getpid()}-{next(_counter)}-" if name is None else f"{PREFIX}{os.getpid()}-{name}-"
        self._procs: list[subprocess.Popen] = []
        self._validate()

    # -- names ---------------------------------------------------------------------------
    def netns(self, host: str) -> str:
        """The namespace name of a host (or switch) of this lab."""
        if host not in self.hosts and host not in self.switches:
            raise KeyError(f"no host or switch {host!r} in this lab")
        return self.prefix + host

    def _validate(self) -> None:
        for host in self.hosts.values():
            for link in host.links:
                if (link.switch is None) == (link.peer is None):
                    raise LabError(f"{host.name}:{link.ifname}: give exactly one of switch or peer")
                if link.switch is not None and link.switch not in self.switches:
                    raise LabError(f"{host.name}:{link.ifname}: unknown switch {link.switch!r}")
                if len(link.ifname) > 15:
                    raise LabError(f"{host.name}:{link.ifname}: interface names are at most 15 characters")
        if set(self.hosts) & set(self.switches):
            raise LabError("a name is used for both a host and a switch")

    # -- life cycle ----------------------------------------------------------------------
    def __enter__(self) -> Lab:
        self.up()
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def up(self) -> Lab:
        reap_stale()
        _live_labs.add(self)
        try:
            self._build()
        except BaseException:
            self.down()
            raise
        return self

    def down(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self._procs.clear()
        _delete_netns([n for n in _all_netns() if n.startswith(self.prefix)])
        _live_labs.discard(self)

    def _build(self) -> None:
        names = [self.netns(n) for n in self.switches + list(self.hosts)]
        _ip_batch([f"netns add {n}" for n in names])

        for sw in self.switches:
            _ip_batch(["link add name br0 type bridge", "link set br0 up", "link set lo up"], netns=self.netns(sw))
            # The switch stays silent (no IPv6 link-local chatter) and forwards at once (no STP listening delay).
            self._write_sysctl(sw, {"net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1"})
            # A switch does not run the firewall on what it bridges. Where br_netfilter is loaded (Docker loads it),
            # every copy of a flooded frame would otherwise pass the (empty) iptables hooks: 8 % of a broadcast sweep.
            hooked = [t for t in BRIDGE_NETFILTER if Path(f"/proc/sys/net/bridge/bridge-nf-call-{t}").exists()]
            self._write_sysctl(sw, {f"net.bridge.bridge-nf-call-{t}": "0" for t in hooked})
            _ip_batch(["link set br0 type bridge forward_delay 0 stp_state 0"], netns=self.netns(sw))

        port = itertools.count()
        switch_cmds: dict[str, list[str]] = {sw: [] for sw in self.switches}
        cables_done: set[tuple[str, str]] = set()
        for host in self.hosts.values():
            for link in host.links:
                if link.switch:
                    p = f"p{next(port)}"
                    switch_cmds[link.switch] += [
                        f"link add name {p} type veth peer name {link.ifname} netns {self.netns(host.name)}",
                        f"link set {p} master br0",
                        f"link set {p} up",
                    ]
                else:
                    peer_host, peer_if = link.peer.split(":", 1)
                    key = tuple(sorted([f"{host.name}:{link.ifname}", link.peer]))
                    if key in cables_done:
                        continue
                    cables_done.add(key)
                    _ip_batch([f"link add name {link.ifname} type veth peer name {peer_if} netns {self.netns(peer_host)}"], netns=self.netns(host.name))
        for sw, cmds in switch_cmds.items():
            _ip_batch(cmds, netns=self.netns(sw))

        for host in self.hosts.values():
            self._write_sysctl(host.name, host.sysctl)
            cmds = ["link set lo up"]
            for link in host.links:
                if link.mac:
                    cmds.append(f"link set {link.ifname} address {link.mac}")
                if link.mtu:
                    cmds.append(f"link set {link.ifname} mtu {link.mtu}")
                cmds += [f"addr add {a} dev {link.ifname}" + (" nodad" if ":" in a else "") for a in link.addresses]
                if link.up:
                    cmds.append(f"link set {link.ifname} up")
            cmds += [f"route add {r}" for r in host.routes]
            _ip_batch(cmds, netns=self.netns(host.name))

    def _write_sysctl(self, host: str, values: dict[str, str]) -> None:
        if values:
            self.run(host, ["sysctl", "-q", "-w"] + [f"{k}={v}" for k, v in values.items()])

    # -- doing things inside -------------------------------------------------------------
    def argv(self, host: str, argv: list[str]) -> list[str]:
        """argv wrapped to run inside a host's namespace (with its own /sys, as `ip netns exec` mounts it)."""
        return ["ip", "netns", "exec", self.netns(host)] + list(argv)

    def run(self, host: str, argv: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        proc = subprocess.run(self.argv(host, argv), **kwargs, check=False)
        if check and proc.returncode != 0:
            raise LabError(f"{host}: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc

    def popen(self, host: str, argv: list[str], **kwargs) -> subprocess.Popen:
        """Start a background process in a host; it is killed when the lab goes down."""
        proc = subprocess.Popen(self.argv(host, argv), **kwargs)
        self._procs.append(proc)
        return proc

    def ip_json(self, host: str, *args: str):
        """`ip -j ARGS` inside a host, parsed."""
        import json

        out = self.run(host, ["ip", "-j"] + list(args)).stdout
        return json.loads(out) if out.strip() else []

    def mac(self, host: str, ifname: str = "eth0") -> str:
        return self.ip_json(host, "link", "show", "dev", ifname)[0]["address"]

    def neighbour(self, host: str, address: str) -> dict | None:
        """The host's neighbour-table entry for an address (lladdr, state), or None."""
        entries = self.ip_json(host, "neigh", "show", "to", address)
        return entries[0] if entries else None

    def inventory(self, python: str | None = None) -> dict:
        """An Ansible inventory (as data) reaching every host through the netns connection."""
        hostvars = {}
        for name in self.hosts:
            hostvars[name] = {"ansible_connection": "layer2.linux.netns", "ansible_netns_name": self.netns(name)}
            if python:
                hostvars[name]["ansible_python_interpreter"] = python
        return {"all": {"hosts": hostvars}}


def _teardown_all(*_args) -> None:
    for lab in list(_live_labs):
        lab.down()


atexit.register(_teardown_all)


def _on_signal(signum, _frame):
    _teardown_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


for _sig in (signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) in (signal.SIG_DFL, None):
        signal.signal(_sig, _on_signal)
# Ctrl-C raises KeyboardInterrupt, which unwinds through Lab.__exit__ and atexit.
