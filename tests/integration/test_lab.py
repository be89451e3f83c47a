# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab builds what the data says and always tears it down: on success, failure, SIGTERM, Ctrl-C and SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.lab import lab_namespaces, reap_stale
from tests.support.ansible import ROOT

SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
from tests.lab import Lab
lab = Lab({{"switches": ["s"], "hosts": {{"h1": {{"links": [{{"switch": "s"}}]}}}}}})
with lab:
    lab.popen("h1", ["sleep", "300"])
    print("UP", flush=True)
    {tail}
"""


def _interruptible() -> None:
    """Ctrl-C's default, in the child: a shell's background job (CI may start us as one) inherits SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tail: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT.format(root=str(ROOT), tail=tail)], stdout=subprocess.PIPE, text=True,
                            preexec_fn=_interruptible)  # pylint: disable=subprocess-popen-preexec-fn
    assert proc.stdout.readline().strip() == "UP"
    assert len(lab_namespaces(proc.pid)) == 2
    return proc


def test_topology_is_built_as_described(make_lab):
    lab = make_lab(
        {
            "switches": ["lan"],
            "hosts": {
                "pi": {"links": [{"switch": "lan", "mac": "b8:27:eb:12:34:56", "addresses": ["192.0.2.5/24"], "mtu": 1400}],
                       "routes": ["198.51.100.0/24 via 192.0.2.1"], "sysctl": {"net.ipv4.conf.all.arp_announce": "2"}},
                "gw": {"links": [{"switch": "lan", "addresses": ["192.0.2.1/24"]}]},
            },
        }
    )
    link = lab.ip_json("pi", "addr", "show", "dev", "eth0")[0]
    assert (link["address"], link["mtu"]) == ("b8:27:eb:12:34:56", 1400)
    assert "192.0.2.5" in [a["local"] for a in link["addr_info"]]
    assert lab.ip_json("pi", "route", "show", "198.51.100.0/24")[0]["gateway"] == "192.0.2.1"
    assert lab.run("pi", ["sysctl", "-n", "net.ipv4.conf.all.arp_announce"]).stdout.strip() == "2"
    assert lab.run("pi", ["ping", "-c1", "-W2", "192.0.2.1"], check=False).returncode == 0
    assert lab.neighbour("gw", "192.0.2.5")["lladdr"] == "b8:27:eb:12:34:56"


@pytest.mark.parametrize("how", ["exception", "SIGTERM", "SIGINT"])
def test_teardown_on_failure_and_signals(how):
    proc = _start("raise RuntimeError('boom')" if how == "exception" else "time.sleep(300)")
    try:
        if how != "exception":
            proc.send_signal(getattr(signal, how))
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:  # it did not stop: SIGTERM tears its lab down, so this test leaves nothing behind
            proc.terminate()
            proc.wait()
    assert lab_namespaces(proc.pid) == []


def test_a_killed_run_is_reaped_by_the_next():
    proc = _start("time.sleep(300)")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=20)
    left = lab_namespaces(proc.pid)
    assert len(left) == 2
    deadline = time.time() + 5
    while time.time() < deadline and lab_namespaces(proc.pid):
        reap_stale()
    assert lab_namespaces(proc.pid) == []
