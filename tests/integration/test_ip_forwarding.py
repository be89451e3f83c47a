# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""layer2.linux.ip_forwarding end to end through the netns connection, on the host kernel.

The router's second interface is called eth1.1234 (a veth with a VLAN-style name: this kernel has no 802.1Q, but the
dotted name is what matters to /proc/sys and sysctl.d). Host `a` sits behind it with a /16, so it ARPs for `b`'s
address directly: only proxy ARP on eth1.1234 plus forwarding lets it reach `b`.
"""

from __future__ import annotations

import pytest

from tests.support.ansible import run_module

MODULE = "layer2.linux.ip_forwarding"
KEYS = {
    "net.ipv4.ip_forward": "net/ipv4/ip_forward",
    "net.ipv6.conf.all.forwarding": "net/ipv6/conf/all/forwarding",
    "net.ipv4.conf.eth1/1234.proxy_arp": "net/ipv4/conf/eth1.1234/proxy_arp",
    "net.ipv6.conf.eth1/1234.proxy_ndp": "net/ipv6/conf/eth1.1234/proxy_ndp",
}


@pytest.fixture
def routed(make_lab):
    return make_lab(
        {
            "switches": ["lan", "vlan"],
            "hosts": {
                "r": {"links": [{"switch": "lan", "addresses": ["10.0.1.1/24"]},
                                {"switch": "vlan", "ifname": "eth1.1234", "addresses": ["10.0.2.1/24"]}]},
                "a": {"links": [{"switch": "vlan", "addresses": ["10.0.2.10/16"]}]},
                "b": {"links": [{"switch": "lan", "addresses": ["10.0.1.20/24"]}], "routes": ["default via 10.0.1.1"]},
            },
        }
    )


def proc(lab, host):
    """The values under /proc/sys inside the host, by sysctl name."""
    return {name: int(lab.run(host, ["cat", f"/proc/sys/{path}"]).stdout) for name, path in KEYS.items()}


def reaches(lab):
    return lab.run("a", ["ping", "-c", "1", "-W", "2", "10.0.1.20"], check=False).returncode == 0


def test_forwarding_and_proxy_arp_on_a_dotted_name_with_persistence(routed, tmp_path):
    conf = tmp_path / "sysctl.d" / "90-layer2-linux.conf"
    params = {"ipv4_forwarding": True, "ipv6_forwarding": True, "persist": True, "persist_path": str(conf),
              "interfaces": [{"name": "eth1.1234", "proxy_arp": True, "proxy_ndp": True}]}
    off = dict.fromkeys(KEYS, 0)
    assert proc(routed, "r") == off and not reaches(routed)

    check = run_module(routed, "r", MODULE, params, check=True)
    assert check["_status"] == "ok" and check["changed"] and check["persist_changed"]
    assert check["before"] == off and check["after"] == dict.fromkeys(KEYS, 1)
    assert proc(routed, "r") == off and not conf.exists(), "check mode changed the host"

    real, again, check_again = (run_module(routed, "r", MODULE, params, check=c) for c in (False, False, True))
    assert real["changed"] and not again["changed"] and not check_again["changed"]
    assert real["before"] == off and real["after"] == dict.fromkeys(KEYS, 1) == again["before"]
    assert real["persist_path"] == str(conf)
    assert proc(routed, "r") == dict.fromkeys(KEYS, 1)
    assert reaches(routed), "forwarding plus proxy ARP on eth1.1234 should carry a's ping to b"
    assert conf.read_text().splitlines()[2:] == [
        "net.ipv4.ip_forward = 1",
        "net.ipv6.conf.all.forwarding = 1",
        "net.ipv4.conf.eth1/1234.proxy_arp = 1",
        "net.ipv6.conf.eth1/1234.proxy_ndp = 1",
    ]
    assert oct(conf.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in conf.parent.iterdir()] == [conf.name], "a temporary file was left next to the target"
    # sysctl(8) reads the file back to the same values: the dotted name is spelled right.
    routed.run("r", ["sysctl", "-q", "-w", "net.ipv4.conf.eth1/1234.proxy_arp=0"])
    routed.run("r", ["sysctl", "-q", "-p", str(conf)])
    assert proc(routed, "r")["net.ipv4.conf.eth1/1234.proxy_arp"] == 1

    stop = run_module(routed, "r", MODULE, {"ipv4_forwarding": False})
    assert stop["changed"] and stop["before"] == {"net.ipv4.ip_forward": 1} and stop["after"] == {"net.ipv4.ip_forward": 0}
    assert not reaches(routed)
    assert proc(routed, "r")["net.ipv4.conf.eth1/1234.proxy_arp"] == 1, "options not given are left alone"


def test_persisting_keeps_earlier_settings_and_puts_forwarding_first(routed, tmp_path):
    conf = tmp_path / "90-layer2-linux.conf"
    conf.write_text("# earlier\nnet/ipv4/conf/eth1.1234/proxy_arp = 1\nnet.ipv4.conf.eth0.proxy_arp_pvlan=1\n")
    result = run_module(routed, "r", MODULE, {"ipv4_forwarding": True, "persist": True, "persist_path": str(conf)})
    assert result["changed"] and result["persist_changed"]
    assert conf.read_text().splitlines()[2:] == [
        "net.ipv4.ip_forward = 1",
        "net.ipv4.conf.eth1/1234.proxy_arp = 1",
        "net.ipv4.conf.eth0.proxy_arp_pvlan = 1",
    ]
    assert result["diff"][1]["before"].startswith("# earlier") and "net.ipv4.ip_forward = 1" in result["diff"][1]["after"]


def test_an_exclusive_file_loses_the_lines_of_interfaces_no_longer_given(routed, tmp_path):
    conf = tmp_path / "90-layer2-vlan-router.conf"
    both = {"ipv4_forwarding": True, "persist": True, "persist_path": str(conf), "persist_exclusive": True,
            "interfaces": [{"name": "eth0", "proxy_arp": True}, {"name": "eth1.1234", "proxy_arp": True}]}
    run_module(routed, "r", MODULE, both)
    one = dict(both, interfaces=[{"name": "eth0", "proxy_arp": True}])
    check = run_module(routed, "r", MODULE, one, check=True)
    assert check["changed"] and check["persist_changed"] and "eth1/1234" in conf.read_text(), "check mode wrote the file"
    result = run_module(routed, "r", MODULE, one)
    assert result["persist_changed"] and conf.read_text().splitlines()[2:] == ["net.ipv4.ip_forward = 1", "net.ipv4.conf.eth0.proxy_arp = 1"]
    assert proc(routed, "r")["net.ipv4.conf.eth1/1234.proxy_arp"] == 1, "the kernel value of a setting no longer given is left alone"
    assert not run_module(routed, "r", MODULE, one)["changed"]


def test_bad_input_is_refused_and_nothing_changes(routed, tmp_path):
    conf = tmp_path / "90-layer2-linux.conf"
    before = proc(routed, "r")
    cases = [
        ({"name": "eth9", "proxy_arp": True}, "interface eth9 does not exist on this host (no /proc/sys/net/ipv4/conf/eth9)"),
        ({"name": "../../ipv4", "proxy_arp": True}, "'../../ipv4' is not a Linux interface name"),
        ({"name": "averyveryverylongname", "proxy_arp": True}, "is not a Linux interface name (at most 15 characters"),
    ]
    for entry, message in cases:
        params = {"ipv4_forwarding": True, "persist": True, "persist_path": str(conf), "interfaces": [{"name": "eth0", "proxy_arp": True}, entry]}
        result = run_module(routed, "r", MODULE, params)
        assert result["_status"] == "failed" and message in result["msg"], result
    twice = run_module(routed, "r", MODULE, {"interfaces": [{"name": "eth0", "proxy_arp": True}, {"name": "eth0", "proxy_arp": False}]})
    assert twice["_status"] == "failed" and "interface eth0 is listed twice" in twice["msg"]
    not_bool = run_module(routed, "r", MODULE, {"ipv4_forwarding": "maybe"})
    assert not_bool["_status"] == "failed" and "ipv4_forwarding" in not_bool["msg"]
    assert proc(routed, "r") == before and routed.run("r", ["cat", "/proc/sys/net/ipv4/conf/eth0/proxy_arp"]).stdout.strip() == "0"
    assert not conf.exists()
