# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one MAC parser, the one interface-name check (the kernel's dev_valid_name) and the one Ethernet test."""

from __future__ import annotations

import pytest
from ansible_collections.layer2.linux.plugins.module_utils._iface import (
    ARPHRD_ETHER,
    check_interface_name,
    is_ethernet,
    mac_bytes,
    mac_text,
    normalize_mac,
)

RAW = bytes.fromhex("b827eb0a0b0c")


@pytest.mark.parametrize("text", ["b8:27:eb:0a:0b:0c", "B8-27-EB-0A-0B-0C", "b8.27.eb.0a.0b.0c", "b827.eb0a.0b0c", "b827eb0a0b0c",
                                  " b8:27:eb:a:b:c "])
def test_every_usual_spelling_of_a_mac_reads_the_same(text):
    assert mac_bytes(text) == RAW and normalize_mac(text) == "b8:27:eb:0a:0b:0c"


@pytest.mark.parametrize("text", ["02:00:5e:00:0a", "zz:00:5e:00:00:0a", "02:00:5e:00:00:0a:01", "02:00:5e-00:00:0a", "100:00:5e:00:00:0a", "", None])
def test_anything_else_is_not_a_mac(text):
    with pytest.raises(ValueError, match="is not a MAC address"):
        mac_bytes(text)


def test_macs_are_printed_as_the_kernel_prints_them():
    assert mac_text(RAW) == "b8:27:eb:0a:0b:0c" and mac_text(bytes(6)) == "00:00:00:00:00:00"


@pytest.mark.parametrize("name", ["eth0", "eth1.1234", "a", "x" * 15, "br-lan_1", "wlp0s20f3", "é" * 7 + "x", "a#b"])
def test_names_the_kernel_takes(name):
    assert check_interface_name(name) == name


@pytest.mark.parametrize("name, why", [
    ("x" * 16, "it is 16 characters; Linux allows at most 15"),
    ("averyveryverylongname", "is not a Linux interface name (at most 15 characters"),
    ("é" * 8, "it is 16 bytes; Linux allows at most 15"),
    ("eth0:1", "holds a '/', ':' or whitespace"),
    ("../../ipv4", "holds a '/', ':' or whitespace"),
    ("eth 0", "holds a '/', ':' or whitespace"),
    ("eth0\n", "holds a '/', ':' or whitespace"),
    (".", "'.' and '..' name directories"),
    ("..", "'.' and '..' name directories"),
    ("", "an interface name is missing"),
    (None, "an interface name is missing"),
    ("eth%d", "which the kernel reads as a template"),  # the kernel would create eth0
    ("vlan%s", "which the kernel reads as a template"),
    ("eth\x000", "NUL character"),
    ("a\u00a0b", "whose UTF-8 holds the byte 0xa0"),
    ("a\u0120", "whose UTF-8 holds the byte 0xa0"),  # c4 a0: the kernel's isspace() says yes to 0xa0
    ("a\u2003b", "holds a '/', ':' or whitespace"),
])
def test_names_the_kernel_refuses_are_refused_with_the_reason(name, why):
    with pytest.raises(ValueError) as refused:
        check_interface_name(name)
    assert why in str(refused.value)


@pytest.mark.parametrize("link, ethernet", [
    ({"link_type": ARPHRD_ETHER, "mac": "02:00:5e:00:00:01"}, True),  # Ethernet, veth, bridge, VLAN, dummy
    ({"link_type": 772, "mac": "00:00:00:00:00:00"}, False),  # loopback
    ({"link_type": 65534, "mac": None}, False),  # tun, WireGuard: no link-layer address
    ({"link_type": 778, "mac": "0a:00:00:01"}, False),  # GRE: a 4-byte "address"
    ({"link_type": ARPHRD_ETHER, "mac": "00:00:00:00:00:00"}, False),  # no address to answer ARP from
    ({"mac": "02:00:5e:00:00:01"}, False),  # not from the dump
])
def test_ethernet_is_the_link_type_with_an_address(link, ethernet):
    assert is_ethernet(link) is ethernet
