# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""layer2.linux.ip_address end to end through the netns connection, on the host kernel."""

from __future__ import annotations

from tests.support.ansible import run_module

MODULE = "layer2.linux.ip_address"


def on_host(lab, host, ifname="eth0", link_local=False):
    """The addresses `ip addr` shows on the interface, as CIDR strings."""
    info = lab.ip_json(host, "addr", "show", "dev", ifname)[0]["addr_info"]
    return sorted(f"{a['local']}/{a['prefixlen']}" for a in info if link_local or not a["local"].startswith("fe80:"))


def converge(lab, host, params, env=None):
    """check, real, real again, check again: the community.crypto pattern. Returns the four results."""
    kwargs = {"env": env} if env else {}
    runs = [run_module(lab, host, MODULE, params, check=check, **kwargs) for check in (True, False, False, True)]
    return runs


def test_present_adds_ipv4_and_ipv6_once(lan):
    params = {"interface": "eth0", "addresses": ["192.0.2.11/24", "2001:db8::11/64"]}
    before = on_host(lan, "a")
    check = run_module(lan, "a", MODULE, params, check=True)
    assert check["_status"] == "ok" and check["changed"]
    assert check["added"] == ["192.0.2.11/24", "2001:db8::11/64"]
    assert on_host(lan, "a") == before, "check mode changed the host"

    real, again, check_again = (run_module(lan, "a", MODULE, params, check=c) for c in (False, False, True))
    assert real["changed"] and not again["changed"] and not check_again["changed"]
    assert on_host(lan, "a") == sorted(before + ["192.0.2.11/24", "2001:db8::11/64"])
    assert sorted(a for a in real["after"] if not a.startswith("fe80:")) == on_host(lan, "a")
    assert "192.0.2.11/24" in real["diff"]["after"] and "192.0.2.11/24" not in real["diff"]["before"]
    # The kernel sets the broadcast address, as ifconfig would.
    info = lan.ip_json("a", "addr", "show", "dev", "eth0")[0]["addr_info"]
    assert [a.get("broadcast") for a in info if a["local"] == "192.0.2.11"] == ["192.0.2.255"]
    # The new address answers on the segment.
    assert lan.run("b", ["ping", "-c", "1", "-W", "2", "192.0.2.11"], check=False).returncode == 0


def test_absent_removes_whatever_the_prefix_and_exclusive_keeps_link_local(lan):
    lan.run("a", ["ip", "addr", "add", "198.51.100.7/25", "dev", "eth0"])
    runs = converge(lan, "a", {"interface": "eth0", "addresses": ["198.51.100.7"], "state": "absent"})
    assert [r["changed"] for r in runs] == [True, True, False, False]
    assert runs[1]["removed"] == ["198.51.100.7/25"]
    assert "198.51.100.7/25" not in on_host(lan, "a")

    link_local = [a for a in on_host(lan, "a", link_local=True) if a.startswith("fe80:")]
    assert link_local, "the lab host should have an IPv6 link-local address"
    runs = converge(lan, "a", {"interface": "eth0", "addresses": ["192.0.2.10/24", "192.0.2.12/24"], "exclusive": True})
    assert [r["changed"] for r in runs] == [True, True, False, False]
    assert sorted(runs[1]["removed"]) == ["2001:db8::a/64"]
    assert on_host(lan, "a", link_local=True) == sorted(["192.0.2.10/24", "192.0.2.12/24"] + link_local)


def test_a_different_prefix_length_is_replaced(lan):
    result = run_module(lan, "a", MODULE, {"interface": "eth0", "addresses": ["192.0.2.10/25"]})
    assert result["changed"] and result["removed"] == ["192.0.2.10/24"] and result["added"] == ["192.0.2.10/25"]
    assert "192.0.2.10/25" in on_host(lan, "a") and "192.0.2.10/24" not in on_host(lan, "a")


