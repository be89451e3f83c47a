# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 18: ip_forwarding refuses bad input in words, sets nothing in the kernel and writes no file, in one playbook run.

Every case asks for forwarding and proxy ARP on a real interface as well, so a case that set anything before failing
would show in /proc/sys. The values are compared once before and once after the run: a refused case that changed a
value could only be hidden by a later case putting it back, and no case here succeeds in setting anything.
"""

from __future__ import annotations

import os

import pytest

from tests.support.bad_input import assert_refused_in_words, lab_for_module, refused_run

MODULE = "layer2.linux.ip_forwarding"
PROC_SYS = ["net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding", "net/ipv4/conf/eth0/proxy_arp", "net/ipv6/conf/eth0/proxy_ndp",
            "net/ipv4/conf/eth1.1234/proxy_arp", "net/ipv4/conf/all/proxy_arp"]


@pytest.fixture(scope="module")
def lab():
    yield from lab_for_module({"switches": ["lan", "vlan"], "hosts": {"r": {"links": [
        {"switch": "lan", "addresses": ["10.0.1.1/24"]}, {"switch": "vlan", "ifname": "eth1.1234", "addresses": ["10.0.2.1/24"]}]}}})


def cases(base):
    def task(persist_path=None, extra_interface=None, **options):
        params = {"ipv4_forwarding": True, "ipv6_forwarding": True, "interfaces": [{"name": "eth0", "proxy_arp": True, "proxy_ndp": True}]}
        if extra_interface:
            params["interfaces"].append(extra_interface)
        if persist_path is not None:
            params.update(persist=True, persist_path=persist_path)
        return dict(params, **options)

    return {
        "persist_path relative": (task("90-layer2.conf"), ["persist_path '90-layer2.conf' is not absolute"]),
        "persist_path a directory": (task(f"{base}/dir"), ["persist_path", "is a directory"]),
        "persist_path under a file": (task(f"{base}/plain/90.conf"), ["persist_path", "which is a file, not a directory"]),
        "persist_path under a file, check mode": ((task(f"{base}/plain/90.conf"), {"check_mode": True}), ["persist_path", "which is a file"]),
        "persist_path too long": (task(f"{base}/{'n' * 256}"), ["persist_path", "is too long"]),
        "persist_path NUL": (task(f"{base}/nul\0.conf"), ["persist_path", "NUL character"]),
        "persist_path not UTF-8": (task(f"{base}/latin1.conf"), ["persist_path", "is not UTF-8 text"]),
        "persist_path a FIFO": ((task(f"{base}/fifo"), {"check_mode": True}), ["persist_path", "is a FIFO"]),
        "name of 16 bytes": (task(extra_interface={"name": "é" * 8, "proxy_arp": True}), ["'éééééééé' is not a Linux interface name", "16 bytes"]),
        "name with %": (task(extra_interface={"name": "eth%d", "proxy_arp": True}), ["'eth%d' is not a Linux interface name", "template"]),
        "name a path": (task(extra_interface={"name": "../../ipv4", "proxy_arp": True}), ["'../../ipv4' is not a Linux interface name"]),
        "name missing": (task(extra_interface={"name": "eth9", "proxy_arp": True}), ["interface eth9 does not exist"]),
        "name twice": (task(extra_interface={"name": "eth0", "proxy_arp": False}), ["interface eth0 is listed twice under interfaces"]),
        "forwarding not a bool": (task(ipv4_forwarding="maybe"), ["ipv4_forwarding"]),
        "proxy_arp not a bool": (task(extra_interface={"name": "eth1.1234", "proxy_arp": "often"}), ["proxy_arp"]),
    }


@pytest.fixture(scope="module")
def refused(lab, tmp_path_factory):
    base = tmp_path_factory.mktemp("ip-forwarding-bad-input")
    (base / "dir").mkdir()
    (base / "plain").write_text("a regular file\n")
    (base / "latin1.conf").write_bytes(b"# caf\xe9\nnet.ipv4.ip_forward = 0\n")
    os.mkfifo(base / "fifo")
    table = cases(base)
    return refused_run(lab, "r", MODULE, table, proc_sys=PROC_SYS, files=base), table


@pytest.mark.parametrize("case_id", list(cases("/x")))
def test_refused_in_words_naming_the_option(refused, case_id):
    done, table = refused
    assert_refused_in_words(done.run, case_id, *table[case_id][1])


def test_nothing_was_set_or_written(refused):
    done = refused[0]
    assert done.before["r /proc/sys"][0] == "/proc/sys/net/ipv4/ip_forward=0", "the lab starts with forwarding off, so a change would show"
    done.assert_unchanged()
