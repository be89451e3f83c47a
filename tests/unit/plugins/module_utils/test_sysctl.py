# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_sysctl and ip_forwarding logic against a fake /proc/sys tree in a temporary directory."""

from __future__ import annotations

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _ip_forwarding, _sysctl
from ansible_collections.layer2.linux.plugins.module_utils._sysctl import SysctlError, parse_name, read_conf, render_conf, sysctl_name


def test_dotted_interface_names_in_both_spellings():
    parts = ("net", "ipv4", "conf", "eth1.1234", "proxy_arp")
    assert sysctl_name(parts) == "net.ipv4.conf.eth1/1234.proxy_arp"
    assert parse_name("net.ipv4.conf.eth1/1234.proxy_arp") == parts
    assert parse_name("net/ipv4/conf/eth1.1234/proxy_arp") == parts
    assert _sysctl.proc_path(parts) == "/proc/sys/net/ipv4/conf/eth1.1234/proxy_arp"


def test_conf_round_trip_orders_forwarding_first(tmp_path):
    path = tmp_path / "x.conf"
    path.write_text("; old comment\nnet/ipv4/conf/eth1.1234/proxy_arp=1\n-net.ipv4.ip_forward = 0\n\n")
    text, settings = read_conf(str(path))
    assert text.startswith("; old") and settings == {"net.ipv4.conf.eth1/1234.proxy_arp": "1", "net.ipv4.ip_forward": "0"}
    assert render_conf(settings, "head\nline", first=("net.ipv4.ip_forward",)) == (
        "# head\n# line\nnet.ipv4.ip_forward = 0\nnet.ipv4.conf.eth1/1234.proxy_arp = 1\n")
    assert read_conf(str(tmp_path / "absent.conf")) == (None, {})


@pytest.fixture
def fake_proc(tmp_path):
    """A /proc/sys look-alike: forwarding off, eth0 and eth1.1234 with proxy values off."""
    for rel in ["net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"] + [
        f"net/ipv{v}/conf/{dev}/{opt}" for dev in ("eth0", "eth1.1234") for v, opt in ((4, "proxy_arp"), (4, "proxy_arp_pvlan"), (6, "proxy_ndp"))
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("0\n")
    return tmp_path


def test_forwarding_is_written_before_interfaces(fake_proc, monkeypatch):
    written = []
    real_write = _ip_forwarding.write_value
    monkeypatch.setattr(_ip_forwarding, "write_value", lambda parts, value, root: written.append(parts[-2:]) or real_write(parts, value, root))
    result = _ip_forwarding.ensure_forwarding(ipv6_forwarding=True, ipv4_forwarding=True, root=str(fake_proc),
                                              interfaces=[{"name": "eth1.1234", "proxy_ndp": True, "proxy_arp": True}])
    assert written == [("ipv4", "ip_forward"), ("all", "forwarding"), ("eth1.1234", "proxy_arp"), ("eth1.1234", "proxy_ndp")]
    assert result["changed"] and result["after"]["net.ipv4.conf.eth1/1234.proxy_arp"] == 1
    assert (fake_proc / "net/ipv4/conf/eth1.1234/proxy_arp").read_text() == "1\n"


def test_check_mode_writes_nothing_and_missing_things_are_named(fake_proc, tmp_path):
    result = _ip_forwarding.ensure_forwarding(ipv4_forwarding=True, check_mode=True, root=str(fake_proc), persist=True,
                                              persist_path=str(tmp_path / "p.conf"))
    assert result["changed"] and result["persist_changed"] and result["after"] == {"net.ipv4.ip_forward": 1}
    assert (fake_proc / "net/ipv4/ip_forward").read_text() == "0\n" and not (tmp_path / "p.conf").exists()
    with pytest.raises(SysctlError, match="interface eth7 does not exist"):
        _ip_forwarding.ensure_forwarding(interfaces=[{"name": "eth7", "proxy_arp": True}], root=str(fake_proc))
    (fake_proc / "net/ipv6/conf/all/forwarding").unlink()
    (fake_proc / "net/ipv6/conf/all").rmdir()
    for sub in ("eth0", "eth1.1234"):
        (fake_proc / f"net/ipv6/conf/{sub}/proxy_ndp").unlink()
        (fake_proc / f"net/ipv6/conf/{sub}").rmdir()
    (fake_proc / "net/ipv6/conf").rmdir()
    (fake_proc / "net/ipv6").rmdir()
    with pytest.raises(SysctlError, match="IPv6 is disabled on this host"):
        _ip_forwarding.ensure_forwarding(ipv6_forwarding=True, root=str(fake_proc))


@pytest.mark.parametrize("where, words", [
    ("relative.conf", "persist_path 'relative.conf' is not absolute"),
    ("{tmp}/dir", "is a directory, not a regular file"),
    ("{tmp}/plain/90.conf", "which is a file, not a directory"),
    ("{tmp}/" + "n" * 256, "is too long"),
    ("{tmp}/nul\0.conf", "holds a NUL character"),
    ("{tmp}/latin1.conf", "is not UTF-8 text"),
])
def test_a_persist_path_that_cannot_be_written_sets_nothing(fake_proc, tmp_path, where, words):
    (tmp_path / "dir").mkdir()
    (tmp_path / "plain").write_text("x\n")
    (tmp_path / "latin1.conf").write_bytes(b"# caf\xe9\nnet.ipv4.ip_forward = 0\n")
    with pytest.raises(SysctlError) as refused:
        _ip_forwarding.ensure_forwarding(ipv4_forwarding=True, persist=True, persist_path=where.format(tmp=tmp_path), root=str(fake_proc),
                                         interfaces=[{"name": "eth0", "proxy_arp": True}])
    assert words in str(refused.value)
    assert (fake_proc / "net/ipv4/ip_forward").read_text() == "0\n" and (fake_proc / "net/ipv4/conf/eth0/proxy_arp").read_text() == "0\n"


def test_a_write_that_fails_after_the_kernel_was_set_puts_the_values_back(fake_proc, tmp_path, monkeypatch):
    def full(path, text, mode=None):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(_ip_forwarding, "write_atomically", full)
    with pytest.raises(SysctlError) as refused:
        _ip_forwarding.ensure_forwarding(ipv4_forwarding=True, persist=True, persist_path=str(tmp_path / "90.conf"), root=str(fake_proc),
                                         interfaces=[{"name": "eth0", "proxy_arp": True}])
    assert str(refused.value) == (f"persist_path {tmp_path / '90.conf'} could not be written: No space left on device; "
                                  "the kernel values were put back as they were; nothing was changed")
    assert (fake_proc / "net/ipv4/ip_forward").read_text() == "0\n" and (fake_proc / "net/ipv4/conf/eth0/proxy_arp").read_text() == "0\n"