def test_bad_input_is_refused_and_the_host_unchanged(lan):
    before = on_host(lan, "a", link_local=True)
    bad_cidr = run_module(lan, "a", MODULE, {"interface": "eth0", "addresses": ["192.0.2.13/24", "192.0.2.300/24"]})
    assert bad_cidr["_status"] == "failed" and "'192.0.2.300/24' is not an IPv4 or IPv6 address" in bad_cidr["msg"]
    missing = run_module(lan, "a", MODULE, {"interface": "eth9", "addresses": ["192.0.2.13/24"]})
    assert missing["_status"] == "failed" and missing["msg"] == "interface eth9 does not exist on this host"
    bad_state = run_module(lan, "a", MODULE, {"interface": "eth0", "addresses": ["192.0.2.13/24"], "state": "gone"})
    assert bad_state["_status"] == "failed" and "state" in bad_state["msg"]
    too_long = run_module(lan, "a", MODULE, {"interface": "eth0.1234567890123", "addresses": ["192.0.2.13/24"]})
    assert too_long["_status"] == "failed" and too_long["msg"].startswith("'eth0.1234567890123' is not a Linux interface name (at most 15 characters")
    assert "it is 18 characters; Linux allows at most 15, so give a shorter name" in too_long["msg"]
    alias = run_module(lan, "a", MODULE, {"interface": "eth0:1", "addresses": ["192.0.2.13/24"]})
    assert alias["_status"] == "failed" and alias["msg"].startswith("'eth0:1' is not a Linux interface name"), alias
    bad_nodad = run_module(lan, "a", MODULE, {"interface": "eth0", "addresses": ["2001:db8::13/64"], "nodad": "sometimes"})
    assert bad_nodad["_status"] == "failed" and "nodad" in bad_nodad["msg"]
    assert on_host(lan, "a", link_local=True) == before


def test_the_management_address_is_kept_unless_forced(lan):
    ssh = {"SSH_CONNECTION": "192.0.2.1 50022 192.0.2.10 22"}
    before = on_host(lan, "a")
    for params in ({"interface": "eth0", "addresses": ["192.0.2.10/24"], "state": "absent"},
                   {"interface": "eth0", "addresses": ["192.0.2.99/24"], "exclusive": True}):
        for check in (True, False):
            refused = run_module(lan, "a", MODULE, params, check=check, env=ssh)
            assert refused["_status"] == "failed", refused
            assert "192.0.2.10/24 carries the current management connection" in refused["msg"] and "force=true" in refused["msg"]
    assert on_host(lan, "a") == before

    forced = run_module(lan, "a", MODULE, {"interface": "eth0", "addresses": ["192.0.2.10/24"], "state": "absent", "force": True}, env=ssh)
    assert forced["changed"] and "192.0.2.10/24" not in on_host(lan, "a")


def flags_of(lab, host, address, ifname="eth0"):
    """The flags `ip -j addr` shows for one address ("tentative", "nodad", "dadfailed"...), or None when it is not there."""
    for entry in lab.ip_json(host, "addr", "show", "dev", ifname)[0]["addr_info"]:
        if entry["local"] == address:
            return {key for key, value in entry.items() if value is True}
    return None


def test_nodad_makes_an_ipv6_address_usable_at_once(lan):
    params = {"interface": "eth0", "addresses": ["2001:db8::21/64", "192.0.2.21/24"], "nodad": True}
    runs = converge(lan, "a", params)
    assert [r["changed"] for r in runs] == [True, True, False, False]
    flags = flags_of(lan, "a", "2001:db8::21")
    assert "tentative" not in flags and "nodad" in flags, flags
    assert "192.0.2.21/24" in on_host(lan, "a"), "nodad is ignored for IPv4; the address is added as usual"

    # Without nodad the kernel runs duplicate address detection: the address is tentative right after the task.
    plain = run_module(lan, "a", MODULE, {"interface": "eth0", "addresses": ["2001:db8::22/64"]})
    assert plain["changed"] and "tentative" in flags_of(lan, "a", "2001:db8::22")
    # An address already held is not re-added because nodad differs.
    again = run_module(lan, "a", MODULE, {"interface": "eth0", "addresses": ["2001:db8::22/64"], "nodad": True})
    assert not again["changed"] and "nodad" not in flags_of(lan, "a", "2001:db8::22")


def test_ipv6_on_an_interface_without_it_is_refused_before_any_change(lan):
    lan.run("a", ["sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1"])
    before = on_host(lan, "a", link_local=True)
    refused = run_module(lan, "a", MODULE, {"interface": "eth0", "addresses": ["2001:db8::23/64"]})
    assert refused["_status"] == "failed", refused
    assert refused["msg"] == ("IPv6 is disabled on eth0 (net.ipv6.conf.eth0.disable_ipv6 = 1), so 2001:db8::23/64 cannot be added; "
                              "enable it or leave them out; nothing was changed"), refused["msg"]
    assert "module_stderr" not in refused, "the module must fail in words, not crash"
    # All or nothing (issue 18): the IPv4 address of the same task is not added either.
    mixed = run_module(lan, "a", MODULE, {"interface": "eth0", "addresses": ["192.0.2.23/24", "2001:db8::23/64"]})
    assert mixed["_status"] == "failed" and mixed["msg"].endswith("nothing was changed"), mixed["msg"]
    assert on_host(lan, "a", link_local=True) == before
